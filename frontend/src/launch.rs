//! What the page was opened with: `#key=pk_...&secret=cs_..._secret_...` (a fragment, so it never
//! reaches a server log).

pub struct Launch {
    pub publishable_key: String,
    pub client_secret: String,
    pub session_id: String,
}

pub fn from_fragment(fragment: &str) -> Option<Launch> {
    let mut key = None;
    let mut secret = None;
    for pair in fragment.trim_start_matches('#').split('&') {
        match pair.split_once('=') {
            Some(("key", value)) => key = Some(value.to_string()),
            Some(("secret", value)) => secret = Some(value.to_string()),
            _ => {}
        }
    }
    let client_secret = secret?;
    let session_id = client_secret.split_once("_secret_")?.0.to_string();
    Some(Launch {
        publishable_key: key?,
        client_secret,
        session_id,
    })
}

pub fn current() -> Option<Launch> {
    let hash = web_sys::window()?.location().hash().ok()?;
    from_fragment(&hash)
}
