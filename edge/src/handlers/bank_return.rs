//! `GET /bank/return/{payment}`: where the customer's bank sends them back. The bank's redirect
//! says nothing about the outcome (anyone can open this address), so Till asks the bank and
//! applies its answer, then sends the customer on: to the checkout that opened the bank in a
//! popup (a message to its window, on this exact origin, and the popup closes), to the page that
//! left for the bank (the widget kept its address in this origin's storage), or to the
//! merchant's `return_url` with the outcome, as a hosted checkout does for cards.

use super::widget_page::content_security_policy;
use crate::payments::bank_redirect;
use crate::random;
use crate::store::{self, payments::PaymentRow};
use till_core::ids::{self, IdKind};
use till_core::jwe::b64;
use till_core::payment::PaymentStatus;
use till_core::payment_method_type::PaymentMethodType;
use till_core::receipt::escape_html;
use worker::{Env, Response};

/// What the page says, in the session's language (Korean or English).
struct Words {
    title: &'static str,
    succeeded: &'static str,
    processing: &'static str,
    failed: &'static str,
    canceled: &'static str,
    waiting: &'static str,
    unknown: &'static str,
    close: &'static str,
}

const EN: Words = Words {
    title: "Back from your bank",
    succeeded: "Your bank paid. Returning to the shop…",
    processing: "Your bank is confirming the payment. Returning to the shop…",
    failed: "Your bank did not pay. Returning to the shop…",
    canceled: "The payment was canceled. Returning to the shop…",
    waiting: "The payment is not finished at your bank yet. Returning to the shop…",
    unknown: "This payment link is not valid.",
    close: "You can close this window.",
};

const KO: Words = Words {
    title: "은행에서 돌아왔습니다",
    succeeded: "은행 결제가 완료되었습니다. 상점으로 돌아갑니다…",
    processing: "은행에서 결제를 확인하고 있습니다. 상점으로 돌아갑니다…",
    failed: "은행 결제가 완료되지 않았습니다. 상점으로 돌아갑니다…",
    canceled: "결제가 취소되었습니다. 상점으로 돌아갑니다…",
    waiting: "아직 은행에서 결제가 끝나지 않았습니다. 상점으로 돌아갑니다…",
    unknown: "유효하지 않은 결제 링크입니다.",
    close: "이 창을 닫으셔도 됩니다.",
};

/// A value for the page's script: a JSON string that cannot end the script element.
fn script_string(value: &str) -> String {
    serde_json::to_string(value)
        .unwrap_or_else(|_| "\"\"".into())
        .replace('<', "\\u003c")
}

/// The merchant's `return_url` with the outcome, as the widget adds it for cards.
fn merchant_return(return_url: &str, payment: &PaymentRow) -> Option<String> {
    let mut url = worker::Url::parse(return_url).ok()?;
    url.query_pairs_mut()
        .append_pair("status", payment.status.as_str())
        .append_pair("payment", &payment.id)
        .append_pair("checkout_session", &payment.checkout_session_id);
    Some(url.to_string())
}

/// The payment as the bank has it now, and the session's return address and language.
async fn settled(env: &Env, id: &str) -> Option<(PaymentRow, Option<String>, Option<String>)> {
    if !ids::is_valid(IdKind::Payment, id) {
        return None;
    }
    let mut payment = store::payments::by_id(env, id).await.ok().flatten()?;
    if payment.method != PaymentMethodType::BankRedirect {
        return None;
    }
    if !payment.status.is_terminal() {
        // Unanswered, the payment stays as stored; the widget and the poller ask again.
        if let Err(error) = bank_redirect::recover(env, &mut payment).await {
            crate::log_warn!("payment {id}: bank lookup on return failed: {error}");
        }
    }
    let session = store::sessions::find(env, &payment.merchant_id, &payment.checkout_session_id)
        .await
        .ok()
        .flatten();
    let (return_url, locale) = match session {
        Some(session) => (session.return_url, session.locale),
        None => (None, None),
    };
    Some((payment, return_url, locale))
}

pub async fn serve(env: &Env, id: &str) -> worker::Result<Response> {
    let nonce = random::bytes::<16>()
        .map(|b| b64(&b))
        .map_err(|_| worker::Error::RustError("no randomness".into()))?;
    let found = settled(env, id).await;
    let korean = found
        .as_ref()
        .and_then(|(_, _, locale)| locale.as_deref())
        .is_some_and(|locale| locale.starts_with("ko"));
    let words = if korean { &KO } else { &EN };
    let (status, message, script) = match &found {
        None => (404, words.unknown, String::new()),
        Some((payment, return_url, _)) => {
            let message = match payment.status {
                PaymentStatus::Succeeded => words.succeeded,
                PaymentStatus::Processing => words.processing,
                PaymentStatus::Failed => words.failed,
                PaymentStatus::Canceled => words.canceled,
                _ => words.waiting,
            };
            let fallback = return_url
                .as_deref()
                .and_then(|url| merchant_return(url, payment))
                .unwrap_or_default();
            let script = format!(
                "<script nonce=\"{nonce}\">(function(){{\
                 var payment={payment},fallback={fallback};\
                 var saved='till:bank_return:'+payment,back=null;\
                 try{{back=localStorage.getItem(saved);localStorage.removeItem(saved);}}catch(e){{}}\
                 if(window.opener&&!window.opener.closed){{\
                 window.opener.postMessage({{type:'till:bank_return',payment:payment}},location.origin);\
                 window.close();return;}}\
                 var next=back||fallback;\
                 if(next){{setTimeout(function(){{location.replace(next);}},800);}}\
                 else{{document.getElementById('close').hidden=false;}}\
                 }})();</script>",
                payment = script_string(&payment.id),
                fallback = script_string(&fallback),
            );
            (200, message, script)
        }
    };
    let html = format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title></head><body>\
         <main><h1>{title}</h1><p id=\"status\" role=\"status\">{message}</p>\
         <p id=\"close\" hidden>{close}</p></main>{script}</body></html>",
        lang = if korean { "ko" } else { "en" },
        title = escape_html(words.title),
        message = escape_html(message),
        close = escape_html(words.close),
    );
    let mut response = Response::from_html(html)?.with_status(status);
    let headers = response.headers_mut();
    headers.set(
        "Content-Security-Policy",
        &content_security_policy(&nonce, "'none'"),
    )?;
    headers.set("Cache-Control", "no-store")?;
    headers.set("Referrer-Policy", "no-referrer")?;
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_in_the_script_cannot_close_it() {
        let value = script_string("https://shop.test/</script><script>alert(1)</script>");
        assert!(!value.contains("</script>"), "{value}");
        assert!(value.starts_with('"') && value.ends_with('"'));
    }
}
