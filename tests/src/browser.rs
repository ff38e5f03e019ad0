//! Headless Chromium through ChromeDriver, with the flags this machine needs.

use fantoccini::{Client, ClientBuilder, Locator};
use std::path::PathBuf;
use std::time::Duration;

pub async fn open() -> Client {
    let profile = std::env::temp_dir().join(format!("till-chromium-{}", crate::new_key()));
    let capabilities = serde_json::json!({
        "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1280,900",
                format!("--user-data-dir={}", profile.display()),
            ]
        }
    });
    let capabilities = match capabilities {
        serde_json::Value::Object(map) => map,
        _ => unreachable!("a JSON object literal"),
    };
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&crate::setting("TILL_CHROMEDRIVER_URL"))
        .await
        .expect("chromedriver session")
}

/// Makes the browser fail every request whose URL matches one of `patterns` (`*` is a
/// wildcard), as a dropped connection would; no patterns let everything through again. Chrome
/// DevTools' `Network.setBlockedURLs`, sent through ChromeDriver.
pub async fn block_requests(client: &Client, patterns: &[&str]) {
    let session = client
        .session_id()
        .await
        .expect("session id")
        .expect("an open session");
    let url = format!(
        "{}/session/{session}/goog/cdp/execute",
        crate::setting("TILL_CHROMEDRIVER_URL").trim_end_matches('/')
    );
    let http = reqwest::Client::new();
    for (cmd, params) in [
        ("Network.enable", serde_json::json!({})),
        (
            "Network.setBlockedURLs",
            serde_json::json!({ "urls": patterns }),
        ),
    ] {
        let response = http
            .post(&url)
            .json(&serde_json::json!({ "cmd": cmd, "params": params }))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{cmd}: {e}"));
        assert!(
            response.status().is_success(),
            "{cmd}: {}",
            response.status()
        );
    }
}

/// Waits for an element, up to 20 s. A look sent while the page navigates (a redirect to the
/// bank, a return to the shop) is aborted by the browser; the page that loads is asked again.
pub async fn wait_for(client: &Client, css: &str) -> fantoccini::elements::Element {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match client
            .wait()
            .at_most(left)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(found) => return found,
            Err(e) if e.to_string().contains("aborted by navigation") && !left.is_zero() => {}
            Err(e) => panic!("{css} did not appear: {e}"),
        }
    }
}

/// Clicks the element `css` names (it must be there already).
pub async fn click(client: &Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("clicking {css}: {e}"));
}

/// Waits until an element's text contains `needle`; returns the text.
pub async fn wait_for_text(client: &Client, css: &str, needle: &str) -> String {
    let mut last = String::new();
    for _ in 0..80 {
        if let Ok(element) = client.find(Locator::Css(css)).await {
            last = element.text().await.unwrap_or_default();
            if last.contains(needle) {
                return last;
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("{css} never contained {needle:?}; last text: {last:?}")
}

/// Saves a screenshot under the test artifacts folder (target/till/test/screenshots).
pub async fn screenshot(client: &Client, name: &str) -> PathBuf {
    let dir = PathBuf::from(crate::setting("TILL_ARTIFACTS")).join("screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot folder");
    let path = dir.join(format!("{name}.png"));
    let png = client.screenshot().await.expect("screenshot");
    std::fs::write(&path, png).expect("write screenshot");
    path
}

/// Narrows the window to a 375 px phone and checks the page needs no sideways scrolling.
pub async fn fits_a_phone(client: &Client) {
    client.set_window_size(375, 812).await.expect("window size");
    let fits = client
        .execute("return document.documentElement.scrollWidth <= 375", vec![])
        .await
        .expect("script");
    assert_eq!(
        fits.as_bool(),
        Some(true),
        "no sideways scrolling at 375 px"
    );
}
