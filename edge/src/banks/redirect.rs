//! Internet banking by redirect: the customer approves a payment at their own bank. Till asks
//! the bank for the payment, sends the customer to the bank's page, and learns the outcome from
//! the bank (its webhook, Till's return page asking it, or the poller), whichever comes first.

use super::Answer;
use crate::connectors::RefundAnswer;
use till_core::api::BankSummary;
use till_core::money::Currency;
use till_core::payment::GatewayState;
use till_core::reconciliation::SettlementLine;

/// A bank customers may pay from, and the currencies it takes (`None`: any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankOption {
    pub bank: BankSummary,
    pub currencies: Option<Vec<String>>,
}

impl BankOption {
    pub fn takes(&self, currency: Currency) -> bool {
        self.currencies
            .as_ref()
            .is_none_or(|taken| taken.iter().any(|code| code == currency.code()))
    }
}

/// A payment as the bank is asked to take it.
pub struct BankPaymentRequest<'a> {
    pub amount: i64,
    pub currency: Currency,
    pub bank: &'a str,
    /// Till's payment id: the bank echoes it in its answers and events.
    pub reference: &'a str,
    /// Where the bank sends the customer back (Till's return page).
    pub return_url: &'a str,
}

/// The bank's view of one payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankPayment {
    pub id: String,
    /// Till's payment id.
    pub reference: String,
    pub state: GatewayState,
    /// The bank's page for the customer, while the bank waits for them.
    pub redirect_url: Option<String>,
}

/// A refund as the bank is asked to pay it back to the customer's account.
pub struct BankRefundRequest<'a> {
    /// The bank's id of the payment refunded.
    pub payment: &'a str,
    pub amount: i64,
    /// Till's refund id: the bank echoes it in its answers and events.
    pub reference: &'a str,
}

/// The bank's view of one refund.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankRefund {
    /// Till's refund id.
    pub reference: String,
    pub answer: RefundAnswer,
}

pub trait RedirectBank {
    /// The banks customers choose from.
    fn banks(&self) -> Answer<'_, Vec<BankOption>>;
    /// Asks the bank for a payment; the same `key` never makes two, and answers the same one.
    fn create_payment<'a>(
        &'a self,
        request: &'a BankPaymentRequest<'a>,
        key: &'a str,
    ) -> Answer<'a, BankPayment>;
    /// The payment as the bank sees it now: by the bank's id when Till has it, else by the key
    /// it was asked for with (an answer that was lost).
    fn find_payment<'a>(
        &'a self,
        id: Option<&'a str>,
        key: &'a str,
    ) -> Answer<'a, Option<BankPayment>>;
    /// Cancels a payment the customer has not approved yet; the bank's answer says whether it
    /// was (an approved one is not).
    fn cancel_payment<'a>(&'a self, id: &'a str) -> Answer<'a, BankPayment>;
    /// Asks the bank to pay (part of) a payment back; the same `key` never refunds twice.
    fn refund<'a>(
        &'a self,
        request: &'a BankRefundRequest<'a>,
        key: &'a str,
    ) -> Answer<'a, BankRefund>;
    /// The day's payments taken and refunds paid back, as settlement lines (`YYYY-MM-DD`).
    fn settlement<'a>(&'a self, date: &'a str) -> Answer<'a, Vec<SettlementLine>>;
}
