//! Disputes for the merchant: list, retrieve, answer with evidence, accept, and read back an
//! evidence file. Evidence and acceptance are sent to the gateway keyed by the dispute, so a
//! retry (or a second request with another key) never answers the network twice; the gateway's
//! answer is applied like its webhooks ([`crate::disputes::settle`]).

use crate::auth::Caller;
use crate::connectors::{GatewayDispute, GatewayError};
use crate::disputes::settle;
use crate::http::{body_value_within, json, page_param, parse, query_param, ApiResult};
use crate::idempotency::{self, Ended};
use crate::store::disputes::{DisputeFilter, DisputeRow};
use crate::vault::Vault;
use crate::{clock, gateways, random, store};
use till_core::api::List;
use till_core::api_keys::hash_secret;
use till_core::dispute::{
    DisputeStatus, EvidenceSummary, FileType, SubmitEvidence, MAX_EVIDENCE_BODY_BYTES,
};
use till_core::error::{ApiError, ErrorCode};
use till_core::ids::{self, IdKind};
use worker::{Env, Request, Response};

async fn load(env: &Env, caller: &Caller, id: &str) -> Result<DisputeRow, ApiError> {
    let missing = || ApiError::not_found("dispute");
    if !ids::is_valid(IdKind::Dispute, id) {
        return Err(missing());
    }
    store::disputes::find(env, &caller.merchant_id, id)
        .await?
        .ok_or_else(missing)
}

fn stored(row: &DisputeRow) -> Result<Ended, ApiError> {
    let body = serde_json::to_string(&row.view()?).map_err(|_| ApiError::internal())?;
    Ok(Ended::Stored { status: 200, body })
}

/// `GET /v1/disputes?status=&payment=&limit=&starting_after=`: newest first.
pub async fn list(req: Request, env: &Env, caller: &Caller) -> ApiResult {
    let page = page_param(&req, IdKind::Dispute)?;
    let status = match query_param(&req, "status") {
        None => None,
        Some(text) => Some(DisputeStatus::parse(&text).ok_or_else(|| {
            ApiError::new(ErrorCode::ParameterInvalid)
                .with_message("status is one of needs_response, under_review, won, lost.")
                .with_param("status")
        })?),
    };
    let payment = query_param(&req, "payment");
    if payment
        .as_deref()
        .is_some_and(|id| !ids::is_valid(IdKind::Payment, id))
    {
        return Err(ApiError::new(ErrorCode::ParameterInvalid)
            .with_message("payment is a payment id (pay_...).")
            .with_param("payment"));
    }
    let filter = DisputeFilter {
        status,
        payment: payment.as_deref(),
        starting_after: page.starting_after.as_deref(),
        limit: page.limit + 1,
    };
    let rows = store::disputes::list(env, &caller.merchant_id, &filter)
        .await?
        .ok_or_else(ApiError::cursor_invalid)?;
    let disputes = rows
        .iter()
        .map(DisputeRow::view)
        .collect::<Result<Vec<_>, _>>()?;
    json(200, &List::page(disputes, page.limit))
}

/// `GET /v1/disputes/:id`.
pub async fn retrieve(env: &Env, caller: &Caller, id: &str) -> ApiResult {
    json(200, &load(env, caller, id).await?.view()?)
}

/// What a gateway's refusal or silence means to the merchant (nothing was changed at Till).
fn unanswered(row: &DisputeRow, error: GatewayError) -> Ended {
    crate::log_warn!("dispute {}: gateway did not take it: {error}", row.id);
    Ended::Retryable(match error {
        GatewayError::Unavailable(_) => ApiError::gateway_unavailable(),
        GatewayError::Rejected { .. } => ApiError::new(ErrorCode::DisputeRefusedByGateway),
    })
}

/// Applies the gateway's answer and answers with the dispute as it stands.
async fn answered(
    env: &Env,
    row: &mut DisputeRow,
    answer: GatewayDispute,
) -> Result<Ended, ApiError> {
    settle(env, row, answer.status).await?;
    stored(row)
}

/// Whether two submissions are the same evidence (a retry of one whose answer was lost).
fn same_evidence(a: &EvidenceSummary, b: &EvidenceSummary) -> bool {
    a.text == b.text
        && a.files.len() == b.files.len()
        && a.files.iter().zip(&b.files).all(|(x, y)| {
            x.sha256 == y.sha256 && x.filename == y.filename && x.content_type == y.content_type
        })
}

/// `POST /v1/disputes/:id/evidence` (`Idempotency-Key`): once, while the dispute needs a
/// response and before its due date. The evidence is kept at Till first (files sealed in the
/// vault, the summary on the dispute), then forwarded; a retry after a lost answer forwards
/// what was kept.
pub async fn submit_evidence(mut req: Request, env: &Env, caller: &Caller, id: &str) -> ApiResult {
    let body = body_value_within(&mut req, MAX_EVIDENCE_BODY_BYTES).await?;
    let scope = idempotency::scope_for(&req, &caller.merchant_id, "disputes.evidence", &body)?;
    let request: SubmitEvidence = parse(body)?;
    let mut row = load(env, caller, id).await?;
    idempotency::once(env, &scope, || async {
        let checked = match request.validate() {
            Ok(checked) => checked,
            Err(error) => return Ok(Ended::Retryable(error.into())),
        };
        let now = clock::now_seconds();
        let status = row.status()?;
        let kept = row.evidence()?;
        // Only a dispute whose evidence was kept and never forwarded (a lost answer) may be
        // answered again, and only with the same evidence.
        if kept.is_none() {
            if let Err(refused) = status.submit_evidence(row.evidence_due_by, now) {
                return Ok(Ended::Retryable(refused));
            }
        } else if status != DisputeStatus::NeedsResponse {
            return Ok(Ended::Retryable(ApiError::new(if status.is_final() {
                ErrorCode::DisputeClosed
            } else {
                ErrorCode::DisputeUnderReview
            })));
        }
        let gateway = gateways::for_account(env, row.gateway_account_id.as_deref()).await?;
        if !checked.files.is_empty() && !gateway.connector.takes_evidence_files() {
            return Ok(Ended::Retryable(
                ApiError::new(ErrorCode::EvidenceFileInvalid)
                    .with_message(
                        "This dispute's gateway takes evidence as text only: put what the files \
                         show in the text fields.",
                    )
                    .with_param("files"),
            ));
        }
        let mut summary = EvidenceSummary {
            submitted: now,
            text: checked.text.clone(),
            files: Vec::with_capacity(checked.files.len()),
        };
        let vault = Vault::open(env)?;
        for file in &checked.files {
            let file_id = random::id(IdKind::EvidenceFile)?;
            vault
                .keep_evidence_file(&caller.merchant_id, &file_id, &file.bytes)
                .await?;
            summary.files.push(file.summary(file_id));
        }
        let forwarded = match kept {
            Some(kept) if same_evidence(&kept, &summary) => kept,
            Some(_) => {
                return Ok(Ended::Retryable(ApiError::new(
                    ErrorCode::DisputeUnderReview,
                )))
            }
            None if store::disputes::keep_evidence(env, &row.id, &summary, now).await? => summary,
            None => {
                // Another submission was kept first.
                return Ok(Ended::Retryable(ApiError::new(
                    ErrorCode::DisputeUnderReview,
                )));
            }
        };
        row.evidence = Some(serde_json::to_string(&forwarded).map_err(|_| ApiError::internal())?);
        let key = hash_secret(&format!("{}\nevidence", row.id));
        match gateway
            .connector
            .submit_evidence(&row.gateway_reference, &forwarded, &key)
            .await
        {
            Ok(answer) => answered(env, &mut row, answer).await,
            Err(error) => Ok(unanswered(&row, error)),
        }
    })
    .await
}

/// `POST /v1/disputes/:id/close` (`Idempotency-Key`): the merchant accepts; the dispute is lost
/// and the withdrawn money stays with the cardholder.
pub async fn close(req: Request, env: &Env, caller: &Caller, id: &str) -> ApiResult {
    let scope = idempotency::scope_for(
        &req,
        &caller.merchant_id,
        "disputes.close",
        &serde_json::Value::Null,
    )?;
    let mut row = load(env, caller, id).await?;
    idempotency::once(env, &scope, || async {
        let status = row.status()?;
        if let Err(refused) = status.accept() {
            return Ok(Ended::Retryable(refused));
        }
        if row.evidence.is_some() {
            // Evidence is kept and on its way: the network will decide.
            return Ok(Ended::Retryable(ApiError::new(
                ErrorCode::DisputeUnderReview,
            )));
        }
        let gateway = gateways::for_account(env, row.gateway_account_id.as_deref()).await?;
        let key = hash_secret(&format!("{}\nclose", row.id));
        match gateway
            .connector
            .accept_dispute(&row.gateway_reference, &key)
            .await
        {
            Ok(answer) => answered(env, &mut row, answer).await,
            Err(error) => Ok(unanswered(&row, error)),
        }
    })
    .await
}

/// `GET /v1/dispute_files/:id`: an evidence file the merchant submitted, as it was submitted.
/// Another merchant's file id is not found.
pub async fn file(env: &Env, caller: &Caller, id: &str) -> ApiResult {
    let missing = || ApiError::not_found("evidence file");
    if !ids::is_valid(IdKind::EvidenceFile, id) {
        return Err(missing());
    }
    let bytes = Vault::open(env)?
        .evidence_file(&caller.merchant_id, id)
        .await?
        .ok_or_else(missing)?;
    let file_type = FileType::sniff(&bytes).ok_or_else(|| {
        crate::log_error!("evidence file {id}: stored bytes are not a PDF, PNG or JPEG");
        ApiError::internal()
    })?;
    let mut response = Response::from_bytes(bytes).map_err(|_| ApiError::internal())?;
    let headers = response.headers_mut();
    let set = |headers: &mut worker::Headers, name: &str, value: &str| {
        headers.set(name, value).map_err(|_| ApiError::internal())
    };
    set(headers, "Content-Type", file_type.mime())?;
    // Shown as a download, never rendered in Till's origin.
    set(headers, "Content-Disposition", "attachment")?;
    set(headers, "X-Content-Type-Options", "nosniff")?;
    Ok(response)
}
