//! Test clocks: `POST /v1/test_clocks {frozen_time, name?}`, `GET /v1/test_clocks/:id`,
//! `POST /v1/test_clocks/:id/advance {frozen_time}`. Advancing bills, in order, everything the
//! clock's subscriptions owe up to the new time before it answers; what a very long advance
//! leaves is finished by the cron (the clock stays `advancing` until then).

use super::subscriptions::test_clocks_enabled;
use crate::auth::Caller;
use crate::http::{body_value, json, parse, ApiResult};
use crate::store::test_clocks::TestClockRow;
use crate::{billing, clock, random, store};
use std::time::Duration;
use till_core::error::{ApiError, ErrorCode};
use till_core::ids::{self, IdKind};
use till_core::test_clock::{check_advance, AdvanceTestClock, CreateTestClock};
use worker::{Env, Request};

fn enabled(env: &Env) -> Result<(), ApiError> {
    if test_clocks_enabled(env) {
        Ok(())
    } else {
        Err(ApiError::new(ErrorCode::TestClocksDisabled))
    }
}

async fn test_clock(env: &Env, caller: &Caller, id: &str) -> Result<TestClockRow, ApiError> {
    if !ids::is_valid(IdKind::TestClock, id) {
        return Err(ApiError::not_found("test clock"));
    }
    store::test_clocks::find(env, &caller.merchant_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("test clock"))
}

/// `POST /v1/test_clocks`.
pub async fn create(mut req: Request, env: &Env, caller: &Caller) -> ApiResult {
    enabled(env)?;
    let request: CreateTestClock = parse(body_value(&mut req).await?)?;
    let (frozen_time, name) = request.checked()?;
    let row = TestClockRow {
        id: random::id(IdKind::TestClock)?,
        merchant_id: caller.merchant_id.clone(),
        name,
        frozen_time,
        status: "ready".into(),
        created: clock::now_seconds(),
    };
    store::test_clocks::insert(env, &row).await?;
    json(200, &row.view())
}

/// `GET /v1/test_clocks/:id`.
pub async fn retrieve(env: &Env, caller: &Caller, id: &str) -> ApiResult {
    enabled(env)?;
    json(200, &test_clock(env, caller, id).await?.view())
}

/// `POST /v1/test_clocks/:id/advance {frozen_time}`.
pub async fn advance(mut req: Request, env: &Env, caller: &Caller, id: &str) -> ApiResult {
    enabled(env)?;
    let request: AdvanceTestClock = parse(body_value(&mut req).await?)?;
    let row = test_clock(env, caller, id).await?;
    if row.status != "ready" {
        return Err(ApiError::new(ErrorCode::TestClockBusy));
    }
    check_advance(row.frozen_time, request.frozen_time)?;
    let started = clock::now_seconds();
    if !store::test_clocks::advance(env, id, row.frozen_time, request.frozen_time, started).await? {
        return Err(ApiError::new(ErrorCode::TestClockBusy));
    }
    let mut more = billing::run(env, Some(id)).await?;
    // Another run (the cron's) may be charging one of this clock's invoices: wait for it a
    // little, so that the answer comes after what the new time billed.
    let mut charging = !more && store::subscriptions::charging_on_clock(env, id).await?;
    for _ in 0..CHARGE_WAIT_ROUNDS {
        if !charging {
            break;
        }
        worker::Delay::from(Duration::from_millis(CHARGE_WAIT_MS)).await;
        more = billing::run(env, Some(id)).await?;
        charging = !more && store::subscriptions::charging_on_clock(env, id).await?;
    }
    if !more && !charging {
        store::test_clocks::mark_ready(env, Some(id), clock::now_seconds()).await?;
    }
    json(200, &test_clock(env, caller, id).await?.view())
}

/// How long an advance waits for a charge another run is making: 20 × 250 ms.
const CHARGE_WAIT_ROUNDS: usize = 20;
const CHARGE_WAIT_MS: u64 = 250;
