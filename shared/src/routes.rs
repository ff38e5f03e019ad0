//! The API's route table: every endpoint, its method, its path pattern and who may call it. The
//! edge dispatches on [`resolve`]; a test holds the OpenAPI description (`api/openapi.json`) to
//! exactly this table, so the documentation cannot drift from the router.

use crate::api_keys::{Permission, Resource};

/// Every endpoint of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    OpenApi,
    Keys,
    CreateSession,
    RetrieveSession,
    ConfirmSession,
    SessionBanks,
    SessionPayment,
    ReopenSession,
    CreateToken,
    RetrievePayment,
    ChallengePayment,
    CapturePayment,
    CancelPayment,
    CreateRefund,
    RetrieveRefund,
    GatewayWebhook,
    AccountWebhook,
    CreateGatewayAccount,
    CreateWebhookEndpoint,
    ListDeliveries,
    StartReconciliation,
    ListReconciliations,
    RetrieveReconciliation,
    CreateCustomer,
    ListCustomers,
    RetrieveCustomer,
    UpdateCustomer,
    LookupCustomers,
    RetrieveCustomerBalance,
    CreateTransfer,
    RetrieveTransfer,
    RetrieveBalance,
    ListLedgerEntries,
    CreatePayment,
    ListPaymentMethods,
    DetachPaymentMethod,
    CreateCustomerSession,
    ListSessionPaymentMethods,
    CreatePayout,
    RetrievePayout,
    BankWebhook,
    RetrieveWallet,
    CreateWalletTopUp,
    CreateWalletTransfer,
    CreateWalletPayout,
    ListApiKeys,
    CreateApiKey,
    RollApiKey,
    RevokeApiKey,
    ListOrigins,
    AddOrigin,
    RemoveOrigin,
    ListAuditLog,
    CreateMerchant,
    ListPayments,
    PaymentTimeline,
    ListRefunds,
    ListSessions,
    ListTransfers,
    ListPayouts,
    ListEvents,
    ReportSummary,
    ExportBalanceTransactions,
    SendDailyReport,
    ListOrders,
    CreateRefundRequest,
    ListRefundRequests,
    ApproveRefundRequest,
    DeclineRefundRequest,
    ResendDelivery,
    SignIn,
    SignUp,
    CurrentSession,
    SignOut,
    StartTotp,
    EnableTotp,
    DisableTotp,
    ListMembers,
    ChangeMemberRole,
    RemoveMember,
    ListInvitations,
    CreateInvitation,
    RevokeInvitation,
    ListWebhookEndpoints,
    RouteMetrics,
    ListRiskRules,
    CreateRiskRule,
    UpdateRiskRule,
    DeleteRiskRule,
    DryRunRiskRule,
    ListReviews,
    ApproveReview,
    RejectReview,
    ListDisputes,
    RetrieveDispute,
    SubmitDisputeEvidence,
    CloseDispute,
    RetrieveDisputeFile,
    CreateFxQuote,
    RetrieveFxQuote,
    CreateProduct,
    ListProducts,
    RetrieveProduct,
    UpdateProduct,
    CreatePrice,
    ListPrices,
    RetrievePrice,
    UpdatePrice,
    CreateSubscription,
    ListSubscriptions,
    RetrieveSubscription,
    UpdateSubscription,
    CancelSubscription,
    PauseSubscription,
    ResumeSubscription,
    ListSessionSubscriptions,
    ChangeSessionSubscription,
    PayInvoiceInSession,
    ListInvoices,
    RetrieveInvoice,
    RetrieveBillingSettings,
    UpdateBillingSettings,
    CreateTestClock,
    RetrieveTestClock,
    AdvanceTestClock,
}

/// Who may call an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: public documents.
    Public,
    /// The merchant's secret key.
    SecretKey,
    /// The publishable key (from a browser, with the session's client secret) or the secret key.
    PublishableKey,
    /// The webhook signature of a gateway, or of the bank that pays payouts.
    GatewaySignature,
    /// The platform's own secret (`PLATFORM_SECRET`): onboarding merchants.
    Platform,
    /// A person signed in to the dashboard (its session cookie), about their own account.
    Person,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    /// Segments separated by `/`; `{name}` matches one non-empty segment.
    pub pattern: &'static str,
    pub endpoint: Endpoint,
    pub access: Access,
}

const fn route(
    method: &'static str,
    pattern: &'static str,
    endpoint: Endpoint,
    access: Access,
) -> Route {
    Route {
        method,
        pattern,
        endpoint,
        access,
    }
}

pub const ROUTES: &[Route] = &[
    route("GET", "/v1/openapi.json", Endpoint::OpenApi, Access::Public),
    route("GET", "/v1/keys", Endpoint::Keys, Access::Public),
    route(
        "POST",
        "/v1/checkout_sessions",
        Endpoint::CreateSession,
        Access::SecretKey,
    ),
    route(
        "GET",
        "/v1/checkout_sessions/{id}",
        Endpoint::RetrieveSession,
        Access::PublishableKey,
    ),
    route(
        "POST",
        "/v1/checkout_sessions/{id}/confirm",
        Endpoint::ConfirmSession,
        Access::PublishableKey,
    ),
    route(
        "GET",
        "/v1/checkout_sessions/{id}/banks",
        Endpoint::SessionBanks,
        Access::PublishableKey,
    ),
    route(
        "GET",
        "/v1/checkout_sessions/{id}/payment",
        Endpoint::SessionPayment,
        Access::PublishableKey,
    ),
    route(
        "POST",
        "/v1/checkout_sessions/{id}/reopen",
        Endpoint::ReopenSession,
        Access::PublishableKey,
    ),
    route(
        "POST",
        "/v1/tokens",
        Endpoint::CreateToken,
        Access::PublishableKey,
    ),
    route(
        "GET",
        "/v1/payments/{id}",
        Endpoint::RetrievePayment,
        Access::SecretKey,
    ),
    route(
        "POST",
        "/v1/payments/{id}/challenge",
        Endpoint::ChallengePayment,
        Access::PublishableKey,
    ),
    route(
        "POST",
        "/v1/payments/{id}/capture",
        Endpoint::CapturePayment,
        Access::SecretKey,
    ),
    route(
        "POST",
        "/v1/payments/{id}/cancel",
        Endpoint::CancelPayment,
        Access::SecretKey,
    ),
    route(
        "POST",
        "/v1/refunds",
        Endpoint::CreateRefund,
        Access::SecretKey,
    ),
    route(
        "GET",
        "/v1/refunds/{id}",
        Endpoint::RetrieveRefund,
        Access::SecretKey,
    ),
    route(
        "POST",
        "/v1/webhooks/gateway",
        Endpoint::GatewayWebhook,
        Access::GatewaySignature,
    ),
    route(
        "POST",
        "/v1/webhooks/gateway/{id}",
        Endpoint::AccountWebhook,
        Access::GatewaySignature,
    ),
    route(
        "POST",
        "/v1/gateway_accounts",
        Endpoint::CreateGatewayAccount,
        Access::SecretKey,
    ),
    route(
        "POST",
        "/v1/webhook_endpoints",
        Endpoint::CreateWebhookEndpoint,
        Access::SecretKey,
    ),
    route(
        "GET",
        "/v1/webhook_endpoints",
        Endpoint::ListWebhookEndpoints,
        Access::SecretKey,
    ),
    route(
        "GET",
        "/v1/webhook_endpoints/{id}/deliveries",
        Endpoint::ListDeliveries,
        Access::SecretKey,
    ),
    route(
        "POST",
        "/v1/reconciliation/runs",
        Endpoint::StartReconciliation,
        Access::SecretKey,
    ),
    route(
        "GET",
        "/v1/reconciliation/runs",
        Endpoint::ListReconciliations,
        Access::SecretKey,
    ),
    route(
        "GET",
        "/v1/reconciliation/runs/{id}",
        Endpoint::RetrieveReconciliation,
        Access::SecretKey,
    ),
    route(
        "POST",
        "/v1/customers",
        Endpoint::CreateCustomer,
        Access::SecretKey,
    ),
    route(
        "GET",
        "/v1/customers",
        Endpoint::ListCustomers,
        Access::SecretKey,
    ),
    route(
        "POST",
        "/v1/customers/lookup",
        Endpoint::LookupCustomers,
        Access::SecretKey,
    ),
    route(
        "GET",
        "/v1/customers/{id}",
        Endpoint::RetrieveCustomer,
        Access::SecretKey,
    ),
    route(
        "PATCH",
        "/v1/customers/{id}",
        Endpoint::UpdateCustomer,
        Access::SecretKey,
    ),
    route(
        "GET",
        "/v1/customers/{id}/balance",
        Endpoint::RetrieveCustomerBalance,
        Access::SecretKey,
    ),
    route(
        "POST",
        "/v1/transfers",
        Endpoint::CreateTransfer,
        Access::SecretKey,
    ),
    route(
        "GET",
        "/v1/transfers/{id}",
        Endpoint::RetrieveTransfer,
        Access::SecretKey,
    ),
    route(
        "GET",
        "/v1/balance",
        Endpoint::RetrieveBalance,
        Access::SecretKey,
    ),
    route(
        "GET",
        "/v1/ledger/entries",
        Endpoint::ListLedgerEntries,
        Access::SecretKey,
    ),
    route(
        "POST",
        "/v1/payments",
        Endpoint::CreatePayment,
        Access::SecretKey,
    ),
    route(
        "GET",
        "/v1/customers/{id}/payment_methods",
        Endpoint::ListPaymentMethods,
        Access::SecretKey,
    ),
    route(
        "POST",
        "/v1/payment_methods/{id}/detach",
        Endpoint::DetachPaymentMethod,
        Access::SecretKey,
    ),
    route(
        "POST",
        "/v1/customer_sessions",
        Endpoint::CreateCustomerSession,
        Access::SecretKey,
    ),
    route(
        "GET",
        "/v1/customer_sessions/{id}/payment_methods",
        Endpoint::ListSessionPaymentMethods,
        Access::PublishableKey,
    ),
    route(
        "POST",
        "/v1/payouts",
        Endpoint::CreatePayout,
        Access::SecretKey,
    ),
    route(
        "GET",
        "/v1/payouts/{id}",
        Endpoint::RetrievePayout,
        Access::SecretKey,
    ),
    route(
        "POST",
        "/v1/webhooks/bank",
        Endpoint::BankWebhook,
        Access::GatewaySignature,
    ),
    route(
        "GET",
        "/v1/customer_sessions/{id}/subscriptions",
        Endpoint::ListSessionSubscriptions,
        Access::PublishableKey,
    ),
    route(
        "POST",
        "/v1/customer_sessions/{id}/subscriptions",
        Endpoint::ChangeSessionSubscription,
        Access::PublishableKey,
    ),
    route(
        "POST",
        "/v1/customer_sessions/{id}/invoice_payments",
        Endpoint::PayInvoiceInSession,
        Access::PublishableKey,
    ),
    route(
        "GET",
        "/v1/customer_sessions/{id}/wallet",
        Endpoint::RetrieveWallet,
        Access::PublishableKey,
    ),
    route(
        "POST",
        "/v1/customer_sessions/{id}/top_ups",
        Endpoint::CreateWalletTopUp,
        Access::PublishableKey,
    ),
    route(
        "POST",
        "/v1/customer_sessions/{id}/transfers",
        Endpoint::CreateWalletTransfer,
        Access::PublishableKey,
    ),
    route(
        "POST",
        "/v1/customer_sessions/{id}/payouts",
        Endpoint::CreateWalletPayout,
        Access::PublishableKey,
    ),
    route(
        "GET",
        "/v1/api_keys",
        Endpoint::ListApiKeys,
        Access::SecretKey,
    ),
    route(
        "POST",
        "/v1/api_keys",
        Endpoint::CreateApiKey,
        Access::SecretKey,
    ),
    route(
        "POST",
        "/v1/api_keys/{id}/roll",
        Endpoint::RollApiKey,
        Access::SecretKey,
    ),
    route(
        "POST",
        "/v1/api_keys/{id}/revoke",
        Endpoint::RevokeApiKey,
        Access::SecretKey,
    ),
    route(
        "GET",
        "/v1/origins",
        Endpoint::ListOrigins,
        Access::SecretKey,
    ),
    route(
        "POST",
        "/v1/origins",
        Endpoint::AddOrigin,
        Access::SecretKey,
    ),
    route(
        "DELETE",
        "/v1/origins/{id}",
        Endpoint::RemoveOrigin,
        Access::SecretKey,
    ),
    route(
        "GET",
        "/v1/audit_log",
        Endpoint::ListAuditLog,
        Access::SecretKey,
    ),
    route(
        "POST",
        "/v1/platform/merchants",
        Endpoint::CreateMerchant,
        Access::Platform,
    ),
    route(
        "GET",
        "/v1/payments",
        Endpoint::ListPayments,
        Access::SecretKey,
    ),
    route(
        "GET",
        "/v1/payments/{id}/timeline",
        Endpoint::PaymentTimeline,
        Access::SecretKey,
    ),
    route(
        "GET",
        "/v1/refunds",
        Endpoint::ListRefunds,
        Access::SecretKey,
    ),
    route(
        "GET",
        "/v1/checkout_sessions",
        Endpoint::ListSessions,
        Access::SecretKey,
    ),
    route(
        "GET",
        "/v1/transfers",
        Endpoint::ListTransfers,
        Access::SecretKey,
    ),
    route(
        "GET",
        "/v1/payouts",
        Endpoint::ListPayouts,
        Access::SecretKey,
    ),
    route("GET", "/v1/events", Endpoint::ListEvents, Access::SecretKey),
    route(
        "GET",
        "/v1/reports/summary",
        Endpoint::ReportSummary,
        Access::SecretKey,
    ),
    route(
        "GET",
        "/v1/reports/balance_transactions.csv",
        Endpoint::ExportBalanceTransactions,
        Access::SecretKey,
    ),
    route(
        "POST",
        "/v1/reports/daily",
        Endpoint::SendDailyReport,
        Access::SecretKey,
    ),
    route(
        "GET",
        "/v1/customer_sessions/{id}/orders",
        Endpoint::ListOrders,
        Access::PublishableKey,
    ),
    route(
        "POST",
        "/v1/customer_sessions/{id}/refund_requests",
        Endpoint::CreateRefundRequest,
        Access::PublishableKey,
    ),
    route(
        "GET",
        "/v1/refund_requests",
        Endpoint::ListRefundRequests,
        Access::SecretKey,
    ),
    route(
        "POST",
        "/v1/refund_requests/{id}/approve",
        Endpoint::ApproveRefundRequest,
        Access::SecretKey,
    ),
    route(
        "POST",
        "/v1/refund_requests/{id}/decline",
        Endpoint::DeclineRefundRequest,
        Access::SecretKey,
    ),
    route(
        "POST",
        "/v1/webhook_deliveries/{id}/resend",
        Endpoint::ResendDelivery,
        Access::SecretKey,
    ),
    route(
        "GET",
        "/v1/metrics/routes",
        Endpoint::RouteMetrics,
        Access::SecretKey,
    ),
    route(
        "GET",
        "/v1/risk/rules",
        Endpoint::ListRiskRules,
        Access::SecretKey,
    ),
    route(
        "POST",
        "/v1/risk/rules",
        Endpoint::CreateRiskRule,
        Access::SecretKey,
    ),
    route(
        "POST",
        "/v1/risk/rules/{id}",
        Endpoint::UpdateRiskRule,
        Access::SecretKey,
    ),
    route(
        "DELETE",
        "/v1/risk/rules/{id}",
        Endpoint::DeleteRiskRule,
        Access::SecretKey,
    ),
    route(
        "POST",
        "/v1/risk/dry_runs",
        Endpoint::DryRunRiskRule,
        Access::SecretKey,
    ),
    route(
        "GET",
        "/v1/reviews",
        Endpoint::ListReviews,
        Access::SecretKey,
    ),
    route(
        "POST",
        "/v1/reviews/{id}/approve",
        Endpoint::ApproveReview,
        Access::SecretKey,
    ),
    route(
        "POST",
        "/v1/reviews/{id}/reject",
        Endpoint::RejectReview,
        Access::SecretKey,
    ),
    route(
        "GET",
        "/v1/disputes",
        Endpoint::ListDisputes,
        Access::SecretKey,
    ),
    route(
        "GET",
        "/v1/disputes/{id}",
        Endpoint::RetrieveDispute,
        Access::SecretKey,
    ),
    route(
        "POST",
        "/v1/disputes/{id}/evidence",
        Endpoint::SubmitDisputeEvidence,
        Access::SecretKey,
    ),
    route(
        "POST",
        "/v1/disputes/{id}/close",
        Endpoint::CloseDispute,
        Access::SecretKey,
    ),
    route(
        "GET",
        "/v1/dispute_files/{id}",
        Endpoint::RetrieveDisputeFile,
        Access::SecretKey,
    ),
    route(
        "POST",
        "/v1/fx_quotes",
        Endpoint::CreateFxQuote,
        Access::SecretKey,
    ),
    route(
        "GET",
        "/v1/fx_quotes/{id}",
        Endpoint::RetrieveFxQuote,
        Access::SecretKey,
    ),
    route(
        "POST",
        "/v1/products",
        Endpoint::CreateProduct,
        Access::SecretKey,
    ),
    route(
        "GET",
        "/v1/products",
        Endpoint::ListProducts,
        Access::SecretKey,
    ),
    route(
        "GET",
        "/v1/products/{id}",
        Endpoint::RetrieveProduct,
        Access::SecretKey,
    ),
    route(
        "POST",
        "/v1/products/{id}",
        Endpoint::UpdateProduct,
        Access::SecretKey,
    ),
    route(
        "POST",
        "/v1/prices",
        Endpoint::CreatePrice,
        Access::SecretKey,
    ),
    route("GET", "/v1/prices", Endpoint::ListPrices, Access::SecretKey),
    route(
        "GET",
        "/v1/prices/{id}",
        Endpoint::RetrievePrice,
        Access::SecretKey,
    ),
    route(
        "POST",
        "/v1/prices/{id}",
        Endpoint::UpdatePrice,
        Access::SecretKey,
    ),
    route(
        "POST",
        "/v1/subscriptions",
        Endpoint::CreateSubscription,
        Access::SecretKey,
    ),
    route(
        "GET",
        "/v1/subscriptions",
        Endpoint::ListSubscriptions,
        Access::SecretKey,
    ),
    route(
        "GET",
        "/v1/subscriptions/{id}",
        Endpoint::RetrieveSubscription,
        Access::SecretKey,
    ),
    route(
        "POST",
        "/v1/subscriptions/{id}",
        Endpoint::UpdateSubscription,
        Access::SecretKey,
    ),
    route(
        "POST",
        "/v1/subscriptions/{id}/cancel",
        Endpoint::CancelSubscription,
        Access::SecretKey,
    ),
    route(
        "POST",
        "/v1/subscriptions/{id}/pause",
        Endpoint::PauseSubscription,
        Access::SecretKey,
    ),
    route(
        "POST",
        "/v1/subscriptions/{id}/resume",
        Endpoint::ResumeSubscription,
        Access::SecretKey,
    ),
    route(
        "GET",
        "/v1/invoices",
        Endpoint::ListInvoices,
        Access::SecretKey,
    ),
    route(
        "GET",
        "/v1/invoices/{id}",
        Endpoint::RetrieveInvoice,
        Access::SecretKey,
    ),
    route(
        "GET",
        "/v1/billing_settings",
        Endpoint::RetrieveBillingSettings,
        Access::SecretKey,
    ),
    route(
        "POST",
        "/v1/billing_settings",
        Endpoint::UpdateBillingSettings,
        Access::SecretKey,
    ),
    route(
        "POST",
        "/v1/test_clocks",
        Endpoint::CreateTestClock,
        Access::SecretKey,
    ),
    route(
        "GET",
        "/v1/test_clocks/{id}",
        Endpoint::RetrieveTestClock,
        Access::SecretKey,
    ),
    route(
        "POST",
        "/v1/test_clocks/{id}/advance",
        Endpoint::AdvanceTestClock,
        Access::SecretKey,
    ),
    route(
        "POST",
        "/v1/dashboard/sign_in",
        Endpoint::SignIn,
        Access::Public,
    ),
    route(
        "POST",
        "/v1/dashboard/sign_up",
        Endpoint::SignUp,
        Access::Public,
    ),
    route(
        "GET",
        "/v1/dashboard/session",
        Endpoint::CurrentSession,
        Access::Person,
    ),
    route(
        "POST",
        "/v1/dashboard/sign_out",
        Endpoint::SignOut,
        Access::Person,
    ),
    route(
        "POST",
        "/v1/dashboard/totp",
        Endpoint::StartTotp,
        Access::Person,
    ),
    route(
        "POST",
        "/v1/dashboard/totp/enable",
        Endpoint::EnableTotp,
        Access::Person,
    ),
    route(
        "POST",
        "/v1/dashboard/totp/disable",
        Endpoint::DisableTotp,
        Access::Person,
    ),
    route(
        "GET",
        "/v1/team/members",
        Endpoint::ListMembers,
        Access::SecretKey,
    ),
    route(
        "POST",
        "/v1/team/members/{id}",
        Endpoint::ChangeMemberRole,
        Access::SecretKey,
    ),
    route(
        "DELETE",
        "/v1/team/members/{id}",
        Endpoint::RemoveMember,
        Access::SecretKey,
    ),
    route(
        "GET",
        "/v1/team/invitations",
        Endpoint::ListInvitations,
        Access::SecretKey,
    ),
    route(
        "POST",
        "/v1/team/invitations",
        Endpoint::CreateInvitation,
        Access::SecretKey,
    ),
    route(
        "POST",
        "/v1/team/invitations/{id}/revoke",
        Endpoint::RevokeInvitation,
        Access::SecretKey,
    ),
];

impl Endpoint {
    /// What a restricted key needs a scope on to call this endpoint. `None`: no restricted key
    /// may: the merchant's keys, origins and audit log are managed with a full secret key only
    /// (a leaked restricted key must not be able to mint itself a wider one); public and
    /// signed endpoints take no key at all.
    pub fn resource(self) -> Option<Resource> {
        use Endpoint::*;
        match self {
            CreateSession | RetrieveSession | ConfirmSession | CreateToken | ListSessions
            | SessionBanks | SessionPayment | ReopenSession => Some(Resource::CheckoutSessions),
            RetrievePayment | ChallengePayment | CapturePayment | CancelPayment | CreatePayment
            | ListPayments | PaymentTimeline | ListReviews | ApproveReview | RejectReview
            | CreateFxQuote | RetrieveFxQuote => Some(Resource::Payments),
            CreateProduct
            | ListProducts
            | RetrieveProduct
            | UpdateProduct
            | CreatePrice
            | ListPrices
            | RetrievePrice
            | UpdatePrice
            | CreateSubscription
            | ListSubscriptions
            | RetrieveSubscription
            | UpdateSubscription
            | CancelSubscription
            | PauseSubscription
            | ResumeSubscription
            | ListInvoices
            | RetrieveInvoice
            | RetrieveBillingSettings
            | UpdateBillingSettings
            | CreateTestClock
            | RetrieveTestClock
            | AdvanceTestClock => Some(Resource::Subscriptions),
            ListRiskRules | CreateRiskRule | UpdateRiskRule | DeleteRiskRule | DryRunRiskRule => {
                Some(Resource::Risk)
            }
            ListDisputes
            | RetrieveDispute
            | SubmitDisputeEvidence
            | CloseDispute
            | RetrieveDisputeFile => Some(Resource::Disputes),
            CreateRefund | RetrieveRefund | ListRefunds | ListRefundRequests
            | ApproveRefundRequest | DeclineRefundRequest => Some(Resource::Refunds),
            ListEvents => Some(Resource::Events),
            ReportSummary | ExportBalanceTransactions | SendDailyReport | RouteMetrics => {
                Some(Resource::Reports)
            }
            CreateCustomer
            | ListCustomers
            | RetrieveCustomer
            | UpdateCustomer
            | LookupCustomers
            | RetrieveCustomerBalance
            | ListPaymentMethods
            | DetachPaymentMethod
            | CreateCustomerSession
            | ListSessionPaymentMethods
            | RetrieveWallet
            | ListSessionSubscriptions
            | ChangeSessionSubscription
            | PayInvoiceInSession
            | CreateWalletTopUp
            | CreateWalletTransfer
            | CreateWalletPayout
            | ListOrders
            | CreateRefundRequest => Some(Resource::Customers),
            CreateTransfer | RetrieveTransfer | ListTransfers => Some(Resource::Transfers),
            CreatePayout | RetrievePayout | ListPayouts => Some(Resource::Payouts),
            RetrieveBalance | ListLedgerEntries => Some(Resource::Balance),
            CreateWebhookEndpoint | ListWebhookEndpoints | ListDeliveries | ResendDelivery => {
                Some(Resource::WebhookEndpoints)
            }
            StartReconciliation | ListReconciliations | RetrieveReconciliation => {
                Some(Resource::Reconciliation)
            }
            CreateGatewayAccount => Some(Resource::GatewayAccounts),
            OpenApi | Keys | GatewayWebhook | AccountWebhook | BankWebhook | ListApiKeys
            | CreateApiKey | RollApiKey | RevokeApiKey | ListOrigins | AddOrigin | RemoveOrigin
            | ListAuditLog | CreateMerchant => None,
            // People and the team: managed by owners, or with a full secret key.
            SignIn | SignUp | CurrentSession | SignOut | StartTotp | EnableTotp | DisableTotp
            | ListMembers | ChangeMemberRole | RemoveMember | ListInvitations
            | CreateInvitation | RevokeInvitation => None,
        }
    }
}

impl Route {
    /// Reading needs a `read` scope; anything else changes something and needs `write`.
    pub fn permission(&self) -> Permission {
        if self.method == "GET" {
            Permission::Read
        } else {
            Permission::Write
        }
    }
}

/// What a request's method and path name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// The route and the value of its `{id}` segment (empty when it has none).
    Found {
        route: Route,
        id: String,
    },
    /// The path exists, but not with this method.
    MethodNotAllowed,
    NotFound,
}

/// The `{id}` segment when `path` fits `pattern`, or `None`.
fn fit(pattern: &str, path: &str) -> Option<String> {
    let mut id = String::new();
    let mut pattern_segments = pattern.split('/');
    let mut path_segments = path.split('/');
    loop {
        match (pattern_segments.next(), path_segments.next()) {
            (None, None) => return Some(id),
            (Some(expected), Some(given)) if expected.starts_with('{') => {
                if given.is_empty() {
                    return None;
                }
                id = given.to_string();
            }
            (Some(expected), Some(given)) if expected == given => {}
            _ => return None,
        }
    }
}

/// Finds the route for a request. `path` is the URL path as received (percent-encoded).
pub fn resolve(method: &str, path: &str) -> Resolved {
    let mut path_exists = false;
    for route in ROUTES {
        if let Some(id) = fit(route.pattern, path) {
            if route.method == method {
                return Resolved::Found { route: *route, id };
            }
            path_exists = true;
        }
    }
    if path_exists {
        Resolved::MethodNotAllowed
    } else {
        Resolved::NotFound
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn endpoint(method: &str, path: &str) -> Option<(Endpoint, String)> {
        match resolve(method, path) {
            Resolved::Found { route, id } => Some((route.endpoint, id)),
            _ => None,
        }
    }

    #[test]
    fn resolves_routes_and_their_ids() {
        assert_eq!(
            endpoint("POST", "/v1/checkout_sessions/cs_1/confirm"),
            Some((Endpoint::ConfirmSession, "cs_1".into()))
        );
        assert_eq!(
            endpoint("GET", "/v1/checkout_sessions/cs_1"),
            Some((Endpoint::RetrieveSession, "cs_1".into()))
        );
        assert_eq!(
            endpoint("GET", "/v1/reconciliation/runs"),
            Some((Endpoint::ListReconciliations, String::new()))
        );
        assert_eq!(resolve("DELETE", "/v1/refunds"), Resolved::MethodNotAllowed);
        assert_eq!(
            resolve("GET", "/v1/payments/pay_1/capture"),
            Resolved::MethodNotAllowed
        );
        for path in [
            "/v1/payments/",
            "/v1/payments//capture",
            "/v1/payments/pay_1/capture/",
            "/v1/nope",
            "/v1",
            "",
            "/v1/refunds/x/y",
            "//v1/refunds",
        ] {
            assert_eq!(resolve("POST", path), Resolved::NotFound, "{path:?}");
        }
    }

    #[test]
    fn restricted_keys_need_a_scope_and_never_reach_key_management() {
        let route = |method: &str, path: &str| match resolve(method, path) {
            Resolved::Found { route, .. } => route,
            other => panic!("{method} {path}: {other:?}"),
        };
        let refund = route("POST", "/v1/refunds");
        assert_eq!(refund.endpoint.resource(), Some(Resource::Refunds));
        assert_eq!(refund.permission(), Permission::Write);
        let payment = route("GET", "/v1/payments/pay_1");
        assert_eq!(payment.endpoint.resource(), Some(Resource::Payments));
        assert_eq!(payment.permission(), Permission::Read);
        for (method, path) in [
            ("GET", "/v1/api_keys"),
            ("POST", "/v1/api_keys"),
            ("POST", "/v1/api_keys/key_1/roll"),
            ("POST", "/v1/api_keys/key_1/revoke"),
            ("POST", "/v1/origins"),
            ("DELETE", "/v1/origins/x"),
            ("GET", "/v1/audit_log"),
        ] {
            assert_eq!(route(method, path).endpoint.resource(), None, "{path}");
        }
        // Every other route a merchant's key calls names its resource.
        for r in ROUTES {
            let keyed = matches!(r.access, Access::SecretKey | Access::PublishableKey);
            let management = r.pattern.starts_with("/v1/api_keys")
                || r.pattern.starts_with("/v1/origins")
                || r.pattern == "/v1/audit_log"
                || r.pattern.starts_with("/v1/team/");
            assert_eq!(
                r.endpoint.resource().is_some(),
                keyed && !management,
                "{} {}",
                r.method,
                r.pattern
            );
        }
    }

    /// The OpenAPI description documents exactly the routes above, each with its error shape,
    /// and every operation's responses include what every route can answer.
    #[test]
    fn openapi_documents_exactly_the_route_table() {
        let document: serde_json::Value =
            serde_json::from_str(include_str!("../../api/openapi.json")).unwrap();
        assert_eq!(document["openapi"], "3.1.0");
        let paths = document["paths"].as_object().unwrap();
        let mut documented = BTreeSet::new();
        for (path, operations) in paths {
            for (method, operation) in operations.as_object().unwrap() {
                if method == "parameters" {
                    continue;
                }
                documented.insert((method.to_ascii_uppercase(), path.clone()));
                let responses = operation["responses"].as_object().unwrap();
                assert!(responses.contains_key("200"), "{method} {path}: no 200");
                assert!(
                    !responses.contains_key("500"),
                    "{method} {path}: a 500 is a bug, never a documented answer"
                );
            }
        }
        let routed: BTreeSet<(String, String)> = ROUTES
            .iter()
            .map(|r| (r.method.to_string(), r.pattern.to_string()))
            .collect();
        assert_eq!(documented, routed);
    }
}
