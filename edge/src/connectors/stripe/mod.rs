//! PLACEHOLDER until the Stripe connector lands (being written now): refuses every call.

use super::{
    AccountCredentials, Answer, Authorization, Connector, GatewayError, GatewayEvent,
    GatewayPayment, PaymentLookup, RefundAnswer, WebhookError,
};
use till_core::reconciliation::SettlementLine;

pub struct Stripe;

impl Stripe {
    pub fn new(_credentials: AccountCredentials, _timeout_ms: u64) -> Self {
        Stripe
    }
}

fn refused<'a, T: 'a>() -> Answer<'a, T> {
    Box::pin(async {
        Err(GatewayError::Rejected {
            status: 501,
            code: "not_implemented".into(),
        })
    })
}

impl Connector for Stripe {
    fn authorize<'a>(&'a self, _: &'a Authorization, _: &'a str) -> Answer<'a, GatewayPayment> {
        refused()
    }
    fn find<'a>(&'a self, _: &'a PaymentLookup<'a>) -> Answer<'a, Option<GatewayPayment>> {
        refused()
    }
    fn challenge<'a>(&'a self, _: &'a str, _: &'a str, _: &'a str) -> Answer<'a, GatewayPayment> {
        refused()
    }
    fn capture<'a>(&'a self, _: &'a str, _: i64, _: &'a str) -> Answer<'a, GatewayPayment> {
        refused()
    }
    fn void<'a>(&'a self, _: &'a str, _: &'a str) -> Answer<'a, GatewayPayment> {
        refused()
    }
    fn refund<'a>(
        &'a self,
        _: &'a str,
        _: i64,
        _: &'a str,
        _: &'a str,
    ) -> Answer<'a, RefundAnswer> {
        refused()
    }
    fn settlement<'a>(&'a self, _: &'a str) -> Answer<'a, Vec<SettlementLine>> {
        refused()
    }
    fn webhook(&self, _: &str, _: &[u8], _: i64) -> Result<GatewayEvent, WebhookError> {
        Err(WebhookError::Unreadable)
    }
    fn signature_header(&self) -> &'static str {
        "Stripe-Signature"
    }
}
