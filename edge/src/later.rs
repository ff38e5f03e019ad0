//! Work an answer does not wait for. On a request it runs after the response is sent, kept
//! alive by the runtime (`waitUntil`); in a cron or an object it runs in place. Whatever runs
//! here must be safe to lose in a crash: a retry, the poller, the cron or a TTL does it again.
//! Its log lines keep the request's id.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

type Work = Pin<Box<dyn Future<Output = ()>>>;

pub enum Later<'a> {
    /// After the response of the request this context belongs to: held until the handler has
    /// answered ([`Later::send_off`]).
    AfterResponse {
        context: &'a worker::Context,
        held: RefCell<Vec<Work>>,
    },
    /// Now, before the caller goes on.
    InPlace,
}

impl<'a> Later<'a> {
    pub fn after_response(context: &'a worker::Context) -> Self {
        Later::AfterResponse {
            context,
            held: RefCell::new(Vec::new()),
        }
    }

    pub async fn run(&self, work: impl Future<Output = ()> + 'static) {
        match self {
            Later::AfterResponse { held, .. } => {
                let work: Work = match crate::log::current_request_id() {
                    Some(id) => Box::pin(crate::log::WithRequestId::new(&id, work)),
                    None => Box::pin(work),
                };
                held.borrow_mut().push(work);
            }
            Later::InPlace => work.await,
        }
    }

    /// Hands the held work to the runtime, once the handler has its answer. Each piece first
    /// waits for a timer of zero: a future given to `waitUntil` is polled in the same microtask
    /// checkpoint as the answer, so everything it did before its first wait (building requests,
    /// signing webhooks, rendering a receipt) used to delay the response by as much. A timer
    /// lets the runtime send the response first.
    pub fn send_off(self) {
        if let Later::AfterResponse { context, held } = self {
            for work in held.into_inner() {
                context.wait_until(async move {
                    worker::Delay::from(Duration::ZERO).await;
                    work.await
                });
            }
        }
    }
}
