//! Merchant-supplied URLs: `check_webhook_url` (called by Till's servers, so SSRF matters) and
//! `check_return_url`, with and without development hosts.
//!
//! Invariants: nothing panics; an accepted webhook URL is https, has no credentials, and names a
//! public host (checked here independently with std's address classes); the stored form is a
//! fixed point (checking it again returns it unchanged); a return URL never uses a scheme that
//! runs or embeds content; development hosts only widen the rules for the listed hosts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use till_core::urls::{check_return_url, check_webhook_url, DevHosts};
use url::{Host, Url};

fn internal_v4(ip: Ipv4Addr) -> bool {
    ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || ip.octets()[0] == 0
        || (ip.octets()[0] == 100 && (64..128).contains(&ip.octets()[1]))
}

fn internal_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return internal_v4(v4);
    }
    let first = ip.segments()[0];
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
}

/// The stored URL of an accepted web (http/https) URL: no credentials, a public host.
fn assert_public(stored: &str) {
    let url = Url::parse(stored).expect("the stored URL parses");
    assert!(
        url.username().is_empty() && url.password().is_none(),
        "{stored}"
    );
    match url.host() {
        Some(Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            assert!(name.contains('.'), "{stored}");
            assert!(
                name != "localhost" && !name.ends_with(".localhost") && !name.ends_with(".local"),
                "{stored}"
            );
            assert!(
                name.parse::<IpAddr>().is_err(),
                "an address as a name: {stored}"
            );
        }
        Some(Host::Ipv4(ip)) => assert!(!internal_v4(ip), "{stored}"),
        Some(Host::Ipv6(ip)) => assert!(!internal_v6(ip), "{stored}"),
        None => panic!("no host: {stored}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let listed = ["127.0.0.1".to_string(), "localhost".to_string()];
    let dev = DevHosts(&listed);
    let production = DevHosts::default();

    let webhook = check_webhook_url(text, production);
    if let Ok(stored) = &webhook {
        assert!(stored.starts_with("https://"), "{stored}");
        assert_public(stored);
        assert_eq!(check_webhook_url(stored, production).as_ref(), Ok(stored));
    }
    match check_webhook_url(text, dev) {
        Ok(stored) => {
            if webhook.is_err() {
                let url = Url::parse(&stored).expect("the stored URL parses");
                assert!(
                    url.host_str()
                        .is_some_and(|h| listed.iter().any(|l| l == h)),
                    "only listed hosts are exempt: {stored}"
                );
                assert!(matches!(url.scheme(), "http" | "https"));
            } else {
                assert_eq!(webhook.as_ref(), Ok(&stored));
            }
        }
        Err(_) => assert!(webhook.is_err(), "listing hosts never refuses more"),
    }

    if let Ok(stored) = check_return_url(text, production) {
        let url = Url::parse(&stored).expect("the stored URL parses");
        let refused = [
            "javascript",
            "data",
            "vbscript",
            "file",
            "blob",
            "about",
            "filesystem",
        ];
        assert!(!refused.contains(&url.scheme()), "{stored}");
        if matches!(url.scheme(), "http" | "https") {
            assert_eq!(url.scheme(), "https");
            assert_public(&stored);
        }
        assert_eq!(
            check_return_url(&stored, production).as_deref(),
            Ok(stored.as_str())
        );
    }
});
