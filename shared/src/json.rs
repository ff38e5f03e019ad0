//! Strict JSON for request bodies: like `serde_json::from_slice::<Value>`, but a member name that
//! appears twice in one object is an error. With "last one wins", `{"amount":100,"amount":9999}`
//! could be read one way by a proxy or a log and another way by Till.

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::fmt;

/// Bodies nest no deeper than this (serde_json's own limit is 128; Till's bodies need 4).
const MAX_DEPTH: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonError {
    /// Not JSON at all, or trailing bytes after the value.
    Syntax,
    /// A member name appears twice in one object.
    DuplicateKey(String),
    /// Objects or arrays nested deeper than [`MAX_DEPTH`].
    TooDeep,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JsonError::Syntax => f.write_str("the body is not valid JSON"),
            JsonError::DuplicateKey(key) => {
                let shown: String = key.chars().take(40).collect();
                write!(f, "the field `{shown}` appears more than once")
            }
            JsonError::TooDeep => f.write_str("the body nests too deeply"),
        }
    }
}

/// Parses one JSON value, refusing duplicate member names at any depth.
pub fn parse_strict(bytes: &[u8]) -> Result<Value, JsonError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = StrictValue { depth: 0 }
        .deserialize(&mut deserializer)
        .map_err(classify)?;
    deserializer.end().map_err(|_| JsonError::Syntax)?;
    Ok(value)
}

/// Our own errors travel through serde as custom messages with a marker prefix.
const DUPLICATE: &str = "\u{0}duplicate:";
const TOO_DEEP: &str = "\u{0}too deep";

fn classify(error: serde_json::Error) -> JsonError {
    let text = error.to_string();
    if let Some(rest) = text.strip_prefix(DUPLICATE) {
        // serde_json appends " at line L column C" to custom messages.
        let key = rest.rsplit_once(" at line ").map_or(rest, |(key, _)| key);
        JsonError::DuplicateKey(key.to_string())
    } else if text.starts_with(TOO_DEEP) {
        JsonError::TooDeep
    } else {
        JsonError::Syntax
    }
}

struct StrictValue {
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for StrictValue {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl StrictValue {
    fn nested<E: de::Error>(&self) -> Result<StrictValue, E> {
        if self.depth >= MAX_DEPTH {
            return Err(E::custom(TOO_DEEP));
        }
        Ok(StrictValue {
            depth: self.depth + 1,
        })
    }
}

impl<'de> Visitor<'de> for StrictValue {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self.nested()?)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(de::Error::custom(format!("{DUPLICATE}{key}")));
            }
            let value = map.next_value_seed(self.nested()?)?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn accepts_what_serde_json_accepts() {
        for text in [
            r#"{"amount":100,"currency":"USD","line_items":[{"name":"Mug","quantity":2}]}"#,
            "[]",
            "null",
            "  {\"a\": [1, 2.5, -3, true, null, \"\\u00e9\"]}  ",
        ] {
            let ours = parse_strict(text.as_bytes()).unwrap();
            let theirs: Value = serde_json::from_str(text).unwrap();
            assert_eq!(ours, theirs, "{text}");
        }
    }

    #[test]
    fn refuses_duplicate_keys_at_any_depth() {
        for (text, key) in [
            (r#"{"amount":100,"amount":99999999}"#, "amount"),
            (r#"{"a":{"b":1,"b":1}}"#, "b"),
            (r#"{"items":[{"x":1},{"x":1,"x":2}]}"#, "x"),
            (r#"{"amount":1,"\u0061mount":2}"#, "amount"),
        ] {
            assert_eq!(
                parse_strict(text.as_bytes()),
                Err(JsonError::DuplicateKey(key.into())),
                "{text}"
            );
        }
        assert!(
            parse_strict(br#"{"a":1,"A":2}"#).is_ok(),
            "names are case-sensitive"
        );
    }

    #[test]
    fn refuses_syntax_errors_trailing_bytes_and_deep_nesting() {
        for text in [
            "",
            "{",
            "{\"a\":1}x",
            "{\"a\":1}{}",
            "\u{feff}{}",
            "{'a':1}",
            "NaN",
        ] {
            assert_eq!(
                parse_strict(text.as_bytes()),
                Err(JsonError::Syntax),
                "{text:?}"
            );
        }
        let deep = format!("{}{}", "[".repeat(40), "]".repeat(40));
        assert_eq!(parse_strict(deep.as_bytes()), Err(JsonError::TooDeep));
        let fine = format!("{}{}", "[".repeat(20), "]".repeat(20));
        assert!(parse_strict(fine.as_bytes()).is_ok());
        assert_eq!(parse_strict(&[0xff, 0xfe]), Err(JsonError::Syntax));
        assert_eq!(
            parse_strict(br#"{"a":1}"#).unwrap(),
            json!({"a": 1}),
            "sanity"
        );
    }
}
