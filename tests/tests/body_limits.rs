//! Bodies past the limit are refused: by their `Content-Length` before a byte is read, and
//! while reading when there is none. In its own test binary, because an answer sent before the
//! body was read breaks `wrangler dev`'s pooled connection to workerd, and the request that
//! happens to follow on it gets the local proxy's 503; alone, nothing else is in flight.

use till_e2e::{json_of, Till, SECRET_KEY};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Sends a POST with a chunked body (no Content-Length) over a plain socket; the status.
async fn chunked_post(edge: &str, path: &str, headers: &str, chunks: usize, chunk: &[u8]) -> u16 {
    let address = edge.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nOrigin: {edge}\r\n{headers}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    for _ in 0..chunks {
        let frame = format!("{:x}\r\n", chunk.len());
        if stream.write_all(frame.as_bytes()).await.is_err()
            || stream.write_all(chunk).await.is_err()
            || stream.write_all(b"\r\n").await.is_err()
        {
            break; // The edge answered and closed before the whole body was sent.
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let text = String::from_utf8_lossy(&answer);
    text.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP answer: {text}"))
}

#[tokio::test]
async fn oversized_bodies_are_refused_by_length_and_while_reading() {
    let till = Till::default();
    let big = format!(
        r#"{{"amount":100,"currency":"USD","merchant_reference":"{}"}}"#,
        "x".repeat(70_000)
    );
    let (status, body) = json_of(
        till.http
            .post(till.url("/v1/checkout_sessions"))
            .bearer_auth(SECRET_KEY)
            .header("Content-Type", "application/json")
            .body(big)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (413, Some("body_too_large"))
    );
    let auth = format!("Authorization: Bearer {SECRET_KEY}\r\n");
    let status = chunked_post(
        &till.edge,
        "/v1/checkout_sessions",
        &auth,
        40,
        &[b' '; 4096],
    )
    .await;
    assert_eq!(
        status, 413,
        "a body without Content-Length is capped while read"
    );
    let status = chunked_post(
        &till.edge,
        "/v1/checkout_sessions",
        &auth,
        1,
        br#"{"amount":100,"currency":"USD"}"#,
    )
    .await;
    assert_eq!(status, 200, "a small chunked body is fine");

    // Dispute evidence carries files: its cap is the largest valid evidence (about 1.7 MB),
    // not 64 KiB; beyond that it is refused by length like any other body.
    let evidence = |bytes: usize| {
        till.http
            .post(till.url("/v1/disputes/dp_00000000000000000000000000000000/evidence"))
            .bearer_auth(SECRET_KEY)
            .header("Content-Type", "application/json")
            .header("Idempotency-Key", till_e2e::new_key())
            .body(format!(
                r#"{{"text":{{"uncategorized_text":"{}"}}}}"#,
                "x".repeat(bytes)
            ))
    };
    let (status, body) = json_of(evidence(200_000).send().await.unwrap()).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("resource_missing")),
        "read in full, then the dispute is looked up"
    );
    let (status, body) = json_of(evidence(3 * 1024 * 1024).send().await.unwrap()).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (413, Some("body_too_large"))
    );

    // The gateway webhook is unauthenticated: a small cap, and no signature means no reading.
    let now = till_e2e::now();
    let signed = format!("Gateway-Signature: t={now},v1={}\r\n", "0".repeat(64));
    let status = chunked_post(
        &till.edge,
        "/v1/webhooks/gateway",
        &signed,
        20,
        &[b' '; 4096],
    )
    .await;
    assert_eq!(status, 413);
    for header in [
        "",
        "Gateway-Signature: nonsense\r\n",
        "Gateway-Signature: t=1,v1=00\r\n",
    ] {
        let status = chunked_post(
            &till.edge,
            "/v1/webhooks/gateway",
            header,
            100,
            &[b' '; 4096],
        )
        .await;
        assert_eq!(status, 400, "{header:?}");
    }
}
