//! Where a request's time went, as its answer's `Server-Timing` header. A handler ends each
//! step it waits on with [`step`]; the steps belong to the request being polled, the way log
//! lines find their request id (an isolate interleaves requests at their awaits, and
//! [`Timed`] makes a request's steps current only while its own future is polled). The Workers
//! clock moves only while a request waits for I/O, so each step's duration is what it waited
//! for: storage, the gateway.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

thread_local! {
    static CURRENT: RefCell<Option<Rc<Steps>>> = const { RefCell::new(None) };
}

fn now() -> f64 {
    worker::Date::now().as_millis() as f64
}

/// One request's finished steps.
pub struct Steps {
    last_ended: Cell<f64>,
    ended: RefCell<Vec<(&'static str, f64)>>,
}

impl Steps {
    pub fn start() -> Rc<Steps> {
        Rc::new(Steps {
            last_ended: Cell::new(now()),
            ended: RefCell::new(Vec::new()),
        })
    }

    /// The header's value; `None` when the request marked no step.
    pub fn header(&self) -> Option<String> {
        till_core::server_timing::header(&self.ended.borrow())
    }
}

/// `inner`, with `steps` current while it is polled.
pub struct Timed<F> {
    steps: Rc<Steps>,
    inner: Pin<Box<F>>,
}

impl<F: Future> Timed<F> {
    pub fn new(steps: &Rc<Steps>, inner: F) -> Self {
        Timed {
            steps: Rc::clone(steps),
            inner: Box::pin(inner),
        }
    }
}

impl<F: Future> Future for Timed<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let steps = Rc::clone(&self.steps);
        let previous = CURRENT.with(|current| current.replace(Some(steps)));
        let result = self.inner.as_mut().poll(cx);
        CURRENT.with(|current| *current.borrow_mut() = previous);
        result
    }
}

/// Ends the current request's step `name`: the time since its previous step ended (or since
/// it started). Outside a request (a cron, an object, work after the answer) it does nothing.
pub fn step(name: &'static str) {
    CURRENT.with(|current| {
        if let Some(steps) = current.borrow().as_ref() {
            let ended = now();
            let began = steps.last_ended.replace(ended);
            steps.ended.borrow_mut().push((name, ended - began));
        }
    });
}
