//! Log lines that name the request they belong to. An isolate runs many requests at once,
//! interleaved at their awaits, but polls one future at a time: [`WithRequestId`] makes the
//! request's id current for exactly the time its own future is being polled, so a line logged
//! anywhere inside a request carries that request's id. Lines from the cron and from Durable
//! Objects have none.
//!
//! `log_error!` and `log_warn!` write one JSON line: level, request id, message.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

thread_local! {
    static CURRENT: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// `inner`, with `request_id` current while it is polled.
pub struct WithRequestId<F> {
    request_id: String,
    inner: Pin<Box<F>>,
}

impl<F: Future> WithRequestId<F> {
    pub fn new(request_id: &str, inner: F) -> Self {
        WithRequestId {
            request_id: request_id.to_string(),
            inner: Box::pin(inner),
        }
    }
}

impl<F: Future> Future for WithRequestId<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let id = self.request_id.clone();
        let previous = CURRENT.with(|current| current.replace(Some(id)));
        let result = self.inner.as_mut().poll(cx);
        CURRENT.with(|current| *current.borrow_mut() = previous);
        result
    }
}

/// The id of the request being polled, if any.
pub fn current_request_id() -> Option<String> {
    CURRENT.with(|current| current.borrow().clone())
}

/// The JSON line for `message` at `level`, with the current request's id.
pub fn line(level: &str, message: &str) -> String {
    let request_id = current_request_id();
    serde_json::json!({ "level": level, "request_id": request_id, "message": message }).to_string()
}

/// Logs an error line with the current request's id.
#[macro_export]
macro_rules! log_error {
    ($($arg:tt)*) => {
        worker::console_error!("{}", $crate::log::line("error", &format!($($arg)*)))
    };
}

/// Logs a warning line with the current request's id.
#[macro_export]
macro_rules! log_warn {
    ($($arg:tt)*) => {
        worker::console_warn!("{}", $crate::log::line("warn", &format!($($arg)*)))
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::rc::Rc;

    /// Logs a line on each poll; pending on the first.
    struct Logs {
        lines: Rc<RefCell<Vec<String>>>,
        polled: bool,
    }

    impl Future for Logs {
        type Output = ();

        fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
            self.lines.borrow_mut().push(line("info", "step"));
            if self.polled {
                Poll::Ready(())
            } else {
                self.polled = true;
                Poll::Pending
            }
        }
    }

    #[test]
    fn interleaved_requests_each_log_their_own_id() {
        let lines = Rc::new(RefCell::new(Vec::new()));
        let logs = || Logs {
            lines: lines.clone(),
            polled: false,
        };
        let mut a = Box::pin(WithRequestId::new("req_a", logs()));
        let mut b = Box::pin(WithRequestId::new("req_b", logs()));
        let mut cx = Context::from_waker(std::task::Waker::noop());
        assert!(a.as_mut().poll(&mut cx).is_pending());
        assert!(b.as_mut().poll(&mut cx).is_pending());
        assert!(a.as_mut().poll(&mut cx).is_ready());
        assert!(b.as_mut().poll(&mut cx).is_ready());
        let ids: Vec<Option<serde_json::Value>> = lines
            .borrow()
            .iter()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l)
                    .ok()
                    .and_then(|v| v.get("request_id").cloned())
            })
            .collect();
        let id = |s: &str| Some(serde_json::Value::from(s));
        assert_eq!(ids, [id("req_a"), id("req_b"), id("req_a"), id("req_b")]);
        // Between polls no request is current.
        assert!(line("warn", "cron").contains("\"request_id\":null"));
    }
}
