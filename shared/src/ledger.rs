//! The double-entry ledger every movement of money is written to: card payments, refunds,
//! wallet top-ups, transfers, claims, payouts and disputes. An operation is one [`Transaction`] whose
//! entries sum to zero in each currency; entries never change; an account's balance is the sum
//! of its entries. [`post`] decides whether a transaction may be written given the current
//! balances of the accounts it touches: the edge asks it in the one place that serializes
//! those accounts, then stores the entries and the new balances together.

use crate::money::Currency;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Whose money an account holds.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Owner {
    /// A customer's stored value.
    Wallet { customer: String },
    /// What Till owes a merchant for its paid payments, less refunds, fees and payouts.
    Merchant { merchant: String },
    /// Card money on its way through the gateway: the world outside Till. It goes negative
    /// when a card pays in (the gateway owes Till) and back up when the gateway settles.
    GatewayClearing,
    /// Fees Till has earned.
    Fees,
    /// A transfer waiting for a receiver who has not signed up yet; it returns to the sender
    /// when it expires.
    PendingClaim { claim: String },
    /// Withdrawals requested and not yet paid by the bank: reserved, released on failure.
    PayoutClearing,
    /// Money paid out to bank accounts (a returned payout comes back from here).
    PaidOut,
    /// Till's position from converting payments: it takes the customer's currency and pays
    /// the merchant's, so it is above zero in one and below in the other until treasury trades
    /// them; like the outside world, it may go below zero.
    FxDesk,
    /// What currency markups earned, in the customer's currency.
    FxMargin,
    /// Bank money on its way from customers' banks (bank redirect payments): the outside
    /// world, like the gateway's clearing, settled by the platform's bank.
    BankClearing,
    /// Wallet money set aside for one payment while its card part is asked for, or for one
    /// of its refunds while the gateway pays the card part back: it moves on with the card or
    /// goes back.
    PaymentHold { payment: String },
}

/// One account: an owner's money in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Account {
    pub owner: Owner,
    pub currency: Currency,
}

impl Account {
    pub fn new(owner: Owner, currency: Currency) -> Account {
        Account { owner, currency }
    }

    /// The outside world's account may always go below zero: every other balance is money
    /// someone holds, and goes below zero only by a dispute
    /// ([`Transaction::may_leave_negative`]).
    pub fn may_go_negative(&self) -> bool {
        matches!(
            self.owner,
            Owner::GatewayClearing | Owner::BankClearing | Owner::FxDesk
        )
    }

    /// A stable name for storage, e.g. `wallet:cus_1:USD` or `gateway_clearing:USD`.
    pub fn key(&self) -> String {
        let currency = self.currency.code();
        match &self.owner {
            Owner::Wallet { customer } => format!("wallet:{customer}:{currency}"),
            Owner::Merchant { merchant } => format!("merchant:{merchant}:{currency}"),
            Owner::GatewayClearing => format!("gateway_clearing:{currency}"),
            Owner::Fees => format!("fees:{currency}"),
            Owner::PendingClaim { claim } => format!("pending_claim:{claim}:{currency}"),
            Owner::PayoutClearing => format!("payout_clearing:{currency}"),
            Owner::PaidOut => format!("paid_out:{currency}"),
            Owner::FxDesk => format!("fx_desk:{currency}"),
            Owner::FxMargin => format!("fx_margin:{currency}"),
            Owner::BankClearing => format!("bank_clearing:{currency}"),
            Owner::PaymentHold { payment } => format!("payment_hold:{payment}:{currency}"),
        }
    }

    /// The account a [`Account::key`] names, or `None` for a name that is not one.
    pub fn from_key(key: &str) -> Option<Account> {
        let parts: Vec<&str> = key.split(':').collect();
        let (owner, currency) = match parts.as_slice() {
            ["wallet", customer, currency] => (
                Owner::Wallet {
                    customer: (*customer).into(),
                },
                currency,
            ),
            ["merchant", merchant, currency] => (
                Owner::Merchant {
                    merchant: (*merchant).into(),
                },
                currency,
            ),
            ["pending_claim", claim, currency] => (
                Owner::PendingClaim {
                    claim: (*claim).into(),
                },
                currency,
            ),
            ["payment_hold", payment, currency] => (
                Owner::PaymentHold {
                    payment: (*payment).into(),
                },
                currency,
            ),
            ["gateway_clearing", currency] => (Owner::GatewayClearing, currency),
            ["fees", currency] => (Owner::Fees, currency),
            ["payout_clearing", currency] => (Owner::PayoutClearing, currency),
            ["paid_out", currency] => (Owner::PaidOut, currency),
            ["fx_desk", currency] => (Owner::FxDesk, currency),
            ["fx_margin", currency] => (Owner::FxMargin, currency),
            ["bank_clearing", currency] => (Owner::BankClearing, currency),
            _ => return None,
        };
        let owner_named = match &owner {
            Owner::Wallet { customer: id }
            | Owner::Merchant { merchant: id }
            | Owner::PendingClaim { claim: id }
            | Owner::PaymentHold { payment: id } => !id.is_empty(),
            _ => true,
        };
        let currency = Currency::parse(currency).ok()?;
        owner_named.then(|| Account::new(owner, currency))
    }
}

/// One side of a transaction: money into (`amount > 0`) or out of (`amount < 0`) an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub account: Account,
    pub amount: i64,
}

/// Why a transaction cannot be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LedgerError {
    /// Fewer than two entries, or more than [`MAX_ENTRIES`].
    EntryCount,
    /// An entry of zero (or of an amount that has no opposite, `i64::MIN`).
    ZeroOrUnrepresentable,
    /// The same account twice in one transaction.
    RepeatedAccount,
    /// The entries of some currency do not sum to zero.
    Unbalanced { currency: Currency },
    /// A movement needs one currency and a positive amount.
    InvalidMovement,
    /// The account would go below zero.
    InsufficientFunds { account: Account },
    /// A balance would leave the range of `i64`.
    Overflow,
}

impl fmt::Display for LedgerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LedgerError::EntryCount => write!(f, "a transaction has 2 to {MAX_ENTRIES} entries"),
            LedgerError::ZeroOrUnrepresentable => write!(f, "an entry moves no money"),
            LedgerError::RepeatedAccount => write!(f, "an account appears twice"),
            LedgerError::Unbalanced { currency } => {
                write!(f, "the {currency} entries do not sum to zero")
            }
            LedgerError::InvalidMovement => {
                write!(f, "a movement needs one currency and a positive amount")
            }
            LedgerError::InsufficientFunds { account } => {
                write!(f, "{} would go below zero", account.key())
            }
            LedgerError::Overflow => write!(f, "a balance would overflow"),
        }
    }
}

/// Enough for any operation Till has (the largest, a converted payment, has 5).
pub const MAX_ENTRIES: usize = 16;

/// Entries that balance in every currency; the only way to get one is [`Transaction::new`]
/// or an operation below, so a `Transaction` always balances.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transaction {
    entries: Vec<Entry>,
    /// Its debits may leave an account below zero (a dispute: see [`Operation::may_overdraw`]).
    may_overdraw: bool,
}

impl Transaction {
    pub fn new(entries: Vec<Entry>) -> Result<Transaction, LedgerError> {
        if !(2..=MAX_ENTRIES).contains(&entries.len()) {
            return Err(LedgerError::EntryCount);
        }
        let mut sums: BTreeMap<Currency, i128> = BTreeMap::new();
        for (n, entry) in entries.iter().enumerate() {
            if entry.amount == 0 || entry.amount == i64::MIN {
                return Err(LedgerError::ZeroOrUnrepresentable);
            }
            if entries
                .iter()
                .skip(n + 1)
                .any(|e| e.account == entry.account)
            {
                return Err(LedgerError::RepeatedAccount);
            }
            *sums.entry(entry.account.currency).or_default() += i128::from(entry.amount);
        }
        match sums.into_iter().find(|(_, sum)| *sum != 0) {
            Some((currency, _)) => Err(LedgerError::Unbalanced { currency }),
            None => Ok(Transaction {
                entries,
                may_overdraw: false,
            }),
        }
    }

    /// `amount` (> 0) from one account to another of the same currency.
    pub fn movement(from: Account, to: Account, amount: i64) -> Result<Transaction, LedgerError> {
        if amount <= 0 || from.currency != to.currency {
            return Err(LedgerError::InvalidMovement);
        }
        Transaction::new(vec![
            Entry {
                account: from,
                amount: -amount,
            },
            Entry {
                account: to,
                amount,
            },
        ])
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Whether `entry` (one of this transaction's) may leave its account below zero: always
    /// for the outside world's account; always for money coming in (a credit never makes a
    /// balance worse, and must reach a merchant a dispute left below zero); and for a debit
    /// only in a transaction that may overdraw. Otherwise nobody holds less than nothing.
    pub fn may_leave_negative(&self, entry: &Entry) -> bool {
        entry.account.may_go_negative() || entry.amount > 0 || self.may_overdraw
    }
}

/// Whom a card payment paid: the merchant, a customer's wallet (a top-up, a transfer), or the
/// claim of a transfer paid by card to someone not yet a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payee<'a> {
    Merchant(&'a str),
    Wallet(&'a str),
    Claim(&'a str),
}

impl Payee<'_> {
    fn owner(self) -> Owner {
        match self {
            Payee::Merchant(merchant) => Owner::Merchant {
                merchant: merchant.into(),
            },
            Payee::Wallet(customer) => Owner::Wallet {
                customer: customer.into(),
            },
            Payee::Claim(claim) => Owner::PendingClaim {
                claim: claim.into(),
            },
        }
    }
}

/// Every movement of money Till makes, named as the API names it. Each moves an amount from one
/// account to another of the same currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation<'a> {
    /// A card payment succeeded: to a merchant, into a customer's wallet (a top-up), or into
    /// the claim of a transfer paid by card to someone not yet a customer.
    CardPayment { payee: Payee<'a> },
    /// A bank redirect payment succeeded: to a merchant or into a customer's wallet.
    BankPayment { payee: Payee<'a> },
    /// A merchant refunded (part of) a bank payment: back to the customer's account.
    BankRefund { payee: Payee<'a> },
    /// The bank could not pay a refund back: its money goes back to the payee.
    BankRefundReversed { payee: Payee<'a> },
    /// A merchant refunded (part of) a card payment: the money is taken from whoever the
    /// payment paid when the refund is requested.
    Refund { payee: Payee<'a> },
    /// The gateway refused a refund: its money goes back to the payee.
    RefundReversed { payee: Payee<'a> },
    /// A fee Till keeps from a merchant's balance.
    Fee { merchant: &'a str },
    /// From one wallet to another.
    Transfer { sender: &'a str, receiver: &'a str },
    /// A transfer paid by card: the pay-in and the transfer are this one transaction.
    TransferFromCard { receiver: &'a str },
    /// A transfer to someone not yet a customer: the money waits in the claim.
    HoldForClaim { sender: &'a str, claim: &'a str },
    /// The claim's receiver signed up (`to` is them) or it expired (`to` is the sender).
    ReleaseClaim { claim: &'a str, to: &'a str },
    /// A withdrawal was requested: the money is reserved at once.
    PayoutRequested { customer: &'a str },
    /// The bank paid the withdrawal.
    PayoutPaid,
    /// The bank refused the withdrawal: the reservation goes back to the wallet.
    PayoutFailed { customer: &'a str },
    /// A paid withdrawal came back from the receiving bank.
    PayoutReturned { customer: &'a str },
    /// A checkout's wallet part is set aside for its payment when the payment starts.
    WalletHold { customer: &'a str, payment: &'a str },
    /// The payment failed (or was blocked or canceled): its wallet part goes back.
    WalletHoldReleased { payment: &'a str, customer: &'a str },
    /// A payment the wallet paid (part of) succeeded: the held wallet part and the card's
    /// part (`card`, from the gateway's clearing; 0 when the wallet paid all) reach the
    /// merchant as one transaction.
    WalletPayment {
        payment: &'a str,
        merchant: &'a str,
        card: i64,
    },
    /// A refund of such a payment is reserved: the merchant gives the wallet's part to the
    /// payment's hold and the card's part (`card`) to the gateway's clearing.
    WalletRefund {
        merchant: &'a str,
        payment: &'a str,
        card: i64,
    },
    /// The refund's card part was paid back (or it had none): its wallet part reaches the
    /// wallet.
    WalletRefundPaid { payment: &'a str, customer: &'a str },
    /// The gateway refused the refund's card part: both parts go back to the merchant.
    WalletRefundReversed {
        payment: &'a str,
        merchant: &'a str,
        card: i64,
    },
    /// A cardholder disputed a payment: the card network takes the disputed amount back from
    /// the merchant, whoever the payment paid (the merchant is liable for its chargebacks).
    DisputeWithdrawn { merchant: &'a str },
    /// Till's fee for handling a dispute, kept from the merchant's balance.
    DisputeFee { merchant: &'a str },
    /// The merchant won the dispute: the network gives the disputed amount back.
    DisputeReinstated { merchant: &'a str },
    /// The merchant won the dispute: Till gives its fee back.
    DisputeFeeReturned { merchant: &'a str },
}

impl Operation<'_> {
    /// The owner money leaves and the owner it reaches.
    fn owners(self) -> (Owner, Owner) {
        let wallet = |customer: &str| Owner::Wallet {
            customer: customer.into(),
        };
        let merchant = |merchant: &str| Owner::Merchant {
            merchant: merchant.into(),
        };
        let claim = |claim: &str| Owner::PendingClaim {
            claim: claim.into(),
        };
        let hold = |payment: &str| Owner::PaymentHold {
            payment: payment.into(),
        };
        match self {
            Operation::CardPayment { payee } => (Owner::GatewayClearing, payee.owner()),
            Operation::Refund { payee } => (payee.owner(), Owner::GatewayClearing),
            Operation::BankPayment { payee } => (Owner::BankClearing, payee.owner()),
            Operation::BankRefund { payee } => (payee.owner(), Owner::BankClearing),
            Operation::BankRefundReversed { payee } => (Owner::BankClearing, payee.owner()),
            Operation::RefundReversed { payee } => (Owner::GatewayClearing, payee.owner()),
            Operation::Fee { merchant: m } => (merchant(m), Owner::Fees),
            Operation::TransferFromCard { receiver } => (Owner::GatewayClearing, wallet(receiver)),
            Operation::Transfer { sender, receiver } => (wallet(sender), wallet(receiver)),
            Operation::HoldForClaim { sender, claim: c } => (wallet(sender), claim(c)),
            Operation::ReleaseClaim { claim: c, to } => (claim(c), wallet(to)),
            Operation::PayoutRequested { customer } => (wallet(customer), Owner::PayoutClearing),
            Operation::PayoutPaid => (Owner::PayoutClearing, Owner::PaidOut),
            Operation::PayoutFailed { customer } => (Owner::PayoutClearing, wallet(customer)),
            Operation::PayoutReturned { customer } => (Owner::PaidOut, wallet(customer)),
            Operation::WalletHold { customer, payment } => (wallet(customer), hold(payment)),
            Operation::WalletHoldReleased { payment, customer }
            | Operation::WalletRefundPaid { payment, customer } => {
                (hold(payment), wallet(customer))
            }
            Operation::WalletPayment {
                payment,
                merchant: m,
                ..
            }
            | Operation::WalletRefundReversed {
                payment,
                merchant: m,
                ..
            } => (hold(payment), merchant(m)),
            Operation::WalletRefund {
                merchant: m,
                payment,
                ..
            } => (merchant(m), hold(payment)),
            Operation::DisputeWithdrawn { merchant: m } => (merchant(m), Owner::GatewayClearing),
            Operation::DisputeFee { merchant: m } => (merchant(m), Owner::Fees),
            Operation::DisputeReinstated { merchant: m } => (Owner::GatewayClearing, merchant(m)),
            Operation::DisputeFeeReturned { merchant: m } => (Owner::Fees, merchant(m)),
        }
    }

    /// The name its transaction is stored under: with the operation's source (the payment,
    /// refund or transfer it belongs to) it identifies the transaction, so it is written once.
    pub fn kind(self) -> &'static str {
        match self {
            Operation::CardPayment {
                payee: Payee::Merchant(_),
            } => "card_payment",
            Operation::CardPayment {
                payee: Payee::Wallet(_),
            } => "top_up",
            Operation::CardPayment {
                payee: Payee::Claim(_),
            } => "hold_from_card",
            Operation::Refund { .. } => "refund",
            Operation::BankPayment { .. } => "bank_payment",
            Operation::BankRefund { .. } => "bank_refund",
            Operation::BankRefundReversed { .. } => "bank_refund_reversed",
            Operation::RefundReversed { .. } => "refund_reversed",
            Operation::Fee { .. } => "fee",
            Operation::Transfer { .. } => "transfer",
            Operation::TransferFromCard { .. } => "transfer_from_card",
            Operation::HoldForClaim { .. } => "hold_for_claim",
            Operation::ReleaseClaim { .. } => "release_claim",
            Operation::PayoutRequested { .. } => "payout_requested",
            Operation::PayoutPaid => "payout_paid",
            Operation::PayoutFailed { .. } => "payout_failed",
            Operation::PayoutReturned { .. } => "payout_returned",
            Operation::WalletHold { .. } => "wallet_hold",
            Operation::WalletHoldReleased { .. } => "wallet_hold_released",
            Operation::WalletPayment { .. } => "wallet_payment",
            Operation::WalletRefund { .. } => "wallet_refund",
            Operation::WalletRefundPaid { .. } => "wallet_refund_paid",
            Operation::WalletRefundReversed { .. } => "wallet_refund_reversed",
            Operation::DisputeWithdrawn { .. } => "dispute",
            Operation::DisputeFee { .. } => "dispute_fee",
            Operation::DisputeReinstated { .. } => "dispute_reinstated",
            Operation::DisputeFeeReturned { .. } => "dispute_fee_returned",
        }
    }

    /// Whether it is written even when it takes its payer below zero: only a dispute's
    /// withdrawal and fee. The card network has already taken the money from Till, so
    /// refusing to write it would only hide it; a merchant's negative balance is what it owes,
    /// and its next payments pay it back. Everything a merchant or customer asks for (a
    /// refund, a transfer, a payout) is still refused when the money is not there.
    pub fn may_overdraw(self) -> bool {
        matches!(
            self,
            Operation::DisputeWithdrawn { .. } | Operation::DisputeFee { .. }
        )
    }

    /// The operation's transaction when the card paid in another currency than its payee holds
    /// (a converted payment, its refunds and disputes): the card's side moves
    /// `legs.presentment` through the FX desk, less the margin, which goes to the FX margin
    /// account; the payee's side moves `legs.settlement`. Only for operations between the
    /// outside world and a payee; a leg of zero (a tiny refund's settlement share) is left out.
    pub fn converted_transaction(self, legs: &ConvertedLegs) -> Result<Transaction, LedgerError> {
        let (from, to) = self.owners();
        let (payee, sign) = match (from, to) {
            (Owner::GatewayClearing, payee) => (payee, 1),
            (payee, Owner::GatewayClearing) => (payee, -1),
            _ => return Err(LedgerError::InvalidMovement),
        };
        let at_rate = legs.presentment.amount - legs.margin;
        if legs.presentment.currency == legs.settlement.currency
            || legs.presentment.amount <= 0
            || legs.settlement.amount < 0
            || legs.margin < 0
            || at_rate < 0
        {
            return Err(LedgerError::InvalidMovement);
        }
        let (p, s) = (legs.presentment.currency, legs.settlement.currency);
        let entries = [
            (Owner::GatewayClearing, p, -legs.presentment.amount),
            (Owner::FxMargin, p, legs.margin),
            (Owner::FxDesk, p, at_rate),
            (Owner::FxDesk, s, -legs.settlement.amount),
            (payee, s, legs.settlement.amount),
        ]
        .into_iter()
        .filter(|(_, _, amount)| *amount != 0)
        .map(|(owner, currency, amount)| Entry {
            account: Account::new(owner, currency),
            amount: sign * amount,
        })
        .collect();
        let mut transaction = Transaction::new(entries)?;
        transaction.may_overdraw = self.may_overdraw();
        Ok(transaction)
    }

    /// The card's part of an operation on a payment the wallet paid part of, and whether it
    /// moves on the side money leaves (into the merchant) rather than the side it reaches.
    fn card_part(self) -> Option<(i64, bool)> {
        match self {
            Operation::WalletPayment { card, .. }
            | Operation::WalletRefundReversed { card, .. } => Some((card, true)),
            Operation::WalletRefund { card, .. } => Some((card, false)),
            _ => None,
        }
    }

    /// The operation's transaction: `amount` (> 0) of `currency`. For an operation with a
    /// card part, `amount` is the wallet's part (≥ 0) and the card's part moves through the
    /// gateway's clearing in the same transaction.
    pub fn transaction(self, currency: Currency, amount: i64) -> Result<Transaction, LedgerError> {
        let (from, to) = self.owners();
        let (from, to) = (Account::new(from, currency), Account::new(to, currency));
        let mut transaction = match self.card_part() {
            None => Transaction::movement(from, to, amount)?,
            Some((card, on_leaving_side)) => {
                if amount < 0 || card < 0 {
                    return Err(LedgerError::InvalidMovement);
                }
                let total = amount.checked_add(card).ok_or(LedgerError::Overflow)?;
                let clearing = Account::new(Owner::GatewayClearing, currency);
                let entries = if on_leaving_side {
                    [(from, -amount), (clearing, -card), (to, total)]
                } else {
                    [(from, -total), (to, amount), (clearing, card)]
                };
                Transaction::new(
                    entries
                        .into_iter()
                        .filter(|(_, amount)| *amount != 0)
                        .map(|(account, amount)| Entry { account, amount })
                        .collect(),
                )?
            }
        };
        transaction.may_overdraw = self.may_overdraw();
        Ok(transaction)
    }
}

/// The figures of a converted operation: what the card paid (or gets back), the FX margin in
/// it (same currency), and what the payee receives (or gives back) in its own currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvertedLegs {
    pub presentment: crate::money::Money,
    pub margin: i64,
    pub settlement: crate::money::Money,
}

/// Decides whether `transaction` may be written, given `balance_of` each account it touches
/// (0 for an account never written). On success, the new balance of each of those accounts;
/// on failure nothing may be written.
pub fn post(
    transaction: &Transaction,
    balance_of: impl Fn(&Account) -> i64,
) -> Result<Vec<(Account, i64)>, LedgerError> {
    transaction
        .entries
        .iter()
        .map(|entry| {
            let balance = balance_of(&entry.account)
                .checked_add(entry.amount)
                .ok_or(LedgerError::Overflow)?;
            if balance < 0 && !transaction.may_leave_negative(entry) {
                return Err(LedgerError::InsufficientFunds {
                    account: entry.account.clone(),
                });
            }
            Ok((entry.account.clone(), balance))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn usd() -> Currency {
        Currency::parse("USD").unwrap()
    }

    fn krw() -> Currency {
        Currency::parse("KRW").unwrap()
    }

    fn wallet(customer: &str, currency: Currency) -> Account {
        Account::new(
            Owner::Wallet {
                customer: customer.into(),
            },
            currency,
        )
    }

    fn entry(account: Account, amount: i64) -> Entry {
        Entry { account, amount }
    }

    #[test]
    fn bank_money_comes_and_goes_through_the_banks_clearing_not_the_gateways() {
        let merchant = Account::new(
            Owner::Merchant {
                merchant: "mer_1".into(),
            },
            usd(),
        );
        let bank = Account::new(Owner::BankClearing, usd());
        let payee = Payee::Merchant("mer_1");
        let paid = post(
            &Operation::BankPayment { payee }
                .transaction(usd(), 5_000)
                .unwrap(),
            |_| 0,
        )
        .unwrap();
        assert_eq!(
            paid,
            vec![(bank.clone(), -5_000), (merchant.clone(), 5_000)]
        );
        let balances = BTreeMap::from([(merchant.clone(), 5_000), (bank.clone(), -5_000)]);
        let balance_of = |a: &Account| balances.get(a).copied().unwrap_or(0);
        let refunded = post(
            &Operation::BankRefund { payee }
                .transaction(usd(), 2_000)
                .unwrap(),
            balance_of,
        )
        .unwrap();
        assert_eq!(refunded, vec![(merchant.clone(), 3_000), (bank, -3_000)]);
        assert_eq!(
            post(
                &Operation::BankRefund { payee }
                    .transaction(usd(), 5_001)
                    .unwrap(),
                balance_of
            ),
            Err(LedgerError::InsufficientFunds { account: merchant })
        );
        assert_eq!(
            Operation::BankRefundReversed { payee }.kind(),
            "bank_refund_reversed"
        );
    }

    /// A checkout of 5 000: 1 200 from the wallet, 3 800 by card; then a refund of 4 000 (the
    /// card's 3 800 first, 200 to the wallet) that the gateway pays, and one of 500 it refuses.
    #[test]
    fn a_wallet_and_card_payment_reaches_the_merchant_as_one_transaction() {
        let (customer, payment, merchant) = ("cus_1", "pay_1", "mer_1");
        let mut book = Book::default();
        let top_up = Operation::CardPayment {
            payee: Payee::Wallet(customer),
        };
        book.run(top_up, 1_500).unwrap();
        let merchant_account = Account::new(
            Owner::Merchant {
                merchant: merchant.into(),
            },
            usd(),
        );
        let hold = Account::new(
            Owner::PaymentHold {
                payment: payment.into(),
            },
            usd(),
        );
        let balance = |book: &Book, account: &Account| book.balances.get(account).copied();
        let held = Operation::WalletHold { customer, payment };
        assert_eq!(
            book.run(held, 1_501),
            Err(LedgerError::InsufficientFunds {
                account: wallet(customer, usd())
            })
        );
        book.run(held, 1_200).unwrap();
        let paid = Operation::WalletPayment {
            payment,
            merchant,
            card: 3_800,
        }
        .transaction(usd(), 1_200)
        .unwrap();
        assert_eq!(paid.entries().len(), 3, "hold, card and merchant together");
        book.apply(&paid).unwrap();
        assert_eq!(balance(&book, &merchant_account), Some(5_000));
        assert_eq!(balance(&book, &hold), Some(0));
        assert_eq!(balance(&book, &wallet(customer, usd())), Some(300));

        let refund = |card| Operation::WalletRefund {
            merchant,
            payment,
            card,
        };
        book.run(refund(3_800), 200).unwrap();
        book.run(Operation::WalletRefundPaid { payment, customer }, 200)
            .unwrap();
        book.run(refund(0), 500).unwrap();
        book.run(
            Operation::WalletRefundReversed {
                payment,
                merchant,
                card: 0,
            },
            500,
        )
        .unwrap();
        assert_eq!(balance(&book, &merchant_account), Some(1_000));
        assert_eq!(balance(&book, &wallet(customer, usd())), Some(500));
        assert_eq!(balance(&book, &hold), Some(0));
        book.check_invariants();
        assert_eq!(
            Operation::WalletPayment {
                payment,
                merchant,
                card: -1
            }
            .transaction(usd(), 1),
            Err(LedgerError::InvalidMovement)
        );
    }

    #[test]
    fn account_keys_name_accounts_and_nothing_else() {
        for account in [
            wallet("cus_1", usd()),
            Account::new(
                Owner::Merchant {
                    merchant: "mer_demo".into(),
                },
                krw(),
            ),
            Account::new(
                Owner::PendingClaim {
                    claim: "tr_1".into(),
                },
                usd(),
            ),
            Account::new(Owner::GatewayClearing, usd()),
            Account::new(Owner::Fees, usd()),
            Account::new(Owner::PayoutClearing, usd()),
            Account::new(Owner::PaidOut, usd()),
            Account::new(Owner::BankClearing, usd()),
            Account::new(
                Owner::PaymentHold {
                    payment: "pay_1".into(),
                },
                usd(),
            ),
        ] {
            assert_eq!(Account::from_key(&account.key()), Some(account));
        }
        for bad in [
            "",
            "wallet",
            "wallet::USD",
            "wallet:cus_1",
            "wallet:cus_1:usd",
            "wallet:cus_1:USD:x",
            "fees:USD:x",
            "gateway_clearing:XYZ",
            "vault:x:USD",
            "payment_hold::USD",
        ] {
            assert_eq!(Account::from_key(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn transactions_must_balance_in_each_currency() {
        let clearing = Account::new(Owner::GatewayClearing, usd());
        assert!(Transaction::new(vec![
            entry(clearing.clone(), -500),
            entry(wallet("a", usd()), 300),
            entry(wallet("b", usd()), 200),
        ])
        .is_ok());
        assert_eq!(
            Transaction::new(vec![
                entry(clearing.clone(), -500),
                entry(wallet("a", usd()), 499)
            ]),
            Err(LedgerError::Unbalanced { currency: usd() })
        );
        // 500 USD out and 500 KRW in is two unbalanced currencies, not a balanced transaction.
        assert_eq!(
            Transaction::new(vec![
                entry(clearing.clone(), -500),
                entry(wallet("a", krw()), 500)
            ]),
            Err(LedgerError::Unbalanced { currency: krw() })
        );
        assert_eq!(
            Transaction::new(vec![
                entry(clearing.clone(), 0),
                entry(wallet("a", usd()), 0)
            ]),
            Err(LedgerError::ZeroOrUnrepresentable)
        );
        assert_eq!(
            Transaction::new(vec![entry(clearing.clone(), -5)]),
            Err(LedgerError::EntryCount)
        );
        assert_eq!(
            Transaction::new(vec![
                entry(wallet("a", usd()), -5),
                entry(wallet("a", usd()), 5)
            ]),
            Err(LedgerError::RepeatedAccount)
        );
        assert_eq!(
            Transaction::new(vec![
                entry(clearing, i64::MIN),
                entry(wallet("a", usd()), i64::MAX)
            ]),
            Err(LedgerError::ZeroOrUnrepresentable)
        );
    }

    #[test]
    fn movements_need_one_currency_and_a_positive_amount() {
        for amount in [0, -1, i64::MIN] {
            assert_eq!(
                Operation::Transfer {
                    sender: "a",
                    receiver: "b"
                }
                .transaction(usd(), amount),
                Err(LedgerError::InvalidMovement)
            );
        }
        assert_eq!(
            Transaction::movement(wallet("a", usd()), wallet("b", krw()), 5),
            Err(LedgerError::InvalidMovement)
        );
        assert_eq!(
            Operation::Transfer {
                sender: "a",
                receiver: "a"
            }
            .transaction(usd(), 5),
            Err(LedgerError::RepeatedAccount)
        );
    }

    #[test]
    fn a_wallet_never_goes_below_zero_and_a_refusal_changes_nothing() {
        let balances = BTreeMap::from([(wallet("a", usd()), 1_000)]);
        let balance_of = |a: &Account| balances.get(a).copied().unwrap_or(0);
        assert_eq!(
            post(
                &Operation::Transfer {
                    sender: "a",
                    receiver: "b"
                }
                .transaction(usd(), 1_001)
                .unwrap(),
                balance_of
            ),
            Err(LedgerError::InsufficientFunds {
                account: wallet("a", usd())
            })
        );
        assert_eq!(
            post(
                &Operation::Transfer {
                    sender: "a",
                    receiver: "b"
                }
                .transaction(usd(), 1_000)
                .unwrap(),
                balance_of
            ),
            Ok(vec![(wallet("a", usd()), 0), (wallet("b", usd()), 1_000)])
        );
        // The outside world's clearing account is the only one allowed below zero.
        let top_up = post(
            &Operation::CardPayment {
                payee: Payee::Wallet("a"),
            }
            .transaction(usd(), 250)
            .unwrap(),
            balance_of,
        )
        .unwrap();
        assert_eq!(
            top_up,
            vec![
                (Account::new(Owner::GatewayClearing, usd()), -250),
                (wallet("a", usd()), 1_250)
            ]
        );
    }

    #[test]
    fn balances_that_would_overflow_are_refused() {
        let full = |_: &Account| i64::MAX;
        assert_eq!(
            post(
                &Operation::CardPayment {
                    payee: Payee::Wallet("a")
                }
                .transaction(usd(), 1)
                .unwrap(),
                full
            ),
            Err(LedgerError::Overflow)
        );
    }

    #[test]
    fn payouts_reserve_then_pay_or_release() {
        let mut book = Book::default();
        let a = "a";
        book.run(
            Operation::CardPayment {
                payee: Payee::Wallet(a),
            },
            10_000,
        )
        .unwrap();
        book.run(Operation::PayoutRequested { customer: a }, 6_000)
            .unwrap();
        assert_eq!(book.balance(&wallet(a, usd())), 4_000);
        // The reserved money cannot be spent twice.
        let spend = Operation::Transfer {
            sender: a,
            receiver: "b",
        };
        assert!(book.run(spend, 4_001).is_err());
        book.run(Operation::PayoutFailed { customer: a }, 6_000)
            .unwrap();
        assert_eq!(book.balance(&wallet(a, usd())), 10_000);
        book.run(Operation::PayoutRequested { customer: a }, 10_000)
            .unwrap();
        book.run(Operation::PayoutPaid, 10_000).unwrap();
        book.run(Operation::PayoutReturned { customer: a }, 10_000)
            .unwrap();
        assert_eq!(book.balance(&wallet(a, usd())), 10_000);
        // Nothing more can come back than went out.
        assert!(book
            .run(Operation::PayoutReturned { customer: a }, 1)
            .is_err());
        book.check_invariants();
    }

    #[test]
    fn account_keys_are_stable_and_distinct() {
        assert_eq!(wallet("cus_1", usd()).key(), "wallet:cus_1:USD");
        assert_eq!(
            Account::new(Owner::GatewayClearing, krw()).key(),
            "gateway_clearing:KRW"
        );
        assert_ne!(wallet("cus_1", usd()).key(), wallet("cus_1", krw()).key());
    }

    #[test]
    fn a_converted_payment_books_both_legs_and_the_margin_and_its_refund_reverses_them() {
        let money = |amount, currency| crate::money::Money { amount, currency };
        let legs = ConvertedLegs {
            presentment: money(45_000, krw()),
            margin: 665,
            settlement: money(3_241, usd()),
        };
        let merchant = Account::new(
            Owner::Merchant {
                merchant: "m".into(),
            },
            usd(),
        );
        let payee = Payee::Merchant("m");
        let paid = Operation::CardPayment { payee }
            .converted_transaction(&legs)
            .unwrap();
        let balances = post(&paid, |_| 0).unwrap();
        assert_eq!(
            balances,
            vec![
                (Account::new(Owner::GatewayClearing, krw()), -45_000),
                (Account::new(Owner::FxMargin, krw()), 665),
                (Account::new(Owner::FxDesk, krw()), 44_335),
                (Account::new(Owner::FxDesk, usd()), -3_241),
                (merchant.clone(), 3_241),
            ]
        );
        let after_payment: BTreeMap<Account, i64> = balances.into_iter().collect();
        let refund = Operation::Refund { payee }
            .converted_transaction(&legs)
            .unwrap();
        let back = post(&refund, |a| after_payment.get(a).copied().unwrap_or(0)).unwrap();
        assert!(back.iter().all(|(_, balance)| *balance == 0), "{back:?}");
        // A refund the merchant cannot cover is refused like any other.
        let short = post(&refund, |a| {
            if *a == merchant {
                3_240
            } else {
                after_payment.get(a).copied().unwrap_or(0)
            }
        });
        assert_eq!(
            short,
            Err(LedgerError::InsufficientFunds { account: merchant })
        );
        // A settlement share of zero leaves the payee out; same currencies are refused.
        let tiny = ConvertedLegs {
            presentment: money(1, krw()),
            margin: 0,
            settlement: money(0, usd()),
        };
        let tiny = Operation::Refund { payee }
            .converted_transaction(&tiny)
            .unwrap();
        assert_eq!(tiny.entries().len(), 2);
        let same = ConvertedLegs {
            settlement: money(3_241, krw()),
            ..legs
        };
        assert_eq!(
            Operation::CardPayment { payee }.converted_transaction(&same),
            Err(LedgerError::InvalidMovement)
        );
        assert_eq!(
            Operation::Transfer {
                sender: "a",
                receiver: "b"
            }
            .converted_transaction(&legs),
            Err(LedgerError::InvalidMovement)
        );
        assert_eq!(
            Account::from_key("fx_desk:KRW"),
            Some(Account::new(Owner::FxDesk, krw()))
        );
        assert_eq!(
            Account::from_key("fx_margin:USD"),
            Some(Account::new(Owner::FxMargin, usd()))
        );
    }

    /// An in-memory ledger for the property tests: balances kept as the edge keeps them (a
    /// running balance per account), and every entry kept to check them against.
    #[derive(Default)]
    struct Book {
        balances: BTreeMap<Account, i64>,
        entries: Vec<Entry>,
    }

    impl Book {
        fn balance(&self, account: &Account) -> i64 {
            self.balances.get(account).copied().unwrap_or(0)
        }

        /// The operation in US dollars.
        fn run(&mut self, operation: Operation, amount: i64) -> Result<(), LedgerError> {
            self.apply(&operation.transaction(usd(), amount)?)
        }

        fn apply(&mut self, transaction: &Transaction) -> Result<(), LedgerError> {
            let updated = post(transaction, |a| self.balance(a))?;
            self.balances.extend(updated);
            self.entries.extend(transaction.entries().iter().cloned());
            Ok(())
        }

        fn check_invariants(&self) {
            let mut sums: BTreeMap<Account, i64> = BTreeMap::new();
            for entry in &self.entries {
                *sums.entry(entry.account.clone()).or_default() += entry.amount;
            }
            // Partial sums of balances that fit in i64 may not: the total is taken in i128.
            let mut per_currency: BTreeMap<String, i128> = BTreeMap::new();
            for (account, balance) in &self.balances {
                assert_eq!(
                    sums.get(account).copied().unwrap_or(0),
                    *balance,
                    "{account:?}"
                );
                // A merchant goes below zero only by a dispute; nobody else but the world.
                let merchant = matches!(account.owner, Owner::Merchant { .. });
                assert!(
                    *balance >= 0 || account.may_go_negative() || merchant,
                    "{account:?}"
                );
                *per_currency
                    .entry(account.currency.code().into())
                    .or_default() += i128::from(*balance);
            }
            assert!(
                per_currency.values().all(|sum| *sum == 0),
                "{per_currency:?}"
            );
        }
    }

    /// One operation of a random sequence: customers, merchants and claims are small indices.
    fn operation() -> impl Strategy<Value = Result<Transaction, LedgerError>> {
        let currency = prop_oneof![Just(usd()), Just(krw())];
        let amount = prop_oneof![1i64..1_000, Just(0), Just(-7), Just(i64::MAX)];
        let card = prop_oneof![0i64..1_000, Just(-3), Just(i64::MAX)];
        (0u8..25, 0u8..4, 0u8..4, currency, amount, card).prop_map(
            |(kind, x, y, currency, amount, card)| {
                let ids = ["id_0", "id_1", "id_2", "id_3"];
                let (a, b) = (ids[usize::from(x)], ids[usize::from(y)]);
                let operation = match kind {
                    0 => Operation::CardPayment {
                        payee: Payee::Merchant(a),
                    },
                    1 => Operation::Refund {
                        payee: Payee::Merchant(a),
                    },
                    12 => Operation::RefundReversed {
                        payee: Payee::Wallet(a),
                    },
                    13 => Operation::CardPayment {
                        payee: Payee::Claim(a),
                    },
                    14 => Operation::Refund {
                        payee: Payee::Claim(a),
                    },
                    15 => Operation::DisputeWithdrawn { merchant: a },
                    16 => Operation::DisputeFee { merchant: a },
                    17 => Operation::DisputeReinstated { merchant: a },
                    18 => Operation::WalletHold {
                        customer: a,
                        payment: b,
                    },
                    19 => Operation::WalletHoldReleased {
                        payment: a,
                        customer: b,
                    },
                    20 => Operation::WalletPayment {
                        payment: a,
                        merchant: b,
                        card,
                    },
                    21 => Operation::WalletRefund {
                        merchant: a,
                        payment: b,
                        card,
                    },
                    22 => Operation::WalletRefundPaid {
                        payment: a,
                        customer: b,
                    },
                    23 => Operation::WalletRefundReversed {
                        payment: a,
                        merchant: b,
                        card,
                    },
                    2 => Operation::Fee { merchant: a },
                    3 => Operation::CardPayment {
                        payee: Payee::Wallet(a),
                    },
                    4 => Operation::Transfer {
                        sender: a,
                        receiver: b,
                    },
                    5 => Operation::TransferFromCard { receiver: b },
                    6 => Operation::HoldForClaim {
                        sender: a,
                        claim: b,
                    },
                    7 => Operation::ReleaseClaim { claim: a, to: b },
                    8 => Operation::PayoutRequested { customer: a },
                    9 => Operation::PayoutPaid,
                    10 => Operation::PayoutFailed { customer: a },
                    11 => Operation::PayoutReturned { customer: a },
                    _ => Operation::DisputeFeeReturned { merchant: a },
                };
                operation.transaction(currency, amount)
            },
        )
    }

    proptest! {
        /// Whatever happens, money is conserved per currency, every balance equals the sum of
        /// its entries, nothing but the outside world goes below zero, and a refused
        /// transaction changes nothing.
        #[test]
        fn random_operations_keep_the_books_balanced(
            operations in proptest::collection::vec(operation(), 1..200)
        ) {
            let mut book = Book::default();
            for transaction in operations.into_iter().flatten() {
                let before = book.balances.clone();
                if book.apply(&transaction).is_err() {
                    prop_assert_eq!(&before, &book.balances);
                }
                book.check_invariants();
            }
        }
    }
}
