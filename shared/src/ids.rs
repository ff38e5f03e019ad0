//! Prefixed random identifiers (`cs_`, `tok_`, `pay_`): a UUIDv4 underneath, randomness from the caller.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    CheckoutSession,
    Token,
    Payment,
    Refund,
    ClientSecret,
    Event,
    WebhookEndpoint,
    WebhookSecret,
    Delivery,
    ReconciliationRun,
    GatewayAccount,
    Customer,
    PaymentMethod,
    Transfer,
    LedgerTransaction,
    LedgerEntry,
    CustomerSession,
    Payout,
    Merchant,
    ApiKey,
    AuditEntry,
    Receipt,
    RefundRequest,
    Request,
    User,
    Invitation,
    RiskRule,
    Dispute,
    /// A file given as dispute evidence, kept in object storage under this id.
    EvidenceFile,
    FxQuote,
    Product,
    Price,
    Subscription,
    Invoice,
    /// One line of an invoice, or a proration line waiting for the next invoice.
    InvoiceLine,
    TestClock,
}

impl IdKind {
    pub fn prefix(self) -> &'static str {
        match self {
            IdKind::CheckoutSession => "cs_",
            IdKind::Token => "tok_",
            IdKind::Payment => "pay_",
            IdKind::Refund => "re_",
            IdKind::ClientSecret => "secret_",
            IdKind::Event => "evt_",
            IdKind::WebhookEndpoint => "we_",
            IdKind::WebhookSecret => "whsec_",
            IdKind::Delivery => "whd_",
            IdKind::ReconciliationRun => "recon_",
            IdKind::GatewayAccount => "ga_",
            IdKind::Customer => "cus_",
            IdKind::PaymentMethod => "pm_",
            IdKind::Transfer => "tr_",
            IdKind::LedgerTransaction => "ltx_",
            IdKind::LedgerEntry => "le_",
            IdKind::CustomerSession => "cuss_",
            IdKind::Payout => "po_",
            IdKind::Merchant => "mer_",
            IdKind::ApiKey => "key_",
            IdKind::AuditEntry => "aud_",
            IdKind::Receipt => "rcpt_",
            IdKind::RefundRequest => "rr_",
            IdKind::Request => "req_",
            IdKind::User => "usr_",
            IdKind::Invitation => "inv_",
            IdKind::RiskRule => "rule_",
            IdKind::Dispute => "dp_",
            IdKind::EvidenceFile => "file_",
            IdKind::FxQuote => "fxq_",
            IdKind::Product => "prod_",
            IdKind::Price => "price_",
            IdKind::Subscription => "sub_",
            IdKind::Invoice => "in_",
            IdKind::InvoiceLine => "il_",
            IdKind::TestClock => "clock_",
        }
    }
}

/// Builds an id such as `pay_3f2b...` (32 hex digits of a UUIDv4 made from `random`).
pub fn new_id(kind: IdKind, random: [u8; 16]) -> String {
    let uuid = uuid::Builder::from_random_bytes(random).into_uuid();
    format!("{}{}", kind.prefix(), uuid.simple())
}

/// True when `id` has the kind's prefix followed by a 32-hex-digit UUIDv4.
pub fn is_valid(kind: IdKind, id: &str) -> bool {
    id.strip_prefix(kind.prefix())
        .and_then(|rest| uuid::Uuid::try_parse(rest).ok())
        .is_some_and(|uuid| uuid.get_version_num() == 4 && !id.contains('-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_prefixed_uuid_v4() {
        let id = new_id(IdKind::Payment, [7u8; 16]);
        assert!(id.starts_with("pay_"));
        assert_eq!(id.len(), 4 + 32);
        assert!(is_valid(IdKind::Payment, &id));
        assert!(!is_valid(IdKind::Token, &id));
        assert!(!is_valid(IdKind::Payment, "pay_123"));
        assert!(!is_valid(IdKind::Payment, "pay_../../etc"));
    }
}
