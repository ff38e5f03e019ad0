//! Writes the committed seed corpora, `fuzz/corpus/<target>/<name>`: a handful of valid and
//! invalid inputs per target. Rerun after changing the fixtures in `src/lib.rs`:
//!
//! ```sh
//! CARGO_TARGET_DIR=target/fuzz cargo run --manifest-path fuzz/Cargo.toml --example seeds
//! ```

use libfuzzer_sys::arbitrary::{Arbitrary, Unstructured};
use std::path::Path;
use till_core::crypto::{self, CardKey};
use till_core::jwe::{b64, unb64};
use till_core::reconciliation::HEADER;
use till_core::webhook::sign;
use till_fuzz::{self as fx, SignatureInput};

fn write(target: &str, name: &str, bytes: impl AsRef<[u8]>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    std::fs::create_dir_all(&dir).expect("corpus dir");
    std::fs::write(dir.join(name), bytes).expect("seed file");
}

fn jwe_seeds() {
    let key = fx::card_key();
    let valid = fx::valid_jwe(&key);
    write("jwe", "valid", &valid);
    let other = CardKey::from_secret_bytes("other-key", [0x44; 32]).expect("key");
    let unknown_kid = crypto::encrypt(
        &other.public_jwk(),
        fx::SESSION,
        fx::card_payload_json().as_bytes(),
        [0x55; 32],
        [0x66; 12],
    )
    .expect("encrypt");
    write("jwe", "unknown_kid", unknown_kid);
    let garbage_plaintext = crypto::encrypt(
        &key.public_jwk(),
        "cs_other",
        b"not json",
        [0x77; 32],
        [0x88; 12],
    )
    .expect("encrypt");
    write("jwe", "not_json_plaintext", garbage_plaintext);
    let parts: Vec<&str> = valid.split('.').collect();
    write(
        "jwe",
        "truncated_tag",
        format!("{}..{}.{}.AAAA", parts[0], parts[2], parts[3]),
    );
    write("jwe", "four_parts", parts[..4].join("."));
    let header = String::from_utf8(unb64(parts[0]).expect("b64")).expect("utf-8");
    let rsa = b64(header.replace("ECDH-ES", "RSA-OAEP").as_bytes());
    write(
        "jwe",
        "rsa_alg",
        format!("{rsa}..{}.{}.{}", parts[2], parts[3], parts[4]),
    );
    let off_curve = b64(header.replacen("\"x\":\"", "\"x\":\"A", 1).as_bytes());
    write(
        "jwe",
        "epk_bad_x",
        format!("{off_curve}..{}.{}.{}", parts[2], parts[3], parts[4]),
    );
    write(
        "jwe",
        "encrypted_key",
        format!("{}.AAAA.{}.{}.{}", parts[0], parts[2], parts[3], parts[4]),
    );
    write("jwe", "dots", "....");
}

fn card_seeds() {
    let payload = fx::card_payload_json();
    write("card", "payload_visa", &payload);
    write(
        "card",
        "payload_spaced_number",
        payload.replace("4242424242424242", "4242 4242 4242 4242"),
    );
    write(
        "card",
        "payload_amex",
        payload
            .replace("4242424242424242", "378282246310005")
            .replace("\"123\"", "\"1234\""),
    );
    write(
        "card",
        "payload_expired_card",
        payload.replace("\"exp_year\":2030", "\"exp_year\":2025"),
    );
    write(
        "card",
        "payload_old_and_short_nonce",
        payload
            .replace(&fx::NOW.to_string(), "1700000000")
            .replace("bm9uY2Utbm9uY2Utbm9uY2U", "short"),
    );
    write(
        "card",
        "details_mastercard",
        r#"{"number":"5555 5555 5555 4444","exp_month":1,"exp_year":2027,"cvc":"737","name":"Grace Hopper"}"#,
    );
    write(
        "card",
        "details_unknown_field",
        r#"{"number":"4242424242424242","exp_month":12,"exp_year":2030,"cvc":"123","name":"A","pin":"1"}"#,
    );
    write("card", "text_number", "4242 4242 4242 4242");
    write("card", "text_expiry", "12/34");
    write("card", "text_cvc", "123");
    write("card", "text_amex", "3782 822463 10005");
}

fn request_body_seeds() {
    let seeds = [
        (
            "checkout_session",
            r#"{"amount":3000,"currency":"USD","capture_method":"manual","line_items":[{"name":"Mug","quantity":2,"unit_amount":1000},{"name":"Tea","quantity":1,"unit_amount":1000}],"return_url":"https://shop.example/done","merchant_reference":"order-17"}"#,
        ),
        (
            "checkout_session_mismatch",
            r#"{"amount":2999,"currency":"EUR","line_items":[{"name":"Mug","quantity":3,"unit_amount":1000}]}"#,
        ),
        (
            "checkout_session_script_url",
            r#"{"amount":100,"currency":"JPY","return_url":"javascript://alert(1)"}"#,
        ),
        (
            "token",
            r#"{"checkout_session":"cs_1","client_secret":"cs_1_secret_x","encrypted_card":"eyJ..."}"#,
        ),
        (
            "confirm",
            r#"{"client_secret":"cs_1_secret_x","token":"tok_1"}"#,
        ),
        (
            "challenge",
            r#"{"client_secret":"cs_1_secret_x","otp":"123456"}"#,
        ),
        ("capture", r#"{"amount":500}"#),
        ("cancel", "{}"),
        (
            "refund",
            r#"{"payment":"pay_1","amount":300,"reason":"requested_by_customer"}"#,
        ),
        (
            "webhook_endpoint",
            r#"{"url":"https://shop.example/hooks","events":["payment.succeeded","refund.succeeded"]}"#,
        ),
        (
            "webhook_endpoint_bad",
            r#"{"url":"ftp://x y","events":["payment.exploded"]}"#,
        ),
        (
            "nested_value",
            r#"{"b":[1,-2,3.5e3,{"z":null,"a":true}],"a":"\u00e9\n"}"#,
        ),
        ("not_json", "amount=100&currency=USD"),
    ];
    for (name, body) in seeds {
        write("request_bodies", name, body);
    }
}

fn settlement_seeds() {
    write(
        "settlement_csv",
        "valid",
        format!(
            "{HEADER}\n2026-11-25,gwp_1,pay_1,charge,1000,59,941,USD\n2026-11-25,gwr_1,re_1,refund,300,0,-300,USD\n"
        ),
    );
    write(
        "settlement_csv",
        "crlf_blank_lines",
        format!("{HEADER}\r\n\r\n2026-11-25,gwp_2,pay_2,charge,250,10,240,EUR\r\n  \r\n"),
    );
    write("settlement_csv", "header_only", HEADER);
    write(
        "settlement_csv",
        "bad_header",
        "date,id,amount\n2026-11-25,x,1\n",
    );
    write(
        "settlement_csv",
        "bad_amount",
        format!("{HEADER}\n2026-11-25,gwp_1,pay_1,charge,10.5,0,0,USD\n"),
    );
    write(
        "settlement_csv",
        "bad_type_and_fields",
        format!("{HEADER}\n2026-11-25,gwp_1,pay_1,chargeback,1,0,1,USD\n2026-11-25,gwp_1\n"),
    );
}

/// Bytes that `arbitrary` decodes to exactly `input`: the two integers, the two slices, the
/// header, then the slices' lengths at the end (found by trying every byte value, and checked).
fn encode_signature_input(input: &SignatureInput) -> Vec<u8> {
    let mut body = input.now.to_le_bytes().to_vec();
    body.extend(input.skew.to_le_bytes());
    body.extend(input.secret);
    body.extend(input.body);
    body.extend(input.header.as_bytes());
    for secret_len in 0..=255u8 {
        for body_len in 0..=255u8 {
            let mut bytes = body.clone();
            bytes.extend([body_len, secret_len]);
            let decoded = SignatureInput::arbitrary_take_rest(Unstructured::new(&bytes));
            if decoded.as_ref() == Ok(input) {
                return bytes;
            }
        }
    }
    panic!("no encoding found for {input:?} (keep seeds under 256 bytes)");
}

fn signature_seeds() {
    let body: &[u8] = br#"{"type":"payment.succeeded","data":{"id":"pay_1"}}"#;
    let now = fx::NOW;
    let signed = sign(fx::WEBHOOK_SECRET, now - 30, body);
    let old = sign(fx::WEBHOOK_SECRET, now - 3600, body);
    let rolled = format!("{signed},v1=00ff");
    let wrong = format!("t={now},v1={}", "ab".repeat(32));
    let seeds = [
        ("valid", signed.as_str()),
        ("rolled_secret", rolled.as_str()),
        ("too_old", old.as_str()),
        ("wrong_signature", wrong.as_str()),
        ("not_hex", "t=1795000000,v1=zz"),
        ("no_timestamp", "v1=abcd"),
        ("no_signature", "t=1795000000"),
        ("huge_timestamp", "t=9223372036854775807,v1=00"),
    ];
    for (name, header) in seeds {
        let input = SignatureInput {
            now,
            skew: 30,
            secret: fx::WEBHOOK_SECRET,
            body,
            header,
        };
        write("signature_header", name, encode_signature_input(&input));
    }
}

fn idempotency_seeds() {
    let long = "k".repeat(255);
    let too_long = "k".repeat(256);
    let seeds = [
        ("uuid", "6f1c2a9e-3b7d-4c55-9a10-2f8e4d1b7c3a"),
        ("printable", "order-17/retry#2~!"),
        ("max_len", long.as_str()),
        ("too_long", too_long.as_str()),
        ("space", "has space"),
        ("tab", "tab\t"),
        ("cyrillic", "ключ"),
    ];
    for (name, key) in seeds {
        write("idempotency_key", name, key);
    }
    write("idempotency_key", "empty", "");
}

fn appearance_seeds() {
    let seeds = [
        (
            "valid",
            r##"{"colorPrimary":"#0a7","colorText":"#111111","colorBackground":"#ffffffff","colorDanger":"#c00a","fontFamily":"Inter, \"Helvetica Neue\", sans-serif","borderRadius":"12px"}"##,
        ),
        (
            "injection",
            r##"{"colorPrimary":"red;} body{display:none","fontFamily":"x;background:url(https://evil)","borderRadius":"1px;x","colorText":"#12345g"}"##,
        ),
        ("wrong_types", r#"{"colorPrimary":5,"borderRadius":null}"#),
        (
            "unknown_key",
            r##"{"colorAccent":"#fff","borderRadius":"4px"}"##,
        ),
        ("not_json", "not json"),
    ];
    for (name, json) in seeds {
        write("appearance", name, json);
    }
}

fn strict_json_seeds() {
    let seeds = [
        (
            "checkout_session",
            r#"{"amount":3000,"currency":"USD","line_items":[{"name":"Mug","quantity":2,"unit_amount":1500}]}"#,
        ),
        ("duplicate_top", r#"{"amount":100,"amount":99999999}"#),
        ("duplicate_nested", r#"{"items":[{"x":1},{"x":1,"x":2}]}"#),
        ("duplicate_escaped", r#"{"amount":1,"\u0061mount":2}"#),
        ("case_differs", r#"{"a":1,"A":2}"#),
        (
            "scalars",
            r#"[1, -2.5e-3, true, null, "\u00e9\ud83d\ude00"]"#,
        ),
        ("trailing", r#"{"a":1}x"#),
        ("bom", "\u{feff}{}"),
    ];
    for (name, text) in seeds {
        write("strict_json", name, text);
    }
    let deep = format!("{}{}", "[".repeat(40), "]".repeat(40));
    write("strict_json", "too_deep", deep);
    let limit = format!("{}{}", "[".repeat(32), "]".repeat(32));
    write("strict_json", "deepest_allowed", limit);
}

fn webhook_url_seeds() {
    let seeds = [
        ("public", "https://shop.example/hooks"),
        ("port_query", "https://Shop.Example:8443/a?b=c"),
        ("public_v4", "https://93.184.216.34/x"),
        ("public_v6", "https://[2606:4700::1111]/"),
        ("idn", "https://bücher.example/"),
        ("loopback_decimal", "https://2130706433/"),
        ("loopback_octal", "https://0177.0.0.1/"),
        ("metadata", "https://169.254.169.254/latest/meta-data/"),
        ("mapped_v6", "https://[::ffff:127.0.0.1]/"),
        ("six_to_four", "https://[2002:7f00:1::]/"),
        ("localhost_dot", "https://LOCALHOST./"),
        ("internal_name", "https://metadata.google.internal/"),
        ("credentials", "https://user:pw@shop.example/"),
        ("http", "http://shop.example/hooks"),
        ("dev_host", "http://127.0.0.1:9000/hook"),
        ("app_scheme", "myapp://checkout/done"),
        ("javascript", "JavaScript://%0aalert(1)"),
        ("data", "data:text/html,<script>"),
        ("tab", "https://shop.exa\tmple/"),
        ("relative", "/thanks"),
    ];
    for (name, url) in seeds {
        write("webhook_url", name, url);
    }
}

fn main() {
    jwe_seeds();
    card_seeds();
    request_body_seeds();
    settlement_seeds();
    signature_seeds();
    idempotency_seeds();
    appearance_seeds();
    strict_json_seeds();
    webhook_url_seeds();
}
