//! `GET /v1/payments/:id` (secret key).

use crate::auth::authenticate;
use crate::http::{json, ApiResult};
use crate::store::{self, PaymentRow};
use till_core::api::Payment;
use till_core::card::{Brand, CardSummary};
use till_core::error::ApiError;
use till_core::ids::{self, IdKind};
use till_core::money::Currency;
use till_core::payment::PaymentStatus;
use worker::{Env, Request};

pub fn view(row: &PaymentRow) -> Result<Payment, ApiError> {
    let corrupt = |what: &str| {
        worker::console_error!("payment {}: stored {what} is invalid", row.id);
        ApiError::internal()
    };
    let brand: Brand = serde_json::from_value(serde_json::Value::String(row.card_brand.clone()))
        .map_err(|_| corrupt("card_brand"))?;
    Ok(Payment {
        id: row.id.clone(),
        object: "payment".into(),
        amount: row.amount,
        currency: Currency::parse(&row.currency).map_err(|_| corrupt("currency"))?,
        status: PaymentStatus::parse(&row.status).ok_or_else(|| corrupt("status"))?,
        checkout_session: row.checkout_session_id.clone(),
        card: CardSummary {
            brand,
            last4: row.card_last4.clone(),
            exp_month: u8::try_from(row.card_exp_month).map_err(|_| corrupt("exp_month"))?,
            exp_year: u16::try_from(row.card_exp_year).map_err(|_| corrupt("exp_year"))?,
        },
        failure_code: row.failure_code.clone(),
        failure_message: row.failure_message.clone(),
        created: row.created,
    })
}

pub async fn retrieve(req: Request, env: &Env, id: &str) -> ApiResult {
    let caller = authenticate(&req, env).await?;
    caller.require_secret_key()?;
    let missing = || ApiError::not_found("payment");
    if !ids::is_valid(IdKind::Payment, id) {
        return Err(missing());
    }
    let row = store::payment(env, &caller.merchant_id, id)
        .await?
        .ok_or_else(missing)?;
    json(200, &view(&row)?)
}
