//! A request body with a deadline for the whole of it: a client that trickles its body a byte
//! at a time cannot hold a connection longer than one that sends nothing.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use http_body::{Frame, SizeHint};
use tokio::time::{Instant, Sleep};

/// The error a body gives once its deadline passed; the edge answers it `408`.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within server.header_timeout_ms")]
pub struct BodyTimedOut;

pub(super) struct Deadline {
    inner: Body,
    at: Instant,
    /// Armed only when the body makes the reader wait: a small body already read with its head
    /// costs no timer.
    expires: Option<Pin<Box<Sleep>>>,
}

impl Deadline {
    /// `inner`, which must be read whole within `limit` from now.
    pub(super) fn new(inner: Body, limit: Duration) -> Deadline {
        Deadline {
            inner,
            at: Instant::now() + limit,
            expires: None,
        }
    }
}

impl http_body::Body for Deadline {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        let at = self.at;
        let expires = self
            .expires
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(at)));
        if expires.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err(axum::Error::new(BodyTimedOut))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
