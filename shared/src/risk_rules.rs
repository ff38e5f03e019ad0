//! The fraud rule language merchants write, parsed and checked here before it is stored:
//!
//! ```text
//! block if card_country != ip_country and amount_usd > 500
//! review if declines(card, 1h) >= 3
//! request_3ds if customer_age_days < 1
//! block if card_country in ('KP', 'IR') or not (currency == 'USD' or currency == 'EUR')
//! ```
//!
//! A rule is an action, `if`, and a condition over an attempt's features and velocity counters.
//! Amounts are written in major units (`500` is $500.00) and compared exactly, as decimals.
//! A feature the attempt lacks (no USD amount yet, no customer) is unknown: a comparison with it
//! is neither true nor false, and a rule fires only when its condition is true.

use std::collections::BTreeSet;
use std::fmt;

/// What a rule asks for, weakest first: the strongest matching rule decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    Allow,
    Request3ds,
    Review,
    Block,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Request3ds => "request_3ds",
            Action::Review => "review",
            Action::Block => "block",
        }
    }

    pub fn parse(word: &str) -> Option<Action> {
        [
            Action::Allow,
            Action::Request3ds,
            Action::Review,
            Action::Block,
        ]
        .into_iter()
        .find(|a| a.as_str() == word)
    }
}

/// What an attempt is known by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Feature {
    /// In the payment's currency, major units.
    Amount,
    /// The amount in US dollars (once FX can convert it).
    AmountUsd,
    Currency,
    /// The issuing country of the card's BIN.
    CardCountry,
    /// Where the request came from (Cloudflare's view of the client address).
    IpCountry,
    CardBrand,
    /// `credit`, `debit` or `prepaid`.
    CardFunding,
    EmailDomain,
    /// Days since the customer was created.
    CustomerAgeDays,
}

const FEATURES: [(&str, Feature); 9] = [
    ("amount", Feature::Amount),
    ("amount_usd", Feature::AmountUsd),
    ("currency", Feature::Currency),
    ("card_country", Feature::CardCountry),
    ("ip_country", Feature::IpCountry),
    ("card_brand", Feature::CardBrand),
    ("card_funding", Feature::CardFunding),
    ("email_domain", Feature::EmailDomain),
    ("customer_age_days", Feature::CustomerAgeDays),
];

impl Feature {
    fn is_number(self) -> bool {
        matches!(
            self,
            Feature::Amount | Feature::AmountUsd | Feature::CustomerAgeDays
        )
    }
}

/// What a velocity counter counts, over a sliding window.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Counter {
    Attempts,
    Declines,
    DistinctCards,
}

/// Whose attempts a counter counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Subject {
    /// The card's fingerprint.
    Card,
    Ip,
    Customer,
    Email,
}

impl Subject {
    pub const ALL: [Subject; 4] = [
        Subject::Card,
        Subject::Ip,
        Subject::Customer,
        Subject::Email,
    ];

    /// The name rules (and stored screenings) use.
    pub fn as_str(self) -> &'static str {
        match self {
            Subject::Card => "card",
            Subject::Ip => "ip",
            Subject::Customer => "customer",
            Subject::Email => "email",
        }
    }

    pub fn parse(name: &str) -> Option<Subject> {
        Subject::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

/// One counter a rule reads: `declines(card, 1h)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Velocity {
    pub counter: Counter,
    pub subject: Subject,
    pub window_seconds: u32,
}

/// The longest window a counter may look back.
pub const MAX_WINDOW_SECONDS: u32 = 30 * 86_400;

/// An exact decimal: `digits × 10^-scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decimal {
    pub digits: i128,
    pub scale: u32,
}

impl Decimal {
    pub fn whole(n: i64) -> Decimal {
        Decimal {
            digits: i128::from(n),
            scale: 0,
        }
    }

    /// Minor units of a currency with `exponent` decimals.
    pub fn minor(amount: i64, exponent: u32) -> Decimal {
        Decimal {
            digits: i128::from(amount),
            scale: exponent,
        }
    }

    fn cmp_exact(self, other: Decimal) -> std::cmp::Ordering {
        let scale = self.scale.max(other.scale);
        let widen = |d: Decimal| {
            d.digits
                .saturating_mul(10i128.saturating_pow(scale - d.scale))
        };
        widen(self).cmp(&widen(other))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Number(Decimal),
    Text(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Operand {
    Literal(Value),
    Feature(Feature),
    Velocity(Velocity),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Comparison {
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Expr {
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Compare(Operand, Comparison, Operand),
    In(Operand, Vec<Value>),
}

/// A checked rule, with its text as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub source: String,
    pub action: Action,
    condition: Expr,
}

/// Why a rule does not parse: where (a character offset) and what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    pub position: usize,
    pub message: String,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at character {}: {}", self.position + 1, self.message)
    }
}

/// Rules longer than this are refused: a rule is a sentence, not a program.
pub const MAX_RULE_CHARS: usize = 500;

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Number(Decimal),
    Text(String),
    Symbol(&'static str),
}

fn tokenize(text: &str) -> Result<Vec<(usize, Token)>, RuleError> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    let at = |i: usize| chars.get(i).map(|(_, c)| *c);
    let offset = |i: usize| chars.get(i).map_or(text.len(), |(o, _)| *o);
    while let Some(c) = at(i) {
        let start = offset(i);
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_alphabetic() || c == '_' {
            let mut word = String::new();
            while let Some(c) = at(i).filter(|c| c.is_ascii_alphanumeric() || *c == '_') {
                word.push(c);
                i += 1;
            }
            tokens.push((start, Token::Word(word)));
        } else if c.is_ascii_digit() {
            let mut digits: i128 = 0;
            let mut scale = 0u32;
            let mut seen_point = false;
            while let Some(c) = at(i).filter(|c| c.is_ascii_digit() || (*c == '.' && !seen_point)) {
                if c == '.' {
                    seen_point = true;
                } else {
                    digits = digits
                        .checked_mul(10)
                        .and_then(|d| d.checked_add(i128::from(c as u8 - b'0')))
                        .filter(|d| *d < 10i128.pow(24))
                        .ok_or_else(|| error(start, "this number is too large"))?;
                    if seen_point {
                        scale += 1;
                    }
                }
                i += 1;
            }
            // A window such as `1h` is a number followed by its unit: a word.
            if let Some(unit) = at(i).filter(|c| c.is_ascii_alphabetic()) {
                if seen_point {
                    return Err(error(start, "a window is a whole number: 30m, 1h, 7d"));
                }
                i += 1;
                tokens.push((start, Token::Word(format!("{digits}{unit}"))));
            } else {
                tokens.push((start, Token::Number(Decimal { digits, scale })));
            }
        } else if c == '\'' {
            i += 1;
            let mut value = String::new();
            loop {
                match at(i) {
                    None => return Err(error(start, "this text has no closing quote")),
                    Some('\'') => break,
                    Some(c) if c.is_control() => {
                        return Err(error(offset(i), "text cannot hold control characters"))
                    }
                    Some(c) => value.push(c),
                }
                i += 1;
            }
            i += 1;
            tokens.push((start, Token::Text(value)));
        } else {
            let two: String = [at(i), at(i + 1)].iter().flatten().collect();
            let symbol = ["==", "!=", "<=", ">="]
                .into_iter()
                .find(|s| *s == two)
                .or_else(|| {
                    ["<", ">", "(", ")", ","]
                        .into_iter()
                        .find(|s| s.starts_with(c))
                })
                .ok_or_else(|| error(start, &format!("unexpected {c:?}")))?;
            i += symbol.len();
            tokens.push((start, Token::Symbol(symbol)));
        }
    }
    Ok(tokens)
}

fn error(position: usize, message: &str) -> RuleError {
    RuleError {
        position,
        message: message.to_string(),
    }
}

struct Parser {
    tokens: Vec<(usize, Token)>,
    next: usize,
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next).map(|(_, t)| t)
    }

    fn position(&self) -> usize {
        self.tokens.get(self.next).map_or(self.end, |(p, _)| *p)
    }

    fn take(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.next).map(|(_, t)| t.clone());
        self.next += 1;
        token
    }

    fn is_word(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w == word)
    }

    fn expect_symbol(&mut self, symbol: &str) -> Result<(), RuleError> {
        let position = self.position();
        match self.take() {
            Some(Token::Symbol(s)) if s == symbol => Ok(()),
            _ => Err(error(position, &format!("expected {symbol}"))),
        }
    }

    fn or(&mut self) -> Result<Expr, RuleError> {
        let mut left = self.and()?;
        while self.is_word("or") {
            self.next += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, RuleError> {
        let mut left = self.not()?;
        while self.is_word("and") {
            self.next += 1;
            left = Expr::And(Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr, RuleError> {
        if self.is_word("not") {
            self.next += 1;
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        if self.peek() == Some(&Token::Symbol("(")) {
            self.next += 1;
            let inner = self.or()?;
            self.expect_symbol(")")?;
            return Ok(inner);
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr, RuleError> {
        let left_at = self.position();
        let left = self.operand()?;
        if self.is_word("in") {
            self.next += 1;
            let list = self.list()?;
            check_list(&left, &list, left_at)?;
            return Ok(Expr::In(left, list));
        }
        let op_at = self.position();
        let comparison = match self.take() {
            Some(Token::Symbol("==")) => Comparison::Equal,
            Some(Token::Symbol("!=")) => Comparison::NotEqual,
            Some(Token::Symbol("<")) => Comparison::Less,
            Some(Token::Symbol("<=")) => Comparison::LessOrEqual,
            Some(Token::Symbol(">")) => Comparison::Greater,
            Some(Token::Symbol(">=")) => Comparison::GreaterOrEqual,
            _ => {
                return Err(error(
                    op_at,
                    "expected a comparison: ==, !=, <, <=, >, >= or in",
                ))
            }
        };
        let right = self.operand()?;
        check_types(&left, comparison, &right, op_at)?;
        Ok(Expr::Compare(left, comparison, right))
    }

    fn list(&mut self) -> Result<Vec<Value>, RuleError> {
        self.expect_symbol("(")?;
        let mut values = Vec::new();
        loop {
            let at = self.position();
            match self.take() {
                Some(Token::Text(t)) => values.push(Value::Text(t)),
                Some(Token::Number(n)) => values.push(Value::Number(n)),
                _ => return Err(error(at, "expected a value such as 'KR' or 500")),
            }
            match self.take() {
                Some(Token::Symbol(",")) => continue,
                Some(Token::Symbol(")")) => return Ok(values),
                _ => return Err(error(self.position(), "expected , or )")),
            }
        }
    }

    fn operand(&mut self) -> Result<Operand, RuleError> {
        let at = self.position();
        match self.take() {
            Some(Token::Number(n)) => Ok(Operand::Literal(Value::Number(n))),
            Some(Token::Text(t)) => Ok(Operand::Literal(Value::Text(t))),
            Some(Token::Word(word)) => {
                if let Some((_, feature)) = FEATURES.iter().find(|(name, _)| *name == word) {
                    return Ok(Operand::Feature(*feature));
                }
                let counter = match word.as_str() {
                    "attempts" => Counter::Attempts,
                    "declines" => Counter::Declines,
                    "distinct_cards" => Counter::DistinctCards,
                    _ => {
                        let names: Vec<&str> = FEATURES.iter().map(|(n, _)| *n).collect();
                        return Err(error(
                            at,
                            &format!(
                                "unknown name {word:?}: use one of {}, or attempts(…), declines(…), distinct_cards(…)",
                                names.join(", ")
                            ),
                        ));
                    }
                };
                self.velocity(counter)
            }
            _ => Err(error(at, "expected a feature, a counter or a value")),
        }
    }

    fn velocity(&mut self, counter: Counter) -> Result<Operand, RuleError> {
        self.expect_symbol("(")?;
        let at = self.position();
        let subject = match self.take() {
            Some(Token::Word(w)) => Subject::parse(&w),
            _ => None,
        }
        .ok_or_else(|| error(at, "count by card, ip, customer or email"))?;
        if counter == Counter::DistinctCards && subject == Subject::Card {
            return Err(error(
                at,
                "distinct_cards counts the cards of an ip, customer or email",
            ));
        }
        self.expect_symbol(",")?;
        let at = self.position();
        let window_seconds = match self.take() {
            Some(Token::Word(w)) => window(&w),
            _ => None,
        }
        .ok_or_else(|| {
            error(
                at,
                "expected a window from 1m to 30d, such as 10m, 1h or 7d",
            )
        })?;
        self.expect_symbol(")")?;
        Ok(Operand::Velocity(Velocity {
            counter,
            subject,
            window_seconds,
        }))
    }
}

/// `30m`, `1h`, `7d`, `90s`: at least a minute, at most 30 days.
fn window(word: &str) -> Option<u32> {
    let unit = word.chars().last()?;
    let number: u32 = word.get(..word.len().checked_sub(1)?)?.parse().ok()?;
    let seconds = number.checked_mul(match unit {
        's' => 1,
        'm' => 60,
        'h' => 3_600,
        'd' => 86_400,
        _ => return None,
    })?;
    (60..=MAX_WINDOW_SECONDS)
        .contains(&seconds)
        .then_some(seconds)
}

fn is_number(operand: &Operand) -> bool {
    match operand {
        Operand::Literal(Value::Number(_)) | Operand::Velocity(_) => true,
        Operand::Literal(Value::Text(_)) => false,
        Operand::Feature(f) => f.is_number(),
    }
}

fn check_types(
    left: &Operand,
    comparison: Comparison,
    right: &Operand,
    at: usize,
) -> Result<(), RuleError> {
    if matches!((left, right), (Operand::Literal(_), Operand::Literal(_))) {
        return Err(error(at, "compare a feature or a counter, not two values"));
    }
    if is_number(left) != is_number(right) {
        return Err(error(at, "this compares a number with text"));
    }
    let ordering = !matches!(comparison, Comparison::Equal | Comparison::NotEqual);
    if ordering && !is_number(left) {
        return Err(error(at, "text is compared with == or != (or in)"));
    }
    Ok(())
}

fn check_list(left: &Operand, list: &[Value], at: usize) -> Result<(), RuleError> {
    if matches!(left, Operand::Literal(_)) {
        return Err(error(at, "in takes a feature or a counter on its left"));
    }
    let numbers = is_number(left);
    if list
        .iter()
        .any(|v| matches!(v, Value::Number(_)) != numbers)
    {
        return Err(error(at, "the list's values must be of the feature's kind"));
    }
    Ok(())
}

impl Rule {
    /// Parses and checks one rule.
    pub fn parse(text: &str) -> Result<Rule, RuleError> {
        let text = text.trim();
        if text.chars().count() > MAX_RULE_CHARS {
            return Err(error(
                MAX_RULE_CHARS,
                &format!("a rule is at most {MAX_RULE_CHARS} characters"),
            ));
        }
        let tokens = tokenize(text)?;
        let mut parser = Parser {
            tokens,
            next: 0,
            end: text.len(),
        };
        let action = match parser.take() {
            Some(Token::Word(word)) => Action::parse(&word),
            _ => None,
        }
        .ok_or_else(|| error(0, "a rule starts with allow, request_3ds, review or block"))?;
        if !parser.is_word("if") {
            return Err(error(parser.position(), "expected if after the action"));
        }
        parser.next += 1;
        let condition = parser.or()?;
        if parser.peek().is_some() {
            return Err(error(
                parser.position(),
                "expected and, or, or the end of the rule",
            ));
        }
        Ok(Rule {
            source: text.to_string(),
            action,
            condition,
        })
    }

    /// The counters this rule reads, so the edge asks only for those.
    pub fn velocities(&self) -> BTreeSet<Velocity> {
        let mut found = BTreeSet::new();
        collect(&self.condition, &mut found);
        found
    }

    /// Whether the rule fires for `attempt`: its condition is true (not false, not unknown).
    pub fn fires(&self, attempt: &dyn Facts) -> bool {
        evaluate(&self.condition, attempt) == Some(true)
    }
}

fn collect(expr: &Expr, found: &mut BTreeSet<Velocity>) {
    let mut operand = |o: &Operand| {
        if let Operand::Velocity(v) = o {
            found.insert(*v);
        }
    };
    match expr {
        Expr::Or(a, b) | Expr::And(a, b) => {
            collect(a, found);
            collect(b, found);
        }
        Expr::Not(inner) => collect(inner, found),
        Expr::Compare(left, _, right) => {
            operand(left);
            operand(right);
        }
        Expr::In(left, _) => operand(left),
    }
}

/// What rules read of an attempt; `None` where it is not known.
pub trait Facts {
    fn feature(&self, feature: Feature) -> Option<Value>;
    fn velocity(&self, velocity: Velocity) -> Option<i64>;
}

fn value_of(operand: &Operand, facts: &dyn Facts) -> Option<Value> {
    match operand {
        Operand::Literal(v) => Some(v.clone()),
        Operand::Feature(f) => facts.feature(*f),
        Operand::Velocity(v) => facts.velocity(*v).map(|n| Value::Number(Decimal::whole(n))),
    }
}

fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.cmp_exact(*y).is_eq(),
        (Value::Text(x), Value::Text(y)) => x.eq_ignore_ascii_case(y),
        _ => false,
    }
}

/// Three-valued: `None` when a feature the condition needs is unknown.
fn evaluate(expr: &Expr, facts: &dyn Facts) -> Option<bool> {
    match expr {
        Expr::Or(a, b) => match (evaluate(a, facts), evaluate(b, facts)) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (Some(false), Some(false)) => Some(false),
            _ => None,
        },
        Expr::And(a, b) => match (evaluate(a, facts), evaluate(b, facts)) {
            (Some(false), _) | (_, Some(false)) => Some(false),
            (Some(true), Some(true)) => Some(true),
            _ => None,
        },
        Expr::Not(inner) => evaluate(inner, facts).map(|b| !b),
        Expr::In(left, list) => {
            let value = value_of(left, facts)?;
            Some(list.iter().any(|item| equal(&value, item)))
        }
        Expr::Compare(left, comparison, right) => {
            let (a, b) = (value_of(left, facts)?, value_of(right, facts)?);
            match comparison {
                Comparison::Equal => Some(equal(&a, &b)),
                Comparison::NotEqual => Some(!equal(&a, &b)),
                ordering => {
                    let (Value::Number(x), Value::Number(y)) = (a, b) else {
                        return None;
                    };
                    let order = x.cmp_exact(y);
                    Some(match ordering {
                        Comparison::Less => order.is_lt(),
                        Comparison::LessOrEqual => order.is_le(),
                        Comparison::Greater => order.is_gt(),
                        _ => order.is_ge(),
                    })
                }
            }
        }
    }
}

/// The outcome for an attempt: the strongest action among the rules that fire, and which.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub action: Action,
    /// The sources of the rules that fired, in the order given.
    pub rules: Vec<String>,
}

pub fn decide(rules: &[Rule], facts: &dyn Facts) -> Decision {
    let fired: Vec<&Rule> = rules.iter().filter(|r| r.fires(facts)).collect();
    Decision {
        action: fired
            .iter()
            .map(|r| r.action)
            .max()
            .unwrap_or(Action::Allow),
        rules: fired.iter().map(|r| r.source.clone()).collect(),
    }
}

/// The rules every merchant starts with.
pub const DEFAULT_RULES: [&str; 6] = [
    "block if declines(card, 1h) >= 5",
    "block if distinct_cards(ip, 1h) >= 10",
    "review if card_country != ip_country and amount_usd > 500",
    "request_3ds if customer_age_days < 1 and amount_usd > 200",
    "review if attempts(email, 1d) >= 20",
    // Card testing that changes address on every attempt still uses one email.
    "review if distinct_cards(email, 1h) >= 5",
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[derive(Default)]
    struct Attempt {
        features: BTreeMap<Feature, Value>,
        counters: BTreeMap<Velocity, i64>,
    }

    impl Facts for Attempt {
        fn feature(&self, feature: Feature) -> Option<Value> {
            self.features.get(&feature).cloned()
        }
        fn velocity(&self, velocity: Velocity) -> Option<i64> {
            self.counters.get(&velocity).copied()
        }
    }

    fn text(s: &str) -> Value {
        Value::Text(s.into())
    }

    fn usd(cents: i64) -> Value {
        Value::Number(Decimal::minor(cents, 2))
    }

    fn rule(text: &str) -> Rule {
        Rule::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn the_default_rules_and_the_issues_examples_parse() {
        for text in DEFAULT_RULES {
            rule(text);
        }
        let parsed = rule("block if card_country != ip_country and amount_usd > 500");
        assert_eq!(parsed.action, Action::Block);
        let velocity = rule("review if declines(card, 1h) >= 3");
        assert_eq!(
            velocity.velocities().into_iter().collect::<Vec<_>>(),
            vec![Velocity {
                counter: Counter::Declines,
                subject: Subject::Card,
                window_seconds: 3_600
            }]
        );
        rule("request_3ds if customer_age_days < 1");
        rule(
            "block if card_country in ('KP', 'IR') or not (currency == 'USD' or currency == 'EUR')",
        );
        rule("  allow   if amount<=0.99  ");
    }

    #[test]
    fn bad_rules_say_where_and_what() {
        for (text, at, needle) in [
            ("", 0, "starts with"),
            ("deny if amount > 1", 0, "starts with"),
            ("block amount > 1", 6, "expected if"),
            ("block if", 8, "expected a feature"),
            ("block if amount >", 17, "expected a feature"),
            ("block if amount 5", 16, "comparison"),
            ("block if amout > 5", 9, "unknown name"),
            ("block if currency > 'USD'", 18, "== or !="),
            ("block if amount == 'USD'", 16, "number with text"),
            ("block if 1 == 1", 11, "not two values"),
            ("block if declines(card, 1y) > 1", 24, "window"),
            ("block if declines(card, 31d) > 1", 24, "window"),
            ("block if declines(card, 30s) > 1", 24, "window"),
            ("block if declines(phone, 1h) > 1", 18, "card, ip"),
            ("block if distinct_cards(card, 1h) > 1", 24, "ip, customer"),
            ("block if (amount > 1", 20, "expected )"),
            ("block if amount > 1 amount", 20, "end of the rule"),
            ("block if currency == 'USD", 21, "closing quote"),
            ("block if amount > 1 ; drop", 20, "unexpected"),
            ("block if card_country in ('KR', 5)", 9, "kind"),
            (
                "block if amount > 99999999999999999999999999",
                18,
                "too large",
            ),
        ] {
            let error = Rule::parse(text).expect_err(text);
            assert_eq!(error.position, at, "{text}: {error}");
            assert!(error.message.contains(needle), "{text}: {error}");
        }
        let long = format!("block if amount > 1{}", " or amount > 1".repeat(40));
        assert!(Rule::parse(&long).unwrap_err().message.contains("at most"));
    }

    #[test]
    fn amounts_compare_exactly_as_decimals() {
        let over_500 = rule("review if amount_usd > 500");
        let mut attempt = Attempt::default();
        attempt.features.insert(Feature::AmountUsd, usd(50_000));
        assert!(!over_500.fires(&attempt), "$500.00 is not over 500");
        attempt.features.insert(Feature::AmountUsd, usd(50_001));
        assert!(over_500.fires(&attempt));
        let cents = rule("review if amount_usd >= 499.99");
        attempt.features.insert(Feature::AmountUsd, usd(49_999));
        assert!(cents.fires(&attempt));
        // KRW has no minor unit: 1,000,000 won.
        let won = rule("review if currency == 'krw' and amount > 1000000");
        let mut korean = Attempt::default();
        korean.features.insert(Feature::Currency, text("KRW"));
        korean
            .features
            .insert(Feature::Amount, Value::Number(Decimal::minor(1_000_001, 0)));
        assert!(won.fires(&korean), "text compares without case");
    }

    #[test]
    fn unknown_features_never_fire_a_rule_either_way() {
        let mismatch = rule("review if card_country != ip_country");
        let negated = rule("review if not (card_country == ip_country)");
        let mut attempt = Attempt::default();
        attempt.features.insert(Feature::IpCountry, text("KR"));
        assert!(!mismatch.fires(&attempt) && !negated.fires(&attempt));
        // But an `or` with a true side is true whatever the unknown side.
        let either = rule("review if card_country != ip_country or ip_country == 'KR'");
        assert!(either.fires(&attempt));
        attempt.features.insert(Feature::CardCountry, text("US"));
        assert!(mismatch.fires(&attempt) && negated.fires(&attempt));
    }

    #[test]
    fn the_strongest_firing_rule_decides() {
        let rules: Vec<Rule> = DEFAULT_RULES.iter().map(|t| rule(t)).collect();
        let mut attempt = Attempt::default();
        assert_eq!(decide(&rules, &attempt).action, Action::Allow);
        attempt
            .features
            .insert(Feature::CustomerAgeDays, Value::Number(Decimal::whole(0)));
        attempt.features.insert(Feature::AmountUsd, usd(60_000));
        attempt.features.insert(Feature::CardCountry, text("US"));
        attempt.features.insert(Feature::IpCountry, text("KR"));
        let decision = decide(&rules, &attempt);
        assert_eq!(decision.action, Action::Review);
        assert_eq!(decision.rules.len(), 2, "{decision:?}");
        let declines = Velocity {
            counter: Counter::Declines,
            subject: Subject::Card,
            window_seconds: 3_600,
        };
        attempt.counters.insert(declines, 5);
        let decision = decide(&rules, &attempt);
        assert_eq!(decision.action, Action::Block);
        assert_eq!(
            decision.rules.first().map(String::as_str),
            Some(DEFAULT_RULES[0])
        );
    }
}
