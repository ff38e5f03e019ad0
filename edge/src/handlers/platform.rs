//! `/v1/platform/merchants` (the platform's secret): onboarding a merchant without SQL. The
//! answer is the only place its first keys are ever shown.

use crate::handlers::api_keys::{mint, shown_once};
use crate::http::{body_value, json, parse, ApiResult};
use crate::store::audit::AuditRow;
use crate::store::merchants::MerchantRow;
use crate::{clock, config, random, store};
use till_core::api_keys::KeyKind;
use till_core::ids::IdKind;
use till_core::merchant::{CreateMerchant, MerchantView};
use till_core::urls::DevHosts;
use worker::{Env, Request};

/// `POST /v1/platform/merchants`: the merchant, its origins, a secret and a publishable key.
pub async fn create_merchant(mut req: Request, env: &Env) -> ApiResult {
    let request: CreateMerchant = parse(body_value(&mut req).await?)?;
    let dev_hosts = config::dev_http_hosts(env);
    let valid = request.validate(DevHosts(&dev_hosts))?;
    let now = clock::now_seconds();
    let merchant = MerchantRow {
        id: random::id(IdKind::Merchant)?,
        name: valid.name,
        origins: valid.origins,
        created: now,
    };
    let (secret_row, secret) = mint(KeyKind::Secret, None, &[], now)?;
    let (publishable_row, publishable) = mint(KeyKind::Publishable, None, &[], now)?;
    let audit = AuditRow {
        id: random::id(IdKind::AuditEntry)?,
        actor: "platform".into(),
        action: "merchant.created",
        target: merchant.id.clone(),
        created: now,
    };
    store::merchants::create(env, &merchant, &[&secret_row, &publishable_row], &audit).await?;
    json(
        200,
        &MerchantView {
            id: merchant.id,
            object: "merchant".into(),
            name: merchant.name,
            origins: merchant.origins,
            created: now,
            api_keys: vec![
                shown_once(&secret_row, secret),
                shown_once(&publishable_row, publishable),
            ],
        },
    )
}
