//! JSON through the browser's own parser and printer (`JSON.parse` / `JSON.stringify`): the
//! widget ships no JSON parser of its own, which saved about 8 KB gzip.
//!
//! What the checkout reads (the API's answers, its saved attempt, the merchant's appearance) is
//! read field by field from the parsed object ([`Object`], [`FromJson`]), and what it writes
//! (request bodies, the encrypted card's plaintext, its saved attempt, messages to its host) is
//! written field by field into a browser object ([`Writer`], [`ToJson`]). serde's derived
//! deserializers, through serde-wasm-bindgen, cost about 19 KB gzip for the dozen types the
//! checkout reads: a visitor and a deserializer instance per type, and the number formatting
//! their error messages carry; its serializers about 2.9 KB gzip more. The unit tests below and
//! in `api.rs` and `checkout.rs` hold both sides to `till_core`'s API types as serde writes and
//! reads them at the edge.

use js_sys::{Array, Reflect};
use wasm_bindgen::{JsCast, JsValue};

/// A value the widget writes as JSON.
pub trait ToJson {
    fn to_json(&self) -> JsValue;
}

impl<T: ToJson> ToJson for &T {
    fn to_json(&self) -> JsValue {
        (*self).to_json()
    }
}

/// A message with nothing to say beyond its type (`ready`, `resize`).
impl ToJson for () {
    fn to_json(&self) -> JsValue {
        JsValue::NULL
    }
}

/// A JSON object being written. A field given `None` is left out, as serde leaves out the
/// API types' optional fields (`skip_serializing_if`).
#[derive(Default)]
pub struct Writer(js_sys::Object);

impl Writer {
    pub fn new() -> Writer {
        Writer::default()
    }

    /// A text, flag, nested object or absent (`None`) field.
    pub fn field(self, name: &str, value: impl Into<JsValue>) -> Writer {
        let value = value.into();
        if !value.is_undefined() {
            let _ = Reflect::set(&self.0, &JsValue::from_str(name), &value);
        }
        self
    }

    /// A whole number: exact up to 2^53, beyond any amount or time the widget writes.
    pub fn integer(self, name: &str, value: Option<i64>) -> Writer {
        self.field(name, value.map(|value| value as f64))
    }

    pub fn done(self) -> JsValue {
        self.0.into()
    }
}

pub fn to_string<T: ToJson>(value: &T) -> Option<String> {
    js_sys::JSON::stringify(&value.to_json()).ok()?.as_string()
}

/// `None` when `text` is not a JSON object or not a `T`.
pub fn from_str<T: FromJson>(text: &str) -> Option<T> {
    T::from_json(&Object::parse(text)?)
}

/// A type read from a JSON object: `None` when a field it needs is missing or of another type.
/// A field it may go without reads as absent when it is `null`, missing or of another type.
pub trait FromJson: Sized {
    fn from_json(object: &Object) -> Option<Self>;
}

/// The largest integer a JSON number carries exactly (2^53 - 1).
const MAX_EXACT_INTEGER: f64 = 9_007_199_254_740_991.0;

/// A JSON object (not an array, not `null`), parsed by the browser. The wallet page, whose size
/// is not budgeted, hands the value to serde.
pub struct Object(pub(crate) JsValue);

impl Object {
    pub fn parse(text: &str) -> Option<Object> {
        Object::of(js_sys::JSON::parse(text).ok()?)
    }

    fn of(value: JsValue) -> Option<Object> {
        (value.is_object() && !Array::is_array(&value)).then_some(Object(value))
    }

    /// The field `name`, unless it is missing or `null`.
    fn field(&self, name: &str) -> Option<JsValue> {
        let value = Reflect::get(&self.0, &JsValue::from_str(name)).ok()?;
        (!value.is_null() && !value.is_undefined()).then_some(value)
    }

    /// Whether the field is there and not `null`.
    pub fn has(&self, name: &str) -> bool {
        self.field(name).is_some()
    }

    pub fn text(&self, name: &str) -> Option<String> {
        self.field(name)?.as_string()
    }

    /// A whole number within the range JSON carries exactly.
    pub fn integer(&self, name: &str) -> Option<i64> {
        let number = self.field(name)?.as_f64()?;
        // The cast is exact: the number is whole and within ±2^53.
        (number.fract() == 0.0 && number.abs() <= MAX_EXACT_INTEGER).then_some(number as i64)
    }

    /// [`Object::integer`], when it fits `T` (a card's `u8` expiry month, a `u32` of basis
    /// points).
    pub fn small<T: TryFrom<i64>>(&self, name: &str) -> Option<T> {
        T::try_from(self.integer(name)?).ok()
    }

    pub fn flag(&self, name: &str) -> Option<bool> {
        self.field(name)?.as_bool()
    }

    pub fn object(&self, name: &str) -> Option<Object> {
        Object::of(self.field(name)?)
    }

    /// An array of `T`: `None` when any item is not one.
    pub fn list<T: FromJson>(&self, name: &str) -> Option<Vec<T>> {
        self.items(name, |item| T::from_json(&Object::of(item)?))
    }

    /// An array of strings, each read by `parse`: `None` when any item is not one.
    pub fn texts<T>(&self, name: &str, parse: impl Fn(&str) -> Option<T>) -> Option<Vec<T>> {
        self.items(name, |item| parse(&item.as_string()?))
    }

    fn items<T>(&self, name: &str, read: impl Fn(JsValue) -> Option<T>) -> Option<Vec<T>> {
        let array = self.field(name)?.dyn_into::<Array>().ok()?;
        array.iter().map(read).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn parsed(text: &str) -> Object {
        Object::parse(text).expect("a JSON object")
    }

    #[wasm_bindgen_test]
    fn only_an_object_parses() {
        assert!(Object::parse(r#"{"a":1}"#).is_some());
        for not_an_object in ["[1,2]", "null", "\"text\"", "12", "{", "", "{'a':1}"] {
            assert!(Object::parse(not_an_object).is_none(), "{not_an_object}");
        }
    }

    #[wasm_bindgen_test]
    fn integers_are_whole_and_exact() {
        let object = parsed(
            r#"{"zero":0,"minus":-5,"max":9007199254740991,"half":1.5,"over":9007199254740993,"text":"5","huge":1e300}"#,
        );
        assert_eq!(object.integer("zero"), Some(0));
        assert_eq!(object.integer("minus"), Some(-5));
        assert_eq!(object.integer("max"), Some(9_007_199_254_740_991));
        for refused in ["half", "over", "text", "huge", "missing"] {
            assert_eq!(object.integer(refused), None, "{refused}");
        }
    }

    #[wasm_bindgen_test]
    fn small_integers_fit_their_type() {
        let object = parsed(r#"{"month":12,"wide":300,"negative":-1}"#);
        assert_eq!(object.small::<u8>("month"), Some(12));
        assert_eq!(object.small::<u8>("wide"), None);
        assert_eq!(object.small::<u32>("negative"), None);
        assert_eq!(object.small::<u32>("wide"), Some(300));
    }

    #[wasm_bindgen_test]
    fn a_field_of_another_type_or_null_reads_as_absent() {
        let object = parsed(r#"{"name":"Ada","count":3,"on":true,"gone":null,"nested":{"x":"y"}}"#);
        assert_eq!(object.text("name").as_deref(), Some("Ada"));
        assert_eq!(object.text("count"), None);
        assert_eq!(object.flag("on"), Some(true));
        assert_eq!(object.flag("name"), None);
        assert!(!object.has("gone"));
        assert!(object.has("count"));
        assert_eq!(object.text("gone"), None);
        assert!(object.object("nested").is_some());
        assert!(object.object("name").is_none());
    }

    struct Named(String);

    impl FromJson for Named {
        fn from_json(object: &Object) -> Option<Self> {
            object.text("name").map(Named)
        }
    }

    #[wasm_bindgen_test]
    fn a_list_with_one_bad_item_is_refused_whole() {
        let good = parsed(r#"{"data":[{"name":"a"},{"name":"b"}]}"#);
        let names: Vec<String> = good
            .list::<Named>("data")
            .expect("every item is a name")
            .into_iter()
            .map(|Named(name)| name)
            .collect();
        assert_eq!(names, ["a", "b"]);
        for bad in [
            r#"{"data":[{"name":"a"},{"name":7}]}"#,
            r#"{"data":[{"name":"a"},"b"]}"#,
            r#"{"data":{"name":"a"}}"#,
        ] {
            assert!(parsed(bad).list::<Named>("data").is_none(), "{bad}");
        }
        let texts = parsed(r#"{"t":["card","bank_redirect"],"u":["card",1]}"#);
        assert_eq!(texts.texts("t", |t| Some(t.len())), Some(vec![4, 13]));
        assert_eq!(texts.texts("u", |t| Some(t.len())), None);
    }

    #[wasm_bindgen_test]
    fn what_is_written_reads_back_through_the_browser() {
        let nested = Writer::new().field("inner", "x").done();
        let text = to_string(&Written(
            Writer::new()
                .field("text", "\"quoted\" </script> 한국어")
                .integer("amount", Some(-1234))
                .integer("largest", Some(9_007_199_254_740_991))
                .integer("absent", None)
                .field("missing", None::<String>)
                .field("on", true)
                .field("nested", nested)
                .done(),
        ))
        .expect("written");
        let object = parsed(&text);
        assert_eq!(
            object.text("text").as_deref(),
            Some("\"quoted\" </script> 한국어")
        );
        assert_eq!(object.integer("amount"), Some(-1234));
        assert_eq!(object.integer("largest"), Some(9_007_199_254_740_991));
        assert_eq!(object.flag("on"), Some(true));
        assert_eq!(
            object
                .object("nested")
                .and_then(|n| n.text("inner"))
                .as_deref(),
            Some("x")
        );
        assert!(
            !text.contains("absent") && !text.contains("missing"),
            "{text}"
        );
        assert_eq!(to_string(&()).as_deref(), Some("null"));
    }

    struct Written(JsValue);

    impl ToJson for Written {
        fn to_json(&self) -> JsValue {
            self.0.clone()
        }
    }
}
