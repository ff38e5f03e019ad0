//! `cargo xtask risk-eval [--seed N] [--attempts N]`: how well the default fraud rules separate
//! fraud from legitimate traffic, and what one assessment costs.
//!
//! A seeded generator draws three days of labelled payment attempts: ordinary purchases by
//! customers old and new (mostly domestic cards, some honest declines and their retries),
//! travellers paying from abroad, and fraud: card-testing bursts from one address or one
//! e-mail, many stolen cards from one address, high foreign amounts, and brand-new customers'
//! high-value first purchases. The attempts are replayed in time order the way the edge will
//! screen them: each is recorded in its subjects' histories (card, address, customer, e-mail)
//! before the counters the rules read are taken, so the attempt itself counts; it is assessed
//! with `DEFAULT_RULES`; then the gateway's answer is marked. Blocked attempts never reach the
//! gateway and count as declined. Pure: no network, no stack.

use std::collections::{BTreeSet, HashMap};
use std::hint::black_box;
use std::time::Instant;

use serde_json::{json, Value};
use till_core::money::{Currency, Money};
use till_core::risk::{assess, AttemptFacts};
use till_core::risk_rules::{Action, Rule, Subject, Velocity, DEFAULT_RULES};
use till_core::velocity::{Entry, History};

const USAGE: &str = "usage: cargo xtask risk-eval [--seed N] [--attempts N]";

/// The seed and stream length when none are given (and the bench's stream).
const DEFAULT_SEED: u64 = 1;
const DEFAULT_ATTEMPTS: usize = 20_000;

/// The simulated period starts at 2026-01-01T00:00:00Z and lasts this many days.
const START: i64 = 1_767_225_600;
const DAY: i64 = 86_400;
const SIMULATED_DAYS: i64 = 3;
const END: i64 = START + SIMULATED_DAYS * DAY;

/// Rules a merchant might add to the defaults, timed with them so the cost covers more than
/// the defaults (blocklists, more counters, text lists).
const EXTRA_RULES: [&str; 8] = [
    "block if card_country in ('KP', 'IR', 'SY', 'CU')",
    "review if distinct_cards(email, 1d) >= 5",
    "block if declines(ip, 1h) >= 10",
    "request_3ds if attempts(card, 10m) >= 3",
    "review if card_funding == 'prepaid' and amount_usd > 300",
    "review if email_domain in ('mailinator.com', 'guerrillamail.com', 'yopmail.com') and amount_usd > 50",
    "block if distinct_cards(customer, 1d) >= 4",
    "request_3ds if ip_country != card_country and amount_usd > 150 and not (card_brand == 'amex')",
];

/// Assessments per timed run, and runs (the median is reported).
const TIMED_ATTEMPTS: usize = 100_000;
const TIMED_RUNS: usize = 5;

/// SplitMix64: a few lines, fully determined by its seed, and plenty for drawing scenarios.
/// (No `rand` dependency: xtask only needs reproducible draws, not statistical quality.)
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn chance(&mut self, probability: f64) -> bool {
        self.unit() < probability
    }

    /// Uniform in `low..=high`.
    fn between(&mut self, low: i64, high: i64) -> i64 {
        let span = u64::try_from(high - low + 1).unwrap_or(1).max(1);
        low + i64::try_from(self.next_u64() % span).unwrap_or(0)
    }

    /// Spread evenly over orders of magnitude, as purchase amounts are.
    fn log_uniform(&mut self, low: f64, high: f64) -> f64 {
        (low.ln() + self.unit() * (high.ln() - low.ln())).exp()
    }

    /// Any one of `items`, which is not empty.
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        let last = i64::try_from(items.len()).unwrap_or(i64::MAX) - 1;
        &items[usize::try_from(self.between(0, last)).unwrap_or(0)]
    }

    /// An item drawn in proportion to its weight, from a non-empty table.
    fn weighted<'a, T>(&mut self, items: &'a [T], weight: impl Fn(&T) -> u32) -> &'a T {
        let total: u64 = items.iter().map(|i| u64::from(weight(i))).sum();
        let mut draw = self.next_u64() % total.max(1);
        for item in items {
            let w = u64::from(weight(item));
            if draw < w {
                return item;
            }
            draw -= w;
        }
        &items[items.len() - 1]
    }
}

/// Where cards are issued and requests come from.
struct Country {
    code: &'static str,
    /// What the shop charges in for a visitor from there (USD where Till has no local currency).
    currency: &'static str,
    /// Units of that currency per US dollar.
    per_usd: f64,
    /// Share of legitimate customers living there (and issuing their cards).
    customers: u32,
    /// Share of fraud coming from there.
    fraud_origin: u32,
}

const COUNTRIES: [Country; 12] = [
    country("US", "USD", 1.0, 50, 10),
    country("GB", "GBP", 0.79, 10, 3),
    country("DE", "EUR", 0.92, 8, 2),
    country("FR", "EUR", 0.92, 6, 2),
    country("KR", "KRW", 1_350.0, 10, 2),
    country("JP", "JPY", 150.0, 6, 1),
    country("CA", "CAD", 1.36, 6, 2),
    country("AU", "AUD", 1.52, 4, 1),
    country("VN", "VND", 25_000.0, 0, 8),
    country("NG", "USD", 1.0, 0, 10),
    country("RU", "USD", 1.0, 0, 10),
    country("ID", "USD", 1.0, 0, 6),
];

const fn country(
    code: &'static str,
    currency: &'static str,
    per_usd: f64,
    customers: u32,
    fraud_origin: u32,
) -> Country {
    Country {
        code,
        currency,
        per_usd,
        customers,
        fraud_origin,
    }
}

const BRANDS: [(&str, u32); 3] = [("visa", 55), ("mastercard", 35), ("amex", 10)];
const FUNDING: [(&str, u32); 3] = [("credit", 60), ("debit", 35), ("prepaid", 5)];
const CUSTOMER_DOMAINS: [&str; 5] = [
    "gmail.com",
    "outlook.com",
    "yahoo.com",
    "naver.com",
    "icloud.com",
];
const THROWAWAY_DOMAINS: [&str; 4] = ["gmail.com", "mailinator.com", "yopmail.com", "proton.me"];

/// What kind of traffic an attempt belongs to; the label is whether it is fraud.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scenario {
    Ordinary,
    Traveller,
    CardTestingFromIp,
    CardTestingFromEmail,
    ManyCardsFromIp,
    GeoMismatch,
    NewCustomerHighValue,
}

const SCENARIOS: [Scenario; 7] = [
    Scenario::Ordinary,
    Scenario::Traveller,
    Scenario::CardTestingFromIp,
    Scenario::CardTestingFromEmail,
    Scenario::ManyCardsFromIp,
    Scenario::GeoMismatch,
    Scenario::NewCustomerHighValue,
];

impl Scenario {
    fn name(self) -> &'static str {
        match self {
            Scenario::Ordinary => "ordinary purchase (+ honest retries)",
            Scenario::Traveller => "traveller paying from abroad",
            Scenario::CardTestingFromIp => "card testing, one address",
            Scenario::CardTestingFromEmail => "card testing, one e-mail, rotating addresses",
            Scenario::ManyCardsFromIp => "many stolen cards, one address",
            Scenario::GeoMismatch => "foreign card, high amount",
            Scenario::NewCustomerHighValue => "brand-new customer, high value",
        }
    }

    fn is_fraud(self) -> bool {
        !matches!(self, Scenario::Ordinary | Scenario::Traveller)
    }

    /// Episodes of this kind per ~10,000 drawn (a burst is one episode of many attempts).
    fn episode_weight(self) -> u32 {
        match self {
            Scenario::Ordinary => 9_000,
            Scenario::Traveller => 300,
            Scenario::CardTestingFromIp => 15,
            Scenario::CardTestingFromEmail => 10,
            Scenario::ManyCardsFromIp => 20,
            Scenario::GeoMismatch => 250,
            Scenario::NewCustomerHighValue => 200,
        }
    }

    /// Whether an episode is a run of many cards, whose "blocked from attempt n" is reported.
    fn is_burst(self) -> bool {
        matches!(
            self,
            Scenario::CardTestingFromIp
                | Scenario::CardTestingFromEmail
                | Scenario::ManyCardsFromIp
        )
    }
}

/// One labelled payment attempt, before screening.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Attempt {
    /// Unix seconds.
    at: i64,
    scenario: Scenario,
    /// The episode (a purchase with its retries, a burst) it belongs to.
    episode: usize,
    /// The card's fingerprint.
    card: String,
    ip: String,
    customer: Option<String>,
    email: Option<String>,
    /// Features only: the counters are filled in when it is screened.
    facts: AttemptFacts,
    /// What the gateway answers if the attempt reaches it.
    gateway_declines: bool,
}

impl Attempt {
    /// The key it is counted under for `subject`, if it has one.
    fn key(&self, subject: Subject) -> Option<&str> {
        match subject {
            Subject::Card => Some(&self.card),
            Subject::Ip => Some(&self.ip),
            Subject::Customer => self.customer.as_deref(),
            Subject::Email => self.email.as_deref(),
        }
    }

    fn subjects(&self) -> impl Iterator<Item = (Subject, &str)> {
        [
            Subject::Card,
            Subject::Ip,
            Subject::Customer,
            Subject::Email,
        ]
        .into_iter()
        .filter_map(|subject| self.key(subject).map(|key| (subject, key)))
    }
}

struct Card {
    fingerprint: String,
    country: &'static Country,
    brand: &'static str,
    funding: &'static str,
}

fn card(rng: &mut Rng, fingerprint: String, country: &'static Country) -> Card {
    Card {
        fingerprint,
        country,
        brand: rng.weighted(&BRANDS, |b| b.1).0,
        funding: rng.weighted(&FUNDING, |f| f.1).0,
    }
}

struct Address {
    ip: String,
    country: &'static Country,
}

/// Who pays: a customer account (with its creation time) or a guest, and an e-mail.
struct Buyer {
    customer: Option<(String, i64)>,
    email: String,
}

/// A legitimate customer of the shop.
struct Customer {
    buyer: Buyer,
    cards: Vec<Card>,
    /// Home and, for some, mobile.
    addresses: Vec<Address>,
}

fn customer_country(rng: &mut Rng) -> &'static Country {
    rng.weighted(&COUNTRIES, |c| c.customers)
}

fn fraud_country(rng: &mut Rng) -> &'static Country {
    rng.weighted(&COUNTRIES, |c| c.fraud_origin)
}

fn customer(rng: &mut Rng, index: usize) -> Customer {
    let home = customer_country(rng);
    // Most customers are long-standing; a few sign up during the period.
    let created_at = if rng.chance(0.06) {
        rng.between(START, END - 1)
    } else {
        START - (rng.log_uniform(1.0, 2_000.0) * DAY as f64) as i64
    };
    let domain = rng.pick(&CUSTOMER_DOMAINS);
    let card_count = if rng.chance(0.25) { 2 } else { 1 };
    let cards = (0..card_count)
        .map(|n| card(rng, format!("card_c{index}_{n}"), home))
        .collect();
    let address_count = if rng.chance(0.4) { 2 } else { 1 };
    let addresses = (0..address_count)
        .map(|n| Address {
            ip: format!("ip_c{index}_{n}"),
            country: home,
        })
        .collect();
    Customer {
        buyer: Buyer {
            customer: Some((format!("cus_{index}"), created_at)),
            email: format!("c{index}@{domain}"),
        },
        cards,
        addresses,
    }
}

/// An amount in US cents as charged: in the currency of the visitor's country.
fn amount(usd_cents: i64, country: &Country) -> Option<Money> {
    let currency = Currency::parse(country.currency).ok()?;
    let minor = usd_cents as f64 / 100.0 * country.per_usd * 10f64.powi(currency.exponent().into());
    Some(Money {
        amount: (minor.round() as i64).max(1),
        currency,
    })
}

fn cents(dollars: f64) -> i64 {
    (dollars * 100.0).round() as i64
}

/// What an episode's attempts share: who pays, with which card, from where.
struct Draft<'a> {
    scenario: Scenario,
    episode: usize,
    buyer: &'a Buyer,
    card: &'a Card,
    address: &'a Address,
}

impl Draft<'_> {
    fn attempt(&self, at: i64, usd_cents: i64, gateway_declines: bool) -> Attempt {
        let customer_age_days = self
            .buyer
            .customer
            .as_ref()
            .map(|(_, created_at)| (at - created_at).max(0).div_euclid(DAY));
        Attempt {
            at,
            scenario: self.scenario,
            episode: self.episode,
            card: self.card.fingerprint.clone(),
            ip: self.address.ip.clone(),
            customer: self.buyer.customer.as_ref().map(|(id, _)| id.clone()),
            email: Some(self.buyer.email.clone()),
            facts: AttemptFacts {
                amount: amount(usd_cents, self.address.country),
                amount_usd: Some(usd_cents),
                card_country: Some(self.card.country.code.to_string()),
                ip_country: Some(self.address.country.code.to_string()),
                card_brand: Some(self.card.brand.to_string()),
                card_funding: Some(self.card.funding.to_string()),
                email_domain: self.buyer.email.split('@').nth(1).map(str::to_string),
                customer_age_days,
                velocities: Default::default(),
            },
            gateway_declines,
        }
    }
}

/// What most people spend: $5 to $250, with a tail up to $1,500.
fn ordinary_cents(rng: &mut Rng) -> i64 {
    if rng.chance(0.05) {
        cents(rng.log_uniform(250.0, 1_500.0))
    } else {
        cents(rng.log_uniform(5.0, 250.0))
    }
}

/// An honest purchase: usually approved; when the bank declines (insufficient funds), the
/// customer often tries again a few minutes later with the same card.
fn ordinary_purchase(rng: &mut Rng, draft: &Draft, at: i64) -> Vec<Attempt> {
    let usd_cents = ordinary_cents(rng);
    let declined = rng.chance(0.05);
    let mut attempts = vec![draft.attempt(at, usd_cents, declined)];
    if declined && rng.chance(0.6) {
        let mut retry_at = at;
        for _ in 0..rng.between(1, 3) {
            retry_at += rng.between(60, 300);
            let declined_again = rng.chance(0.5);
            attempts.push(draft.attempt(retry_at, usd_cents, declined_again));
            if !declined_again {
                break;
            }
        }
    }
    attempts
}

/// A time when a customer created at `created_at` can buy within the period.
fn time_after(rng: &mut Rng, created_at: Option<i64>) -> i64 {
    rng.between(created_at.map_or(START, |c| c.max(START) + 60), END - 1)
}

fn ordinary(rng: &mut Rng, episode: usize, customers: &[Customer]) -> Vec<Attempt> {
    let scenario = Scenario::Ordinary;
    // Some shoppers check out as guests: a new card, their own address, no account.
    if rng.chance(0.15) {
        let home = customer_country(rng);
        let domain = rng.pick(&CUSTOMER_DOMAINS);
        let buyer = Buyer {
            customer: None,
            email: format!("guest{episode}@{domain}"),
        };
        let card = card(rng, format!("card_g{episode}"), home);
        let address = Address {
            ip: format!("ip_g{episode}"),
            country: home,
        };
        let at = time_after(rng, None);
        let draft = Draft {
            scenario,
            episode,
            buyer: &buyer,
            card: &card,
            address: &address,
        };
        return ordinary_purchase(rng, &draft, at);
    }
    let customer = rng.pick(customers);
    let card = rng.pick(&customer.cards);
    let address = rng.pick(&customer.addresses);
    let at = time_after(rng, customer.buyer.customer.as_ref().map(|c| c.1));
    let draft = Draft {
        scenario,
        episode,
        buyer: &customer.buyer,
        card,
        address,
    };
    ordinary_purchase(rng, &draft, at)
}

/// A customer abroad: their home card from a foreign address, sometimes a large amount
/// (hotels, electronics).
fn traveller(rng: &mut Rng, episode: usize, customers: &[Customer]) -> Vec<Attempt> {
    let customer = rng.pick(customers);
    let card = &customer.cards[0];
    let abroad = loop {
        let c = customer_country(rng);
        if c.code != card.country.code {
            break c;
        }
    };
    let address = Address {
        ip: format!("ip_t{episode}"),
        country: abroad,
    };
    let usd_cents = if rng.chance(0.15) {
        cents(rng.log_uniform(500.0, 2_500.0))
    } else {
        ordinary_cents(rng)
    };
    let at = time_after(rng, customer.buyer.customer.as_ref().map(|c| c.1));
    let draft = Draft {
        scenario: Scenario::Traveller,
        episode,
        buyer: &customer.buyer,
        card,
        address: &address,
    };
    vec![draft.attempt(at, usd_cents, rng.chance(0.05))]
}

/// A throwaway e-mail, for fraud.
fn throwaway_email(rng: &mut Rng, name: &str) -> String {
    let domain = rng.pick(&THROWAWAY_DOMAINS);
    format!("{name}@{domain}")
}

/// A stolen card: issued where legitimate customers live.
fn stolen_card(rng: &mut Rng, fingerprint: String) -> Card {
    let issuer = customer_country(rng);
    card(rng, fingerprint, issuer)
}

/// Card testing from one address: 15 to 60 stolen card numbers tried for $0.50 to $5 every few
/// seconds, each with a fresh e-mail; most numbers are dead and declined.
fn card_testing_from_ip(rng: &mut Rng, episode: usize, start: i64) -> Vec<Attempt> {
    let address = Address {
        ip: format!("ip_ct{episode}"),
        country: fraud_country(rng),
    };
    let mut at = start;
    (0..rng.between(15, 60))
        .map(|n| {
            at += rng.between(3, 40);
            let card = stolen_card(rng, format!("card_ct{episode}_{n}"));
            let buyer = Buyer {
                customer: None,
                email: throwaway_email(rng, &format!("ct{episode}_{n}")),
            };
            let draft = Draft {
                scenario: Scenario::CardTestingFromIp,
                episode,
                buyer: &buyer,
                card: &card,
                address: &address,
            };
            let usd_cents = cents(rng.log_uniform(0.5, 5.0));
            draft.attempt(at, usd_cents, rng.chance(0.85))
        })
        .collect()
}

/// Card testing from one e-mail and a fresh account, through a proxy pool: every attempt
/// comes from another address.
fn card_testing_from_email(rng: &mut Rng, episode: usize, start: i64) -> Vec<Attempt> {
    let buyer = Buyer {
        customer: Some((format!("cus_cte{episode}"), start - rng.between(60, 600))),
        email: throwaway_email(rng, &format!("cte{episode}")),
    };
    let mut at = start;
    (0..rng.between(15, 60))
        .map(|n| {
            at += rng.between(10, 90);
            let card = stolen_card(rng, format!("card_cte{episode}_{n}"));
            let address = Address {
                ip: format!("ip_cte{episode}_{n}"),
                country: fraud_country(rng),
            };
            let draft = Draft {
                scenario: Scenario::CardTestingFromEmail,
                episode,
                buyer: &buyer,
                card: &card,
                address: &address,
            };
            let usd_cents = cents(rng.log_uniform(0.5, 5.0));
            draft.attempt(at, usd_cents, rng.chance(0.85))
        })
        .collect()
}

/// Real purchases with 8 to 25 stolen cards from one address, a few minutes apart, under a few
/// e-mails; live cards, so fewer declines.
fn many_cards_from_ip(rng: &mut Rng, episode: usize, start: i64) -> Vec<Attempt> {
    let address = Address {
        ip: format!("ip_mc{episode}"),
        country: fraud_country(rng),
    };
    let buyers: Vec<Buyer> = (0..rng.between(1, 3))
        .map(|n| Buyer {
            customer: None,
            email: throwaway_email(rng, &format!("mc{episode}_{n}")),
        })
        .collect();
    let mut at = start;
    (0..rng.between(8, 25))
        .map(|n| {
            at += rng.between(60, 720);
            let card = stolen_card(rng, format!("card_mc{episode}_{n}"));
            let buyer = rng.pick(&buyers);
            let draft = Draft {
                scenario: Scenario::ManyCardsFromIp,
                episode,
                buyer,
                card: &card,
                address: &address,
            };
            let usd_cents = cents(rng.log_uniform(20.0, 400.0));
            draft.attempt(at, usd_cents, rng.chance(0.4))
        })
        .collect()
}

/// A fraudster's account: none (guest), opened minutes ago, or opened days ago to look aged.
fn fraud_buyer(rng: &mut Rng, name: &str, at: i64) -> Buyer {
    let draw = rng.unit();
    let customer = if draw < 0.5 {
        None
    } else if draw < 0.85 {
        Some((format!("cus_{name}"), at - rng.between(60, 1_800)))
    } else {
        Some((format!("cus_{name}"), at - rng.between(1, 30) * DAY))
    };
    Buyer {
        customer,
        email: throwaway_email(rng, name),
    }
}

/// A stolen card used from another country for $300 to $3,000; after a decline, sometimes a
/// second card from the same address.
fn geo_mismatch(rng: &mut Rng, episode: usize, start: i64) -> Vec<Attempt> {
    let buyer = fraud_buyer(rng, &format!("gm{episode}"), start);
    let first_card = stolen_card(rng, format!("card_gm{episode}_0"));
    let origin = loop {
        let c = fraud_country(rng);
        if c.code != first_card.country.code {
            break c;
        }
    };
    let address = Address {
        ip: format!("ip_gm{episode}"),
        country: origin,
    };
    let draft = Draft {
        scenario: Scenario::GeoMismatch,
        episode,
        buyer: &buyer,
        card: &first_card,
        address: &address,
    };
    let usd_cents = cents(rng.log_uniform(300.0, 3_000.0));
    let declined = rng.chance(0.3);
    let mut attempts = vec![draft.attempt(start, usd_cents, declined)];
    if declined && rng.chance(0.3) {
        let second_card = stolen_card(rng, format!("card_gm{episode}_1"));
        if second_card.country.code != origin.code {
            let second = Draft {
                card: &second_card,
                ..draft
            };
            let at = start + rng.between(60, 600);
            attempts.push(second.attempt(at, usd_cents, rng.chance(0.3)));
        }
    }
    attempts
}

/// An account opened minutes ago buying $150 to $2,500 with a domestic stolen card.
fn new_customer_high_value(rng: &mut Rng, episode: usize, start: i64) -> Vec<Attempt> {
    let name = format!("nc{episode}");
    let buyer = Buyer {
        customer: Some((format!("cus_{name}"), start - rng.between(60, 1_800))),
        email: throwaway_email(rng, &name),
    };
    let card = stolen_card(rng, format!("card_{name}"));
    let address = Address {
        ip: format!("ip_{name}"),
        country: card.country,
    };
    let draft = Draft {
        scenario: Scenario::NewCustomerHighValue,
        episode,
        buyer: &buyer,
        card: &card,
        address: &address,
    };
    let usd_cents = cents(rng.log_uniform(150.0, 2_500.0));
    vec![draft.attempt(start, usd_cents, rng.chance(0.2))]
}

/// `count` labelled attempts over the simulated days, oldest first; the same for the same seed.
fn generate(seed: u64, count: usize) -> Vec<Attempt> {
    let mut rng = Rng::new(seed);
    // Each customer buys a few times in the period on average (and there is always one to pick).
    let customers: Vec<Customer> = (0..(count / 3).max(20))
        .map(|i| customer(&mut rng, i))
        .collect();
    let mut attempts = Vec::with_capacity(count);
    let mut episode = 0;
    while attempts.len() < count {
        let scenario = *rng.weighted(&SCENARIOS, |s| s.episode_weight());
        let start = rng.between(START, END - 1);
        let drawn = match scenario {
            Scenario::Ordinary => ordinary(&mut rng, episode, &customers),
            Scenario::Traveller => traveller(&mut rng, episode, &customers),
            Scenario::CardTestingFromIp => card_testing_from_ip(&mut rng, episode, start),
            Scenario::CardTestingFromEmail => card_testing_from_email(&mut rng, episode, start),
            Scenario::ManyCardsFromIp => many_cards_from_ip(&mut rng, episode, start),
            Scenario::GeoMismatch => geo_mismatch(&mut rng, episode, start),
            Scenario::NewCustomerHighValue => new_customer_high_value(&mut rng, episode, start),
        };
        let room = count - attempts.len();
        attempts.extend(drawn.into_iter().take(room));
        episode += 1;
    }
    attempts.sort_by_key(|a| a.at);
    attempts
}

/// An attempt as screened: the action and the facts (with counters) the rules saw.
struct Screened {
    action: Action,
    facts: AttemptFacts,
}

/// Screens `attempts` (oldest first) as the edge will: record the attempt in each subject's
/// history, read the counters the rules ask for (so the attempt itself counts), assess, then
/// mark the history when it ends declined (by the gateway, or blocked before reaching it).
fn replay(rules: &[Rule], attempts: &[Attempt]) -> Vec<Screened> {
    let counters: BTreeSet<Velocity> = rules.iter().flat_map(Rule::velocities).collect();
    let mut histories: HashMap<(Subject, String), History> = HashMap::new();
    attempts
        .iter()
        .enumerate()
        .map(|(index, attempt)| {
            let id = format!("pay_{index}");
            for (subject, key) in attempt.subjects() {
                let entry = Entry {
                    attempt: id.clone(),
                    at: attempt.at,
                    card: attempt.card.clone(),
                    declined: false,
                };
                histories
                    .entry((subject, key.to_string()))
                    .or_default()
                    .record(entry, attempt.at);
            }
            let mut facts = attempt.facts.clone();
            for velocity in &counters {
                let Some(key) = attempt.key(velocity.subject) else {
                    continue;
                };
                let count = histories
                    .get(&(velocity.subject, key.to_string()))
                    .map_or(0, |h| {
                        h.count(velocity.counter, velocity.window_seconds, attempt.at)
                    });
                facts.velocities.insert(*velocity, count);
            }
            let (action, _) = assess(rules, &facts);
            if action == Action::Block || attempt.gateway_declines {
                for (subject, key) in attempt.subjects() {
                    if let Some(history) = histories.get_mut(&(subject, key.to_string())) {
                        history.mark_declined(&id);
                    }
                }
            }
            Screened { action, facts }
        })
        .collect()
}

fn parse_rules(texts: &[&str]) -> Result<Vec<Rule>, String> {
    texts
        .iter()
        .map(|text| Rule::parse(text).map_err(|e| format!("rule {text:?}: {e}")))
        .collect()
}

/// The defaults and the extra rules the cost is measured with.
fn timed_rules() -> Result<Vec<Rule>, String> {
    parse_rules(&[&DEFAULT_RULES[..], &EXTRA_RULES[..]].concat())
}

/// What one assessment costs.
pub struct EvaluationCost {
    ns_per_attempt: f64,
    rules: usize,
    attempts_per_run: usize,
    runs: usize,
    /// `debug` or `release`: `cargo xtask` runs a debug build, several times slower than the
    /// optimised code the edge runs, so the figure says which it is.
    build: &'static str,
}

impl EvaluationCost {
    pub fn summary(&self) -> String {
        format!(
            "{:.0} ns per attempt (median of {} runs of {} assessments, {} rules with velocity counters, {} build)",
            self.ns_per_attempt, self.runs, self.attempts_per_run, self.rules, self.build
        )
    }

    pub fn json(&self) -> Value {
        json!({
            "ns_per_attempt": self.ns_per_attempt,
            "rules": self.rules,
            "attempts_per_run": self.attempts_per_run,
            "runs": self.runs,
            "build": self.build,
        })
    }
}

/// Times `assess` over `facts` (cycled to [`TIMED_ATTEMPTS`]), [`TIMED_RUNS`] times.
fn time_assessment(rules: &[Rule], facts: &[AttemptFacts]) -> EvaluationCost {
    let mut per_attempt: Vec<f64> = (0..TIMED_RUNS)
        .map(|_| {
            let started = Instant::now();
            for attempt in facts.iter().cycle().take(TIMED_ATTEMPTS) {
                black_box(assess(black_box(rules), black_box(attempt)));
            }
            started.elapsed().as_nanos() as f64 / TIMED_ATTEMPTS as f64
        })
        .collect();
    per_attempt.sort_by(f64::total_cmp);
    EvaluationCost {
        ns_per_attempt: per_attempt
            .get(per_attempt.len() / 2)
            .copied()
            .unwrap_or(f64::NAN),
        rules: rules.len(),
        attempts_per_run: TIMED_ATTEMPTS,
        runs: TIMED_RUNS,
        build: if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
    }
}

/// The cost of screening one attempt with the default and extra rules, over the facts of the
/// default stream as the edge would see them: for the bench.
pub fn evaluation_cost() -> Result<EvaluationCost, String> {
    let rules = timed_rules()?;
    let screened = replay(&rules, &generate(DEFAULT_SEED, DEFAULT_ATTEMPTS));
    let facts: Vec<AttemptFacts> = screened.into_iter().map(|s| s.facts).collect();
    Ok(time_assessment(&rules, &facts))
}

/// How many of `caught` are fraud, and how much of the fraud they are.
struct Catch {
    caught: usize,
    caught_fraud: usize,
    fraud: usize,
}

impl Catch {
    fn of(attempts: &[Attempt], screened: &[Screened], caught: impl Fn(Action) -> bool) -> Catch {
        let pairs = || attempts.iter().zip(screened);
        Catch {
            caught: pairs().filter(|(_, s)| caught(s.action)).count(),
            caught_fraud: pairs()
                .filter(|(a, s)| a.scenario.is_fraud() && caught(s.action))
                .count(),
            fraud: attempts.iter().filter(|a| a.scenario.is_fraud()).count(),
        }
    }

    fn describe(&self) -> String {
        let ratio = |part: usize, whole: usize| part as f64 / whole.max(1) as f64;
        format!(
            "precision {:.3} ({} of {} are fraud), recall {:.3} ({} of {} fraud attempts)",
            ratio(self.caught_fraud, self.caught),
            self.caught_fraud,
            self.caught,
            ratio(self.caught_fraud, self.fraud),
            self.caught_fraud,
            self.fraud
        )
    }
}

fn flagged(action: Action) -> bool {
    action != Action::Allow
}

fn blocked(action: Action) -> bool {
    action == Action::Block
}

/// For each burst of `scenario`: its length, and at which attempt (1-based) it was first
/// flagged and first blocked.
struct Burst {
    attempts: usize,
    first_flagged: Option<usize>,
    first_blocked: Option<usize>,
}

fn bursts(scenario: Scenario, attempts: &[Attempt], screened: &[Screened]) -> Vec<Burst> {
    let mut by_episode: Vec<(usize, Burst)> = Vec::new();
    for (attempt, screened) in attempts.iter().zip(screened) {
        if attempt.scenario != scenario {
            continue;
        }
        let position = match by_episode.iter().position(|(e, _)| *e == attempt.episode) {
            Some(position) => position,
            None => {
                by_episode.push((
                    attempt.episode,
                    Burst {
                        attempts: 0,
                        first_flagged: None,
                        first_blocked: None,
                    },
                ));
                by_episode.len() - 1
            }
        };
        let burst = &mut by_episode[position].1;
        burst.attempts += 1;
        if flagged(screened.action) {
            burst.first_flagged.get_or_insert(burst.attempts);
        }
        if blocked(screened.action) {
            burst.first_blocked.get_or_insert(burst.attempts);
        }
    }
    by_episode.into_iter().map(|(_, burst)| burst).collect()
}

/// "at attempt 10 (median; min 10, max 12), never in 3 of 20": where bursts first met an action.
fn describe_firsts(firsts: &[Option<usize>]) -> String {
    let mut seen: Vec<usize> = firsts.iter().flatten().copied().collect();
    seen.sort_unstable();
    let never = firsts.len() - seen.len();
    match (seen.first(), seen.get(seen.len() / 2), seen.last()) {
        (Some(min), Some(median), Some(max)) => format!(
            "at attempt {median} (median; min {min}, max {max}), never in {never} of {}",
            firsts.len()
        ),
        _ => format!("never, in all {}", firsts.len()),
    }
}

fn action_column(action: Action) -> usize {
    match action {
        Action::Allow => 0,
        Action::Request3ds => 1,
        Action::Review => 2,
        Action::Block => 3,
    }
}

fn print_table(attempts: &[Attempt], screened: &[Screened]) {
    println!(
        "{:<46} {:>6} {:>9} {:>7} {:>7} {:>7} {:>7}",
        "scenario", "label", "attempts", "allow", "3ds", "review", "block"
    );
    for scenario in SCENARIOS {
        let mut columns = [0usize; 4];
        let mut total = 0;
        for (_, s) in attempts
            .iter()
            .zip(screened)
            .filter(|(a, _)| a.scenario == scenario)
        {
            columns[action_column(s.action)] += 1;
            total += 1;
        }
        let label = if scenario.is_fraud() {
            "fraud"
        } else {
            "legit"
        };
        println!(
            "{:<46} {label:>6} {total:>9} {:>7} {:>7} {:>7} {:>7}",
            scenario.name(),
            columns[0],
            columns[1],
            columns[2],
            columns[3]
        );
    }
}

/// US dollars (from cents) for a line of prose.
fn dollars(attempts: &[&Attempt]) -> String {
    let total: i64 = attempts.iter().filter_map(|a| a.facts.amount_usd).sum();
    format!("${}", total / 100)
}

fn print_outcomes(attempts: &[Attempt], screened: &[Screened]) {
    let pairs = || attempts.iter().zip(screened);
    let fraud_through: Vec<&Attempt> = pairs()
        .filter(|(a, s)| a.scenario.is_fraud() && s.action == Action::Allow && !a.gateway_declines)
        .map(|(a, _)| a)
        .collect();
    let legit_blocked: Vec<&Attempt> = pairs()
        .filter(|(a, s)| !a.scenario.is_fraud() && blocked(s.action))
        .map(|(a, _)| a)
        .collect();
    let legit_flagged = pairs()
        .filter(|(a, s)| !a.scenario.is_fraud() && flagged(s.action))
        .count();
    println!(
        "fraud allowed and approved by the gateway: {} attempts, {}",
        fraud_through.len(),
        dollars(&fraud_through)
    );
    println!(
        "legitimate attempts flagged: {legit_flagged}; blocked: {} ({})",
        legit_blocked.len(),
        dollars(&legit_blocked)
    );
}

struct Options {
    seed: u64,
    attempts: usize,
}

fn parse_options(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        seed: DEFAULT_SEED,
        attempts: DEFAULT_ATTEMPTS,
    };
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| USAGE.to_string())?;
        match flag.as_str() {
            "--seed" => options.seed = value.parse().map_err(|_| USAGE.to_string())?,
            "--attempts" => {
                options.attempts = value
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| USAGE.to_string())?;
            }
            _ => return Err(USAGE.into()),
        }
    }
    Ok(options)
}

pub fn run(args: &[String]) -> Result<(), String> {
    let options = parse_options(args)?;
    let attempts = generate(options.seed, options.attempts);
    let rules = parse_rules(&DEFAULT_RULES)?;
    let screened = replay(&rules, &attempts);

    println!(
        "risk-eval: seed {}, {} attempts over {SIMULATED_DAYS} days, the {} default rules",
        options.seed,
        attempts.len(),
        rules.len()
    );
    println!();
    print_table(&attempts, &screened);
    println!();
    println!(
        "flagged (any action but allow): {}",
        Catch::of(&attempts, &screened, flagged).describe()
    );
    println!(
        "blocked:                        {}",
        Catch::of(&attempts, &screened, blocked).describe()
    );
    print_outcomes(&attempts, &screened);
    println!();
    for scenario in SCENARIOS.into_iter().filter(|s| s.is_burst()) {
        let bursts = bursts(scenario, &attempts, &screened);
        let lengths: Vec<usize> = bursts.iter().map(|b| b.attempts).collect();
        println!(
            "{} ({} bursts of {} to {} attempts):",
            scenario.name(),
            bursts.len(),
            lengths.iter().min().unwrap_or(&0),
            lengths.iter().max().unwrap_or(&0)
        );
        let flagged: Vec<Option<usize>> = bursts.iter().map(|b| b.first_flagged).collect();
        let blocked: Vec<Option<usize>> = bursts.iter().map(|b| b.first_blocked).collect();
        println!("  first flagged {}", describe_firsts(&flagged));
        println!("  first blocked {}", describe_firsts(&blocked));
    }

    let extended = timed_rules()?;
    let screened_extended = replay(&extended, &attempts);
    println!();
    println!(
        "with the {} extra rules the bench times as well ({} rules):",
        EXTRA_RULES.len(),
        extended.len()
    );
    println!(
        "  flagged: {}",
        Catch::of(&attempts, &screened_extended, flagged).describe()
    );
    println!(
        "  blocked: {}",
        Catch::of(&attempts, &screened_extended, blocked).describe()
    );
    let facts: Vec<AttemptFacts> = screened_extended.into_iter().map(|s| s.facts).collect();
    println!();
    println!(
        "evaluation: {}",
        time_assessment(&extended, &facts).summary()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default_rules() -> Vec<Rule> {
        parse_rules(&DEFAULT_RULES).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_card_testing_burst_from_one_address_is_blocked_from_its_tenth_card() {
        // "block if distinct_cards(ip, 1h) >= 10": every attempt of the burst is a new card
        // within the hour, and the attempt itself counts, so the 10th card is the first blocked.
        let rule = "block if distinct_cards(ip, 1h) >= 10";
        assert!(DEFAULT_RULES.contains(&rule), "the default rule changed");
        const FIRST_BLOCKED: usize = 10;
        for seed in 0..20 {
            let burst = card_testing_from_ip(&mut Rng::new(seed), 0, START);
            assert!(burst.len() >= 15, "a burst tries at least 15 cards");
            assert!(burst.last().is_some_and(|a| a.at - START < 3_600));
            let screened = replay(&default_rules(), &burst);
            let actions: Vec<Action> = screened.iter().map(|s| s.action).collect();
            let first_blocked = actions.iter().position(|a| *a == Action::Block);
            assert_eq!(
                first_blocked.map(|i| i + 1),
                Some(FIRST_BLOCKED),
                "{actions:?}"
            );
            assert!(
                actions[FIRST_BLOCKED - 1..]
                    .iter()
                    .all(|a| *a == Action::Block),
                "{actions:?}"
            );
        }
    }

    #[test]
    fn an_established_customers_ordinary_payment_is_allowed() {
        for seed in 0..50 {
            let mut rng = Rng::new(seed);
            let home = &COUNTRIES[0];
            let buyer = Buyer {
                customer: Some(("cus_1".into(), START - 400 * DAY)),
                email: "c1@gmail.com".into(),
            };
            let card = card(&mut rng, "card_1".into(), home);
            let address = Address {
                ip: "ip_1".into(),
                country: home,
            };
            let draft = Draft {
                scenario: Scenario::Ordinary,
                episode: 0,
                buyer: &buyer,
                card: &card,
                address: &address,
            };
            let purchase = ordinary_purchase(&mut rng, &draft, START + DAY);
            assert_eq!(purchase[0].facts.customer_age_days, Some(401));
            for screened in replay(&default_rules(), &purchase) {
                assert_eq!(screened.action, Action::Allow, "{:?}", screened.facts);
            }
        }
    }

    #[test]
    fn the_stream_is_determined_by_its_seed() {
        let stream = generate(7, 3_000);
        assert_eq!(stream.len(), 3_000);
        assert_eq!(stream, generate(7, 3_000));
        assert_ne!(stream, generate(8, 3_000));
        assert!(
            stream.windows(2).all(|w| w[0].at <= w[1].at),
            "oldest first"
        );
        assert!(stream.iter().all(|a| (START..END + DAY).contains(&a.at)));
        for scenario in SCENARIOS {
            assert!(
                stream.iter().any(|a| a.scenario == scenario),
                "{scenario:?} is drawn"
            );
        }
    }

    #[test]
    fn every_country_charges_in_a_currency_till_accepts() {
        for country in &COUNTRIES {
            assert!(amount(1_000, country).is_some(), "{}", country.code);
        }
    }

    #[test]
    fn options_default_and_parse() {
        let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let options = parse_options(&[]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (options.seed, options.attempts),
            (DEFAULT_SEED, DEFAULT_ATTEMPTS)
        );
        let options = parse_options(&args(&["--attempts", "500", "--seed", "9"]))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((options.seed, options.attempts), (9, 500));
        for bad in [&["--seed"][..], &["--attempts", "0"], &["--seeds", "1"]] {
            assert!(parse_options(&args(bad)).is_err(), "{bad:?}");
        }
    }
}
