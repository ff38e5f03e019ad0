//! The widget's words in English and Korean, chosen by the `locale` embed option (or the
//! browser's language). Card rules come from the core; only their wording lives here.

use crate::api::CallError;
use till_core::card::CardError;
use till_core::error::ErrorCode;
use till_core::payment::DeclineCode;

pub struct Strings {
    pub total: &'static str,
    pub card_number: &'static str,
    pub expiry: &'static str,
    pub expiry_placeholder: &'static str,
    pub security_code: &'static str,
    pub cvc_placeholder: fn(usize) -> String,
    pub name_on_card: &'static str,
    pub pay: fn(&str) -> String,
    pub processing: &'static str,
    pub secure_note: &'static str,
    pub loading: &'static str,
    pub link_incomplete: &'static str,
    pub already_paid: &'static str,
    pub payment_successful: &'static str,
    pub paid_to: &'static str,
    pub card: &'static str,
    pub payment: &'static str,
    pub confirm_title: &'static str,
    pub otp_intro: fn(&str) -> String,
    pub verification_code: &'static str,
    pub verify: &'static str,
    pub verifying: &'static str,
    pub otp_six_digits: &'static str,
    pub otp_wrong: fn(u8) -> String,
    pub network_error: &'static str,
    pub try_again: &'static str,
    pub unexpected_response: &'static str,
    pub retry_hint: &'static str,
    pub no_payment_key: &'static str,
    pub encryption_failed: fn(&str) -> String,
    pub saved_cards: &'static str,
    pub new_card: &'static str,
    pub expires: &'static str,
    pub save_card: &'static str,
    pub payment_method: &'static str,
    pub method_card: &'static str,
    pub method_bank: &'static str,
    pub bank: &'static str,
    pub choose_bank: &'static str,
    pub loading_banks: &'static str,
    pub no_banks: &'static str,
    pub pay_at_bank: fn(&str) -> String,
    pub bank_note: &'static str,
    pub to_bank: &'static str,
    pub bank_waiting: fn(&str) -> String,
    pub bank_processing: &'static str,
    pub open_bank_again: &'static str,
    pub cancel_bank: &'static str,
    pub bank_canceled: &'static str,
    pub method_wallet: &'static str,
    pub wallet_balance: fn(&str) -> String,
    pub pay_from_wallet: fn(&str) -> String,
    /// (wallet's part, card's part).
    pub wallet_and_card: fn(&str, &str) -> String,
    pub wallet_empty: &'static str,
    /// The merchant's amount beside a converted total.
    pub about: fn(&str) -> String,
    /// For screen readers: (merchant's amount, its currency, rate, customer's currency,
    /// markup percent, time the rate holds until).
    pub conversion_detail: fn(&str, &str, &str, &str, &str, &str) -> String,
}

const EN: Strings = Strings {
    total: "Total",
    card_number: "Card number",
    expiry: "Expiry (MM/YY)",
    expiry_placeholder: "MM/YY",
    security_code: "Security code",
    cvc_placeholder: |n| format!("{n} digits"),
    name_on_card: "Name on card",
    pay: |amount| format!("Pay {amount}"),
    processing: "Processing…",
    secure_note: "Card details are encrypted in your browser and never reach the shop.",
    loading: "Loading secure checkout…",
    link_incomplete:
        "This checkout link is incomplete. Return to the shop and start checkout again.",
    already_paid: "This order has already been paid.",
    payment_successful: "Payment successful",
    paid_to: "Paid to",
    card: "Card",
    payment: "Payment",
    confirm_title: "Confirm it's you",
    otp_intro: |amount| {
        format!("Your bank sent a 6-digit code to confirm the payment of {amount}.")
    },
    verification_code: "Verification code",
    verify: "Verify",
    verifying: "Verifying…",
    otp_six_digits: "Enter the 6-digit code.",
    otp_wrong: |left| {
        format!(
            "That code is not right. {left} attempt{} left.",
            if left == 1 { "" } else { "s" }
        )
    },
    network_error: "We could not reach the payment service. Check your connection and try again.",
    try_again: "Try again",
    unexpected_response: "The payment service answered unexpectedly. Try again.",
    retry_hint: "Press Pay to try again.",
    no_payment_key: "Your browser cannot make a secure payment key.",
    encryption_failed: |reason| format!("Your browser could not encrypt the card ({reason})."),
    saved_cards: "Your saved cards",
    new_card: "Use a new card",
    expires: "Expires",
    save_card: "Save this card for next time",
    payment_method: "Payment method",
    method_card: "Card",
    method_bank: "Bank account",
    bank: "Bank",
    choose_bank: "Your bank",
    loading_banks: "Loading banks…",
    no_banks: "No bank can take this payment. Choose another way to pay.",
    pay_at_bank: |amount| format!("Pay {amount} at your bank"),
    bank_note: "You sign in and approve at your bank. Your bank login never reaches the shop.",
    to_bank: "Taking you to your bank…",
    bank_waiting: |bank| format!("Approve the payment at {bank} in the window that opened."),
    bank_processing: "Your bank is confirming the payment. This page updates by itself.",
    open_bank_again: "Open your bank again",
    cancel_bank: "Cancel and pay another way",
    bank_canceled: "The bank payment was canceled. Choose how to pay.",
    method_wallet: "Wallet",
    wallet_balance: |amount| format!("Your wallet holds {amount}."),
    pay_from_wallet: |amount| format!("Pay {amount} from wallet"),
    wallet_and_card: |wallet, card| format!("{wallet} from your wallet, {card} by card."),
    wallet_empty: "Your wallet is empty. Choose another way to pay.",
    about: |amount| format!("about {amount}"),
    conversion_detail: |amount, from, rate, to, markup, until| {
        format!(
            "Converted from {amount} at 1 {from} = {rate} {to}, plus a {markup}% conversion \
             fee. This rate is held until {until}."
        )
    },
};

const KO: Strings = Strings {
    total: "총액",
    card_number: "카드 번호",
    expiry: "유효기간 (MM/YY)",
    expiry_placeholder: "MM/YY",
    security_code: "보안 코드",
    cvc_placeholder: |n| format!("{n}자리"),
    name_on_card: "카드 소유자 이름",
    pay: |amount| format!("{amount} 결제하기"),
    processing: "처리 중…",
    secure_note: "카드 정보는 브라우저에서 암호화되며 상점에 전달되지 않습니다.",
    loading: "안전한 결제 화면을 불러오는 중…",
    link_incomplete: "결제 링크가 올바르지 않습니다. 상점으로 돌아가 다시 시도해 주세요.",
    already_paid: "이미 결제된 주문입니다.",
    payment_successful: "결제가 완료되었습니다",
    paid_to: "가맹점",
    card: "카드",
    payment: "결제 번호",
    confirm_title: "본인 인증",
    otp_intro: |amount| {
        format!("{amount} 결제를 확인하기 위해 카드사에서 보낸 6자리 인증번호를 입력해 주세요.")
    },
    verification_code: "인증번호",
    verify: "인증하기",
    verifying: "인증 중…",
    otp_six_digits: "6자리 인증번호를 입력해 주세요.",
    otp_wrong: |left| format!("인증번호가 올바르지 않습니다. {left}회 남았습니다."),
    network_error: "결제 서비스에 연결할 수 없습니다. 연결을 확인하고 다시 시도해 주세요.",
    try_again: "다시 시도",
    unexpected_response: "결제 서비스에서 예상하지 못한 응답을 받았습니다. 다시 시도해 주세요.",
    retry_hint: "다시 시도하려면 결제하기를 눌러 주세요.",
    no_payment_key: "이 브라우저에서는 안전한 결제 키를 만들 수 없습니다.",
    encryption_failed: |reason| {
        format!("브라우저에서 카드 정보를 암호화하지 못했습니다 ({reason}).")
    },
    saved_cards: "저장된 카드",
    new_card: "새 카드 사용",
    expires: "만료",
    save_card: "다음 결제를 위해 이 카드 저장",
    payment_method: "결제 수단",
    method_card: "카드",
    method_bank: "계좌이체",
    bank: "은행",
    choose_bank: "은행 선택",
    loading_banks: "은행 목록을 불러오는 중…",
    no_banks: "이 결제를 받을 수 있는 은행이 없습니다. 다른 결제 수단을 선택해 주세요.",
    pay_at_bank: |amount| format!("은행에서 {amount} 결제하기"),
    bank_note: "은행에 로그인해 결제를 승인합니다. 은행 로그인 정보는 상점에 전달되지 않습니다.",
    to_bank: "은행으로 이동하는 중…",
    bank_waiting: |bank| format!("새 창에서 {bank} 결제를 승인해 주세요."),
    bank_processing: "은행에서 결제를 확인하고 있습니다. 이 화면은 자동으로 바뀝니다.",
    open_bank_again: "은행 창 다시 열기",
    cancel_bank: "취소하고 다른 방법으로 결제",
    bank_canceled: "계좌이체가 취소되었습니다. 결제 수단을 선택해 주세요.",
    method_wallet: "지갑",
    wallet_balance: |amount| format!("지갑 잔액: {amount}"),
    pay_from_wallet: |amount| format!("지갑에서 {amount} 결제하기"),
    wallet_and_card: |wallet, card| format!("지갑에서 {wallet}, 카드로 {card}를 결제합니다."),
    wallet_empty: "지갑이 비어 있습니다. 다른 결제 수단을 선택해 주세요.",
    about: |amount| format!("약 {amount}"),
    conversion_detail: |amount, from, rate, to, markup, until| {
        format!(
            "{amount}을(를) 1 {from} = {rate} {to} 환율로 환산한 금액이며, 환전 수수료 \
             {markup}%가 포함되어 있습니다. 이 환율은 {until}까지 유지됩니다."
        )
    },
};

fn korean() -> bool {
    crate::locale::current()
        .to_ascii_lowercase()
        .starts_with("ko")
}

pub fn t() -> &'static Strings {
    if korean() {
        &KO
    } else {
        &EN
    }
}

pub fn card_error(error: CardError) -> &'static str {
    if !korean() {
        return error.message();
    }
    match error {
        CardError::IncompleteNumber => "카드 번호를 끝까지 입력해 주세요.",
        CardError::InvalidNumber => "카드 번호가 올바르지 않습니다.",
        CardError::UnsupportedBrand => "지원하지 않는 카드입니다.",
        CardError::IncompleteExpiry => "유효기간을 끝까지 입력해 주세요.",
        CardError::InvalidExpiry => "유효기간의 월이 올바르지 않습니다.",
        CardError::ExpiredCard => "유효기간이 지난 카드입니다.",
        CardError::IncompleteCvc => "보안 코드를 끝까지 입력해 주세요.",
        CardError::InvalidCvc => "보안 코드가 올바르지 않습니다.",
        CardError::MissingName => "카드에 적힌 이름을 입력해 주세요.",
        CardError::InvalidName => "이름이 너무 길거나 사용할 수 없는 문자가 있습니다.",
    }
}

/// The edge's refusals a customer may meet, in Korean (the edge's own message is English).
pub fn api_error(error: &CallError) -> Option<&'static str> {
    if !korean() {
        return None;
    }
    if error.is(const { ErrorCode::RateLimited.as_str() }) {
        Some("요청이 너무 많습니다. 잠시 후 다시 시도해 주세요.")
    } else if error.is(const { ErrorCode::CheckoutSessionLocked.as_str() }) {
        Some("결제 실패가 여러 번 반복되어 이 결제가 잠겼습니다. 상점에서 다시 시작해 주세요.")
    } else if error.is(const { ErrorCode::FxQuoteExpired.as_str() }) {
        Some("환율 유효 시간이 지났습니다. 결제되지 않았으니 상점에서 다시 시작해 주세요.")
    } else if error.is(const { ErrorCode::BlockedByRisk.as_str() }) {
        // As card networks word a fraud refusal: the customer learns nothing of the rules.
        Some("카드가 거절되었습니다.")
    } else {
        None
    }
}

/// Why a bank did not take a payment, in the customer's language; `fallback` is the edge's
/// English message.
pub fn bank_decline(code: Option<DeclineCode>, fallback: Option<String>) -> String {
    if !korean() {
        return fallback.unwrap_or_else(|| "Your bank did not take the payment.".into());
    }
    match code {
        Some(DeclineCode::InsufficientFunds) => "계좌 잔액이 부족합니다.",
        Some(DeclineCode::AuthenticationFailed) => "은행 본인 인증에 실패했습니다.",
        _ => "은행에서 결제를 받지 않았습니다.",
    }
    .into()
}

/// A decline reason in the customer's language; `fallback` is the edge's English message.
pub fn decline(code: Option<DeclineCode>, fallback: Option<String>) -> String {
    let english = || {
        fallback
            .clone()
            .unwrap_or_else(|| "Your card was declined.".into())
    };
    if !korean() {
        return english();
    }
    match code {
        Some(DeclineCode::InsufficientFunds) => "잔액이 부족합니다.",
        Some(DeclineCode::ExpiredCard) => "유효기간이 지난 카드입니다.",
        Some(DeclineCode::IncorrectCvc) => "보안 코드가 올바르지 않습니다.",
        Some(DeclineCode::InvalidNumber) => "카드 번호가 올바르지 않습니다.",
        Some(DeclineCode::ProcessingError) => {
            "카드 처리 중 오류가 발생했습니다. 잠시 후 다시 시도해 주세요."
        }
        Some(DeclineCode::AuthenticationFailed) => "카드사 인증에 실패했습니다.",
        Some(DeclineCode::AuthenticationRequired) => "카드사에서 직접 결제 확인을 요청했습니다.",
        Some(DeclineCode::CardDeclined | DeclineCode::BlockedByRisk) | None => {
            "카드가 거절되었습니다."
        }
    }
    .into()
}
