//! The wallet page's words in English and Korean, chosen by the `locale` it was opened with (or
//! the browser's language).

use crate::api::CallError;
use till_core::error::ErrorCode;

pub struct Strings {
    pub title: &'static str,
    pub balance: &'static str,
    pub loading: &'static str,
    pub link_incomplete: &'static str,
    pub sections: &'static str,
    pub add_money: &'static str,
    pub send: &'static str,
    pub withdraw: &'static str,
    pub history: &'static str,
    pub amount: &'static str,
    pub amount_invalid: &'static str,
    pub continue_to_payment: &'static str,
    pub opening_checkout: &'static str,
    pub money_added: &'static str,
    pub top_up_not_paid: &'static str,
    pub recipient: &'static str,
    pub recipient_hint: &'static str,
    pub recipient_required: &'static str,
    pub note: &'static str,
    pub send_money: &'static str,
    pub sending: &'static str,
    pub sent: fn(&str, &str) -> String,
    pub waiting_for_sign_up: fn(&str, &str) -> String,
    pub holder_name: &'static str,
    pub routing_number: &'static str,
    pub account_number: &'static str,
    pub required: &'static str,
    pub withdraw_money: &'static str,
    pub withdrawing: &'static str,
    pub withdrawal_requested: fn(&str) -> String,
    pub no_history: &'static str,
    pub done: &'static str,
    pub network_error: &'static str,
    pub expired: &'static str,
    pub orders: &'static str,
    pub no_orders: &'static str,
    pub order_paid: &'static str,
    pub order_refunded: &'static str,
    pub order_partly_refunded: &'static str,
    pub order_processing: &'static str,
    pub order_canceled: &'static str,
    pub ask_refund: &'static str,
    pub kind_label: &'static str,
    pub kind_refund: &'static str,
    pub kind_return: &'static str,
    pub reason: &'static str,
    pub reason_required: &'static str,
    pub send_request: &'static str,
    pub sending_request: &'static str,
    pub request_sent: &'static str,
    pub request_open: &'static str,
    pub request_approved: &'static str,
    pub request_declined: &'static str,
    pub subscriptions_title: &'static str,
    pub loading_subscriptions: &'static str,
    pub no_subscriptions: &'static str,
    /// The price of one period: amount, interval (`day` … `year`), how many intervals.
    pub per_period: fn(&str, &str, u16) -> String,
    pub ended_on: fn(&str) -> String,
    pub ends_on: fn(&str) -> String,
    pub next_charge: fn(&str, &str) -> String,
    pub no_next_charge: &'static str,
    pub payment_failed_update_card: &'static str,
    pub no_card: &'static str,
    pub charged_to: &'static str,
    pub change_card: &'static str,
    pub pay_now: &'static str,
    pub choose_card: &'static str,
    pub use_this_card: &'static str,
    pub card_changed: &'static str,
    pub cancel_subscription: &'static str,
    pub cancel_done: &'static str,
    pub keep: &'static str,
    pub keep_done: &'static str,
    pub invoices: &'static str,
    /// Subscription and invoice statuses, by their API names.
    pub subscription_status: fn(&str) -> &'static str,
    kinds: [(&'static str, &'static str, &'static str); 13],
}

/// Per ledger operation: what an entry into the wallet and one out of it is called.
const EN_KINDS: [(&str, &str, &str); 13] = [
    ("top_up", "Money added", "Money added"),
    ("transfer", "Received", "Sent"),
    ("transfer_from_card", "Received", "Sent"),
    ("hold_for_claim", "Returned", "Sent, waiting for sign-up"),
    ("release_claim", "Received", "Sent"),
    ("payout_requested", "Withdrawal", "Withdrawal"),
    (
        "payout_failed",
        "Withdrawal failed, money back",
        "Withdrawal",
    ),
    (
        "payout_returned",
        "Withdrawal returned, money back",
        "Withdrawal",
    ),
    ("refund", "Refunded to card", "Refunded to card"),
    (
        "refund_reversed",
        "Refund cancelled, money back",
        "Refund cancelled",
    ),
    ("wallet_hold", "Payment", "Paid at a shop"),
    (
        "wallet_hold_released",
        "Payment not made, money back",
        "Payment",
    ),
    ("wallet_refund_paid", "Refund from a shop", "Refund"),
];

const KO_KINDS: [(&str, &str, &str); 13] = [
    ("top_up", "충전", "충전"),
    ("transfer", "받은 돈", "보낸 돈"),
    ("transfer_from_card", "받은 돈", "보낸 돈"),
    ("hold_for_claim", "돌려받음", "보냄 (가입 대기 중)"),
    ("release_claim", "받은 돈", "보낸 돈"),
    ("payout_requested", "출금", "출금"),
    ("payout_failed", "출금 실패, 잔액 복구", "출금"),
    ("payout_returned", "출금 반환, 잔액 복구", "출금"),
    ("refund", "카드로 환불", "카드로 환불"),
    ("refund_reversed", "환불 취소, 잔액 복구", "환불 취소"),
    ("wallet_hold", "결제", "가맹점 결제"),
    ("wallet_hold_released", "결제 취소, 잔액 복구", "결제"),
    ("wallet_refund_paid", "가맹점 환불", "환불"),
];

const EN: Strings = Strings {
    title: "Wallet",
    balance: "Balance",
    loading: "Loading your wallet…",
    link_incomplete:
        "This wallet link is incomplete. Go back to the app and open the wallet again.",
    sections: "Wallet actions",
    add_money: "Add money",
    send: "Send",
    withdraw: "Withdraw",
    history: "History",
    amount: "Amount",
    amount_invalid: "Enter an amount, such as 12.50.",
    continue_to_payment: "Continue to payment",
    opening_checkout: "Opening checkout…",
    money_added: "Money added to your wallet.",
    top_up_not_paid: "The payment did not go through; nothing was added.",
    recipient: "To",
    recipient_hint: "Phone number (+82…) or email",
    recipient_required: "Enter a phone number or an email.",
    note: "Note (optional)",
    send_money: "Send money",
    sending: "Sending…",
    sent: |amount, to| format!("Sent {amount} to {to}."),
    waiting_for_sign_up: |amount, to| {
        format!(
            "{amount} is waiting for {to}: they get it when they sign up, or it comes back to you."
        )
    },
    holder_name: "Account holder",
    routing_number: "Routing number",
    account_number: "Account number",
    required: "Required.",
    withdraw_money: "Withdraw",
    withdrawing: "Withdrawing…",
    withdrawal_requested: |amount| {
        format!("Withdrawal of {amount} requested. The bank usually pays it within a day.")
    },
    no_history: "No movements yet.",
    done: "Done",
    network_error: "We could not reach the wallet service. Check your connection and try again.",
    expired: "This wallet link has expired. Go back to the app and open the wallet again.",
    orders: "Orders",
    no_orders: "No orders yet.",
    order_paid: "Paid",
    order_refunded: "Refunded",
    order_partly_refunded: "Partly refunded",
    order_processing: "Processing",
    order_canceled: "Canceled",
    ask_refund: "Request a refund or return",
    kind_label: "What would you like?",
    kind_refund: "A refund",
    kind_return: "To return the item",
    reason: "What happened?",
    reason_required: "Tell the shop what happened.",
    send_request: "Send request",
    sending_request: "Sending…",
    request_sent: "Your request was sent to the shop.",
    request_open: "Request sent: waiting for the shop",
    request_approved: "Refund approved",
    request_declined: "Request declined",
    subscriptions_title: "Your subscriptions",
    loading_subscriptions: "Loading your subscriptions…",
    no_subscriptions: "You have no subscriptions.",
    per_period: |amount, interval, count| match count {
        1 => format!("{amount} a {interval}"),
        n => format!("{amount} every {n} {interval}s"),
    },
    ended_on: |date| format!("Ended on {date}."),
    ends_on: |date| format!("Ends on {date}: no more charges."),
    next_charge: |amount, date| format!("Next charge {amount} on {date}."),
    no_next_charge: "No charge is scheduled.",
    payment_failed_update_card:
        "The last payment did not go through. Choose another card to pay it.",
    no_card: "no card",
    charged_to: "Charged to",
    change_card: "Change card",
    pay_now: "Pay now with another card",
    choose_card: "Charge this subscription to",
    use_this_card: "Use this card",
    card_changed: "Card changed.",
    cancel_subscription: "Cancel subscription",
    cancel_done: "Canceled: you keep it until the end of the period you paid for.",
    keep: "Keep subscription",
    keep_done: "Your subscription continues.",
    invoices: "Invoices",
    subscription_status: |status| match status {
        "incomplete" => "Not paid yet",
        "trialing" => "Free trial",
        "active" => "Active",
        "past_due" => "Payment failed",
        "unpaid" => "Unpaid",
        "paused" => "Paused",
        "canceled" | "incomplete_expired" => "Ended",
        "open" => "Due",
        "paid" => "Paid",
        "void" => "Void",
        _ => "",
    },
    kinds: EN_KINDS,
};

const KO: Strings = Strings {
    title: "지갑",
    balance: "잔액",
    loading: "지갑을 불러오는 중…",
    link_incomplete: "지갑 링크가 올바르지 않습니다. 앱으로 돌아가 지갑을 다시 열어 주세요.",
    sections: "지갑 메뉴",
    add_money: "충전",
    send: "송금",
    withdraw: "출금",
    history: "내역",
    amount: "금액",
    amount_invalid: "금액을 입력해 주세요. 예: 15000",
    continue_to_payment: "결제하기",
    opening_checkout: "결제 화면을 여는 중…",
    money_added: "지갑에 충전되었습니다.",
    top_up_not_paid: "결제가 완료되지 않아 충전되지 않았습니다.",
    recipient: "받는 사람",
    recipient_hint: "전화번호(+82…) 또는 이메일",
    recipient_required: "전화번호나 이메일을 입력해 주세요.",
    note: "메모 (선택)",
    send_money: "보내기",
    sending: "보내는 중…",
    sent: |amount, to| format!("{to}님에게 {amount}을 보냈습니다."),
    waiting_for_sign_up: |amount, to| {
        format!("{to}님이 가입하면 {amount}이 전달됩니다. 가입하지 않으면 돌려받습니다.")
    },
    holder_name: "예금주",
    routing_number: "은행 코드",
    account_number: "계좌번호",
    required: "필수 항목입니다.",
    withdraw_money: "출금하기",
    withdrawing: "출금 중…",
    withdrawal_requested: |amount| {
        format!("{amount} 출금을 요청했습니다. 보통 하루 안에 입금됩니다.")
    },
    no_history: "아직 내역이 없습니다.",
    done: "완료",
    network_error: "지갑 서비스에 연결할 수 없습니다. 연결을 확인하고 다시 시도해 주세요.",
    expired: "지갑 링크가 만료되었습니다. 앱으로 돌아가 지갑을 다시 열어 주세요.",
    orders: "주문",
    no_orders: "아직 주문이 없습니다.",
    order_paid: "결제 완료",
    order_refunded: "환불 완료",
    order_partly_refunded: "부분 환불",
    order_processing: "처리 중",
    order_canceled: "취소됨",
    ask_refund: "환불·반품 요청",
    kind_label: "원하시는 처리",
    kind_refund: "환불",
    kind_return: "반품",
    reason: "사유",
    reason_required: "사유를 입력해 주세요.",
    send_request: "요청 보내기",
    sending_request: "보내는 중…",
    request_sent: "상점에 요청을 보냈습니다.",
    request_open: "요청 접수: 상점 확인 중",
    request_approved: "환불 승인됨",
    request_declined: "요청 거절됨",
    subscriptions_title: "구독 관리",
    loading_subscriptions: "구독 정보를 불러오는 중…",
    no_subscriptions: "구독 중인 상품이 없습니다.",
    per_period: |amount, interval, count| {
        let unit = match interval {
            "day" => "일",
            "week" => "주",
            "year" => "년",
            _ => "개월",
        };
        match (count, interval) {
            (1, "day") => format!("매일 {amount}"),
            (1, "week") => format!("매주 {amount}"),
            (1, "year") => format!("매년 {amount}"),
            (1, _) => format!("매월 {amount}"),
            (n, _) => format!("{n}{unit}마다 {amount}"),
        }
    },
    ended_on: |date| format!("{date}에 해지되었습니다."),
    ends_on: |date| format!("{date}에 해지 예정 · 더 이상 결제되지 않습니다."),
    next_charge: |amount, date| format!("다음 결제: {date} {amount}"),
    no_next_charge: "예정된 결제가 없습니다.",
    payment_failed_update_card: "마지막 결제가 실패했습니다. 다른 카드를 선택해 결제해 주세요.",
    no_card: "카드 없음",
    charged_to: "결제 카드",
    change_card: "카드 변경",
    pay_now: "다른 카드로 지금 결제",
    choose_card: "이 구독을 결제할 카드",
    use_this_card: "이 카드로 결제",
    card_changed: "카드를 변경했습니다.",
    cancel_subscription: "구독 해지",
    cancel_done: "해지했습니다. 결제한 기간이 끝날 때까지 이용할 수 있습니다.",
    keep: "구독 유지",
    keep_done: "구독이 계속됩니다.",
    invoices: "청구 내역",
    subscription_status: |status| match status {
        "incomplete" => "결제 전",
        "trialing" => "무료 체험",
        "active" => "이용 중",
        "past_due" => "결제 실패",
        "unpaid" => "미납",
        "paused" => "일시 정지",
        "canceled" | "incomplete_expired" => "해지됨",
        "open" => "결제 예정",
        "paid" => "결제 완료",
        "void" => "무효",
        _ => "",
    },
    kinds: KO_KINDS,
};

/// The page's language: its `locale`, else the browser's.
pub fn locale() -> String {
    super::wallet_launch::current()
        .and_then(|launch| launch.locale)
        .or_else(|| web_sys::window().and_then(|w| w.navigator().language()))
        .unwrap_or_else(|| "en-US".into())
}

pub fn t() -> &'static Strings {
    if locale().to_ascii_lowercase().starts_with("ko") {
        &KO
    } else {
        &EN
    }
}

impl Strings {
    /// An order's state as the customer reads it.
    pub fn order_status(&self, status: &str, refunded: i64, amount: i64) -> &'static str {
        match status {
            "succeeded" if refunded >= amount => self.order_refunded,
            "succeeded" if refunded > 0 => self.order_partly_refunded,
            "succeeded" | "requires_capture" => self.order_paid,
            "canceled" => self.order_canceled,
            _ => self.order_processing,
        }
    }

    /// A refund or return request's state as the customer reads it.
    pub fn request_status(&self, status: &str) -> &'static str {
        match status {
            "approved" => self.request_approved,
            "declined" => self.request_declined,
            _ => self.request_open,
        }
    }

    /// What a history line is called: its operation, into the wallet (`amount > 0`) or out.
    pub fn movement(&self, kind: &str, amount: i64) -> &'static str {
        self.kinds.iter().find(|(name, _, _)| *name == kind).map_or(
            self.history,
            |(_, into, out)| if amount > 0 { into } else { out },
        )
    }

    /// What to tell the customer about a failed call: the page's own words for what they can
    /// fix, else the edge's message.
    pub fn error(&self, error: &CallError) -> String {
        let korean = std::ptr::eq(self, &KO);
        let CallError::Api { message, .. } = error else {
            return self.network_error.into();
        };
        if EXPIRED.iter().any(|code| error.is(code)) {
            return self.expired.into();
        }
        match FIXABLE.iter().find(|(code, _, _)| error.is(code)) {
            Some((_, english, korean_text)) => {
                if korean { korean_text } else { english }.to_string()
            }
            None => message.clone(),
        }
    }
}

/// Refusals that mean the page's session is over: the customer must reopen it from the app.
const EXPIRED: [&str; 3] = [
    ErrorCode::CustomerSessionExpired.as_str(),
    ErrorCode::ClientSecretInvalid.as_str(),
    ErrorCode::WalletNotEnabled.as_str(),
];

/// Refusals the customer can fix, in the page's own words: (code, English, Korean).
const FIXABLE: [(&str, &str, &str); 7] = [
    (
        ErrorCode::RefundRequestOpen.as_str(),
        "You already asked about this order; the shop will answer.",
        "이 주문은 이미 요청했습니다. 상점의 답변을 기다려 주세요.",
    ),
    (
        ErrorCode::BalanceInsufficient.as_str(),
        "Your balance is too low for this.",
        "잔액이 부족합니다.",
    ),
    (
        ErrorCode::LimitExceeded.as_str(),
        "This is over your sending limit.",
        "송금 한도를 넘었습니다.",
    ),
    (
        ErrorCode::RecipientInvalid.as_str(),
        "Enter a phone number with its country code (+82…) or an email.",
        "국가 번호가 있는 전화번호(+82…)나 이메일을 입력해 주세요.",
    ),
    (
        ErrorCode::RecipientUnknown.as_str(),
        "No one can receive money at that address.",
        "받을 수 있는 사람이 없습니다.",
    ),
    (
        ErrorCode::TransferToSelf.as_str(),
        "You cannot send money to yourself.",
        "자신에게는 보낼 수 없습니다.",
    ),
    (
        ErrorCode::BankAccountInvalid.as_str(),
        "Check the bank account details.",
        "계좌 정보를 확인해 주세요.",
    ),
];
