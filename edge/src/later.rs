//! Work an answer does not wait for. On a request it runs after the response is sent, kept
//! alive by the runtime (`waitUntil`); in a cron or an object it runs in place. Whatever runs
//! here must be safe to lose in a crash: a retry, the poller, the cron or a TTL does it again.
//! Its log lines keep the request's id.

use std::future::Future;

pub enum Later<'a> {
    /// After the response of the request this context belongs to.
    AfterResponse(&'a worker::Context),
    /// Now, before the caller goes on.
    InPlace,
}

impl Later<'_> {
    pub async fn run(&self, work: impl Future<Output = ()> + 'static) {
        match self {
            Later::AfterResponse(context) => match crate::log::current_request_id() {
                Some(id) => context.wait_until(crate::log::WithRequestId::new(&id, work)),
                None => context.wait_until(work),
            },
            Later::InPlace => work.await,
        }
    }
}
