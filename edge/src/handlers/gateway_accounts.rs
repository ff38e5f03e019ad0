//! `POST /v1/gateway_accounts` (secret key): a merchant connects its own gateway account (for
//! example its Stripe keys). Credentials are stored sealed with the vault key and never shown
//! again; a second call replaces them (key rotation). The answer says where the gateway must
//! send its webhooks.

use crate::auth::Caller;
use crate::connectors;
use crate::http::{body_value, json, parse, ApiResult};
use crate::store::{self, gateway_accounts::GatewayAccountRow};
use crate::vault::Vault;
use crate::{clock, config, random};
use till_core::api::{CreateGatewayAccount, GatewayAccount};
use till_core::error::{ApiError, ErrorCode};
use till_core::ids::IdKind;
use till_core::urls::DevHosts;
use worker::{Env, Request};

pub async fn save(mut req: Request, env: &Env, caller: &Caller) -> ApiResult {
    let request: CreateGatewayAccount = parse(body_value(&mut req).await?)?;
    let Some(default_url) = connectors::default_url(&request.connector) else {
        return Err(ApiError::new(ErrorCode::ConnectorInvalid)
            .with_message(format!(
                "connector must be one of: {}.",
                connectors::NAMES.join(", ")
            ))
            .with_param("connector"));
    };
    let dev_hosts = config::dev_http_hosts(env);
    let url = request.validate(default_url, DevHosts(&dev_hosts))?;
    config::check_outbound(env, &url)?;
    let now = clock::now_seconds();
    let existing = store::gateway_accounts::of_merchant(env, &caller.merchant_id).await?;
    let (id, created) = match existing {
        Some(account) => (account.id, account.created),
        None => (random::id(IdKind::GatewayAccount)?, now),
    };
    let credentials = connectors::AccountCredentials {
        url,
        api_key: request.api_key,
        webhook_secret: request.webhook_secret,
    };
    let text = serde_json::to_string(&credentials).map_err(|_| ApiError::internal())?;
    let account = GatewayAccountRow {
        sealed_credentials: Vault::open(env)?.seal_text(&id, &text)?,
        id,
        merchant_id: caller.merchant_id.clone(),
        connector: request.connector,
        created,
        updated: now,
    };
    store::gateway_accounts::save(env, &account).await?;
    let origin = req
        .url()
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    json(
        200,
        &GatewayAccount {
            webhook_url: format!("{origin}/v1/webhooks/gateway/{}", account.id),
            id: account.id,
            object: "gateway_account".into(),
            connector: account.connector,
            created: account.created,
            updated: account.updated,
        },
    )
}
