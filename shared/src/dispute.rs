//! Disputes (chargebacks): a cardholder asks their bank for a payment back, the card network
//! takes the money from the merchant at once, and the merchant either answers with evidence or
//! accepts. The gateway tells Till (a webhook; Stripe's `charge.dispute.*`), Till records the
//! dispute and moves the merchant's balance, and the network's decision closes it.
//!
//! - States: `needs_response -> under_review -> won | lost`, and `needs_response -> lost` when
//!   the merchant accepts ([`DisputeStatus`]). Won and lost are final.
//! - Evidence ([`SubmitEvidence`]): a few bounded text fields and at most [`MAX_FILES`] small
//!   PDF, PNG or JPEG files, checked by their bytes, not by what the request says they are.
//! - Money ([`ledger_operations`]): when Till records a dispute the disputed amount and Till's
//!   fee ([`dispute_fee`]) leave the merchant's balance; both come back if it is won; a lost
//!   dispute moves nothing more.
//! - Merchant events ([`event_types`]): `dispute.created`, `dispute.updated`, `dispute.closed`.

use crate::error::{ApiError, ErrorCode};
use crate::ledger::Operation;
use crate::money::Currency;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Where a dispute stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisputeStatus {
    /// The money is withdrawn; the merchant may submit evidence until `evidence_due_by`.
    NeedsResponse,
    /// Evidence was submitted; the card network decides.
    UnderReview,
    /// Decided for the merchant: the money comes back.
    Won,
    /// Decided for the cardholder (or accepted by the merchant): the money stays with them.
    Lost,
}

/// A move the dispute state machine does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IllegalTransition {
    pub from: DisputeStatus,
    pub to: DisputeStatus,
}

impl std::fmt::Display for IllegalTransition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "a dispute cannot move from {} to {}",
            self.from.as_str(),
            self.to.as_str()
        )
    }
}

impl DisputeStatus {
    pub const ALL: [DisputeStatus; 4] = [
        DisputeStatus::NeedsResponse,
        DisputeStatus::UnderReview,
        DisputeStatus::Won,
        DisputeStatus::Lost,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DisputeStatus::NeedsResponse => "needs_response",
            DisputeStatus::UnderReview => "under_review",
            DisputeStatus::Won => "won",
            DisputeStatus::Lost => "lost",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Decided: nothing moves it again.
    pub fn is_final(self) -> bool {
        matches!(self, DisputeStatus::Won | DisputeStatus::Lost)
    }

    pub fn can_move_to(self, next: DisputeStatus) -> bool {
        use DisputeStatus::*;
        matches!(
            (self, next),
            // Evidence submitted.
            (NeedsResponse, UnderReview)
            // Accepted by the merchant, or no evidence by the due date.
            | (NeedsResponse, Lost)
            // The network's decision.
            | (UnderReview, Won | Lost)
        )
    }

    pub fn move_to(self, next: DisputeStatus) -> Result<DisputeStatus, IllegalTransition> {
        if self.can_move_to(next) {
            Ok(next)
        } else {
            Err(IllegalTransition {
                from: self,
                to: next,
            })
        }
    }

    /// Applies the gateway's word: directly, or through `under_review` when the gateway did
    /// that step without Till seeing it (the cardholder withdrew before any evidence, or the
    /// `closed` webhook arrived before the `updated` one). The gateway's repeat of the status
    /// Till already has is no move and is refused like any other, so a caller applies it once.
    pub fn settle_to(self, next: DisputeStatus) -> Result<DisputeStatus, IllegalTransition> {
        self.move_to(next).or_else(|error| {
            self.move_to(DisputeStatus::UnderReview)
                .and_then(|review| review.move_to(next))
                .map_err(|_| error)
        })
    }

    /// The merchant submits evidence (`POST /v1/disputes/:id/evidence`): only once, only while
    /// the dispute needs a response, and not after `evidence_due_by` (the network would no
    /// longer read it).
    pub fn submit_evidence(
        self,
        evidence_due_by: i64,
        now: i64,
    ) -> Result<DisputeStatus, ApiError> {
        if self == DisputeStatus::NeedsResponse && now > evidence_due_by {
            return Err(ApiError::new(ErrorCode::EvidencePastDue));
        }
        self.move_to(DisputeStatus::UnderReview)
            .map_err(|_| self.refusal())
    }

    /// The merchant accepts the dispute (`POST /v1/disputes/:id/close`): it is lost at once.
    /// Once evidence is in, the network decides; there is nothing left to accept.
    pub fn accept(self) -> Result<DisputeStatus, ApiError> {
        if self != DisputeStatus::NeedsResponse {
            return Err(self.refusal());
        }
        self.move_to(DisputeStatus::Lost)
            .map_err(|_| self.refusal())
    }

    /// Why a merchant's action is refused in this state (a dispute that needs a response
    /// refuses nothing the merchant may do).
    fn refusal(self) -> ApiError {
        if self.is_final() {
            ApiError::new(ErrorCode::DisputeClosed)
        } else {
            ApiError::new(ErrorCode::DisputeUnderReview)
        }
    }
}

impl std::fmt::Display for DisputeStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why the cardholder disputed, in the card networks' categories (Stripe's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisputeReason {
    Fraudulent,
    ProductNotReceived,
    Duplicate,
    SubscriptionCanceled,
    ProductUnacceptable,
    CreditNotProcessed,
    General,
    Unrecognized,
}

impl DisputeReason {
    pub const ALL: [DisputeReason; 8] = [
        DisputeReason::Fraudulent,
        DisputeReason::ProductNotReceived,
        DisputeReason::Duplicate,
        DisputeReason::SubscriptionCanceled,
        DisputeReason::ProductUnacceptable,
        DisputeReason::CreditNotProcessed,
        DisputeReason::General,
        DisputeReason::Unrecognized,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DisputeReason::Fraudulent => "fraudulent",
            DisputeReason::ProductNotReceived => "product_not_received",
            DisputeReason::Duplicate => "duplicate",
            DisputeReason::SubscriptionCanceled => "subscription_canceled",
            DisputeReason::ProductUnacceptable => "product_unacceptable",
            DisputeReason::CreditNotProcessed => "credit_not_processed",
            DisputeReason::General => "general",
            DisputeReason::Unrecognized => "unrecognized",
        }
    }

    /// A gateway's reason. Networks add reasons (Stripe also sends `bank_cannot_process`,
    /// `debit_not_authorized`, ...): one Till has no category for is `general`, so a new
    /// reason never stops a dispute from being recorded.
    pub fn from_gateway(reason: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|known| known.as_str() == reason)
            .unwrap_or(DisputeReason::General)
    }
}

/// Till's fee for a dispute, per currency, in minor units: about USD 15 (what card networks
/// and gateways typically charge per chargeback), as a round amount of each currency rather
/// than a rate conversion, so a merchant's price list does not move with exchange rates.
/// Scaling 1500 by the exponent alone would charge ₩15 in KRW (a cent) and 15 KWD (about
/// USD 49), hence a table. A test holds it to every currency Till accepts.
const DISPUTE_FEES: &[(&str, i64)] = &[
    ("AUD", 2_500),   // A$25.00
    ("BHD", 6_000),   // 6.000 BD
    ("CAD", 2_000),   // C$20.00
    ("CHF", 1_500),   // CHF 15.00
    ("CNY", 10_000),  // ¥100.00
    ("DKK", 10_000),  // 100.00 kr
    ("EUR", 1_500),   // €15.00
    ("GBP", 1_200),   // £12.00
    ("HKD", 12_000),  // HK$120.00
    ("INR", 125_000), // ₹1,250.00
    ("JOD", 10_000),  // 10.000 JD
    ("JPY", 2_000),   // ¥2,000
    ("KRW", 20_000),  // ₩20,000
    ("KWD", 5_000),   // 5.000 KD
    ("NOK", 15_000),  // 150.00 kr
    ("NZD", 2_500),   // NZ$25.00
    ("OMR", 6_000),   // 6.000 OMR
    ("SEK", 15_000),  // 150.00 kr
    ("SGD", 2_000),   // S$20.00
    ("USD", 1_500),   // $15.00
    ("VND", 350_000), // ₫350,000
];

/// Till's fee for a dispute in `currency`, in its minor units: about USD 15 as a round local
/// amount (USD 1500, EUR 1500, GBP 1200, JPY 2000, KRW 20000, KWD 5000, ...; the table is in
/// this module). A currency added to Till without a fee in the table pays 15 of its major
/// units; a test keeps that from happening unnoticed.
pub fn dispute_fee(currency: Currency) -> i64 {
    DISPUTE_FEES
        .iter()
        .find(|(code, _)| *code == currency.code())
        .map_or_else(
            || 15 * 10i64.pow(u32::from(currency.exponent())),
            |(_, fee)| *fee,
        )
}

/// The ledger operations a dispute's change writes, each with its amount, in order. `from` is
/// what Till had (`None`: the dispute is being recorded now), `to` what it has become (after
/// [`DisputeStatus::settle_to`]). Recording a dispute withdraws `amount` (to the network) and
/// `fee` (to Till's fees) from the merchant; reaching `won` gives both back; `lost` moves
/// nothing more, the withdrawal stands. A dispute recorded already won gets both, so its trail
/// shows what happened. The edge posts each with the dispute's id as source, so each is
/// written once however often the change is applied.
///
/// Both withdrawals are written even when the merchant's balance is lower: the network has
/// taken the money already ([`Operation::may_overdraw`]); the negative balance is what the
/// merchant owes, paid back by its next payments.
pub fn ledger_operations(
    merchant: &str,
    from: Option<DisputeStatus>,
    to: DisputeStatus,
    amount: i64,
    fee: i64,
) -> Vec<(Operation<'_>, i64)> {
    let mut operations = Vec::new();
    let with_fee = |operations: &mut Vec<_>, amount_op, fee_op| {
        operations.push((amount_op, amount));
        if fee > 0 {
            operations.push((fee_op, fee));
        }
    };
    if from.is_none() {
        with_fee(
            &mut operations,
            Operation::DisputeWithdrawn { merchant },
            Operation::DisputeFee { merchant },
        );
    }
    if to == DisputeStatus::Won && from != Some(DisputeStatus::Won) {
        with_fee(
            &mut operations,
            Operation::DisputeReinstated { merchant },
            Operation::DisputeFeeReturned { merchant },
        );
    }
    operations
}

/// Events a merchant can be sent about disputes.
pub const EVENT_TYPES: [&str; 3] = ["dispute.created", "dispute.updated", "dispute.closed"];

/// The merchant events a dispute's change is told by (`from`, `to` as in
/// [`ledger_operations`]): `dispute.created` when recorded, `dispute.updated` when evidence
/// puts it under review, `dispute.closed` when it is won or lost (also right after
/// `dispute.created` for a dispute recorded already decided). No change, no event.
pub fn event_types(from: Option<DisputeStatus>, to: DisputeStatus) -> Vec<&'static str> {
    let [created, updated, closed] = EVENT_TYPES;
    match from {
        None if to.is_final() => vec![created, closed],
        None => vec![created],
        Some(from) if from == to => Vec::new(),
        Some(_) if to.is_final() => vec![closed],
        Some(_) => vec![updated],
    }
}

/// A dispute as the API shows it (`GET /v1/disputes/:id`, lists, `dispute.*` events).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dispute {
    pub id: String,
    pub object: String,
    /// The disputed payment.
    pub payment: String,
    /// What the cardholder disputes (at most what was captured less refunds).
    pub amount: i64,
    pub currency: Currency,
    /// Till's fee ([`dispute_fee`]), withdrawn with the amount and returned if won.
    pub fee: i64,
    /// The fee's currency: the dispute's, or for a payment the customer made in another
    /// currency, the merchant's settlement currency (where its balance is).
    pub fee_currency: Currency,
    pub reason: DisputeReason,
    pub status: DisputeStatus,
    /// Unix seconds: evidence is refused after this.
    pub evidence_due_by: i64,
    /// What the merchant submitted, once it has.
    pub evidence: Option<EvidenceSummary>,
    pub created: i64,
    pub updated: i64,
}

/// Longest text of the free-text evidence fields, in characters (not bytes, so Korean or
/// emoji get as much room as ASCII).
pub const MAX_TEXT_CHARS: usize = 5_000;
/// Longest tracking number: carriers' are well under 40 characters.
pub const MAX_TRACKING_NUMBER_CHARS: usize = 100;
/// Most files one submission may carry.
pub const MAX_FILES: usize = 3;
/// Largest file, decoded: a receipt, a screenshot or a scanned letter, not a video.
pub const MAX_FILE_BYTES: usize = 512 * 1024;
/// Largest total of a submission's files, decoded: it is stored and forwarded whole.
pub const MAX_TOTAL_FILE_BYTES: usize = 1024 * 1024;
/// Longest file name, in characters.
pub const MAX_FILENAME_CHARS: usize = 100;

/// The most base64 text of `bytes` bytes (padded, no line breaks).
const fn base64_len(bytes: usize) -> usize {
    4 * bytes.div_ceil(3)
}

/// The largest body a valid `POST /v1/disputes/:id/evidence` can have, for the edge's body
/// cap on that one endpoint (far above the 64 KiB of other JSON bodies, because of the
/// files): the files' base64 (rounded up per file), every text and file name at their longest
/// with each character escaped as a JSON surrogate pair (12 bytes), and 4 KiB for the names
/// and punctuation.
pub const MAX_EVIDENCE_BODY_BYTES: usize = base64_len(MAX_TOTAL_FILE_BYTES)
    + 4 * MAX_FILES
    + 12 * (5 * MAX_TEXT_CHARS + MAX_TRACKING_NUMBER_CHARS + MAX_FILES * MAX_FILENAME_CHARS)
    + 4096;

/// The evidence's text. A field left out, empty or blank is not given; one given is stored
/// trimmed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceText {
    /// What was sold, as the customer was shown it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_description: Option<String>,
    /// Messages with the customer (emails, chats) showing they received or agreed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_communication: Option<String>,
    /// The carrier's tracking number of the shipment: one line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_tracking_number: Option<String>,
    /// The refund policy and how the customer was shown it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_policy: Option<String>,
    /// Why a subscription the cardholder says was canceled was not (`subscription_canceled`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancellation_rebuttal: Option<String>,
    /// Anything else the merchant wants the network to read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uncategorized_text: Option<String>,
}

/// One field's text as stored: `None` when not given; trimmed, bounded in characters, and
/// without control characters (line breaks allowed in free text), so what the network and the
/// dashboard show is what the merchant wrote, without terminal escapes or NULs.
fn checked_text(
    field: &'static str,
    value: Option<&str>,
    max_chars: usize,
    multiline: bool,
) -> Result<Option<String>, EvidenceError> {
    let Some(text) = value.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > max_chars {
        return Err(EvidenceError::TextTooLong { field, max_chars });
    }
    if text
        .chars()
        .any(|c| c.is_control() && !(multiline && c == '\n'))
    {
        return Err(EvidenceError::TextControlCharacter { field });
    }
    Ok(Some(text.to_string()))
}

impl EvidenceText {
    /// The text as stored (see [`EvidenceText`]); errors name the field.
    pub fn validate(&self) -> Result<EvidenceText, EvidenceError> {
        let free = |field, value: &Option<String>| {
            checked_text(field, value.as_deref(), MAX_TEXT_CHARS, true)
        };
        Ok(EvidenceText {
            product_description: free("product_description", &self.product_description)?,
            customer_communication: free("customer_communication", &self.customer_communication)?,
            shipping_tracking_number: checked_text(
                "shipping_tracking_number",
                self.shipping_tracking_number.as_deref(),
                MAX_TRACKING_NUMBER_CHARS,
                false,
            )?,
            refund_policy: free("refund_policy", &self.refund_policy)?,
            cancellation_rebuttal: free("cancellation_rebuttal", &self.cancellation_rebuttal)?,
            uncategorized_text: free("uncategorized_text", &self.uncategorized_text)?,
        })
    }

    /// No field given.
    pub fn is_empty(&self) -> bool {
        self == &EvidenceText::default()
    }
}

/// The kinds of file evidence may be: what networks accept and what anyone can open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FileType {
    #[serde(rename = "application/pdf")]
    Pdf,
    #[serde(rename = "image/png")]
    Png,
    #[serde(rename = "image/jpeg")]
    Jpeg,
}

impl FileType {
    pub const ALL: [FileType; 3] = [FileType::Pdf, FileType::Png, FileType::Jpeg];

    /// Its media type, as declared in requests and stored.
    pub fn mime(self) -> &'static str {
        match self {
            FileType::Pdf => "application/pdf",
            FileType::Png => "image/png",
            FileType::Jpeg => "image/jpeg",
        }
    }

    /// The type a request declares (media types ignore ASCII case).
    pub fn from_mime(text: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|t| t.mime().eq_ignore_ascii_case(text))
    }

    /// What the bytes are, by their signature: a declared type or a file name says nothing
    /// about the content, and only these three formats are ever stored or forwarded.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(b"%PDF-") {
            Some(FileType::Pdf)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(FileType::Png)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(FileType::Jpeg)
        } else {
            None
        }
    }
}

/// A file as the request carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceFileUpload {
    pub filename: String,
    /// `application/pdf`, `image/png` or `image/jpeg`: must be what the bytes are.
    pub content_type: String,
    /// The file, base64 (standard alphabet, padded).
    pub data: String,
}

/// `POST /v1/disputes/:id/evidence`: submitted once, and final.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmitEvidence {
    #[serde(default)]
    pub text: EvidenceText,
    #[serde(default)]
    pub files: Vec<EvidenceFileUpload>,
}

/// A checked file, ready to store (under an [`crate::ids::IdKind::EvidenceFile`] id) and to
/// forward by digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceFile {
    pub filename: String,
    pub file_type: FileType,
    pub bytes: Vec<u8>,
    /// Hex SHA-256 of `bytes`: what the gateway is told, and what proves later which file was
    /// sent.
    pub sha256: String,
}

impl EvidenceFile {
    /// How the API shows it once stored as `id`.
    pub fn summary(&self, id: String) -> EvidenceFileSummary {
        EvidenceFileSummary {
            id,
            filename: self.filename.clone(),
            content_type: self.file_type,
            size: self.bytes.len() as u64,
            sha256: self.sha256.clone(),
        }
    }
}

/// A submission that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedEvidence {
    pub text: EvidenceText,
    pub files: Vec<EvidenceFile>,
}

/// A stored evidence file, as the API shows it (never its bytes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceFileSummary {
    pub id: String,
    pub filename: String,
    pub content_type: FileType,
    pub size: u64,
    pub sha256: String,
}

/// What the merchant submitted, on the dispute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceSummary {
    /// Unix seconds.
    pub submitted: i64,
    pub text: EvidenceText,
    pub files: Vec<EvidenceFileSummary>,
}

/// Why evidence is refused; each names the field at fault (see [`EvidenceError::param`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EvidenceError {
    /// Neither text nor files.
    Empty,
    TextTooLong {
        field: &'static str,
        max_chars: usize,
    },
    /// A control character (a line break in a one-line field).
    TextControlCharacter {
        field: &'static str,
    },
    TooManyFiles,
    /// Blank, too long, with control characters or a path separator.
    FilenameInvalid {
        index: usize,
    },
    /// Not one of the accepted media types.
    ContentTypeInvalid {
        index: usize,
    },
    NotBase64 {
        index: usize,
    },
    FileTooLarge {
        index: usize,
    },
    /// The files together are larger than [`MAX_TOTAL_FILE_BYTES`].
    FilesTooLarge,
    /// The bytes are not a PDF, PNG or JPEG.
    FileTypeNotAccepted {
        index: usize,
    },
    /// The bytes are another accepted type than the one declared.
    ContentTypeMismatch {
        index: usize,
        declared: FileType,
        found: FileType,
    },
}

impl EvidenceError {
    /// The request field at fault (`text.uncategorized_text`, `files[1].data`, `files`).
    pub fn param(&self) -> Option<String> {
        match self {
            EvidenceError::Empty => None,
            EvidenceError::TextTooLong { field, .. }
            | EvidenceError::TextControlCharacter { field } => Some(format!("text.{field}")),
            EvidenceError::TooManyFiles | EvidenceError::FilesTooLarge => Some("files".into()),
            EvidenceError::FilenameInvalid { index } => Some(format!("files[{index}].filename")),
            EvidenceError::ContentTypeInvalid { index }
            | EvidenceError::ContentTypeMismatch { index, .. } => {
                Some(format!("files[{index}].content_type"))
            }
            EvidenceError::NotBase64 { index }
            | EvidenceError::FileTooLarge { index }
            | EvidenceError::FileTypeNotAccepted { index } => Some(format!("files[{index}].data")),
        }
    }

    fn message(&self) -> String {
        let at = self.param().unwrap_or_default();
        match self {
            EvidenceError::Empty => "Give at least one evidence text or file.".to_string(),
            EvidenceError::TextTooLong { max_chars, .. } => {
                format!("{at} is at most {max_chars} characters.")
            }
            EvidenceError::TextControlCharacter { field } => {
                if *field == "shipping_tracking_number" {
                    format!("{at} is one line without control characters.")
                } else {
                    format!("{at} has control characters; only line breaks are allowed.")
                }
            }
            EvidenceError::TooManyFiles => format!("At most {MAX_FILES} files."),
            EvidenceError::FilenameInvalid { .. } => format!(
                "{at} is 1 to {MAX_FILENAME_CHARS} characters, without control characters, \
                 / or \\."
            ),
            EvidenceError::ContentTypeInvalid { .. } => {
                format!("{at} must be application/pdf, image/png or image/jpeg.")
            }
            EvidenceError::NotBase64 { .. } => {
                format!("{at} must be base64 (standard alphabet, padded).")
            }
            EvidenceError::FileTooLarge { .. } => {
                format!("{at} is at most {} KiB decoded.", MAX_FILE_BYTES / 1024)
            }
            EvidenceError::FilesTooLarge => format!(
                "The files together are at most {} KiB decoded.",
                MAX_TOTAL_FILE_BYTES / 1024
            ),
            EvidenceError::FileTypeNotAccepted { .. } => {
                format!("{at} is not a PDF, PNG or JPEG file.")
            }
            EvidenceError::ContentTypeMismatch {
                declared, found, ..
            } => format!(
                "{at} says {} but the file is {}.",
                declared.mime(),
                found.mime()
            ),
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            EvidenceError::Empty
            | EvidenceError::TextTooLong { .. }
            | EvidenceError::TextControlCharacter { .. } => ErrorCode::EvidenceInvalid,
            _ => ErrorCode::EvidenceFileInvalid,
        }
    }
}

impl From<EvidenceError> for ApiError {
    fn from(error: EvidenceError) -> Self {
        let api = ApiError::new(error.code()).with_message(error.message());
        match error.param() {
            Some(param) => api.with_param(&param),
            None => api,
        }
    }
}

/// A file name as shown to people and in downloads: never a path.
fn filename_ok(name: &str) -> bool {
    !name.is_empty()
        && name.chars().count() <= MAX_FILENAME_CHARS
        && !name
            .chars()
            .any(|c| c.is_control() || c == '/' || c == '\\')
}

impl SubmitEvidence {
    /// Checks everything, cheapest first (counts and lengths before any decoding), and returns
    /// the evidence as it will be stored and forwarded.
    pub fn validate(&self) -> Result<CheckedEvidence, EvidenceError> {
        use base64::Engine as _;
        let text = self.text.validate()?;
        if self.files.len() > MAX_FILES {
            return Err(EvidenceError::TooManyFiles);
        }
        let mut files = Vec::with_capacity(self.files.len());
        let mut total = 0usize;
        for (index, upload) in self.files.iter().enumerate() {
            let filename = upload.filename.trim();
            if !filename_ok(filename) {
                return Err(EvidenceError::FilenameInvalid { index });
            }
            let declared = FileType::from_mime(upload.content_type.trim())
                .ok_or(EvidenceError::ContentTypeInvalid { index })?;
            if upload.data.len() > base64_len(MAX_FILE_BYTES) {
                return Err(EvidenceError::FileTooLarge { index });
            }
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(&upload.data)
                .map_err(|_| EvidenceError::NotBase64 { index })?;
            if bytes.len() > MAX_FILE_BYTES {
                return Err(EvidenceError::FileTooLarge { index });
            }
            total += bytes.len();
            if total > MAX_TOTAL_FILE_BYTES {
                return Err(EvidenceError::FilesTooLarge);
            }
            let found =
                FileType::sniff(&bytes).ok_or(EvidenceError::FileTypeNotAccepted { index })?;
            if found != declared {
                return Err(EvidenceError::ContentTypeMismatch {
                    index,
                    declared,
                    found,
                });
            }
            files.push(EvidenceFile {
                filename: filename.to_string(),
                file_type: found,
                sha256: hex::encode(Sha256::digest(&bytes)),
                bytes,
            });
        }
        if text.is_empty() && files.is_empty() {
            return Err(EvidenceError::Empty);
        }
        Ok(CheckedEvidence { text, files })
    }
}

#[cfg(test)]
mod tests {
    use super::DisputeStatus::*;
    use super::*;
    use crate::ledger::{post, Account, LedgerError, Owner, Payee, Transaction};
    use base64::Engine as _;
    use std::collections::BTreeMap;

    fn usd() -> Currency {
        Currency::parse("USD").unwrap()
    }

    #[test]
    fn transition_table() {
        let legal = [
            (NeedsResponse, UnderReview),
            (NeedsResponse, Lost),
            (UnderReview, Won),
            (UnderReview, Lost),
        ];
        for from in DisputeStatus::ALL {
            for to in DisputeStatus::ALL {
                assert_eq!(
                    from.can_move_to(to),
                    legal.contains(&(from, to)),
                    "{from:?} -> {to:?}"
                );
                match from.move_to(to) {
                    Ok(moved) => assert_eq!(moved, to),
                    Err(error) => {
                        assert_eq!(error, IllegalTransition { from, to });
                        assert_eq!(
                            error.to_string(),
                            format!("a dispute cannot move from {from} to {to}")
                        );
                    }
                }
            }
        }
        for status in DisputeStatus::ALL {
            assert_eq!(
                status.is_final(),
                DisputeStatus::ALL.iter().all(|&to| !status.can_move_to(to))
            );
        }
        assert!(Won.is_final() && Lost.is_final());
    }

    #[test]
    fn the_gateways_decision_may_pass_through_review() {
        assert_eq!(NeedsResponse.settle_to(Won), Ok(Won));
        assert_eq!(NeedsResponse.settle_to(Lost), Ok(Lost));
        assert_eq!(NeedsResponse.settle_to(UnderReview), Ok(UnderReview));
        assert_eq!(UnderReview.settle_to(Won), Ok(Won));
        // A late `updated` after the decision, a repeat, or a reversed decision: no move.
        assert_eq!(
            Won.settle_to(UnderReview),
            Err(IllegalTransition {
                from: Won,
                to: UnderReview
            })
        );
        assert!(UnderReview.settle_to(UnderReview).is_err());
        assert!(Won.settle_to(Lost).is_err());
        assert!(Lost.settle_to(Won).is_err());
        assert!(NeedsResponse.settle_to(NeedsResponse).is_err());
    }

    #[test]
    fn evidence_is_taken_once_before_the_due_date() {
        assert_eq!(NeedsResponse.submit_evidence(1_000, 999), Ok(UnderReview));
        assert_eq!(NeedsResponse.submit_evidence(1_000, 1_000), Ok(UnderReview));
        let code = |r: Result<DisputeStatus, ApiError>| r.unwrap_err().code();
        assert_eq!(
            code(NeedsResponse.submit_evidence(1_000, 1_001)),
            ErrorCode::EvidencePastDue
        );
        assert_eq!(
            code(UnderReview.submit_evidence(1_000, 0)),
            ErrorCode::DisputeUnderReview
        );
        for closed in [Won, Lost] {
            assert_eq!(
                code(closed.submit_evidence(1_000, 0)),
                ErrorCode::DisputeClosed
            );
            // Decided is decided, even long after the due date.
            assert_eq!(
                code(closed.submit_evidence(0, 1_000)),
                ErrorCode::DisputeClosed
            );
            assert_eq!(code(closed.accept()), ErrorCode::DisputeClosed);
        }
        assert_eq!(ErrorCode::DisputeClosed.status(), 409);
        assert_eq!(ErrorCode::DisputeUnderReview.status(), 409);
    }

    #[test]
    fn accepting_loses_at_once_and_only_before_evidence() {
        assert_eq!(NeedsResponse.accept(), Ok(Lost));
        assert_eq!(
            UnderReview.accept().unwrap_err().code(),
            ErrorCode::DisputeUnderReview
        );
    }

    #[test]
    fn names_round_trip() {
        for status in DisputeStatus::ALL {
            assert_eq!(DisputeStatus::parse(status.as_str()), Some(status));
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
        assert_eq!(DisputeStatus::parse("warning_needs_response"), None);
        for reason in DisputeReason::ALL {
            assert_eq!(DisputeReason::from_gateway(reason.as_str()), reason);
            assert_eq!(serde_json::to_value(reason).unwrap(), reason.as_str());
        }
    }

    #[test]
    fn reasons_till_has_no_category_for_are_general() {
        assert_eq!(
            DisputeReason::from_gateway("product_not_received"),
            DisputeReason::ProductNotReceived
        );
        assert_eq!(
            DisputeReason::from_gateway("subscription_canceled"),
            DisputeReason::SubscriptionCanceled
        );
        for unknown in [
            "bank_cannot_process",
            "debit_not_authorized",
            "",
            "FRAUDULENT",
            "<script>",
        ] {
            assert_eq!(
                DisputeReason::from_gateway(unknown),
                DisputeReason::General,
                "{unknown:?}"
            );
        }
    }

    #[test]
    fn every_currency_has_a_fee_of_about_fifteen_dollars() {
        for (code, exponent) in crate::money::CURRENCIES {
            let currency = Currency::parse(code).unwrap();
            assert!(
                DISPUTE_FEES.iter().any(|(c, _)| c == code),
                "{code} has no dispute fee"
            );
            let fee = dispute_fee(currency);
            assert!(fee > 0, "{code}");
            // Whole major units, whatever the exponent.
            assert_eq!(fee % 10i64.pow(u32::from(*exponent)), 0, "{code}");
        }
        for (code, _) in DISPUTE_FEES {
            assert!(Currency::parse(code).is_ok(), "{code} is not accepted");
        }
        let fee = |code| dispute_fee(Currency::parse(code).unwrap());
        assert_eq!(fee("USD"), 1_500);
        assert_eq!(fee("KRW"), 20_000);
        assert_eq!(fee("JPY"), 2_000);
        assert_eq!(fee("KWD"), 5_000);
    }

    #[test]
    fn money_moves_when_recorded_and_comes_back_only_if_won() {
        let m = "mer_1";
        assert_eq!(
            ledger_operations(m, None, NeedsResponse, 4_000, 1_500),
            vec![
                (Operation::DisputeWithdrawn { merchant: m }, 4_000),
                (Operation::DisputeFee { merchant: m }, 1_500)
            ]
        );
        assert_eq!(
            ledger_operations(m, Some(NeedsResponse), UnderReview, 4_000, 1_500),
            vec![]
        );
        assert_eq!(
            ledger_operations(m, Some(UnderReview), Lost, 4_000, 1_500),
            vec![]
        );
        assert_eq!(
            ledger_operations(m, Some(NeedsResponse), Lost, 4_000, 1_500),
            vec![]
        );
        let won = vec![
            (Operation::DisputeReinstated { merchant: m }, 4_000),
            (Operation::DisputeFeeReturned { merchant: m }, 1_500),
        ];
        assert_eq!(
            ledger_operations(m, Some(UnderReview), Won, 4_000, 1_500),
            won
        );
        assert_eq!(ledger_operations(m, Some(Won), Won, 4_000, 1_500), vec![]);
        let recorded_won = ledger_operations(m, None, Won, 4_000, 1_500);
        assert_eq!(recorded_won.len(), 4);
        assert_eq!(&recorded_won[2..], won.as_slice());
        // No fee, no fee entry (a zero entry is no transaction).
        assert_eq!(ledger_operations(m, None, Lost, 4_000, 0).len(), 1);
        let kinds: Vec<&str> = recorded_won.iter().map(|(op, _)| op.kind()).collect();
        assert_eq!(
            kinds,
            [
                "dispute",
                "dispute_fee",
                "dispute_reinstated",
                "dispute_fee_returned"
            ]
        );
    }

    /// The operations through the ledger's own rule: the merchant's balance drops by amount and
    /// fee, is whole again when won, and money is conserved throughout.
    #[test]
    fn a_won_dispute_leaves_the_books_as_they_were() {
        let m = "mer_1";
        let mut balances: BTreeMap<Account, i64> = BTreeMap::new();
        let apply = |balances: &mut BTreeMap<Account, i64>,
                     transaction: Transaction|
         -> Result<(), LedgerError> {
            let updated = post(&transaction, |a| balances.get(a).copied().unwrap_or(0))?;
            balances.extend(updated);
            Ok(())
        };
        let merchant = Account::new(Owner::Merchant { merchant: m.into() }, usd());
        let pay = Operation::CardPayment {
            payee: Payee::Merchant(m),
        };
        apply(&mut balances, pay.transaction(usd(), 10_000).unwrap()).unwrap();
        let steps = [
            (None, NeedsResponse),
            (Some(NeedsResponse), UnderReview),
            (Some(UnderReview), Won),
        ];
        let mut seen = Vec::new();
        for (from, to) in steps {
            for (operation, amount) in ledger_operations(m, from, to, 4_000, 1_500) {
                apply(&mut balances, operation.transaction(usd(), amount).unwrap()).unwrap();
            }
            seen.push(balances.get(&merchant).copied());
            assert_eq!(balances.values().sum::<i64>(), 0);
        }
        assert_eq!(seen, [Some(4_500), Some(4_500), Some(10_000)]);
        assert_eq!(balances.get(&Account::new(Owner::Fees, usd())), Some(&0));

        // A merchant that holds less than amount and fee owes the rest: its balance goes below
        // zero, its next payment pays it back, and a refund meanwhile is refused.
        let poor = "mer_2";
        let poor_account = Account::new(
            Owner::Merchant {
                merchant: poor.into(),
            },
            usd(),
        );
        let paid = |amount| {
            Operation::CardPayment {
                payee: Payee::Merchant(poor),
            }
            .transaction(usd(), amount)
            .unwrap()
        };
        apply(&mut balances, paid(1_000)).unwrap();
        for (operation, amount) in ledger_operations(poor, None, NeedsResponse, 1_000, 1_500) {
            apply(&mut balances, operation.transaction(usd(), amount).unwrap()).unwrap();
        }
        assert_eq!(balances.get(&poor_account), Some(&-1_500));
        let refund = Operation::Refund {
            payee: Payee::Merchant(poor),
        };
        assert_eq!(
            apply(&mut balances, refund.transaction(usd(), 1).unwrap()),
            Err(LedgerError::InsufficientFunds {
                account: poor_account.clone()
            })
        );
        apply(&mut balances, paid(1_000)).unwrap();
        assert_eq!(balances.get(&poor_account), Some(&-500));
        assert_eq!(balances.values().sum::<i64>(), 0);
    }

    #[test]
    fn merchants_hear_of_creation_review_and_the_decision() {
        assert_eq!(event_types(None, NeedsResponse), ["dispute.created"]);
        assert_eq!(
            event_types(Some(NeedsResponse), UnderReview),
            ["dispute.updated"]
        );
        assert_eq!(event_types(Some(UnderReview), Won), ["dispute.closed"]);
        assert_eq!(event_types(Some(NeedsResponse), Lost), ["dispute.closed"]);
        assert_eq!(
            event_types(None, Lost),
            ["dispute.created", "dispute.closed"]
        );
        assert!(event_types(Some(Won), Won).is_empty());
        for from in DisputeStatus::ALL {
            for to in DisputeStatus::ALL {
                for event in event_types(Some(from), to) {
                    assert!(EVENT_TYPES.contains(&event));
                }
            }
        }
    }

    #[test]
    fn the_api_object_has_the_documented_shape() {
        let dispute = Dispute {
            id: "dp_1".into(),
            object: "dispute".into(),
            payment: "pay_1".into(),
            amount: 4_000,
            currency: usd(),
            fee: dispute_fee(usd()),
            fee_currency: usd(),
            reason: DisputeReason::ProductNotReceived,
            status: UnderReview,
            evidence_due_by: 1_800_000_000,
            evidence: Some(EvidenceSummary {
                submitted: 1_790_000_000,
                text: EvidenceText {
                    uncategorized_text: Some("Delivered".into()),
                    ..EvidenceText::default()
                },
                files: vec![EvidenceFileSummary {
                    id: "file_1".into(),
                    filename: "receipt.pdf".into(),
                    content_type: FileType::Pdf,
                    size: 9,
                    sha256: "ab".into(),
                }],
            }),
            created: 1_789_000_000,
            updated: 1_790_000_000,
        };
        let json = serde_json::to_value(&dispute).unwrap();
        assert_eq!(json["status"], "under_review");
        assert_eq!(json["reason"], "product_not_received");
        assert_eq!(json["currency"], "USD");
        assert_eq!(json["fee"], 1_500);
        assert_eq!(
            json["evidence"]["text"],
            serde_json::json!({"uncategorized_text": "Delivered"})
        );
        assert_eq!(
            json["evidence"]["files"][0]["content_type"],
            "application/pdf"
        );
        assert_eq!(serde_json::from_value::<Dispute>(json).unwrap(), dispute);
    }

    // Evidence.

    const PDF: &[u8] = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n";
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    const JPEG: &[u8] = b"\xff\xd8\xff\xe0\0\x10JFIF";

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    fn file(name: &str, content_type: &str, bytes: &[u8]) -> EvidenceFileUpload {
        EvidenceFileUpload {
            filename: name.into(),
            content_type: content_type.into(),
            data: b64(bytes),
        }
    }

    fn with_text(uncategorized: &str) -> SubmitEvidence {
        SubmitEvidence {
            text: EvidenceText {
                uncategorized_text: Some(uncategorized.into()),
                ..EvidenceText::default()
            },
            files: vec![],
        }
    }

    fn with_files(files: Vec<EvidenceFileUpload>) -> SubmitEvidence {
        SubmitEvidence {
            text: EvidenceText::default(),
            files,
        }
    }

    #[test]
    fn files_are_checked_by_their_bytes_and_digested() {
        let checked = with_files(vec![
            file("receipt.pdf", "application/pdf", PDF),
            file(" photo.png ", "IMAGE/PNG", PNG),
            file("scan.jpg", "image/jpeg", JPEG),
        ])
        .validate()
        .unwrap();
        let types: Vec<FileType> = checked.files.iter().map(|f| f.file_type).collect();
        assert_eq!(types, FileType::ALL);
        assert_eq!(checked.files[1].filename, "photo.png");
        assert_eq!(checked.files[0].bytes, PDF);
        assert_eq!(checked.files[0].sha256, hex::encode(Sha256::digest(PDF)));
        let summary = checked.files[2].summary("file_1".into());
        assert_eq!(
            (summary.size, summary.content_type),
            (JPEG.len() as u64, FileType::Jpeg)
        );
        assert_eq!(FileType::sniff(b""), None);
        assert_eq!(FileType::sniff(b"GIF89a"), None);
    }

    #[test]
    fn wrong_bytes_and_wrong_declarations_are_refused_by_field() {
        let err = |files| with_files(files).validate().unwrap_err();
        let gif = err(vec![
            file("a.pdf", "application/pdf", PDF),
            file("b.gif", "image/png", b"GIF89a\x01\0"),
        ]);
        assert_eq!(gif, EvidenceError::FileTypeNotAccepted { index: 1 });
        assert_eq!(gif.param().as_deref(), Some("files[1].data"));
        let html = err(vec![file("x.pdf", "application/pdf", b"<html>%PDF-")]);
        assert_eq!(html, EvidenceError::FileTypeNotAccepted { index: 0 });
        let empty = err(vec![file("x.pdf", "application/pdf", b"")]);
        assert_eq!(empty, EvidenceError::FileTypeNotAccepted { index: 0 });

        let mismatch = err(vec![file("x.png", "image/png", PDF)]);
        assert_eq!(
            mismatch,
            EvidenceError::ContentTypeMismatch {
                index: 0,
                declared: FileType::Png,
                found: FileType::Pdf
            }
        );
        let api = ApiError::from(mismatch);
        assert_eq!(api.code(), ErrorCode::EvidenceFileInvalid);
        assert_eq!(api.status(), 400);
        assert_eq!(api.error.param.as_deref(), Some("files[0].content_type"));
        assert_eq!(
            api.error.message,
            "files[0].content_type says image/png but the file is application/pdf."
        );

        assert_eq!(
            err(vec![file("x.gif", "image/gif", PDF)]),
            EvidenceError::ContentTypeInvalid { index: 0 }
        );
        let mut bad = file("x.pdf", "application/pdf", PDF);
        bad.data = "JVBERi0x\nNy4w".into();
        assert_eq!(
            err(vec![bad.clone()]),
            EvidenceError::NotBase64 { index: 0 }
        );
        bad.data = "data:application/pdf;base64,JVBERi0=".into();
        assert_eq!(err(vec![bad]), EvidenceError::NotBase64 { index: 0 });
        for name in [
            "",
            "  ",
            "../etc/passwd",
            "a\\b.pdf",
            "a\u{0}.pdf",
            &"x".repeat(101),
        ] {
            assert_eq!(
                err(vec![file(name, "application/pdf", PDF)]),
                EvidenceError::FilenameInvalid { index: 0 },
                "{name:?}"
            );
        }
        assert!(with_files(vec![file("영수증.pdf", "application/pdf", PDF)])
            .validate()
            .is_ok());
    }

    #[test]
    fn files_are_bounded_in_number_and_size() {
        let four = vec![file("a.pdf", "application/pdf", PDF); 4];
        let too_many = with_files(four).validate().unwrap_err();
        assert_eq!(too_many, EvidenceError::TooManyFiles);
        assert_eq!(too_many.param().as_deref(), Some("files"));

        let sized = |len: usize| {
            let mut bytes = PDF.to_vec();
            bytes.resize(len, b' ');
            file("big.pdf", "application/pdf", &bytes)
        };
        assert!(with_files(vec![sized(MAX_FILE_BYTES)]).validate().is_ok());
        assert_eq!(
            with_files(vec![sized(MAX_FILE_BYTES + 1)])
                .validate()
                .unwrap_err(),
            EvidenceError::FileTooLarge { index: 0 }
        );
        // Refused by its length before it is decoded.
        let mut huge = sized(10);
        huge.data = "A".repeat(base64_len(MAX_FILE_BYTES) + 4);
        assert_eq!(
            with_files(vec![huge]).validate().unwrap_err(),
            EvidenceError::FileTooLarge { index: 0 }
        );
        let total = with_files(vec![sized(MAX_FILE_BYTES); 3])
            .validate()
            .unwrap_err();
        assert_eq!(total, EvidenceError::FilesTooLarge);
        assert!(
            with_files(vec![sized(MAX_FILE_BYTES), sized(MAX_FILE_BYTES)])
                .validate()
                .is_ok()
        );
    }

    #[test]
    fn text_is_bounded_unicode_without_control_characters() {
        let checked = with_text("  배송 완료, 서명 받음 ✅\n두 번째 줄  ")
            .validate()
            .unwrap();
        assert_eq!(
            checked.text.uncategorized_text.as_deref(),
            Some("배송 완료, 서명 받음 ✅\n두 번째 줄")
        );
        assert!(checked.files.is_empty());
        // Characters, not bytes.
        assert!(with_text(&"가".repeat(MAX_TEXT_CHARS)).validate().is_ok());
        let long = with_text(&"가".repeat(MAX_TEXT_CHARS + 1))
            .validate()
            .unwrap_err();
        assert_eq!(
            long,
            EvidenceError::TextTooLong {
                field: "uncategorized_text",
                max_chars: MAX_TEXT_CHARS
            }
        );
        let api = ApiError::from(long);
        assert_eq!(api.code(), ErrorCode::EvidenceInvalid);
        assert_eq!(api.error.param.as_deref(), Some("text.uncategorized_text"));
        for bad in ["a\u{0}b", "\u{1b}[31mred", "tab\there", "a\rb", "a\u{85}b"] {
            assert_eq!(
                with_text(bad).validate().unwrap_err(),
                EvidenceError::TextControlCharacter {
                    field: "uncategorized_text"
                },
                "{bad:?}"
            );
        }
        let tracking = |number: &str| SubmitEvidence {
            text: EvidenceText {
                shipping_tracking_number: Some(number.into()),
                ..EvidenceText::default()
            },
            files: vec![],
        };
        assert!(tracking("1Z999AA10123456784").validate().is_ok());
        assert_eq!(
            tracking("1Z999\n784")
                .validate()
                .unwrap_err()
                .param()
                .as_deref(),
            Some("text.shipping_tracking_number")
        );
        assert!(matches!(
            tracking(&"9".repeat(MAX_TRACKING_NUMBER_CHARS + 1)).validate(),
            Err(EvidenceError::TextTooLong { .. })
        ));
    }

    #[test]
    fn evidence_says_something() {
        for empty in [
            SubmitEvidence::default(),
            with_text("   \n "),
            SubmitEvidence {
                text: EvidenceText {
                    product_description: Some(String::new()),
                    ..EvidenceText::default()
                },
                files: vec![],
            },
        ] {
            let error = empty.validate().unwrap_err();
            assert_eq!(error, EvidenceError::Empty);
            let api = ApiError::from(error);
            assert_eq!(
                (api.code(), api.error.param),
                (ErrorCode::EvidenceInvalid, None)
            );
        }
        let blank_and_file = SubmitEvidence {
            text: EvidenceText {
                refund_policy: Some(" ".into()),
                ..EvidenceText::default()
            },
            files: vec![file("a.pdf", "application/pdf", PDF)],
        }
        .validate()
        .unwrap();
        assert!(blank_and_file.text.is_empty());
    }

    #[test]
    fn requests_are_strict_json() {
        let body = serde_json::json!({
            "text": {"product_description": "Mug", "cancellation_rebuttal": "Active"},
            "files": [{"filename": "a.png", "content_type": "image/png", "data": b64(PNG)}]
        });
        let request: SubmitEvidence = serde_json::from_value(body).unwrap();
        assert_eq!(request.validate().unwrap().files.len(), 1);
        for bad in [
            serde_json::json!({"text": {"notes": "x"}}),
            serde_json::json!({"text": {}, "submit": true}),
            serde_json::json!({"files": [{"filename": "a", "content_type": "image/png", "data": "", "url": "x"}]}),
        ] {
            assert!(
                serde_json::from_value::<SubmitEvidence>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_largest_valid_request_fits_the_body_cap() {
        let text = "😀".repeat(MAX_TEXT_CHARS);
        let request = SubmitEvidence {
            text: EvidenceText {
                product_description: Some(text.clone()),
                customer_communication: Some(text.clone()),
                shipping_tracking_number: Some("😀".repeat(MAX_TRACKING_NUMBER_CHARS)),
                refund_policy: Some(text.clone()),
                cancellation_rebuttal: Some(text.clone()),
                uncategorized_text: Some(text),
            },
            files: vec![
                {
                    let mut bytes = PDF.to_vec();
                    bytes.resize(MAX_FILE_BYTES, b' ');
                    file(&"😀".repeat(MAX_FILENAME_CHARS), "application/pdf", &bytes)
                },
                {
                    let mut bytes = PNG.to_vec();
                    bytes.resize(MAX_TOTAL_FILE_BYTES - MAX_FILE_BYTES - JPEG.len(), 0);
                    file(&"😀".repeat(MAX_FILENAME_CHARS), "image/png", &bytes)
                },
                file(&"😀".repeat(MAX_FILENAME_CHARS), "image/jpeg", JPEG),
            ],
        };
        assert!(request.validate().is_ok());
        // serde_json writes non-ASCII as UTF-8 (4 bytes here); the cap allows for 12-byte
        // escapes, so the same request with every character escaped also fits.
        let escaped: usize = serde_json::to_string(&request)
            .unwrap()
            .chars()
            .map(|c| if c.is_ascii() { 1 } else { 12 })
            .sum();
        assert!(escaped <= MAX_EVIDENCE_BODY_BYTES, "{escaped}");
        // Still a small upload: under 2 MiB.
        const { assert!(MAX_EVIDENCE_BODY_BYTES < 2 * 1024 * 1024) };
    }
}
