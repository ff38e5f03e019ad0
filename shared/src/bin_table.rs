//! What a card's first digits (its BIN, or IIN) say: the issuing country and the funding
//! (credit, debit, prepaid). Risk rules read them (`card_country`, `card_funding`).
//!
//! The table is a CSV file that a BIN data provider's export maps onto directly:
//!
//! ```text
//! prefix,country,funding
//! 424242,US,credit
//! 4000056655665556,US,debit
//! 400000760,BR,credit
//! ```
//!
//! `prefix`: 6 to 16 digits; `country`: ISO 3166-1 alpha-2; `funding`: `credit`, `debit` or
//! `prepaid`. A header line is required; `#` lines and blank lines are ignored. The longest
//! prefix that matches a card wins, so ranges are refined by adding longer prefixes.

use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Funding {
    Credit,
    Debit,
    Prepaid,
}

impl Funding {
    pub fn as_str(self) -> &'static str {
        match self {
            Funding::Credit => "credit",
            Funding::Debit => "debit",
            Funding::Prepaid => "prepaid",
        }
    }

    pub fn parse(text: &str) -> Option<Funding> {
        [Funding::Credit, Funding::Debit, Funding::Prepaid]
            .into_iter()
            .find(|f| f.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinInfo {
    pub country: String,
    pub funding: Funding,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BinTable {
    by_prefix: BTreeMap<String, BinInfo>,
}

/// A line of the file that is not a valid record: its number (1-based) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinTableError {
    pub line: usize,
    pub message: String,
}

const HEADER: &str = "prefix,country,funding";

impl BinTable {
    pub fn parse(csv: &str) -> Result<BinTable, BinTableError> {
        let mut lines = csv
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.trim()))
            .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'));
        let fail = |line: usize, message: &str| BinTableError {
            line,
            message: message.to_string(),
        };
        match lines.next() {
            Some((_, header)) if header == HEADER => {}
            Some((line, _)) => {
                return Err(fail(line, "the first line must be prefix,country,funding"))
            }
            None => return Err(fail(1, "the file is empty")),
        }
        let mut by_prefix = BTreeMap::new();
        for (line, text) in lines {
            let fields: Vec<&str> = text.split(',').map(str::trim).collect();
            let [prefix, country, funding] = fields.as_slice() else {
                return Err(fail(line, "expected three fields: prefix,country,funding"));
            };
            if !(6..=16).contains(&prefix.len()) || !prefix.bytes().all(|b| b.is_ascii_digit()) {
                return Err(fail(line, "prefix is 6 to 16 digits"));
            }
            if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
                return Err(fail(
                    line,
                    "country is two capital letters (ISO 3166-1 alpha-2)",
                ));
            }
            let funding = Funding::parse(funding)
                .ok_or_else(|| fail(line, "funding is credit, debit or prepaid"))?;
            let info = BinInfo {
                country: (*country).to_string(),
                funding,
            };
            if by_prefix.insert((*prefix).to_string(), info).is_some() {
                return Err(fail(line, "this prefix is listed twice"));
            }
        }
        Ok(BinTable { by_prefix })
    }

    /// The record of the longest prefix of `number` in the table.
    pub fn lookup(&self, number: &str) -> Option<&BinInfo> {
        (6..=number.len().min(16))
            .rev()
            .filter_map(|len| number.get(..len))
            .find_map(|prefix| self.by_prefix.get(prefix))
    }

    pub fn len(&self) -> usize {
        self.by_prefix.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_prefix.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "# test cards\nprefix,country,funding\n424242,US,credit\n\
                         4000056655665556,US,debit\n400000,US,credit\n400000760,BR,credit\n";

    #[test]
    fn the_longest_prefix_wins() {
        let table = BinTable::parse(TABLE).unwrap();
        assert_eq!(table.len(), 4);
        let country = |n: &str| table.lookup(n).map(|i| i.country.as_str());
        assert_eq!(country("4242424242424242"), Some("US"));
        assert_eq!(country("4000007600000000"), Some("BR"));
        assert_eq!(country("4000000000000002"), Some("US"));
        assert_eq!(
            table.lookup("4000056655665556").map(|i| i.funding),
            Some(Funding::Debit)
        );
        assert_eq!(country("5555555555554444"), None);
        assert_eq!(country("42"), None);
        assert_eq!(country(""), None);
    }

    #[test]
    fn bad_lines_are_named() {
        for (csv, line, needle) in [
            ("", 1, "empty"),
            ("bin,cc\n", 1, "first line"),
            ("prefix,country,funding\n4242,US,credit\n", 2, "6 to 16"),
            (
                "prefix,country,funding\n424242,usa,credit\n",
                2,
                "two capital",
            ),
            (
                "prefix,country,funding\n424242,US,charge\n",
                2,
                "credit, debit",
            ),
            ("prefix,country,funding\n424242,US\n", 2, "three fields"),
            (
                "prefix,country,funding\n\n424242,US,credit\n424242,US,debit\n",
                4,
                "twice",
            ),
        ] {
            let error = BinTable::parse(csv).unwrap_err();
            assert_eq!(error.line, line, "{csv:?}");
            assert!(error.message.contains(needle), "{csv:?}: {error:?}");
        }
    }
}
