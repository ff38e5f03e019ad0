//! The wallet page's calls to the edge: its customer session's wallet, top-ups, transfers and
//! withdrawals. What it decodes of each answer is only what the page shows.

use super::wallet_launch::WalletLaunch;
use crate::api::{CallError, Edge};
use serde::Deserialize;
use till_core::api::CustomerAction;
use till_core::api::{CreateTopUp, WalletPayout, WalletTransfer};
use till_core::card::Brand;
use till_core::money::{Currency, Money};
use till_core::payout::BankAccountInput;
use till_core::secret::Secret;
use till_core::subscription::{CustomerSubscription, CustomerSubscriptionChange, PayInvoice};

pub type CallResult<T> = Result<T, CallError>;

#[derive(Debug, Clone, Deserialize)]
pub struct WalletView {
    #[serde(default)]
    pub name: Option<String>,
    pub balances: Vec<Balance>,
    pub history: Vec<Movement>,
    #[serde(default)]
    pub return_url: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Balance {
    pub amount: i64,
    pub currency: Currency,
}

/// One line of the wallet's history.
#[derive(Debug, Clone, Deserialize)]
pub struct Movement {
    pub id: String,
    pub kind: String,
    pub amount: i64,
    pub currency: Currency,
    pub created: i64,
}

/// The checkout session a top-up is paid in.
#[derive(Debug, Clone, Deserialize)]
pub struct TopUpCheckout {
    pub id: String,
    pub client_secret: String,
}

/// A transfer or a payout, as the page reports it.
#[derive(Debug, Clone, Deserialize)]
pub struct Moved {
    pub id: String,
    pub status: String,
}

/// A withdrawal's destination as typed.
pub struct BankDetails {
    pub holder_name: String,
    pub routing_number: String,
    pub account_number: String,
}

/// One of the customer's orders, as the page shows it.
#[derive(Debug, Clone, Deserialize)]
pub struct OrderView {
    pub id: String,
    pub amount: i64,
    pub currency: Currency,
    pub status: String,
    pub amount_refunded: i64,
    pub refundable: i64,
    #[serde(default)]
    pub merchant_reference: Option<String>,
    pub line_items: Vec<OrderLine>,
    #[serde(default)]
    pub request: Option<RequestView>,
    pub created: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct OrderLine {
    pub name: String,
    pub quantity: u32,
}

/// The customer's latest refund or return request about an order.
#[derive(Debug, Clone, Deserialize)]
pub struct RequestView {
    pub kind: String,
    pub status: String,
    #[serde(default)]
    pub decline_reason: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Orders {
    pub data: Vec<OrderView>,
}

/// The customer's subscriptions, as their page shows them.
#[derive(Debug, Clone, Deserialize)]
pub struct SubscriptionList {
    pub data: Vec<CustomerSubscription>,
}

/// One of the customer's saved cards, as the page offers it.
#[derive(Debug, Clone, Deserialize)]
pub struct SavedCard {
    pub id: String,
    pub card: SavedCardDetails,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SavedCardDetails {
    pub brand: Brand,
    pub last4: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SavedCards {
    pub data: Vec<SavedCard>,
}

/// What `POST …/refund_requests` is sent.
#[derive(serde::Serialize)]
struct NewRequest<'a> {
    client_secret: &'a str,
    payment: &'a str,
    kind: &'a str,
    reason: &'a str,
}

to_json_by_serde!(
    CreateTopUp,
    WalletTransfer,
    WalletPayout,
    PayInvoice,
    CustomerSubscriptionChange,
    NewRequest<'_>,
);

from_json_by_serde!(
    WalletView,
    TopUpCheckout,
    Moved,
    Orders,
    SubscriptionList,
    SavedCards,
    CustomerAction,
    CustomerSubscription,
    RequestView,
);

#[derive(Clone)]
pub struct WalletApi {
    edge: Edge,
    launch: WalletLaunch,
}

impl WalletApi {
    pub fn new(launch: &WalletLaunch) -> Self {
        WalletApi {
            edge: Edge {
                publishable_key: launch.publishable_key.clone(),
            },
            launch: launch.clone(),
        }
    }

    pub fn launch(&self) -> &WalletLaunch {
        &self.launch
    }

    fn path(&self, what: &str) -> String {
        format!("/v1/customer_sessions/{}/{what}", self.launch.session_id())
    }

    pub async fn wallet(&self) -> Result<WalletView, CallError> {
        self.edge
            .get(
                &self.path("wallet"),
                &[("client_secret", &self.launch.customer_session)],
            )
            .await
    }

    pub async fn top_up(&self, money: Money) -> Result<TopUpCheckout, CallError> {
        let body = CreateTopUp {
            client_secret: self.launch.customer_session.clone(),
            amount: money.amount,
            currency: money.currency,
        };
        self.edge.post(&self.path("top_ups"), &body, None).await
    }

    pub async fn transfer(
        &self,
        to: &str,
        money: Money,
        note: Option<String>,
        idempotency_key: &str,
    ) -> Result<Moved, CallError> {
        let body = WalletTransfer {
            client_secret: self.launch.customer_session.clone(),
            to: to.to_string(),
            amount: money.amount,
            currency: money.currency,
            note,
        };
        self.edge
            .post(&self.path("transfers"), &body, Some(idempotency_key))
            .await
    }

    pub async fn payout(
        &self,
        account: BankDetails,
        money: Money,
        idempotency_key: &str,
    ) -> Result<Moved, CallError> {
        let body = WalletPayout {
            client_secret: self.launch.customer_session.clone(),
            amount: money.amount,
            currency: money.currency,
            bank_account: BankAccountInput {
                holder_name: account.holder_name,
                routing_number: account.routing_number,
                account_number: Secret::new(account.account_number),
            },
        };
        self.edge
            .post(&self.path("payouts"), &body, Some(idempotency_key))
            .await
    }

    pub async fn orders(&self) -> Result<Orders, CallError> {
        self.edge
            .get(
                &self.path("orders"),
                &[("client_secret", &self.launch.customer_session)],
            )
            .await
    }

    pub async fn subscriptions(&self) -> Result<SubscriptionList, CallError> {
        self.edge
            .get(
                &self.path("subscriptions"),
                &[("client_secret", &self.launch.customer_session)],
            )
            .await
    }

    pub async fn saved_cards(&self) -> Result<SavedCards, CallError> {
        self.edge
            .get(
                &self.path("payment_methods"),
                &[("client_secret", &self.launch.customer_session)],
            )
            .await
    }

    /// The checkout session to pay open invoice `id` in, on the hosted checkout page.
    pub async fn pay_invoice(&self, id: &str) -> Result<CustomerAction, CallError> {
        let body = PayInvoice {
            client_secret: self.launch.customer_session.clone(),
            invoice: id.to_string(),
        };
        self.edge
            .post(&self.path("invoice_payments"), &body, None)
            .await
    }

    /// Switches subscription `id` to another saved card, or cancels it at the period's end
    /// (or takes that back): the subscription as it is after.
    pub async fn change_subscription(
        &self,
        id: &str,
        payment_method: Option<String>,
        cancel_at_period_end: Option<bool>,
    ) -> Result<CustomerSubscription, CallError> {
        let body = CustomerSubscriptionChange {
            client_secret: self.launch.customer_session.clone(),
            subscription: id.to_string(),
            payment_method,
            cancel_at_period_end,
        };
        self.edge
            .post(&self.path("subscriptions"), &body, None)
            .await
    }

    /// Asks the shop for a `refund` or a `return` of an order, for all that is left.
    pub async fn request_refund(
        &self,
        payment: &str,
        kind: &str,
        reason: &str,
    ) -> Result<RequestView, CallError> {
        let body = NewRequest {
            client_secret: &self.launch.customer_session,
            payment,
            kind,
            reason,
        };
        self.edge
            .post(&self.path("refund_requests"), &body, None)
            .await
    }
}
