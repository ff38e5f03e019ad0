//! Customers, found by id or by the hash of their normalized email or phone.

use super::webhooks::{change_with_event, EndpointRow, EventRow};
use super::{all, first, int, json_list, opt_text, statement, text, StoreError, StoreResult};
use serde::Deserialize;
use std::collections::BTreeMap;
use till_core::customer::{ContactMatch, Customer, Details};
use worker::{D1PreparedStatement, Env};

#[derive(Debug, Clone, Deserialize)]
pub struct CustomerRow {
    pub id: String,
    pub merchant_id: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub name: Option<String>,
    pub locale: Option<String>,
    /// JSON object of strings.
    pub metadata: String,
    pub version: i64,
    pub created: i64,
}

impl CustomerRow {
    pub fn details(&self) -> Details {
        Details {
            email: self.email.clone(),
            phone: self.phone.clone(),
            name: self.name.clone(),
            locale: self.locale.clone(),
            metadata: self.metadata(),
        }
    }

    fn metadata(&self) -> BTreeMap<String, String> {
        serde_json::from_str(&self.metadata).unwrap_or_default()
    }

    pub fn view(&self) -> Customer {
        view_of(&self.id, &self.details(), self.created)
    }
}

/// The customer `id` with `details`, as the API shows it (and as its events tell of it).
pub fn view_of(id: &str, details: &Details, created: i64) -> Customer {
    Customer {
        id: id.to_string(),
        object: "customer".into(),
        email: details.email.clone(),
        phone: details.phone.clone(),
        name: details.name.clone(),
        locale: details.locale.clone(),
        metadata: details.metadata.clone(),
        created,
    }
}

/// What writing a customer came to.
pub enum Written {
    /// Written with its event: the merchant's endpoints for it.
    Done(Vec<EndpointRow>),
    /// Another customer of the merchant has this email or phone: nothing was written.
    ContactTaken,
}

fn contact_taken(result: StoreResult<Option<Vec<EndpointRow>>>) -> StoreResult<Option<Written>> {
    match result {
        Ok(written) => Ok(written.map(Written::Done)),
        Err(error) if error.duplicate_in("customers") => Ok(Some(Written::ContactTaken)),
        Err(error) => Err(error),
    }
}

fn metadata_json(details: &Details) -> StoreResult<String> {
    serde_json::to_string(&details.metadata).map_err(|e| StoreError::new("encode", e))
}

/// Records a new customer with `event` (`customer.created`).
pub async fn insert(
    env: &Env,
    merchant_id: &str,
    id: &str,
    details: &Details,
    now: i64,
    event: &EventRow,
) -> StoreResult<Written> {
    let insert = statement(
        env,
        "INSERT INTO customers (id, merchant_id, email, email_hash, phone, phone_hash, name, \
             locale, metadata, created, updated) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
        &[
            text(id),
            text(merchant_id),
            opt_text(details.email.as_deref()),
            opt_text(details.email_hash().as_deref()),
            opt_text(details.phone.as_deref()),
            opt_text(details.phone_hash().as_deref()),
            opt_text(details.name.as_deref()),
            opt_text(details.locale.as_deref()),
            text(&metadata_json(details)?),
            int(now),
        ],
    )?;
    let written = contact_taken(change_with_event(env, insert, Some(event)).await)?;
    Ok(written.unwrap_or(Written::Done(Vec::new())))
}

/// Replaces a customer's details with `event` (`customer.updated`), only if they are still the
/// version read (a concurrent update makes this one write nothing and return `Ok(None)`).
pub async fn update(
    env: &Env,
    row: &CustomerRow,
    details: &Details,
    now: i64,
    event: &EventRow,
) -> StoreResult<Option<Written>> {
    let update = statement(
        env,
        "UPDATE customers SET email = ?3, email_hash = ?4, phone = ?5, phone_hash = ?6, \
         name = ?7, locale = ?8, metadata = ?9, updated = ?10, version = version + 1 \
         WHERE id = ?1 AND merchant_id = ?2 AND version = ?11",
        &[
            text(&row.id),
            text(&row.merchant_id),
            opt_text(details.email.as_deref()),
            opt_text(details.email_hash().as_deref()),
            opt_text(details.phone.as_deref()),
            opt_text(details.phone_hash().as_deref()),
            opt_text(details.name.as_deref()),
            opt_text(details.locale.as_deref()),
            text(&metadata_json(details)?),
            int(now),
            int(row.version),
        ],
    )?;
    contact_taken(change_with_event(env, update, Some(event)).await)
}

pub async fn find(env: &Env, merchant_id: &str, id: &str) -> StoreResult<Option<CustomerRow>> {
    first(env, FIND, &[text(id), text(merchant_id)]).await
}

const FIND: &str = "SELECT * FROM customers WHERE id = ?1 AND merchant_id = ?2";

/// [`find`], to run in a batch.
pub fn find_statement(env: &Env, merchant_id: &str, id: &str) -> StoreResult<D1PreparedStatement> {
    statement(env, FIND, &[text(id), text(merchant_id)])
}

/// The customer a checkout session is for (none for a guest), to run in a batch.
pub fn of_session_statement(
    env: &Env,
    merchant_id: &str,
    session_id: &str,
) -> StoreResult<D1PreparedStatement> {
    statement(
        env,
        "SELECT * FROM customers WHERE merchant_id = ?2 AND id = \
         (SELECT customer_id FROM checkout_sessions WHERE id = ?1 AND merchant_id = ?2)",
        &[text(session_id), text(merchant_id)],
    )
}

/// The merchant's customer with this email or phone hash.
pub async fn by_contact_hash(
    env: &Env,
    merchant_id: &str,
    hash: &str,
) -> StoreResult<Option<CustomerRow>> {
    first(
        env,
        "SELECT * FROM customers WHERE merchant_id = ?1 AND (email_hash = ?2 OR phone_hash = ?2)",
        &[text(merchant_id), text(hash)],
    )
    .await
}

/// A page of the merchant's customers, newest first: `limit` rows after `starting_after`.
/// `None` when `starting_after` is not one of the merchant's customers.
pub async fn list(
    env: &Env,
    merchant_id: &str,
    starting_after: Option<&str>,
    limit: usize,
) -> StoreResult<Option<Vec<CustomerRow>>> {
    if let Some(cursor) = starting_after {
        if find(env, merchant_id, cursor).await?.is_none() {
            return Ok(None);
        }
    }
    all(
        env,
        "SELECT * FROM customers WHERE merchant_id = ?1 \
         AND (?2 IS NULL OR seq < (SELECT seq FROM customers WHERE id = ?2)) \
         ORDER BY seq DESC LIMIT ?3",
        &[
            text(merchant_id),
            opt_text(starting_after),
            int(i64::try_from(limit).unwrap_or(i64::MAX)),
        ],
    )
    .await
    .map(Some)
}

#[derive(Deserialize)]
struct MatchRow {
    hash: String,
    customer: String,
}

/// Which of these contact hashes belong to the merchant's customers.
pub async fn lookup(
    env: &Env,
    merchant_id: &str,
    hashes: &[String],
) -> StoreResult<Vec<ContactMatch>> {
    let rows: Vec<MatchRow> = all(
        env,
        "SELECT h.value AS hash, c.id AS customer \
         FROM json_each(?2) h JOIN customers c \
         ON c.merchant_id = ?1 AND (c.email_hash = h.value OR c.phone_hash = h.value) \
         ORDER BY h.key",
        &[text(merchant_id), json_list(hashes)?],
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| ContactMatch {
            hash: row.hash,
            customer: row.customer,
        })
        .collect())
}
