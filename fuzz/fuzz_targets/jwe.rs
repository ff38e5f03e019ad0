//! Card JWEs as the edge receives them in `POST /v1/tokens` (`encrypted_card`).
//!
//! Every input is used twice:
//! 1. as the compact text itself (arbitrary UTF-8), through `CompactJwe::parse` and `decrypt`;
//! 2. as a list of edits (via `arbitrary`) applied to a valid JWE made once for the fixed key, so
//!    the fuzzer reaches key agreement and AES-GCM with well-formed headers, points and lengths.
//!
//! Invariants: nothing panics; a parsed JWE re-serializes to the same text (no malleable
//! encodings); the untouched fixture decrypts to a valid card; after any edits it either fails
//! or decrypts to exactly the original header and plaintext (authentication holds).
#![no_main]

use libfuzzer_sys::arbitrary::{self, Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;
use till_core::card::CardPayload;
use till_core::crypto::{self, CardKey};
use till_core::jwe::{b64, unb64, CompactJwe, ProtectedHeader, ALG, ENC};
use till_fuzz as fx;

struct Fixture {
    keys: Vec<CardKey>,
    /// The valid JWE's five parts, decoded.
    parts: Vec<Vec<u8>>,
    header: ProtectedHeader,
    plaintext: Vec<u8>,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let key = fx::card_key();
    let compact = fx::valid_jwe(&key);
    let keys = vec![key];
    let decrypted = crypto::decrypt(&keys, &compact).expect("the fixture JWE decrypts");
    let parts = compact
        .split('.')
        .map(|p| unb64(p).expect("base64url"))
        .collect();
    Fixture {
        keys,
        parts,
        header: decrypted.header,
        plaintext: decrypted.plaintext,
    }
});

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Part {
    Header,
    EncryptedKey,
    Iv,
    Ciphertext,
    Tag,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum HeaderField {
    Alg,
    Enc,
    Kid,
    Cs,
    EpkKty,
    EpkCrv,
    EpkX,
    EpkY,
}

#[derive(Arbitrary, Debug)]
enum Edit<'a> {
    /// Sets one header field (JSON level, then re-encoded).
    SetField(HeaderField, &'a str),
    /// Removes one header field.
    RemoveField(HeaderField),
    /// Replaces the sender's point with raw coordinates (mostly not on the curve).
    EpkCoordinates([u8; 32], [u8; 32]),
    /// Replaces the sender's key with the public key of another scalar (on the curve).
    EpkFromScalar([u8; 32]),
    /// XORs one byte of a decoded part.
    Xor(Part, u16, u8),
    /// Replaces `len` bytes at `at` of a decoded part.
    Splice(Part, u16, u8, &'a [u8]),
    /// Cuts a decoded part to `len` bytes.
    Truncate(Part, u16),
    /// XORs one byte of the final compact text (kept ASCII).
    XorText(u16, u8),
    /// Inserts ASCII text into the final compact text.
    InsertText(u16, &'a str),
}

const FIELDS: [(&str, Option<&str>); 8] = [
    ("alg", None),
    ("enc", None),
    ("kid", None),
    ("cs", None),
    ("kty", Some("epk")),
    ("crv", Some("epk")),
    ("x", Some("epk")),
    ("y", Some("epk")),
];

fn field_of(
    value: &mut serde_json::Value,
    field: HeaderField,
) -> Option<(
    &mut serde_json::Map<String, serde_json::Value>,
    &'static str,
)> {
    let (name, parent) = FIELDS[field as usize];
    let object = match parent {
        Some(parent) => value.get_mut(parent)?.as_object_mut()?,
        None => value.as_object_mut()?,
    };
    Some((object, name))
}

fn at(index: u16, len: usize) -> usize {
    usize::from(index) % (len + 1)
}

/// The fixture JWE with the edits applied: header fields first, then decoded bytes, then text.
fn mutate(edits: &[Edit]) -> String {
    let fixture = &*FIXTURE;
    let mut parts = fixture.parts.clone();
    let mut header: serde_json::Value =
        serde_json::from_slice(&parts[0]).expect("the fixture header is JSON");
    let mut header_edited = false;
    for edit in edits {
        match edit {
            Edit::SetField(field, text) => {
                if let Some((object, name)) = field_of(&mut header, *field) {
                    object.insert(name.into(), serde_json::Value::String((*text).into()));
                    header_edited = true;
                }
            }
            Edit::RemoveField(field) => {
                if let Some((object, name)) = field_of(&mut header, *field) {
                    object.remove(name);
                    header_edited = true;
                }
            }
            Edit::EpkCoordinates(x, y) => {
                if let Some(epk) = header.get_mut("epk").and_then(|e| e.as_object_mut()) {
                    epk.insert("x".into(), b64(x).into());
                    epk.insert("y".into(), b64(y).into());
                    header_edited = true;
                }
            }
            Edit::EpkFromScalar(bytes) => {
                if let Ok(other) = CardKey::from_secret_bytes("epk", *bytes) {
                    let public = other.public_jwk();
                    if let Some(epk) = header.get_mut("epk").and_then(|e| e.as_object_mut()) {
                        epk.insert("x".into(), public.x.into());
                        epk.insert("y".into(), public.y.into());
                        header_edited = true;
                    }
                }
            }
            _ => {}
        }
    }
    if header_edited {
        parts[0] = serde_json::to_vec(&header).expect("a JSON value serializes");
    }
    for edit in edits {
        match edit {
            Edit::Xor(part, index, mask) => {
                let bytes = &mut parts[*part as usize];
                if !bytes.is_empty() {
                    let i = usize::from(*index) % bytes.len();
                    bytes[i] ^= mask;
                }
            }
            Edit::Splice(part, index, len, with) => {
                let bytes = &mut parts[*part as usize];
                let start = at(*index, bytes.len());
                let end = (start + usize::from(*len)).min(bytes.len());
                bytes.splice(start..end, with.iter().copied());
            }
            Edit::Truncate(part, len) => parts[*part as usize].truncate(usize::from(*len)),
            _ => {}
        }
    }
    let mut text: Vec<u8> = parts
        .iter()
        .map(|p| b64(p))
        .collect::<Vec<_>>()
        .join(".")
        .into_bytes();
    for edit in edits {
        match edit {
            Edit::XorText(index, mask) if !text.is_empty() => {
                let i = usize::from(*index) % text.len();
                text[i] ^= mask & 0x7f;
            }
            Edit::InsertText(index, insert) => {
                let i = at(*index, text.len());
                text.splice(i..i, insert.bytes().filter(u8::is_ascii));
            }
            _ => {}
        }
    }
    String::from_utf8(text).expect("only ASCII edits")
}

/// What the edge does with a compact JWE, with the invariants that must hold for any text.
/// `edited` says the text is the fixture after edits: then it may only decrypt to the fixture.
fn check_text(text: &str, edited: bool) {
    let fixture = &*FIXTURE;
    if let Ok(parsed) = CompactJwe::parse(text) {
        assert_eq!(parsed.header.alg, ALG);
        assert_eq!(parsed.header.enc, ENC);
        let header_b64 = std::str::from_utf8(&parsed.aad).expect("the aad is the header text");
        let mut sealed = parsed.ciphertext.clone();
        sealed.extend_from_slice(&parsed.tag);
        // base64url without padding has one encoding per byte string: nothing is malleable.
        assert_eq!(
            CompactJwe::serialize(header_b64, &parsed.iv, &sealed).as_deref(),
            Some(text),
            "a parsed JWE re-serializes to the same text"
        );
    }
    if let Ok(decrypted) = crypto::decrypt(&fixture.keys, text) {
        assert_eq!(decrypted.header.kid, fx::KID);
        if edited {
            // Any edit to header, IV, ciphertext or tag must fail authentication.
            assert_eq!(decrypted.header, fixture.header, "authenticated header");
            assert_eq!(
                decrypted.plaintext, fixture.plaintext,
                "authenticated plaintext"
            );
        }
        // What the edge does next with the plaintext.
        if let Ok(payload) = serde_json::from_slice::<CardPayload>(&decrypted.plaintext) {
            let _ = payload.check(fx::NOW);
            let _ = payload.card.validate(fx::THIS_MONTH);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        check_text(text, false);
    }
    let edits: Vec<Edit> = Unstructured::new(data)
        .arbitrary_take_rest_iter::<Edit>()
        .map(|edits| edits.take(8).filter_map(Result::ok).collect())
        .unwrap_or_default();
    let text = mutate(&edits);
    if edits.is_empty() {
        let decrypted = crypto::decrypt(&FIXTURE.keys, &text).expect("the untouched JWE decrypts");
        assert_eq!(decrypted.plaintext, FIXTURE.plaintext);
        let payload: CardPayload = serde_json::from_slice(&decrypted.plaintext).expect("a payload");
        assert!(payload.check(fx::NOW).is_ok() && payload.card.validate(fx::THIS_MONTH).is_ok());
    }
    check_text(&text, true);
});
