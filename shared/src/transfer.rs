//! Transfers between customers: who may receive (a customer, or a phone or email that is not a
//! customer yet and gets a claim), where the money comes from, the limits that bound it and the
//! states a transfer moves through.

use crate::customer::{contact_hash, normalize_email, normalize_phone};
use crate::error::{ApiError, ErrorCode};
use crate::ids::{self, IdKind};
use crate::money::{Currency, Money};
use serde::{Deserialize, Serialize};

/// How long money waits for a receiver who is not a customer yet before it goes back (the
/// deployment may set another duration).
pub const CLAIM_SECONDS: i64 = 7 * 24 * 60 * 60;
const MAX_NOTE: usize = 140;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateTransfer {
    pub from_customer: String,
    /// A customer id (`cus_…`), a phone number (E.164) or an email.
    pub to: String,
    pub amount: i64,
    pub currency: Currency,
    /// `wallet`, or the id of one of the sender's saved payment methods (`pm_…`).
    pub source: String,
    #[serde(default)]
    pub note: Option<String>,
}

/// Who receives a transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipient {
    Customer(String),
    /// Normalized E.164.
    Phone(String),
    /// Normalized (lowercase) email.
    Email(String),
}

impl Recipient {
    pub fn kind(&self) -> &'static str {
        match self {
            Recipient::Customer(_) => "customer",
            Recipient::Phone(_) => "phone",
            Recipient::Email(_) => "email",
        }
    }

    /// The contact hash a customer with this phone or email is found by.
    pub fn contact_hash(&self) -> Option<String> {
        match self {
            Recipient::Customer(_) => None,
            Recipient::Phone(contact) | Recipient::Email(contact) => Some(contact_hash(contact)),
        }
    }
}

/// Where the money of a transfer comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Wallet,
    PaymentMethod(String),
}

impl Source {
    pub fn as_str(&self) -> &str {
        match self {
            Source::Wallet => "wallet",
            Source::PaymentMethod(id) => id,
        }
    }
}

/// A transfer request, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferRequest {
    pub sender: String,
    pub recipient: Recipient,
    pub money: Money,
    pub source: Source,
    pub note: Option<String>,
}

impl CreateTransfer {
    pub fn validate(&self) -> Result<TransferRequest, ApiError> {
        if !ids::is_valid(IdKind::Customer, &self.from_customer) {
            return Err(ApiError::not_found("customer").with_param("from_customer"));
        }
        let money = Money::payable(self.amount, self.currency).map_err(|e| {
            ApiError::new(ErrorCode::AmountInvalid)
                .with_message(e.to_string())
                .with_param("amount")
        })?;
        let recipient = parse_recipient(&self.to)?;
        if recipient == Recipient::Customer(self.from_customer.clone()) {
            return Err(ApiError::new(ErrorCode::TransferToSelf).with_param("to"));
        }
        let source = match self.source.as_str() {
            "wallet" => Source::Wallet,
            id if ids::is_valid(IdKind::PaymentMethod, id) => Source::PaymentMethod(id.into()),
            _ => {
                return Err(ApiError::new(ErrorCode::ParameterInvalid)
                    .with_message("source is `wallet` or the id of a saved payment method.")
                    .with_param("source"))
            }
        };
        let note = match self.note.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(note) if note.chars().count() > MAX_NOTE || note.chars().any(char::is_control) => {
                return Err(ApiError::new(ErrorCode::ParameterInvalid)
                    .with_message(format!(
                        "note is at most {MAX_NOTE} characters, without control characters."
                    ))
                    .with_param("note"))
            }
            Some(note) => Some(note.to_string()),
        };
        Ok(TransferRequest {
            sender: self.from_customer.clone(),
            recipient,
            money,
            source,
            note,
        })
    }
}

fn parse_recipient(to: &str) -> Result<Recipient, ApiError> {
    let to = to.trim();
    if to.starts_with(IdKind::Customer.prefix()) {
        return if ids::is_valid(IdKind::Customer, to) {
            Ok(Recipient::Customer(to.into()))
        } else {
            Err(ApiError::new(ErrorCode::RecipientUnknown).with_param("to"))
        };
    }
    if to.starts_with('+') {
        return normalize_phone(to)
            .map(Recipient::Phone)
            .map_err(|_| ApiError::new(ErrorCode::RecipientInvalid).with_param("to"));
    }
    if to.contains('@') {
        return normalize_email(to)
            .map(Recipient::Email)
            .map_err(|_| ApiError::new(ErrorCode::RecipientInvalid).with_param("to"));
    }
    Err(ApiError::new(ErrorCode::RecipientInvalid).with_param("to"))
}

/// How much one customer may send: per transfer and per UTC day, in minor units of the
/// transfer's currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferLimits {
    pub per_transfer: i64,
    pub per_day: i64,
}

impl TransferLimits {
    /// Limits as configured (deployment setting or a merchant's column): both positive, and a
    /// day allows at least one transfer.
    pub fn parse(json: &str) -> Option<TransferLimits> {
        serde_json::from_str::<TransferLimits>(json)
            .ok()
            .filter(|l| l.per_transfer > 0 && l.per_day >= l.per_transfer)
    }

    /// The per-transfer limit; the daily one is checked where the day's total is kept.
    pub fn check(&self, amount: i64) -> Result<(), ApiError> {
        if amount > self.per_transfer {
            return Err(ApiError::new(ErrorCode::LimitExceeded)
                .with_message(format!(
                    "A transfer may be at most {} (minor units).",
                    self.per_transfer
                ))
                .with_param("amount"));
        }
        Ok(())
    }

    pub fn daily_exceeded(&self) -> ApiError {
        ApiError::new(ErrorCode::LimitExceeded)
            .with_message(format!(
                "This transfer would take the sender past the daily limit of {} (minor units).",
                self.per_day
            ))
            .with_param("amount")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferStatus {
    /// Paid by card: the card is being charged; nothing has moved yet.
    Pending,
    /// The money is in the receiver's wallet.
    Succeeded,
    /// Paid by card, and the card was declined: nothing moved.
    Failed,
    /// The money left the sender and waits for the receiver to become a customer.
    AwaitingClaim,
    /// The claim expired and the money went back to the sender.
    Returned,
}

impl TransferStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TransferStatus::Pending => "pending",
            TransferStatus::Succeeded => "succeeded",
            TransferStatus::Failed => "failed",
            TransferStatus::AwaitingClaim => "awaiting_claim",
            TransferStatus::Returned => "returned",
        }
    }

    /// A card charge ends in the receiver's wallet, in a claim, or nowhere; a claim goes to its
    /// receiver or back. Nothing else moves.
    pub fn can_move_to(self, next: TransferStatus) -> bool {
        use TransferStatus::*;
        matches!(
            (self, next),
            (Pending, Succeeded | Failed | AwaitingClaim) | (AwaitingClaim, Succeeded | Returned)
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    pub id: String,
    pub object: String,
    pub from_customer: String,
    /// The receiving customer; `null` while the transfer awaits its claim.
    pub to_customer: Option<String>,
    /// `customer`, `phone` or `email`: how the sender named the receiver.
    pub recipient_type: String,
    pub amount: i64,
    pub currency: Currency,
    pub source: String,
    pub note: Option<String>,
    pub status: TransferStatus,
    /// When an unclaimed transfer goes back to the sender.
    pub claim_expires_at: Option<i64>,
    /// The payment that charged the sender's card, for a transfer paid by card.
    pub payment: Option<String>,
    pub created: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(to: &str, amount: i64, source: &str) -> CreateTransfer {
        CreateTransfer {
            from_customer: ids::new_id(IdKind::Customer, [1; 16]),
            to: to.into(),
            amount,
            currency: Currency::parse("USD").unwrap(),
            source: source.into(),
            note: None,
        }
    }

    #[test]
    fn recipients_are_customers_phones_or_emails() {
        let other = ids::new_id(IdKind::Customer, [2; 16]);
        let to = |t: &str| request(t, 100, "wallet").validate().map(|r| r.recipient);
        assert_eq!(to(&other).unwrap(), Recipient::Customer(other.clone()));
        assert_eq!(
            to("+82 10 1234 5678").unwrap(),
            Recipient::Phone("+821012345678".into())
        );
        assert_eq!(
            to(" Bo@Example.com").unwrap(),
            Recipient::Email("bo@example.com".into())
        );
        assert_eq!(
            to("cus_nope").unwrap_err().code(),
            ErrorCode::RecipientUnknown
        );
        for bad in ["", "bob", "+12", "bo@", "01012345678"] {
            assert_eq!(
                to(bad).unwrap_err().code(),
                ErrorCode::RecipientInvalid,
                "{bad:?}"
            );
        }
        let me = request("", 100, "wallet");
        let to_self = CreateTransfer {
            to: me.from_customer.clone(),
            ..me
        };
        assert_eq!(
            to_self.validate().unwrap_err().code(),
            ErrorCode::TransferToSelf
        );
    }

    #[test]
    fn amounts_sources_and_notes_are_checked() {
        let other = ids::new_id(IdKind::Customer, [2; 16]);
        for amount in [0, -1, i64::MAX] {
            let error = request(&other, amount, "wallet").validate().unwrap_err();
            assert_eq!(error.code(), ErrorCode::AmountInvalid);
        }
        let card = ids::new_id(IdKind::PaymentMethod, [3; 16]);
        assert_eq!(
            request(&other, 1, &card).validate().unwrap().source,
            Source::PaymentMethod(card)
        );
        for bad in ["", "card", "pm_1", "WALLET"] {
            assert!(request(&other, 1, bad).validate().is_err(), "{bad:?}");
        }
        let with_note = |note: &str| CreateTransfer {
            note: Some(note.into()),
            ..request(&other, 1, "wallet")
        };
        assert_eq!(
            with_note(" 점심 ").validate().unwrap().note.as_deref(),
            Some("점심")
        );
        assert_eq!(with_note("  ").validate().unwrap().note, None);
        assert!(with_note(&"x".repeat(141)).validate().is_err());
        assert!(with_note("a\nb").validate().is_err());
        let stranger = CreateTransfer {
            from_customer: "cus_x".into(),
            ..request(&other, 1, "wallet")
        };
        assert_eq!(
            stranger.validate().unwrap_err().code(),
            ErrorCode::ResourceMissing
        );
    }

    #[test]
    fn limits_parse_and_bound_one_transfer() {
        let limits = TransferLimits::parse(r#"{"per_transfer":1000,"per_day":5000}"#).unwrap();
        assert!(limits.check(1000).is_ok());
        assert_eq!(
            limits.check(1001).unwrap_err().code(),
            ErrorCode::LimitExceeded
        );
        for bad in [
            r#"{"per_transfer":0,"per_day":5000}"#,
            r#"{"per_transfer":1000,"per_day":999}"#,
            r#"{"per_transfer":1000}"#,
            r#"{"per_transfer":1000,"per_day":5000,"x":1}"#,
            "nonsense",
        ] {
            assert_eq!(TransferLimits::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn only_a_claim_moves() {
        use TransferStatus::*;
        assert!(AwaitingClaim.can_move_to(Succeeded));
        assert!(AwaitingClaim.can_move_to(Returned));
        assert!(!AwaitingClaim.can_move_to(AwaitingClaim));
        assert!(!Succeeded.can_move_to(Returned));
        assert!(!Returned.can_move_to(Succeeded));
        assert!(Pending.can_move_to(Succeeded));
        assert!(Pending.can_move_to(Failed));
        assert!(Pending.can_move_to(AwaitingClaim));
        assert!(!Pending.can_move_to(Returned));
        assert!(!Failed.can_move_to(Succeeded));
        assert!(!AwaitingClaim.can_move_to(Failed));
    }
}
