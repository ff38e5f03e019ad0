//! Receipt e-mails: what the customer is sent when a payment succeeds and when a refund is
//! made, in their language (English or Korean). Built here from plain facts, so the text is
//! tested without a mail provider; the edge only sends it.
//!
//! Names the merchant chose (its own name, line items) are escaped in the HTML part: a receipt
//! must not carry markup a merchant typed.

use crate::money::Money;

/// What a receipt is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Occasion {
    Payment,
    Refund,
}

/// One line of the order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub name: String,
    pub quantity: u32,
    pub total: Money,
}

/// What the customer paid with, as the receipt names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaidWith {
    Card {
        brand: String,
        last4: String,
    },
    /// A bank payment by redirect: the bank's name.
    Bank {
        name: String,
    },
    /// The customer's Till wallet, for all of it.
    Wallet,
}

/// Everything a receipt says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptFacts {
    pub occasion: Occasion,
    pub merchant_name: String,
    /// The payment's amount, or the refund's.
    pub amount: Money,
    pub paid_with: PaidWith,
    /// The part the customer's wallet paid (or gets back) when a card paid the rest.
    pub from_wallet: Option<Money>,
    pub payment_id: String,
    pub refund_id: Option<String>,
    /// `YYYY-MM-DD` (UTC).
    pub date: String,
    pub lines: Vec<Line>,
    pub merchant_reference: Option<String>,
}

/// The message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub subject: String,
    pub text: String,
    pub html: String,
}

pub(crate) fn korean(locale: &str) -> bool {
    locale.to_ascii_lowercase().starts_with("ko")
}

/// An amount as people read it: `$25.00`, `₩45,000`, `€9.50`, `BHD 1.250` for currencies
/// without a common symbol. Grouped by thousands; the currency's own number of decimals.
pub fn display_amount(money: &Money) -> String {
    let decimal = money.to_decimal_string();
    let (sign, unsigned) = match decimal.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", decimal.as_str()),
    };
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (unsigned, None),
    };
    let mut grouped = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    if let Some(fraction) = fraction {
        grouped.push('.');
        grouped.push_str(fraction);
    }
    let symbol = match money.currency.code() {
        "USD" => Some("$"),
        "KRW" => Some("₩"),
        "JPY" => Some("¥"),
        "EUR" => Some("€"),
        "GBP" => Some("£"),
        _ => None,
    };
    match symbol {
        Some(symbol) => format!("{sign}{symbol}{grouped}"),
        None => format!("{sign}{} {grouped}", money.currency.code()),
    }
}

/// Text for an HTML body: `&`, `<`, `>`, `"` and `'` as entities.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A name for a header or the plain-text part: line breaks and other control characters out
/// (a merchant's name must not add a line to a mail header).
pub(crate) fn single_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

struct Words {
    paid_subject: &'static str,
    refund_subject: &'static str,
    paid_intro: &'static str,
    refund_intro: &'static str,
    bank_refund_intro: &'static str,
    wallet_refund_intro: &'static str,
    amount: &'static str,
    card: &'static str,
    bank: &'static str,
    wallet: &'static str,
    date: &'static str,
    payment: &'static str,
    refund: &'static str,
    order: &'static str,
    closing: &'static str,
}

const EN: Words = Words {
    paid_subject: "Your receipt from",
    refund_subject: "Your refund from",
    paid_intro: "Thank you. Your payment went through.",
    refund_intro: "Your refund is on its way to your card. It can take a few days to appear.",
    bank_refund_intro:
        "Your refund is on its way to your bank account. It can take a few days to appear.",
    wallet_refund_intro: "Your refund is back in your wallet.",
    amount: "Amount",
    card: "Card",
    bank: "Bank",
    wallet: "Wallet",
    date: "Date",
    payment: "Payment",
    refund: "Refund",
    order: "Order",
    closing: "Keep this e-mail as your receipt.",
};

const KO: Words = Words {
    paid_subject: "결제 영수증:",
    refund_subject: "환불 안내:",
    paid_intro: "결제가 완료되었습니다. 감사합니다.",
    refund_intro:
        "환불이 카드로 처리되었습니다. 카드 명세서에 반영되기까지 며칠이 걸릴 수 있습니다.",
    bank_refund_intro: "환불이 계좌로 처리되었습니다. 계좌에 반영되기까지 며칠이 걸릴 수 있습니다.",
    wallet_refund_intro: "환불 금액이 지갑으로 돌아갔습니다.",
    amount: "금액",
    card: "카드",
    bank: "은행",
    wallet: "지갑",
    date: "날짜",
    payment: "결제 번호",
    refund: "환불 번호",
    order: "주문 번호",
    closing: "이 메일을 영수증으로 보관해 주세요.",
};

/// The receipt in `locale` (`ko…` is Korean, anything else English).
pub fn render(facts: &ReceiptFacts, locale: &str) -> Email {
    let words = if korean(locale) { &KO } else { &EN };
    let merchant = single_line(&facts.merchant_name);
    let (subject_start, intro) = match facts.occasion {
        Occasion::Payment => (words.paid_subject, words.paid_intro),
        Occasion::Refund => match facts.paid_with {
            PaidWith::Card { .. } => (words.refund_subject, words.refund_intro),
            PaidWith::Bank { .. } => (words.refund_subject, words.bank_refund_intro),
            PaidWith::Wallet => (words.refund_subject, words.wallet_refund_intro),
        },
    };
    let subject = format!("{subject_start} {merchant}");
    let paid_with = match &facts.paid_with {
        PaidWith::Card { brand, last4 } => (words.card, format!("{brand} •••• {last4}")),
        PaidWith::Bank { name } => (words.bank, single_line(name)),
        PaidWith::Wallet => (words.wallet, display_amount(&facts.amount)),
    };
    let mut rows: Vec<(&str, String)> = vec![(words.amount, display_amount(&facts.amount))];
    if let Some(part) = &facts.from_wallet {
        rows.push((words.wallet, display_amount(part)));
    }
    rows.extend([
        paid_with,
        (words.date, facts.date.clone()),
        (words.payment, facts.payment_id.clone()),
    ]);
    if let Some(refund) = &facts.refund_id {
        rows.push((words.refund, refund.clone()));
    }
    if let Some(reference) = &facts.merchant_reference {
        rows.push((words.order, single_line(reference)));
    }
    let lines: Vec<(String, String)> = facts
        .lines
        .iter()
        .map(|line| {
            (
                format!("{} × {}", single_line(&line.name), line.quantity),
                display_amount(&line.total),
            )
        })
        .collect();

    let mut text = format!("{merchant}\n\n{intro}\n\n");
    for (label, value) in &rows {
        text += &format!("{label}: {value}\n");
    }
    if !lines.is_empty() {
        text.push('\n');
        for (name, total) in &lines {
            text += &format!("{name}  {total}\n");
        }
    }
    text += &format!("\n{}\n", words.closing);

    let mut html = format!(
        "<!doctype html><html lang=\"{}\"><body style=\"font-family:sans-serif;color:#1a1a1a\">\
         <h1 style=\"font-size:20px\">{}</h1><p>{}</p><table>",
        if korean(locale) { "ko" } else { "en" },
        escape_html(&merchant),
        escape_html(intro)
    );
    for (label, value) in &rows {
        html += &format!(
            "<tr><th align=\"left\">{}</th><td>{}</td></tr>",
            escape_html(label),
            escape_html(value)
        );
    }
    html += "</table>";
    if !lines.is_empty() {
        html += "<table>";
        for (name, total) in &lines {
            html += &format!(
                "<tr><td>{}</td><td align=\"right\">{}</td></tr>",
                escape_html(name),
                escape_html(total)
            );
        }
        html += "</table>";
    }
    html += &format!("<p>{}</p></body></html>", escape_html(words.closing));
    Email {
        subject,
        text,
        html,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    fn money(amount: i64, code: &str) -> Money {
        Money {
            amount,
            currency: Currency::parse(code).unwrap(),
        }
    }

    fn facts(occasion: Occasion) -> ReceiptFacts {
        ReceiptFacts {
            occasion,
            merchant_name: "Seoul <Books> & Co\r\nBcc: x@example.com".into(),
            amount: money(45_000, "KRW"),
            paid_with: PaidWith::Card {
                brand: "visa".into(),
                last4: "4242".into(),
            },
            from_wallet: None,
            payment_id: "pay_1".into(),
            refund_id: (occasion == Occasion::Refund).then(|| "re_1".into()),
            date: "2026-11-26".into(),
            lines: vec![Line {
                name: "<script>alert(1)</script>".into(),
                quantity: 2,
                total: money(45_000, "KRW"),
            }],
            merchant_reference: Some("주문-7".into()),
        }
    }

    #[test]
    fn amounts_read_as_people_write_them() {
        assert_eq!(display_amount(&money(2_500, "USD")), "$25.00");
        assert_eq!(display_amount(&money(123_456_789, "USD")), "$1,234,567.89");
        assert_eq!(display_amount(&money(45_000, "KRW")), "₩45,000");
        assert_eq!(display_amount(&money(1_250, "BHD")), "BHD 1.250");
        assert_eq!(display_amount(&money(5, "JPY")), "¥5");
        assert_eq!(display_amount(&money(-950, "EUR")), "-€9.50");
    }

    #[test]
    fn a_korean_payment_receipt_is_in_korean_and_escapes_the_merchants_words() {
        let email = render(&facts(Occasion::Payment), "ko-KR");
        assert!(
            email.subject.starts_with("결제 영수증:"),
            "{}",
            email.subject
        );
        assert!(!email.subject.contains('\n') && !email.subject.contains('\r'));
        assert!(email.text.contains("금액: ₩45,000"), "{}", email.text);
        assert!(email.text.contains("visa •••• 4242"));
        assert!(email.text.contains("주문 번호: 주문-7"));
        assert!(email
            .html
            .contains("&lt;script&gt;alert(1)&lt;/script&gt; × 2"));
        assert!(!email.html.contains("<script>"));
        assert!(email.html.contains("Seoul &lt;Books&gt; &amp; Co"));
        assert!(email.html.contains("lang=\"ko\""));
    }

    #[test]
    fn an_english_refund_receipt_names_the_refund() {
        let email = render(&facts(Occasion::Refund), "en-US");
        assert!(email.subject.starts_with("Your refund from"));
        assert!(email.text.contains("Refund: re_1"));
        assert!(email.text.contains("Your refund is on its way"));
        assert!(render(&facts(Occasion::Refund), "fr")
            .subject
            .starts_with("Your refund"));
    }

    #[test]
    fn a_bank_payments_receipts_name_the_bank_and_the_account() {
        let bank = ReceiptFacts {
            paid_with: PaidWith::Bank {
                name: "Hana Test Bank".into(),
            },
            ..facts(Occasion::Refund)
        };
        let english = render(&bank, "en");
        assert!(
            english.text.contains("Bank: Hana Test Bank"),
            "{}",
            english.text
        );
        assert!(english.text.contains("to your bank account"));
        assert!(!english.text.contains("••••"));
        let korean = render(&bank, "ko");
        assert!(
            korean.text.contains("은행: Hana Test Bank"),
            "{}",
            korean.text
        );
        assert!(korean.text.contains("계좌로"));
    }

    #[test]
    fn a_wallet_payments_receipts_say_what_the_wallet_paid() {
        let split = ReceiptFacts {
            from_wallet: Some(money(12_000, "KRW")),
            ..facts(Occasion::Payment)
        };
        let korean = render(&split, "ko");
        assert!(korean.text.contains("지갑: ₩12,000"), "{}", korean.text);
        assert!(korean.text.contains("카드: visa •••• 4242"));
        let wallet_only = ReceiptFacts {
            paid_with: PaidWith::Wallet,
            ..facts(Occasion::Refund)
        };
        let english = render(&wallet_only, "en");
        assert!(english.text.contains("Wallet: ₩45,000"), "{}", english.text);
        assert!(english.text.contains("back in your wallet"));
        assert!(!english.text.contains("••••"));
    }
}
