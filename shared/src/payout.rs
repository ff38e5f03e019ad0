//! Withdrawals from a customer's wallet to a bank account (payouts): the request and its bank
//! account, the states a payout moves through as the bank answers, and the ledger operation
//! each step writes. The money is reserved when the payout is requested, so a wallet can never
//! promise the same money twice.

use crate::error::{ApiError, ErrorCode};
use crate::ids::{self, IdKind};
use crate::ledger::Operation;
use crate::money::{Currency, Money};
use crate::secret::Secret;
use serde::{Deserialize, Serialize};

const MAX_HOLDER_NAME: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreatePayout {
    pub customer: String,
    pub amount: i64,
    pub currency: Currency,
    pub bank_account: BankAccountInput,
}

/// A bank account as the caller sends it: numbers may carry spaces or dashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BankAccountInput {
    pub holder_name: String,
    /// The bank's number: an ABA routing number, a bank code, a sort code.
    pub routing_number: String,
    pub account_number: Secret<String>,
}

/// A bank account, checked: digits only. The account number is sealed wherever it is stored
/// and never shown again past its last four digits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BankAccount {
    pub holder_name: String,
    pub routing_number: String,
    pub account_number: Secret<String>,
}

impl BankAccount {
    pub fn last4(&self) -> &str {
        let number = self.account_number.expose();
        number
            .get(number.len().saturating_sub(4)..)
            .unwrap_or_default()
    }
}

/// A payout request, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayoutRequest {
    pub customer: String,
    pub money: Money,
    pub bank_account: BankAccount,
}

fn bank_account_invalid(field: &str, message: &str) -> ApiError {
    ApiError::new(ErrorCode::BankAccountInvalid)
        .with_message(message)
        .with_param(&format!("bank_account[{field}]"))
}

/// The digits of `text` once spaces and dashes are dropped, if that is all it holds and there
/// are `min..=max` of them.
fn digits(text: &str, min: usize, max: usize) -> Option<String> {
    let kept: String = text.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    let count = kept.chars().count();
    (kept.chars().all(|c| c.is_ascii_digit()) && (min..=max).contains(&count)).then_some(kept)
}

impl BankAccountInput {
    pub fn validate(&self) -> Result<BankAccount, ApiError> {
        let holder_name = self.holder_name.trim();
        if holder_name.is_empty()
            || holder_name.chars().count() > MAX_HOLDER_NAME
            || holder_name.chars().any(char::is_control)
        {
            return Err(bank_account_invalid(
                "holder_name",
                "holder_name is 1 to 100 characters, without control characters.",
            ));
        }
        let routing_number = digits(&self.routing_number, 3, 11).ok_or_else(|| {
            bank_account_invalid("routing_number", "routing_number is 3 to 11 digits.")
        })?;
        let account_number = digits(self.account_number.expose(), 4, 17).ok_or_else(|| {
            bank_account_invalid("account_number", "account_number is 4 to 17 digits.")
        })?;
        Ok(BankAccount {
            holder_name: holder_name.to_string(),
            routing_number,
            account_number: Secret::new(account_number),
        })
    }
}

impl CreatePayout {
    pub fn validate(&self) -> Result<PayoutRequest, ApiError> {
        if !ids::is_valid(IdKind::Customer, &self.customer) {
            return Err(ApiError::not_found("customer").with_param("customer"));
        }
        let money = Money::payable(self.amount, self.currency).map_err(|e| {
            ApiError::new(ErrorCode::AmountInvalid)
                .with_message(e.to_string())
                .with_param("amount")
        })?;
        Ok(PayoutRequest {
            customer: self.customer.clone(),
            money,
            bank_account: self.bank_account.validate()?,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayoutStatus {
    /// Reserved from the wallet; the bank has not taken it yet.
    Pending,
    /// The bank took it and is paying it.
    Processing,
    /// The bank paid it.
    Paid,
    /// The bank could not pay it: the reservation went back to the wallet.
    Failed,
    /// Paid, then sent back by the receiving bank: the money went back to the wallet.
    Returned,
}

impl PayoutStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PayoutStatus::Pending => "pending",
            PayoutStatus::Processing => "processing",
            PayoutStatus::Paid => "paid",
            PayoutStatus::Failed => "failed",
            PayoutStatus::Returned => "returned",
        }
    }

    /// A payout goes to the bank, is paid or fails, and a paid one may come back. Nothing
    /// else moves.
    pub fn can_move_to(self, next: PayoutStatus) -> bool {
        use PayoutStatus::*;
        matches!(
            (self, next),
            (Pending, Processing | Paid | Failed) | (Processing, Paid | Failed) | (Paid, Returned)
        )
    }

    /// The ledger operation of arriving in this status, for the payout's `customer`.
    pub fn operation(self, customer: &str) -> Option<Operation<'_>> {
        match self {
            PayoutStatus::Pending => Some(Operation::PayoutRequested { customer }),
            PayoutStatus::Processing => None,
            PayoutStatus::Paid => Some(Operation::PayoutPaid),
            PayoutStatus::Failed => Some(Operation::PayoutFailed { customer }),
            PayoutStatus::Returned => Some(Operation::PayoutReturned { customer }),
        }
    }

    /// The event merchants receive on arriving in this status (the bank taking a payout is
    /// no news to them).
    pub fn event(self) -> Option<&'static str> {
        match self {
            PayoutStatus::Pending => Some("payout.created"),
            PayoutStatus::Processing => None,
            PayoutStatus::Paid => Some("payout.paid"),
            PayoutStatus::Failed => Some("payout.failed"),
            PayoutStatus::Returned => Some("payout.returned"),
        }
    }
}

/// What the bank says about a transfer it took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BankState {
    Pending,
    Paid,
    /// Not paid; the bank's reason.
    Failed(String),
    /// Paid, then returned by the receiving bank; its reason.
    Returned(String),
}

impl BankState {
    /// The statuses a payout in `current` passes through to match the bank, in order: a step
    /// whose webhook was lost is taken on the way (a return seen before its payment is paid,
    /// then returned, so the ledger shows both). Empty when there is nothing to do: the payout
    /// is there already, or the bank's answer is older than what the payout knows.
    pub fn steps_from(&self, current: PayoutStatus) -> Vec<PayoutStatus> {
        use PayoutStatus::*;
        let target = match self {
            BankState::Pending => Processing,
            BankState::Paid => Paid,
            BankState::Failed(_) => Failed,
            BankState::Returned(_) => Returned,
        };
        let path: &[PayoutStatus] = match (current, target) {
            (Pending, Returned) | (Processing, Returned) => &[Paid, Returned],
            (from, to) if from.can_move_to(to) => &[to],
            _ => &[],
        };
        path.to_vec()
    }

    /// The bank's reason, for a payout that failed or came back.
    pub fn failure_code(&self) -> Option<&str> {
        match self {
            BankState::Failed(code) | BankState::Returned(code) => Some(code),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayoutBankAccount {
    pub holder_name: String,
    pub routing_number: String,
    pub last4: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payout {
    pub id: String,
    pub object: String,
    pub customer: String,
    pub amount: i64,
    pub currency: Currency,
    pub status: PayoutStatus,
    pub bank_account: PayoutBankAccount,
    /// Why the bank failed or returned it (`no_account`, `account_closed`, …).
    pub failure_code: Option<String>,
    pub created: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::{self, Account, Owner};

    fn account(routing: &str, number: &str) -> BankAccountInput {
        BankAccountInput {
            holder_name: "Jiwoo Kim".into(),
            routing_number: routing.into(),
            account_number: Secret::new(number.into()),
        }
    }

    fn request(amount: i64) -> CreatePayout {
        CreatePayout {
            customer: ids::new_id(IdKind::Customer, [1; 16]),
            amount,
            currency: Currency::parse("USD").unwrap(),
            bank_account: account("110000000", "000123456789"),
        }
    }

    #[test]
    fn bank_accounts_are_digits_of_sensible_length() {
        let checked = account("110-000-000", "0001 2345 6789").validate().unwrap();
        assert_eq!(checked.routing_number, "110000000");
        assert_eq!(checked.account_number.expose(), "000123456789");
        assert_eq!(checked.last4(), "6789");
        for (routing, number, param) in [
            ("11", "000123456789", "bank_account[routing_number]"),
            (
                "110000000000",
                "000123456789",
                "bank_account[routing_number]",
            ),
            ("11000000x", "000123456789", "bank_account[routing_number]"),
            ("١١٠٠٠٠٠٠٠", "000123456789", "bank_account[routing_number]"),
            ("110000000", "123", "bank_account[account_number]"),
            (
                "110000000",
                "123456789012345678",
                "bank_account[account_number]",
            ),
            ("110000000", "0001.2345", "bank_account[account_number]"),
        ] {
            let error = account(routing, number).validate().unwrap_err();
            assert_eq!(error.code(), ErrorCode::BankAccountInvalid);
            assert_eq!(
                error.error.param.as_deref(),
                Some(param),
                "{routing} {number}"
            );
        }
        for name in ["", "   ", "a\u{0}b", &"김".repeat(101)] {
            let input = BankAccountInput {
                holder_name: name.into(),
                ..account("110000000", "000123456789")
            };
            assert_eq!(
                input.validate().unwrap_err().error.param.as_deref(),
                Some("bank_account[holder_name]")
            );
        }
    }

    #[test]
    fn requests_need_a_customer_and_a_payable_amount() {
        assert_eq!(request(500).validate().unwrap().money.amount, 500);
        for amount in [0, -5, i64::MAX] {
            assert_eq!(
                request(amount).validate().unwrap_err().code(),
                ErrorCode::AmountInvalid
            );
        }
        let stranger = CreatePayout {
            customer: "cus_1".into(),
            ..request(500)
        };
        assert_eq!(
            stranger.validate().unwrap_err().code(),
            ErrorCode::ResourceMissing
        );
    }

    #[test]
    fn a_payout_follows_the_bank_and_never_goes_back() {
        use PayoutStatus::*;
        let failed = BankState::Failed("no_account".into());
        let returned = BankState::Returned("account_closed".into());
        assert_eq!(BankState::Pending.steps_from(Pending), vec![Processing]);
        assert_eq!(BankState::Paid.steps_from(Pending), vec![Paid]);
        assert_eq!(BankState::Paid.steps_from(Processing), vec![Paid]);
        assert_eq!(failed.steps_from(Processing), vec![Failed]);
        assert_eq!(returned.steps_from(Paid), vec![Returned]);
        assert_eq!(returned.steps_from(Processing), vec![Paid, Returned]);
        // Old news and repeats change nothing.
        assert!(BankState::Pending.steps_from(Paid).is_empty());
        assert!(BankState::Paid.steps_from(Paid).is_empty());
        assert!(BankState::Paid.steps_from(Returned).is_empty());
        assert!(failed.steps_from(Paid).is_empty());
        assert!(returned.steps_from(Failed).is_empty());
        assert!(BankState::Pending.steps_from(Processing).is_empty());
        assert_eq!(returned.failure_code(), Some("account_closed"));
        assert_eq!(BankState::Paid.failure_code(), None);
    }

    /// Every path a payout can take leaves the wallet whole: what was reserved is either paid
    /// out or back in the wallet, and the clearing account ends empty.
    #[test]
    fn every_path_keeps_the_money_whole() {
        use PayoutStatus::*;
        let usd = Currency::parse("USD").unwrap();
        let wallet = Account::new(
            Owner::Wallet {
                customer: "cus_a".into(),
            },
            usd,
        );
        let clearing = Account::new(Owner::PayoutClearing, usd);
        let paid_out = Account::new(Owner::PaidOut, usd);
        for (path, wallet_after, paid_out_after) in [
            (vec![Pending, Processing, Paid], 200, 300),
            (vec![Pending, Paid, Returned], 500, 0),
            (vec![Pending, Processing, Failed], 500, 0),
            (vec![Pending, Failed], 500, 0),
        ] {
            let mut balances = std::collections::HashMap::from([(wallet.clone(), 500)]);
            let mut status: Option<PayoutStatus> = None;
            for step in path {
                if let Some(from) = status {
                    assert!(from.can_move_to(step), "{from:?} -> {step:?}");
                }
                if let Some(operation) = step.operation("cus_a") {
                    let transaction = operation.transaction(usd, 300).unwrap();
                    let moved =
                        ledger::post(&transaction, |a| balances.get(a).copied().unwrap_or(0))
                            .unwrap();
                    balances.extend(moved);
                }
                status = Some(step);
            }
            assert_eq!(balances[&wallet], wallet_after);
            assert_eq!(balances.get(&clearing).copied().unwrap_or(0), 0);
            assert_eq!(
                balances.get(&paid_out).copied().unwrap_or(0),
                paid_out_after
            );
        }
    }

    #[test]
    fn a_reservation_needs_the_money() {
        let usd = Currency::parse("USD").unwrap();
        let reserve = PayoutStatus::Pending
            .operation("cus_a")
            .unwrap()
            .transaction(usd, 501)
            .unwrap();
        let refused = ledger::post(&reserve, |a| match a.owner {
            Owner::Wallet { .. } => 500,
            _ => 0,
        });
        assert!(matches!(
            refused,
            Err(ledger::LedgerError::InsufficientFunds { .. })
        ));
    }
}
