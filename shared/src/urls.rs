//! Which URLs merchants may give Till. A webhook URL is fetched by Till's own servers, so one that
//! names an internal address (loopback, private, link-local, metadata services, in any notation)
//! would let a merchant make Till call into its own network (SSRF). A `return_url` is only
//! navigated by the customer's browser or app, but the same host rules keep checkout from
//! sending customers to internal addresses.
//!
//! The checks need no DNS: the text is parsed with the WHATWG URL parser (the one `fetch` uses),
//! which turns `2130706433`, `0x7f.1` and `0177.0.0.1` into `127.0.0.1` before the host is judged,
//! and the normalized URL is what Till stores and calls. Names that resolve to internal addresses
//! are stopped by the platform: Workers' `fetch` cannot reach private networks.

use std::net::{Ipv4Addr, Ipv6Addr};
use url::{Host, Url};

pub const MAX_URL_LEN: usize = 2048;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlError {
    /// Empty, too long, with spaces or control characters, or not an absolute URL.
    Malformed,
    /// A scheme this kind of URL may not use (`http` outside development, `javascript:`, ...).
    Scheme,
    /// `user:password@` in the URL: credentials belong in the signing secret, not the URL.
    Credentials,
    /// An IP address that is not publicly routable, or a name reserved for local use.
    InternalHost,
}

impl UrlError {
    pub fn message(self) -> &'static str {
        match self {
            UrlError::Malformed => "must be an absolute URL of at most 2048 characters",
            UrlError::Scheme => "must use https",
            UrlError::Credentials => "must not contain a user name or password",
            UrlError::InternalHost => "must name a public host, not a local or private address",
        }
    }
}

/// Hosts allowed over plain `http` and exempt from the host rules. Only for local development
/// and tests (the edge reads them from a setting that production never has).
#[derive(Debug, Clone, Copy, Default)]
pub struct DevHosts<'a>(pub &'a [String]);

impl DevHosts<'_> {
    fn allows(&self, url: &Url) -> bool {
        url.host_str()
            .is_some_and(|host| self.0.iter().any(|allowed| allowed == host))
    }
}

fn parse(text: &str) -> Result<Url, UrlError> {
    // The URL parser silently drops tabs and newlines; a URL that needs them is refused instead.
    if text.is_empty()
        || text.len() > MAX_URL_LEN
        || text.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(UrlError::Malformed);
    }
    Url::parse(text).map_err(|_| UrlError::Malformed)
}

/// A webhook endpoint: `https` to a public host. Returns the normalized URL to store and call.
pub fn check_webhook_url(text: &str, dev: DevHosts<'_>) -> Result<String, UrlError> {
    let url = parse(text)?;
    check_web_url(&url, dev)?;
    Ok(url.into())
}

/// A `return_url`: a web page (same rules as webhooks) or an app's own scheme
/// (`myapp://checkout/done`), never a scheme that runs or embeds content.
pub fn check_return_url(text: &str, dev: DevHosts<'_>) -> Result<String, UrlError> {
    const REFUSED: [&str; 7] = [
        "javascript",
        "data",
        "vbscript",
        "file",
        "blob",
        "about",
        "filesystem",
    ];
    let url = parse(text)?;
    match url.scheme() {
        "http" | "https" => check_web_url(&url, dev)?,
        scheme if REFUSED.contains(&scheme) => return Err(UrlError::Scheme),
        // An app scheme: `myapp://done` has a host, `myapp:done` does not; both open the app.
        _ if url.cannot_be_a_base() && !text.contains("://") => return Err(UrlError::Malformed),
        _ => {}
    }
    Ok(url.into())
}

/// A merchant's page origin (allowed to frame the widget and call with the publishable key):
/// `https://host[:port]` on a public host, nothing after it but an optional `/`. Returns the
/// origin as browsers send it in `Origin` (lowercase host, default port dropped, IDN in
/// punycode), which is what is stored and compared.
pub fn check_origin(text: &str, dev: DevHosts<'_>) -> Result<String, UrlError> {
    let url = parse(text)?;
    check_web_url(&url, dev)?;
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(UrlError::Malformed);
    }
    Ok(url.origin().ascii_serialization())
}

fn check_web_url(url: &Url, dev: DevHosts<'_>) -> Result<(), UrlError> {
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UrlError::Credentials);
    }
    if dev.allows(url) && matches!(url.scheme(), "http" | "https") {
        return Ok(());
    }
    if url.scheme() != "https" {
        return Err(UrlError::Scheme);
    }
    if url.port() == Some(0) {
        return Err(UrlError::Malformed);
    }
    match url.host() {
        Some(Host::Domain(name)) if public_name(name) => Ok(()),
        Some(Host::Ipv4(ip)) if public_v4(ip) => Ok(()),
        Some(Host::Ipv6(ip)) if public_v6(ip) => Ok(()),
        Some(_) => Err(UrlError::InternalHost),
        None => Err(UrlError::Malformed),
    }
}

/// A DNS name that could be on the internet: at least two labels, none empty, none reserved for
/// local use, and not an IP address in disguise (`127.0.0.1.` is an address, whatever its
/// trailing dots).
fn public_name(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    if name.is_empty() || name.starts_with('.') || name.contains("..") {
        return false;
    }
    if !matches!(Host::parse(&name), Ok(Host::Domain(_))) {
        return false;
    }
    const LOCAL_SUFFIXES: [&str; 8] = [
        "localhost",
        "local",
        "localdomain",
        "internal",
        "intranet",
        "lan",
        "home.arpa",
        "arpa",
    ];
    let reserved = LOCAL_SUFFIXES
        .iter()
        .any(|suffix| name == *suffix || name.ends_with(&format!(".{suffix}")));
    name.contains('.') && !reserved
}

fn public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let private_or_special = a == 0                       // "this network", 0.0.0.0
        || a == 10                                        // private
        || a == 127                                       // loopback
        || (a == 100 && (64..128).contains(&b))           // carrier-grade NAT
        || (a == 169 && b == 254)                         // link-local, cloud metadata
        || (a == 172 && (16..32).contains(&b))            // private
        || (a == 192 && b == 0 && c == 0)                 // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2)                 // documentation
        || (a == 192 && b == 88 && c == 99)               // 6to4 relay anycast
        || (a == 192 && b == 168)                         // private
        || (a == 198 && (18..20).contains(&b))            // benchmarking
        || (a == 198 && b == 51 && c == 100)              // documentation
        || (a == 203 && b == 0 && c == 113)               // documentation
        || a >= 224; // multicast, reserved, broadcast
    !private_or_special
}

fn public_v6(ip: Ipv6Addr) -> bool {
    let segments = ip.segments();
    let [first, second, ..] = segments;
    // Addresses that carry an IPv4 address are judged by it (or refused when they only make
    // sense inside a network).
    if let Some(v4) = ip.to_ipv4_mapped() {
        return public_v4(v4);
    }
    if first == 0x2002 {
        // 6to4: the IPv4 address is in the next 32 bits.
        let [_, high, low, ..] = segments;
        let v4 = Ipv4Addr::from((u32::from(high) << 16) | u32::from(low));
        return public_v4(v4);
    }
    let special = ip.is_unspecified()
        || ip.is_loopback()
        || segments.iter().take(6).all(|s| *s == 0)       // IPv4-compatible (deprecated)
        || (first == 0x0064 && second == 0xff9b)          // NAT64
        || (first == 0x0100 && segments.iter().skip(1).take(3).all(|s| *s == 0)) // discard
        || (first == 0x2001 && second == 0x0000)          // Teredo
        || (first == 0x2001 && second == 0x0db8)          // documentation
        || (first & 0xfe00) == 0xfc00                     // unique local
        || (first & 0xffc0) == 0xfe80                     // link-local
        || (first & 0xffc0) == 0xfec0                     // site-local (deprecated)
        || (first & 0xff00) == 0xff00; // multicast
    !special
}

#[cfg(test)]
mod tests {
    use super::*;

    const NO_DEV: DevHosts<'static> = DevHosts(&[]);

    #[test]
    fn public_https_urls_are_accepted_and_normalized() {
        for (given, stored) in [
            ("https://shop.example/hooks", "https://shop.example/hooks"),
            (
                "https://Shop.Example:8443/a?b=c",
                "https://shop.example:8443/a?b=c",
            ),
            ("https://93.184.216.34/x", "https://93.184.216.34/x"),
            ("https://93.184.216.34./x", "https://93.184.216.34/x"),
            ("https://[2606:4700::1111]/", "https://[2606:4700::1111]/"),
            (
                "https://xn--bcher-kva.example/",
                "https://xn--bcher-kva.example/",
            ),
            ("https://bücher.example/", "https://xn--bcher-kva.example/"),
        ] {
            assert_eq!(
                check_webhook_url(given, NO_DEV).as_deref(),
                Ok(stored),
                "{given}"
            );
        }
    }

    #[test]
    fn internal_addresses_are_refused_in_every_notation() {
        for url in [
            "https://127.0.0.1/",
            "https://127.1/",
            "https://2130706433/",
            "https://0x7f000001/",
            "https://0x7f.0.0.1/",
            "https://0177.0.0.1/",
            "https://017700000001/",
            "https://0/",
            "https://0.0.0.0/",
            "https://10.0.0.5/",
            "https://172.16.0.1/",
            "https://172.31.255.255/",
            "https://192.168.1.1/",
            "https://169.254.169.254/latest/meta-data/",
            "https://100.64.0.1/",
            "https://198.18.0.1/",
            "https://224.0.0.1/",
            "https://255.255.255.255/",
            "https://[::1]/",
            "https://[::]/",
            "https://[::ffff:127.0.0.1]/",
            "https://[::ffff:7f00:1]/",
            "https://[::127.0.0.1]/",
            "https://[fe80::1]/",
            "https://[fd00::1]/",
            "https://[fc00::1]/",
            "https://[ff02::1]/",
            "https://[2002:7f00:1::]/",
            "https://[64:ff9b::a00:1]/",
            "https://[2001:db8::1]/",
            "https://localhost/",
            "https://LOCALHOST./",
            "https://api.localhost/",
            "https://printer.local/",
            "https://metadata.google.internal/",
            "https://intranet/",
            "https://router.home.arpa/",
            "https://1.0.0.127.in-addr.arpa/",
            "https://127.0.0.1...../",
            "https://127.0.0.1./",
            "https://0x7f.1./",
            "https://10.0.0.1.../",
            "https://shop..example/",
        ] {
            assert_eq!(
                check_webhook_url(url, NO_DEV),
                Err(UrlError::InternalHost),
                "{url}"
            );
        }
    }

    #[test]
    fn schemes_credentials_and_malformed_text_are_refused() {
        for (url, error) in [
            ("http://shop.example/hooks", UrlError::Scheme),
            ("ftp://shop.example/", UrlError::Scheme),
            ("gopher://shop.example/", UrlError::Scheme),
            ("file:///etc/passwd", UrlError::Scheme),
            ("https://user:pw@shop.example/", UrlError::Credentials),
            ("https://user@shop.example/", UrlError::Credentials),
            ("https://shop.example:0/", UrlError::Malformed),
            ("", UrlError::Malformed),
            ("/relative/path", UrlError::Malformed),
            ("https://shop.example/a b", UrlError::Malformed),
            ("https://shop.exa\tmple/", UrlError::Malformed),
            ("https://shop.example/\u{0}", UrlError::Malformed),
            ("https://shop.example/\u{2028}", UrlError::Malformed),
            ("https://", UrlError::Malformed),
        ] {
            assert_eq!(check_webhook_url(url, NO_DEV), Err(error), "{url:?}");
        }
        let long = format!("https://shop.example/{}", "a".repeat(MAX_URL_LEN));
        assert_eq!(check_webhook_url(&long, NO_DEV), Err(UrlError::Malformed));
    }

    #[test]
    fn development_hosts_are_allowed_only_when_listed() {
        let listed = ["127.0.0.1".to_string()];
        let dev = DevHosts(&listed);
        assert_eq!(
            check_webhook_url("http://127.0.0.1:9000/hook", dev).as_deref(),
            Ok("http://127.0.0.1:9000/hook")
        );
        assert_eq!(
            check_webhook_url("http://2130706433:9000/hook", dev).as_deref(),
            Ok("http://127.0.0.1:9000/hook"),
            "the listed host is judged after normalization"
        );
        assert_eq!(
            check_webhook_url("http://localhost:9000/hook", dev),
            Err(UrlError::Scheme)
        );
        assert_eq!(
            check_webhook_url("http://127.0.0.1:9000/hook", NO_DEV),
            Err(UrlError::Scheme)
        );
        assert_eq!(
            check_webhook_url("http://u:p@127.0.0.1:9000/hook", dev),
            Err(UrlError::Credentials)
        );
    }

    #[test]
    fn return_urls_allow_app_schemes_but_nothing_that_runs() {
        for url in [
            "https://shop.example/thanks",
            "myapp://checkout/done",
            "com.example.shop://done?x=1",
        ] {
            assert!(check_return_url(url, NO_DEV).is_ok(), "{url}");
        }
        for (url, error) in [
            ("javascript:alert(1)", UrlError::Scheme),
            ("JavaScript://%0aalert(1)", UrlError::Scheme),
            ("data:text/html,<script>", UrlError::Scheme),
            ("vbscript:msgbox", UrlError::Scheme),
            ("file:///etc/passwd", UrlError::Scheme),
            ("http://shop.example/thanks", UrlError::Scheme),
            ("https://127.0.0.1/thanks", UrlError::InternalHost),
            ("myapp:done", UrlError::Malformed),
            ("/thanks", UrlError::Malformed),
        ] {
            assert_eq!(check_return_url(url, NO_DEV), Err(error), "{url}");
        }
    }

    #[test]
    fn origins_are_normalized_as_browsers_send_them() {
        let none = DevHosts::default();
        assert_eq!(
            check_origin("https://Shop.Example", none).unwrap(),
            "https://shop.example"
        );
        assert_eq!(
            check_origin("https://shop.example:443/", none).unwrap(),
            "https://shop.example"
        );
        assert_eq!(
            check_origin("https://shop.example:8443", none).unwrap(),
            "https://shop.example:8443"
        );
        assert_eq!(
            check_origin("https://bücher.example", none).unwrap(),
            "https://xn--bcher-kva.example"
        );
        let dev = ["127.0.0.1".to_string()];
        assert_eq!(
            check_origin("http://127.0.0.1:8791", DevHosts(&dev)).unwrap(),
            "http://127.0.0.1:8791"
        );
    }

    #[test]
    fn origins_with_more_than_an_origin_or_unsafe_are_refused() {
        let none = DevHosts::default();
        for (text, error) in [
            ("https://shop.example/checkout", UrlError::Malformed),
            ("https://shop.example/?a=1", UrlError::Malformed),
            ("https://shop.example/#top", UrlError::Malformed),
            ("https://shop.example//", UrlError::Malformed),
            ("shop.example", UrlError::Malformed),
            ("", UrlError::Malformed),
            ("http://shop.example", UrlError::Scheme),
            ("javascript:alert(1)", UrlError::Scheme),
            ("https://user:pw@shop.example", UrlError::Credentials),
            ("https://127.0.0.1", UrlError::InternalHost),
            ("https://localhost", UrlError::InternalHost),
            ("http://127.0.0.1:8791", UrlError::Scheme),
        ] {
            assert_eq!(check_origin(text, none), Err(error), "{text}");
        }
    }
}
