//! The BIN provider: what a card's first digits say about it (issuing country, funding), asked
//! once when the card is tokenized and kept sealed with it, so screening at confirm costs no
//! call. `GET {BIN_LOOKUP_URL}/v1/bins/{first 8 digits}` (Bearer `BIN_API_KEY` when set) answers
//! `{"country": "US", "funding": "credit"}` or 404; locally the sandbox serves its BIN table
//! (format in `till_core::bin_table`). Without `BIN_LOOKUP_URL`, or when the provider does not
//! answer in time, the card's country and funding are unknown and rules that read them do not
//! fire: a tokenization never waits on or fails for the provider.
//!
//! Answers are kept in the isolate for an hour: most cards share a few BINs and a BIN's record
//! does not change within the hour, so most tokenizations make no call at all. A failure to
//! answer is not kept; the next card asks again.

use crate::clock;
use crate::connectors::transport;
use crate::isolate_cache::TtlCache;
use serde::Deserialize;
use std::cell::RefCell;
use till_core::bin_table::Funding;
use worker::{Env, Method};

const KNOWN_FOR_SECONDS: i64 = 60 * 60;
const KNOWN_BINS: usize = 1024;

thread_local! {
    static KNOWN: RefCell<TtlCache<BinData>> =
        RefCell::new(TtlCache::new(KNOWN_FOR_SECONDS, KNOWN_BINS));
}

fn remember(bin: &str, data: BinData) -> BinData {
    KNOWN.with(|known| {
        known
            .borrow_mut()
            .insert(bin.to_string(), data.clone(), clock::now_seconds())
    });
    data
}

/// The provider has this long; the card is tokenized without its BIN data after.
const TIMEOUT_MS: u64 = 800;

/// Digits sent: eight, as BIN providers key on (and PCI DSS allows with the last four).
const BIN_DIGITS: usize = 8;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BinData {
    pub country: Option<String>,
    pub funding: Option<String>,
}

#[derive(Deserialize)]
struct Answer {
    country: Option<String>,
    funding: Option<String>,
}

/// What the provider knows of `number`'s BIN; empty when it knows nothing or did not answer.
pub async fn lookup(env: &Env, number: &str) -> BinData {
    let Some(url) = env.var("BIN_LOOKUP_URL").ok().map(|v| v.to_string()) else {
        return BinData::default();
    };
    let bin: String = number.chars().take(BIN_DIGITS).collect();
    if url.is_empty() || bin.len() < 6 || !bin.bytes().all(|b| b.is_ascii_digit()) {
        return BinData::default();
    }
    if let Some(known) = KNOWN.with(|known| known.borrow().get(&bin, clock::now_seconds())) {
        return known;
    }
    let authorization = env
        .secret("BIN_API_KEY")
        .ok()
        .map(|key| format!("Bearer {key}"));
    let headers: Vec<(&str, &str)> = authorization
        .iter()
        .map(|value| ("Authorization", value.as_str()))
        .collect();
    let reply = match transport::send(
        Method::Get,
        &format!("{url}/v1/bins/{bin}"),
        &headers,
        None,
        TIMEOUT_MS,
    )
    .await
    {
        Ok(reply) => reply,
        Err(error) => {
            crate::log_warn!("BIN lookup: {error}");
            return BinData::default();
        }
    };
    if reply.status == 404 {
        return remember(&bin, BinData::default());
    }
    if reply.status != 200 {
        crate::log_warn!("BIN lookup: status {}", reply.status);
        return BinData::default();
    }
    let Ok(answer) = serde_json::from_slice::<Answer>(&reply.body) else {
        crate::log_warn!("BIN lookup: the answer is not a BIN record");
        return BinData::default();
    };
    // Only well-formed values are kept: they end up compared in merchants' rules.
    let data = BinData {
        country: answer
            .country
            .filter(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase())),
        funding: answer.funding.filter(|f| Funding::parse(f).is_some()),
    };
    remember(&bin, data)
}
