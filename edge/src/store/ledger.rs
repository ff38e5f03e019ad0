//! The ledger in D1: accounts with their cached balances, transactions identified by what
//! caused them, and immutable entries.
//!
//! A transaction is written as statements appended to the batch of the change that causes it
//! (a payment succeeding, a refund reserved, a transfer), so both happen or neither does:
//! 1. the transaction row, unless one of the same kind and source exists (then the rest of
//!    these statements do nothing: an operation is written once however often it is attempted);
//! 2. the accounts are created at zero if new, their balances move (the
//!    `balance_not_negative` CHECK fails the whole batch when a debit that may not overdraw
//!    would take one below zero: [`till_core::ledger::Transaction::may_leave_negative`]), then
//!    the entries are written with the balances they left: three statements for all entries.
//!
//! D1 runs a batch as one SQLite transaction on the database's single primary, which serializes
//! every batch: the decision "is there enough" is made there, once, for all concurrent writers.

use super::{all, int, opt_text, statement, text, StoreError, StoreResult};
use crate::random;
use serde::Deserialize;
use till_core::api::{BalanceAmount, LedgerEntry, WalletEntry};
use till_core::error::ApiError;
use till_core::ids::IdKind;
use till_core::ledger::{ConvertedLegs, Operation, Transaction};
use till_core::money::{Currency, Money};
use worker::{D1PreparedStatement, Env};

/// D1 binds at most 100 parameters per statement (its documented limit). A posting's widest
/// statement, the entries' insert, binds 3 plus 4 per entry: the core's largest transaction
/// must fit.
const _: () = assert!(3 + 4 * till_core::ledger::MAX_ENTRIES <= 100);

/// An operation to write in the batch of the change that causes it.
pub struct Posting<'a> {
    pub merchant_id: &'a str,
    pub operation: Operation<'a>,
    /// The payment, refund or transfer it belongs to.
    pub source: &'a str,
    pub transaction: Transaction,
    pub created: i64,
    transaction_id: String,
    /// One per entry of `transaction`.
    entry_ids: Vec<String>,
}

impl<'a> Posting<'a> {
    pub fn new(
        merchant_id: &'a str,
        operation: Operation<'a>,
        source: &'a str,
        currency: Currency,
        amount: i64,
        created: i64,
    ) -> Result<Posting<'a>, ApiError> {
        let transaction = operation.transaction(currency, amount).map_err(|e| {
            crate::log_error!("ledger: {} of {source}: {e}", operation.kind());
            ApiError::internal()
        })?;
        Posting::of(merchant_id, operation, source, transaction, created)
    }

    /// An operation on card money: `money` in the payment's currency, or, for a payment the
    /// card made in another currency than its payee holds (`legs`), both legs through the FX
    /// desk and the margin ([`Operation::converted_transaction`]).
    pub fn of_card_money(
        merchant_id: &'a str,
        operation: Operation<'a>,
        source: &'a str,
        money: Money,
        legs: Option<&ConvertedLegs>,
        created: i64,
    ) -> Result<Posting<'a>, ApiError> {
        let Some(legs) = legs else {
            return Posting::new(
                merchant_id,
                operation,
                source,
                money.currency,
                money.amount,
                created,
            );
        };
        let transaction = operation.converted_transaction(legs).map_err(|e| {
            crate::log_error!("ledger: converted {} of {source}: {e}", operation.kind());
            ApiError::internal()
        })?;
        Posting::of(merchant_id, operation, source, transaction, created)
    }

    fn of(
        merchant_id: &'a str,
        operation: Operation<'a>,
        source: &'a str,
        transaction: Transaction,
        created: i64,
    ) -> Result<Posting<'a>, ApiError> {
        let entry_ids = transaction
            .entries()
            .iter()
            .map(|_| random::id(IdKind::LedgerEntry))
            .collect::<Result<_, _>>()?;
        Ok(Posting {
            merchant_id,
            operation,
            source,
            transaction,
            created,
            transaction_id: random::id(IdKind::LedgerTransaction)?,
            entry_ids,
        })
    }

    /// The statements that write it, in order. `only_if` is an SQL condition (its parameters
    /// are `?6` onwards, given in `only_if_params`) the transaction row needs to be written:
    /// e.g. that the payment it belongs to did succeed.
    pub fn statements(
        &self,
        env: &Env,
        only_if: &str,
        only_if_params: &[worker::wasm_bindgen::JsValue],
    ) -> StoreResult<Vec<D1PreparedStatement>> {
        let transaction_id = &self.transaction_id;
        let mut params = vec![
            text(transaction_id),
            text(self.merchant_id),
            text(self.operation.kind()),
            text(self.source),
            int(self.created),
        ];
        params.extend_from_slice(only_if_params);
        let mut statements = vec![statement(
            env,
            &format!(
                "INSERT INTO ledger_transactions (id, merchant_id, kind, source, created) \
                 SELECT ?1, ?2, ?3, ?4, ?5 WHERE {only_if} \
                 ON CONFLICT (merchant_id, kind, source) DO NOTHING"
            ),
            &params,
        )?];
        // The core never puts one account twice in a transaction (`RepeatedAccount`), so each
        // step below is one statement for all entries, whatever their number, and an entry's
        // balance is its account's once every balance moved.
        let entries = self.transaction.entries();
        // `(?{first}, ?{first + 1}, …)` for each entry's `width` parameters, numbered from
        // `first`.
        let rows = |first: usize, width: usize| {
            (0..entries.len())
                .map(|n| {
                    let columns: Vec<String> = (0..width)
                        .map(|c| format!("?{}", first + n * width + c))
                        .collect();
                    format!("({})", columns.join(", "))
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let keys: Vec<String> = entries.iter().map(|e| e.account.key()).collect();
        // The accounts are created at zero, then moved: an upsert would check the new row's
        // CHECK (a debit's negative amount) before it saw the existing row.
        let mut params = vec![
            text(self.merchant_id),
            int(self.created),
            text(transaction_id),
        ];
        for (entry, key) in entries.iter().zip(&keys) {
            params.push(text(key));
            params.push(text(entry.account.currency.code()));
            params.push(int(i64::from(entry.account.may_go_negative())));
        }
        statements.push(statement(
            env,
            &format!(
                "INSERT INTO ledger_accounts (merchant_id, account, currency, balance, \
                 may_go_negative, updated) \
                 SELECT ?1, column1, column2, 0, column3, ?2 FROM (VALUES {}) \
                 WHERE EXISTS (SELECT 1 FROM ledger_transactions WHERE id = ?3) \
                 ON CONFLICT (merchant_id, account) DO NOTHING",
                rows(4, 3)
            ),
            &params,
        )?);
        // `may_go_negative` says whether this write may leave the balance below zero, so the
        // CHECK refuses exactly the debits that may not (a refund beyond what a merchant
        // holds) and lets a credit reach a merchant a dispute left below zero.
        let mut params = vec![
            text(self.merchant_id),
            int(self.created),
            text(transaction_id),
        ];
        let (mut moves, mut may_go_negative, mut accounts) = (String::new(), String::new(), vec![]);
        for (n, (entry, key)) in entries.iter().zip(&keys).enumerate() {
            let at = 4 + n * 3;
            moves.push_str(&format!(" WHEN ?{at} THEN ?{}", at + 1));
            may_go_negative.push_str(&format!(" WHEN ?{at} THEN ?{}", at + 2));
            accounts.push(format!("?{at}"));
            params.push(text(key));
            params.push(int(entry.amount));
            params.push(int(i64::from(self.transaction.may_leave_negative(entry))));
        }
        statements.push(statement(
            env,
            &format!(
                "UPDATE ledger_accounts SET balance = balance + (CASE account{moves} END), \
                 may_go_negative = (CASE account{may_go_negative} END), updated = ?2 \
                 WHERE merchant_id = ?1 AND account IN ({}) \
                 AND EXISTS (SELECT 1 FROM ledger_transactions WHERE id = ?3)",
                accounts.join(", ")
            ),
            &params,
        )?);
        let mut params = vec![
            text(transaction_id),
            text(self.merchant_id),
            int(self.created),
        ];
        for ((entry, key), entry_id) in entries.iter().zip(&keys).zip(&self.entry_ids) {
            params.push(text(entry_id));
            params.push(text(key));
            params.push(text(entry.account.currency.code()));
            params.push(int(entry.amount));
        }
        statements.push(statement(
            env,
            &format!(
                "INSERT INTO ledger_entries (id, transaction_id, merchant_id, account, currency, \
                 amount, balance_after, created) \
                 SELECT entry.column1, ?1, ?2, entry.column2, entry.column3, entry.column4, \
                 (SELECT balance FROM ledger_accounts \
                  WHERE merchant_id = ?2 AND account = entry.column2), ?3 \
                 FROM (VALUES {}) AS entry \
                 WHERE EXISTS (SELECT 1 FROM ledger_transactions WHERE id = ?1)",
                rows(4, 4)
            ),
            &params,
        )?);
        Ok(statements)
    }
}

/// Whether a batch failed because it would have taken an account below zero.
pub fn overdrawn(error: &StoreError) -> bool {
    error.violated("balance_not_negative")
}

#[derive(Deserialize)]
struct BalanceRow {
    account: String,
    currency: Currency,
    balance: i64,
}

/// The balances of a merchant's accounts whose names start with `prefix` (`wallet:cus_1:`,
/// `merchant:`), per account, in currency order.
pub async fn balances(
    env: &Env,
    merchant_id: &str,
    prefix: &str,
) -> StoreResult<Vec<(String, BalanceAmount)>> {
    let rows: Vec<BalanceRow> = all(
        env,
        "SELECT account, currency, balance FROM ledger_accounts \
         WHERE merchant_id = ?1 AND substr(account, 1, length(?2)) = ?2 \
         ORDER BY currency, account",
        &[text(merchant_id), text(prefix)],
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            (
                row.account,
                BalanceAmount {
                    amount: row.balance,
                    currency: row.currency,
                },
            )
        })
        .collect())
}

#[derive(Deserialize)]
struct EntryRow {
    id: String,
    transaction_id: String,
    kind: String,
    source: String,
    account: String,
    currency: Currency,
    amount: i64,
    balance_after: i64,
    created: i64,
}

/// Which entries to list.
pub struct EntryFilter<'a> {
    pub account: Option<&'a str>,
    pub created_gte: Option<i64>,
    pub created_lt: Option<i64>,
    pub starting_after: Option<&'a str>,
    /// How many to read (one more than the page shows).
    pub limit: usize,
}

/// A merchant's entries, newest first. `None` when `starting_after` is not one of them.
pub async fn entries(
    env: &Env,
    merchant_id: &str,
    filter: &EntryFilter<'_>,
) -> StoreResult<Option<Vec<LedgerEntry>>> {
    if let Some(cursor) = filter.starting_after {
        let known: Option<super::Exists> = super::first(
            env,
            "SELECT 1 AS found FROM ledger_entries WHERE id = ?1 AND merchant_id = ?2",
            &[text(cursor), text(merchant_id)],
        )
        .await?;
        if known.is_none() {
            return Ok(None);
        }
    }
    let rows: Vec<EntryRow> = all(
        env,
        "SELECT e.id, e.transaction_id, t.kind, t.source, e.account, e.currency, e.amount, \
         e.balance_after, e.created \
         FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id \
         WHERE e.merchant_id = ?1 \
         AND (?2 IS NULL OR e.account = ?2) \
         AND (?3 IS NULL OR e.created >= ?3) \
         AND (?4 IS NULL OR e.created < ?4) \
         AND (?5 IS NULL OR e.seq < (SELECT seq FROM ledger_entries WHERE id = ?5)) \
         ORDER BY e.seq DESC LIMIT ?6",
        &[
            text(merchant_id),
            opt_text(filter.account),
            super::opt_int(filter.created_gte),
            super::opt_int(filter.created_lt),
            opt_text(filter.starting_after),
            int(i64::try_from(filter.limit).unwrap_or(i64::MAX)),
        ],
    )
    .await?;
    Ok(Some(
        rows.into_iter()
            .map(|row| LedgerEntry {
                id: row.id,
                object: "ledger_entry".into(),
                transaction: row.transaction_id,
                kind: row.kind,
                source: row.source,
                account: row.account,
                amount: row.amount,
                currency: row.currency,
                balance_after: row.balance_after,
                created: row.created,
            })
            .collect(),
    ))
}

/// The latest `limit` entries of a customer's wallets (every currency), newest first.
pub async fn wallet_history(
    env: &Env,
    merchant_id: &str,
    customer_id: &str,
    limit: i64,
) -> StoreResult<Vec<WalletEntry>> {
    // `wallet:cus_…:` up to (not including) `wallet:cus_…;`: the range the index serves.
    let from = format!("wallet:{customer_id}:");
    let to = format!("wallet:{customer_id};");
    let rows: Vec<EntryRow> = all(
        env,
        "SELECT e.id, e.transaction_id, t.kind, t.source, e.account, e.currency, e.amount, \
         e.balance_after, e.created \
         FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id \
         WHERE e.merchant_id = ?1 AND e.account >= ?2 AND e.account < ?3 \
         ORDER BY e.seq DESC LIMIT ?4",
        &[text(merchant_id), text(&from), text(&to), int(limit)],
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| WalletEntry {
            id: row.id,
            kind: row.kind,
            source: row.source,
            amount: row.amount,
            currency: row.currency,
            balance_after: row.balance_after,
            created: row.created,
        })
        .collect())
}
