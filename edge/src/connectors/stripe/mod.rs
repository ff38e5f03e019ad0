//! Stripe (`https://api.stripe.com`, or localstripe in tests): form-encoded requests with a
//! Bearer secret key, `Idempotency-Key` on every change, Till's ids in the metadata
//! (`till_payment` on the payment intent, `till_refund` on the refund), `Stripe-Signature`
//! webhooks and the balance transactions as the settlement file.
//!
//! An authorization is two calls: `POST /v1/payment_methods` with the card (the account must be
//! allowed to send raw card numbers), then `POST /v1/payment_intents` confirmed at once. A card
//! error on either is a declined payment, not a failed call.
//!
//! Where localstripe (the fake the end-to-end tests run against) differs, the connector does what
//! real Stripe needs and falls back only on localstripe's tell-tale answers:
//! - no search (`/v1/payment_intents/search` is a 404): a bounded list of intents instead;
//! - no `created` filter on balance transactions (a 400): the day is kept here;
//! - no `amount_received`: the captured amount is read from the (always expanded) charge;
//! - 402 errors typed `invalid_request_error` and without the intent: any 402 is a card error;
//! - `POST /v1/payment_intents/:id/_authenticate` stands in for the issuer's 3-D Secure page.
//!
//! localstripe also ignores `Idempotency-Key` and sends no refund events; the connector sends
//! the one and reads the other as Stripe documents them.

mod transformers;

use super::transport;
use super::{
    AccountCredentials, Answer, Authorization, Connector, GatewayDispute, GatewayError,
    GatewayEvent, GatewayPayment, PaymentLookup, RefundAnswer, WebhookError,
};
use std::collections::HashMap;
use till_core::dispute::EvidenceSummary;
use till_core::reconciliation::SettlementLine;
use transformers::{
    classify, encode_component, evidence_form, form, parse, StripeBalanceTransaction,
    StripeDispute, StripeIntent, StripeList,
    StripePaymentMethod, StripeRefund, StripeReply, TillReference,
};
use worker::Method;

/// Pages of 100 intents read when search is missing (localstripe): a bounded look at the recent.
const MAX_INTENT_PAGES: usize = 10;
/// Pages of 100 balance transactions read for one day; a busier day is refused, not cut short
/// (a cut file would report settled payments as missing).
const MAX_SETTLEMENT_PAGES: usize = 30;
/// Intents looked up one by one when a charge's intent came unexpanded.
const MAX_INTENT_LOOKUPS: usize = 40;

/// How the balance transactions are asked for.
#[derive(Clone, Copy, Default)]
struct SettlementShape {
    /// `created[gte]`/`created[lt]` sent (localstripe refuses them).
    filtered: bool,
    /// `expand[]=data.source.payment_intent` sent.
    expand_intents: bool,
}

/// Real Stripe's shape first, then the fallbacks a 400 to the first page moves to.
const SETTLEMENT_SHAPES: [SettlementShape; 3] = [
    SettlementShape {
        filtered: true,
        expand_intents: true,
    },
    SettlementShape {
        filtered: true,
        expand_intents: false,
    },
    SettlementShape {
        filtered: false,
        expand_intents: true,
    },
];

/// The OTP the test issuer page (localstripe's `_authenticate`) treats as passed.
const TEST_OTP: &str = "123456";

pub struct Stripe {
    credentials: AccountCredentials,
    timeout_ms: u64,
}

fn not_found() -> GatewayError {
    GatewayError::Rejected {
        status: 404,
        code: "not_found".into(),
    }
}

/// A card error where Till expects none (capture, cancel): a refusal with Till's code.
fn card_refusal(error: &transformers::StripeErrorBody) -> GatewayError {
    GatewayError::Rejected {
        status: 402,
        code: error.till_code().as_str().into(),
    }
}

impl Stripe {
    pub fn new(credentials: AccountCredentials, timeout_ms: u64) -> Self {
        Stripe {
            credentials,
            timeout_ms,
        }
    }

    /// One call; `form` is the body of a POST (`application/x-www-form-urlencoded`).
    async fn call(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        form: Option<String>,
    ) -> Result<StripeReply, GatewayError> {
        let authorization = format!("Bearer {}", self.credentials.api_key.expose());
        let mut headers = vec![("Authorization", authorization.as_str())];
        if let Some(key) = key {
            headers.push(("Idempotency-Key", key));
        }
        let url = format!("{}{path}", self.credentials.url.trim_end_matches('/'));
        let body = form.map(|f| ("application/x-www-form-urlencoded", f));
        let reply = transport::send(method, &url, &headers, body, self.timeout_ms).await?;
        classify(reply.status, reply.body)
    }

    async fn get_intent(&self, id: &str) -> Result<Option<StripeIntent>, GatewayError> {
        let path = format!("/v1/payment_intents/{}", encode_component(id));
        match self.call(Method::Get, &path, None, None).await? {
            StripeReply::Success(body) => parse(&body).map(Some),
            StripeReply::NotFound => Ok(None),
            StripeReply::CardError(error) => Err(card_refusal(&error)),
        }
    }

    /// A POST on an existing intent (capture, cancel) and the intent it answers with.
    async fn change_intent(
        &self,
        reference: &str,
        action: &str,
        key: &str,
        body: String,
    ) -> Result<GatewayPayment, GatewayError> {
        let path = format!(
            "/v1/payment_intents/{}/{action}",
            encode_component(reference)
        );
        match self
            .call(Method::Post, &path, Some(key), Some(body))
            .await?
        {
            StripeReply::Success(body) => parse::<StripeIntent>(&body)?.try_into(),
            StripeReply::NotFound => Err(not_found()),
            StripeReply::CardError(error) => Err(card_refusal(&error)),
        }
    }

    /// `POST /v1/disputes/:id[/close]`: the dispute as it stands after.
    async fn change_dispute(
        &self,
        path: &str,
        key: &str,
        body: String,
    ) -> Result<GatewayDispute, GatewayError> {
        match self
            .call(Method::Post, path, Some(key), Some(body))
            .await?
        {
            StripeReply::Success(body) => parse::<StripeDispute>(&body)?
                .gateway_dispute()
                .ok_or_else(|| GatewayError::Unavailable("dispute in an unknown state".into())),
            StripeReply::NotFound => Err(not_found()),
            StripeReply::CardError(error) => Err(card_refusal(&error)),
        }
    }

    /// The intent carrying Till's payment id: Stripe's search, or where there is none
    /// (localstripe) the most recent intents, listed page by page.
    async fn intent_for_payment(
        &self,
        payment_id: &str,
    ) -> Result<Option<StripeIntent>, GatewayError> {
        let query = transformers::search_query(payment_id);
        let path = format!(
            "/v1/payment_intents/search?{}",
            form(&[("query", query.as_str()), ("limit", "10")])
        );
        let is_it = |intent: &StripeIntent| intent.till_payment().as_deref() == Some(payment_id);
        match self.call(Method::Get, &path, None, None).await {
            Ok(StripeReply::Success(body)) => {
                let found: StripeList<StripeIntent> = parse(&body)?;
                return Ok(found.data.into_iter().find(is_it));
            }
            Ok(StripeReply::CardError(error)) => return Err(card_refusal(&error)),
            // No search here: localstripe (404), or an account search is not offered to (400).
            Ok(StripeReply::NotFound) | Err(GatewayError::Rejected { status: 400, .. }) => {}
            Err(error) => return Err(error),
        }
        let mut after: Option<String> = None;
        for _ in 0..MAX_INTENT_PAGES {
            let mut query = vec![("limit", "100")];
            if let Some(last) = &after {
                query.push(("starting_after", last.as_str()));
            }
            let path = format!("/v1/payment_intents?{}", form(&query));
            let page: StripeList<StripeIntent> =
                match self.call(Method::Get, &path, None, None).await? {
                    StripeReply::Success(body) => parse(&body)?,
                    StripeReply::NotFound => return Ok(None),
                    StripeReply::CardError(error) => return Err(card_refusal(&error)),
                };
            let last = page.data.last().map(|intent| intent.id.clone());
            let has_more = page.has_more;
            if let Some(found) = page.data.into_iter().find(is_it) {
                return Ok(Some(found));
            }
            match last {
                Some(last) if has_more => after = Some(last),
                _ => return Ok(None),
            }
        }
        Ok(None)
    }

    /// A day's balance transactions, with their sources (and the sources' intents) expanded.
    ///
    /// The first page is asked in the shape real Stripe takes; a 400 to it moves to the next
    /// [`SETTLEMENT_SHAPES`]: without the nested expansion (intents are then looked up one by
    /// one), then without the `created` filter localstripe refuses (the day is kept here).
    async fn balance_transactions(
        &self,
        start: i64,
        end: i64,
    ) -> Result<Vec<StripeBalanceTransaction>, GatewayError> {
        let (gte, lt) = (start.to_string(), end.to_string());
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        let mut shapes = SETTLEMENT_SHAPES.iter().peekable();
        let mut shape = shapes.next().copied().unwrap_or_default();
        for _ in 0..MAX_SETTLEMENT_PAGES {
            let mut query = vec![("limit", "100"), ("expand[]", "data.source")];
            if shape.expand_intents {
                query.push(("expand[]", "data.source.payment_intent"));
            }
            if shape.filtered {
                query.push(("created[gte]", gte.as_str()));
                query.push(("created[lt]", lt.as_str()));
            }
            if let Some(last) = &after {
                query.push(("starting_after", last.as_str()));
            }
            let path = format!("/v1/balance_transactions?{}", form(&query));
            let page: StripeList<StripeBalanceTransaction> =
                match self.call(Method::Get, &path, None, None).await {
                    Ok(StripeReply::Success(body)) => parse(&body)?,
                    Ok(StripeReply::NotFound) => return Err(not_found()),
                    Ok(StripeReply::CardError(error)) => return Err(card_refusal(&error)),
                    Err(GatewayError::Rejected { status: 400, .. })
                        if after.is_none() && shapes.peek().is_some() =>
                    {
                        shape = shapes.next().copied().unwrap_or_default();
                        continue;
                    }
                    Err(error) => return Err(error),
                };
            let last = page.data.last().map(|txn| txn.id.clone());
            // Newest first: once a page reaches before the day, the rest is older still.
            let reached_start = page.data.iter().any(|txn| txn.created < start);
            out.extend(
                page.data
                    .into_iter()
                    .filter(|txn| start <= txn.created && txn.created < end),
            );
            match last {
                Some(last) if page.has_more && (shape.filtered || !reached_start) => {
                    after = Some(last)
                }
                _ => return Ok(out),
            }
        }
        Err(GatewayError::Unavailable(format!(
            "more than {MAX_SETTLEMENT_PAGES} pages of balance transactions in one day"
        )))
    }
}

impl Stripe {
    /// Makes a new PaymentMethod reusable: Stripe charges a PaymentMethod again only when it
    /// was attached to a Customer before its first use. One Customer per saved card, named by
    /// Till's payment in its metadata. `Ok(Err(..))`: the card was declined on attaching.
    async fn keep_for_reuse(
        &self,
        payment_method: &str,
        request: &Authorization,
        key: &str,
    ) -> Result<Result<transformers::SavedCard, GatewayPayment>, GatewayError> {
        let customer_form = form(&[("metadata[till_payment]", request.reference.as_str())]);
        let customer: transformers::StripeCustomer = match self
            .call(
                Method::Post,
                "/v1/customers",
                Some(&format!("{key}-customer")),
                Some(customer_form),
            )
            .await?
        {
            StripeReply::Success(body) => parse(&body)?,
            StripeReply::NotFound => return Err(not_found()),
            StripeReply::CardError(error) => return Ok(Err(transformers::declined(error, ""))),
        };
        let path = format!(
            "/v1/payment_methods/{}/attach",
            encode_component(payment_method)
        );
        match self
            .call(
                Method::Post,
                &path,
                Some(&format!("{key}-attach")),
                Some(form(&[("customer", customer.id.as_str())])),
            )
            .await?
        {
            StripeReply::Success(_) => Ok(Ok(transformers::SavedCard {
                customer: Some(customer.id),
                payment_method: payment_method.to_string(),
            })),
            StripeReply::NotFound => Err(not_found()),
            StripeReply::CardError(error) => Ok(Err(transformers::declined(error, ""))),
        }
    }
}

impl Connector for Stripe {
    fn authorize<'a>(
        &'a self,
        request: &'a Authorization,
        key: &'a str,
    ) -> Answer<'a, GatewayPayment> {
        Box::pin(async move {
            // A saved card is charged through the PaymentMethod (and Customer) Stripe made for
            // it the first time; a new card becomes one now, and so does a saved card whose
            // code was typed again (Stripe checks a code only on a card it is given).
            let saved = match (&request.card_reference, &request.card.cvc) {
                (Some(reference), None) => transformers::SavedCard::parse(reference),
                _ => {
                    let card = transformers::payment_method_form(&request.card);
                    let method_key = format!("{key}-pm");
                    let created: StripePaymentMethod = match self
                        .call(
                            Method::Post,
                            "/v1/payment_methods",
                            Some(&method_key),
                            Some(card.expose().clone()),
                        )
                        .await?
                    {
                        StripeReply::Success(body) => parse(&body)?,
                        StripeReply::NotFound => return Err(not_found()),
                        // The card itself was refused (a wrong number, an expired card).
                        StripeReply::CardError(error) => {
                            return Ok(transformers::declined(error, ""))
                        }
                    };
                    if request.save_for_reuse {
                        match self.keep_for_reuse(&created.id, request, key).await? {
                            Ok(saved) => saved,
                            Err(declined) => return Ok(declined),
                        }
                    } else {
                        transformers::SavedCard {
                            customer: None,
                            payment_method: created.id,
                        }
                    }
                }
            };
            let body = transformers::payment_intent_form(request, &saved);
            match self
                .call(Method::Post, "/v1/payment_intents", Some(key), Some(body))
                .await?
            {
                StripeReply::Success(body) => parse::<StripeIntent>(&body)?.try_into(),
                StripeReply::NotFound => Err(not_found()),
                StripeReply::CardError(error) => Ok(transformers::declined(error, "")),
            }
        })
    }

    /// The intent by its id, or by Till's payment id in its metadata.
    ///
    /// Recovery after a lost answer relies on two things real Stripe does: a POST sent again with
    /// the same `Idempotency-Key` within 24 hours replays the first answer instead of charging
    /// again, so authorizing again after `Ok(None)` is safe; and search is eventually consistent
    /// (an intent may take about a minute to appear), so a `None` now is not final, which is why
    /// the poller asks again. localstripe has no search (404): the recent intents are listed
    /// instead, at most [`MAX_INTENT_PAGES`] pages.
    fn find<'a>(&'a self, lookup: &'a PaymentLookup<'a>) -> Answer<'a, Option<GatewayPayment>> {
        Box::pin(async move {
            let intent = match lookup.gateway_reference {
                Some(reference) => self.get_intent(reference).await?,
                None => self.intent_for_payment(lookup.payment_id).await?,
            };
            intent.map(GatewayPayment::try_from).transpose()
        })
    }

    /// Stripe has no OTP: the customer authenticates on the issuer's page (the intent's
    /// `next_action`), and Stripe moves the intent on by itself. This re-reads the intent; when it
    /// still requires action it posts the code's verdict (`otp == "123456"`) to
    /// `POST /v1/payment_intents/:id/_authenticate` with the intent's `client_secret`. That
    /// endpoint exists only in localstripe, where it stands in for the issuer's page in tests; on
    /// real Stripe it is a 404 and the intent is read again, whatever the customer did there.
    fn challenge<'a>(
        &'a self,
        reference: &'a str,
        otp: &'a str,
        key: &'a str,
    ) -> Answer<'a, GatewayPayment> {
        Box::pin(async move {
            let intent = self.get_intent(reference).await?.ok_or_else(not_found)?;
            let client_secret = match (&intent.client_secret, intent.status.as_str()) {
                (Some(secret), "requires_action") => secret.expose().clone(),
                // Already decided (a retried challenge, a webhook first): report it.
                _ => return intent.try_into(),
            };
            let body = form(&[
                ("client_secret", client_secret.as_str()),
                ("success", if otp == TEST_OTP { "true" } else { "false" }),
            ]);
            let path = format!(
                "/v1/payment_intents/{}/_authenticate",
                encode_component(reference)
            );
            match self
                .call(Method::Post, &path, Some(key), Some(body))
                .await?
            {
                StripeReply::Success(body) => parse::<StripeIntent>(&body)?.try_into(),
                // Passed, then declined when charged.
                StripeReply::CardError(error) => Ok(transformers::declined(error, reference)),
                // Real Stripe: the customer's verdict is on the issuer's page, not here.
                StripeReply::NotFound => self
                    .get_intent(reference)
                    .await?
                    .ok_or_else(not_found)?
                    .try_into(),
            }
        })
    }

    fn capture<'a>(
        &'a self,
        reference: &'a str,
        amount: i64,
        key: &'a str,
    ) -> Answer<'a, GatewayPayment> {
        Box::pin(async move {
            let amount = amount.to_string();
            let body = form(&[("amount_to_capture", amount.as_str())]);
            self.change_intent(reference, "capture", key, body).await
        })
    }

    fn void<'a>(&'a self, reference: &'a str, key: &'a str) -> Answer<'a, GatewayPayment> {
        Box::pin(async move {
            self.change_intent(reference, "cancel", key, String::new())
                .await
        })
    }

    fn refund<'a>(
        &'a self,
        reference: &'a str,
        amount: i64,
        refund_id: &'a str,
        key: &'a str,
    ) -> Answer<'a, RefundAnswer> {
        Box::pin(async move {
            let amount = amount.to_string();
            let body = form(&[
                ("payment_intent", reference),
                ("amount", amount.as_str()),
                ("metadata[till_refund]", refund_id),
            ]);
            let refund: StripeRefund = match self
                .call(Method::Post, "/v1/refunds", Some(key), Some(body))
                .await
            {
                Ok(StripeReply::Success(body)) => parse(&body)?,
                Ok(StripeReply::NotFound) => return Ok(RefundAnswer::Refused("not_found".into())),
                Ok(StripeReply::CardError(error)) => {
                    return Ok(RefundAnswer::Refused(error.till_code().as_str().into()))
                }
                Err(GatewayError::Rejected { code, .. }) => return Ok(RefundAnswer::Refused(code)),
                Err(unavailable) => return Err(unavailable),
            };
            Option::<RefundAnswer>::from(refund)
                .ok_or_else(|| GatewayError::Unavailable("refund still pending".into()))
        })
    }

    /// The text only: Stripe takes files as uploads to `files.stripe.com` (not done), so the edge
    /// refuses files for a Stripe account before anything is stored ([`Connector::takes_evidence_files`]).
    fn submit_evidence<'a>(
        &'a self,
        reference: &'a str,
        evidence: &'a EvidenceSummary,
        key: &'a str,
    ) -> Answer<'a, GatewayDispute> {
        Box::pin(async move {
            let path = format!("/v1/disputes/{}", encode_component(reference));
            self.change_dispute(&path, key, evidence_form(&evidence.text))
                .await
        })
    }

    fn accept_dispute<'a>(&'a self, reference: &'a str, key: &'a str) -> Answer<'a, GatewayDispute> {
        Box::pin(async move {
            let path = format!("/v1/disputes/{}/close", encode_component(reference));
            self.change_dispute(&path, key, String::new()).await
        })
    }

    fn takes_evidence_files(&self) -> bool {
        false
    }

    /// The day's charges and refunds from the balance transactions. Till's id is in the metadata
    /// of the charge (or of its payment intent) and of the refund; transactions without one are
    /// not Till's and are left out (payouts, fees, charges made outside Till, and localstripe's
    /// refund of the uncaptured rest of a partial capture, a line real Stripe never writes).
    fn settlement<'a>(&'a self, date: &'a str) -> Answer<'a, Vec<SettlementLine>> {
        Box::pin(async move {
            let (start, end) = till_core::reconciliation::day_bounds(date).ok_or_else(|| {
                GatewayError::Rejected {
                    status: 400,
                    code: "date_invalid".into(),
                }
            })?;
            let transactions = self.balance_transactions(start, end).await?;
            let mut intents: HashMap<String, Option<String>> = HashMap::new();
            let mut lines = Vec::new();
            for txn in &transactions {
                let reference = match txn.till_reference()? {
                    TillReference::Known(reference) => Some(reference),
                    TillReference::NotTill => None,
                    TillReference::Intent(id) => match intents.get(&id) {
                        Some(known) => known.clone(),
                        None if intents.len() >= MAX_INTENT_LOOKUPS => {
                            return Err(GatewayError::Unavailable(format!(
                                "more than {MAX_INTENT_LOOKUPS} intents to look up"
                            )))
                        }
                        None => {
                            let known = self
                                .get_intent(&id)
                                .await?
                                .and_then(|intent| intent.till_payment());
                            intents.insert(id, known.clone());
                            known
                        }
                    },
                };
                if let Some(line) = reference.and_then(|reference| txn.line(reference)) {
                    lines.push(line);
                }
            }
            Ok(lines)
        })
    }

    fn webhook(
        &self,
        signature: &str,
        body: &[u8],
        now: i64,
    ) -> Result<GatewayEvent, WebhookError> {
        super::signed_event(&self.credentials, signature, body, now, transformers::event)
    }

    fn signature_header(&self) -> &'static str {
        "Stripe-Signature"
    }
}
