//! The e-mail a customer is sent when a subscription's renewal could not be charged: what
//! failed, when Till tries again, and a link to the customer's own subscriptions page, where
//! they pay now with another card or switch the card the next charges use. English or Korean,
//! built from plain facts so the text is tested without a mail provider.

use crate::money::Money;
use crate::receipt::{display_amount, escape_html, korean, single_line, Email};

/// Everything the e-mail says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentFailedFacts {
    pub merchant_name: String,
    /// What the customer subscribed to (the product's name).
    pub plan: String,
    pub amount_due: Money,
    /// `Visa •••• 4242`, when the charge was made on a known card.
    pub card: Option<String>,
    /// `YYYY-MM-DD` (UTC) of the next retry; none when no more are scheduled.
    pub next_attempt: Option<String>,
    pub invoice_id: String,
    /// The customer's subscriptions page, signed in by the secret in its fragment.
    pub link: String,
    /// `YYYY-MM-DD` (UTC): after this day the link no longer opens the page.
    pub link_expires: String,
}

struct Words {
    subject_end: &'static str,
    subject_start: &'static str,
    not_charged: &'static str,
    on_card: &'static str,
    retry: &'static str,
    on_hold: &'static str,
    action: &'static str,
    amount: &'static str,
    plan: &'static str,
    invoice: &'static str,
    link_until: &'static str,
}

const EN: Words = Words {
    subject_start: "Your payment to",
    subject_end: "didn't go through",
    not_charged: "We couldn't take your subscription payment",
    on_card: "on",
    retry: "We will try again on",
    on_hold: "No more attempts are scheduled: your subscription is on hold until it is paid.",
    action: "Pay now or use another card",
    amount: "Amount due",
    plan: "Plan",
    invoice: "Invoice",
    link_until: "This link works until",
};

const KO: Words = Words {
    subject_start: "",
    subject_end: "결제가 실패했습니다",
    not_charged: "구독 요금을 결제하지 못했습니다",
    on_card: "카드:",
    retry: "다음 결제 시도일:",
    on_hold: "더 이상 자동 결제를 시도하지 않습니다. 결제될 때까지 구독이 보류됩니다.",
    action: "지금 결제하거나 다른 카드 사용하기",
    amount: "결제할 금액",
    plan: "요금제",
    invoice: "청구서",
    link_until: "이 링크의 사용 기한:",
};

fn words(locale: &str) -> &'static Words {
    if korean(locale) {
        &KO
    } else {
        &EN
    }
}

/// The subject line, which does not depend on the link (it is recorded before one is made).
pub fn subject(merchant_name: &str, locale: &str) -> String {
    let words = words(locale);
    let merchant = single_line(merchant_name);
    format!("{} {merchant} {}", words.subject_start, words.subject_end)
        .trim_start()
        .to_string()
}

/// The e-mail in `locale` (`ko…` is Korean, anything else English).
pub fn render(facts: &PaymentFailedFacts, locale: &str) -> Email {
    let words = words(locale);
    let merchant = single_line(&facts.merchant_name);
    let mut first = words.not_charged.to_string();
    if let Some(card) = &facts.card {
        first += &format!(" ({} {})", words.on_card, single_line(card));
    }
    first.push('.');
    let second = match &facts.next_attempt {
        Some(date) => format!("{} {date}.", words.retry),
        None => words.on_hold.to_string(),
    };
    let rows = [
        (words.plan, single_line(&facts.plan)),
        (words.amount, display_amount(&facts.amount_due)),
        (words.invoice, facts.invoice_id.clone()),
    ];
    let until = format!("{} {}.", words.link_until, facts.link_expires);

    let mut text = format!("{merchant}\n\n{first}\n{second}\n\n");
    for (label, value) in &rows {
        text += &format!("{label}: {value}\n");
    }
    text += &format!("\n{}:\n{}\n\n{until}\n", words.action, facts.link);

    let mut html = format!(
        "<!doctype html><html lang=\"{}\"><body style=\"font-family:sans-serif;color:#1a1a1a\">\
         <h1 style=\"font-size:20px\">{}</h1><p>{}</p><p>{}</p><table>",
        if korean(locale) { "ko" } else { "en" },
        escape_html(&merchant),
        escape_html(&first),
        escape_html(&second)
    );
    for (label, value) in &rows {
        html += &format!(
            "<tr><th align=\"left\">{}</th><td>{}</td></tr>",
            escape_html(label),
            escape_html(value)
        );
    }
    html += &format!(
        "</table><p><a href=\"{}\" style=\"display:inline-block;padding:10px 16px;\
         background:#1a56db;color:#fff;border-radius:6px;text-decoration:none\">{}</a></p>\
         <p style=\"color:#555\">{}</p></body></html>",
        escape_html(&facts.link),
        escape_html(words.action),
        escape_html(&until)
    );
    Email {
        subject: subject(&facts.merchant_name, locale),
        text,
        html,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    fn facts(next_attempt: Option<&str>) -> PaymentFailedFacts {
        PaymentFailedFacts {
            merchant_name: "Seoul <Books>\r\nBcc: x@example.com".into(),
            plan: "Plus & more".into(),
            amount_due: Money {
                amount: 9_900,
                currency: Currency::parse("KRW").unwrap(),
            },
            card: Some("Visa •••• 0002".into()),
            next_attempt: next_attempt.map(Into::into),
            invoice_id: "in_1".into(),
            link: "https://pay.till.test/wallet?key=pk_test_1&view=subscriptions\
                   #customer_session=cuss_1_secret_2\"><script>"
                .into(),
            link_expires: "2027-01-08".into(),
        }
    }

    #[test]
    fn an_english_notice_says_what_failed_when_it_is_retried_and_where_to_fix_it() {
        let email = render(&facts(Some("2027-01-03")), "en-GB");
        assert_eq!(
            email.subject,
            "Your payment to Seoul <Books>  Bcc: x@example.com didn't go through"
        );
        assert!(email.text.contains("(on Visa •••• 0002)"), "{}", email.text);
        assert!(email.text.contains("We will try again on 2027-01-03."));
        assert!(email.text.contains("Amount due: ₩9,900"));
        assert!(email
            .text
            .contains("customer_session=cuss_1_secret_2\"><script>\n"));
        assert!(email.text.contains("This link works until 2027-01-08."));
        assert!(email.html.contains("Seoul &lt;Books&gt;"));
        assert!(email.html.contains("Plus &amp; more"));
        assert!(!email.html.contains("<script>"), "{}", email.html);
        assert!(email
            .html
            .contains("cuss_1_secret_2&quot;&gt;&lt;script&gt;"));
    }

    #[test]
    fn a_korean_notice_without_retries_says_the_plan_is_on_hold() {
        let email = render(&facts(None), "ko");
        assert_eq!(
            email.subject,
            "Seoul <Books>  Bcc: x@example.com 결제가 실패했습니다"
        );
        assert!(!email.subject.contains(['\r', '\n']));
        assert!(email.text.contains("결제될 때까지 구독이 보류됩니다"));
        assert!(email.text.contains("결제할 금액: ₩9,900"));
        assert!(email.html.contains("lang=\"ko\""));
        assert_eq!(
            email.subject,
            subject("Seoul <Books>\r\nBcc: x@example.com", "ko-KR")
        );
    }
}
