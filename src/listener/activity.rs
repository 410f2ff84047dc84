//! Where one connection stands, for its timeouts and for choosing which idle connection makes
//! room at the cap. Updated on the request path and by the connection's stream (a lock nobody
//! holds for long); read by the connection's watchdog tick and by the accept loop.

use std::pin::Pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use http_body::{Frame, SizeHint};
use tokio::time::Instant;

/// The phase of a connection.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    /// Waiting for (the rest of) a request head since this instant.
    Head(Instant),
    /// This many requests are being answered, their responses included until the last byte.
    Busy(usize),
    /// The last response's end has been taken from its body, and hyper may still hold bytes of
    /// it that the stream has not been given: timed like `Idle`, never closed to make room.
    Draining(Instant),
    /// Answered everything and handed it all to the stream; nothing written or read since.
    Idle(Instant),
}

#[derive(Debug)]
struct State {
    phase: Phase,
    /// A write has been waiting since then for the client to read: it stopped reading.
    stalled_since: Option<Instant>,
}

#[derive(Debug)]
pub(super) struct Activity {
    state: Mutex<State>,
}

impl Activity {
    /// A connection just accepted: its first head is awaited from now.
    pub(super) fn new() -> Activity {
        Activity {
            state: Mutex::new(State {
                phase: Phase::Head(Instant::now()),
                stalled_since: None,
            }),
        }
    }

    fn update(&self, change: impl FnOnce(&mut State)) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        change(&mut state);
    }

    fn read<T>(&self, look: impl FnOnce(&State) -> T) -> T {
        look(&self.state.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Bytes arrived: on an idle connection they start the next request's head.
    pub(super) fn bytes_arrived(&self) {
        self.update(|s| {
            if let Phase::Idle(_) | Phase::Draining(_) = s.phase {
                s.phase = Phase::Head(Instant::now());
            }
        });
    }

    /// Bytes left for the client: a response is progressing, and the idle clock starts after
    /// its last byte, not when the handler returned.
    pub(super) fn bytes_sent(&self) {
        self.update(|s| {
            s.stalled_since = None;
            s.phase = match s.phase {
                Phase::Idle(_) => Phase::Idle(Instant::now()),
                Phase::Draining(_) => Phase::Draining(Instant::now()),
                phase => phase,
            };
        });
    }

    /// The stream took everything hyper had written: a drained connection is idle.
    pub(super) fn flushed(&self) {
        self.update(|s| {
            if let Phase::Draining(_) = s.phase {
                s.phase = Phase::Idle(Instant::now());
            }
        });
    }

    /// A write waits for the client to read.
    pub(super) fn write_blocked(&self) {
        self.update(|s| {
            s.stalled_since.get_or_insert_with(Instant::now);
        });
    }

    fn request_started(&self) {
        self.update(|s| {
            s.phase = match s.phase {
                Phase::Busy(n) => Phase::Busy(n + 1),
                _ => Phase::Busy(1),
            }
        });
    }

    fn request_finished(&self) {
        self.update(|s| {
            s.phase = match s.phase {
                Phase::Busy(n) if n > 1 => Phase::Busy(n - 1),
                _ => Phase::Draining(Instant::now()),
            }
        });
    }

    /// When the connection is to be closed, if nothing happens before: a head not whole in
    /// `header_timeout`, no request for `idle_timeout`, or a response the client has not read
    /// from for `idle_timeout`. A response that moves, however slowly, has none.
    pub(super) fn deadline(
        &self,
        header_timeout: Duration,
        idle_timeout: Duration,
    ) -> Option<Instant> {
        self.read(|s| match s.phase {
            Phase::Head(since) => Some(since + header_timeout),
            Phase::Draining(since) | Phase::Idle(since) => Some(since + idle_timeout),
            Phase::Busy(_) => s.stalled_since.map(|since| since + idle_timeout),
        })
    }

    /// Since when the connection has waited on its client between requests (or for a head
    /// still incomplete); `None` while it answers one, or still holds bytes of the last answer.
    pub(super) fn idle_since(&self) -> Option<Instant> {
        self.read(|s| match s.phase {
            Phase::Head(since) | Phase::Idle(since) => Some(since),
            Phase::Busy(_) | Phase::Draining(_) => None,
        })
    }

    pub(super) fn is_busy(&self) -> bool {
        self.idle_since().is_none()
    }
}

/// One request of a connection, from its head to the last byte of its response: made when the
/// request arrives, carried by the response body, and finished when that body ends or is
/// dropped (a connection closed mid-response, or a handler that never answered).
#[derive(Debug)]
pub(super) struct InRequest {
    activity: std::sync::Arc<Activity>,
    done: AtomicBool,
}

impl InRequest {
    pub(super) fn start(activity: &std::sync::Arc<Activity>) -> InRequest {
        activity.request_started();
        InRequest {
            activity: std::sync::Arc::clone(activity),
            done: AtomicBool::new(false),
        }
    }

    /// Counts the request finished, once.
    pub(super) fn finish(&self) {
        if !self.done.swap(true, Ordering::SeqCst) {
            self.activity.request_finished();
        }
    }
}

impl Drop for InRequest {
    fn drop(&mut self) {
        self.finish();
    }
}

/// A response body that keeps its request counted until its last frame has been taken, so that
/// a slow download is activity, not idleness.
pub(super) struct Responding {
    inner: Body,
    request: InRequest,
}

impl Responding {
    pub(super) fn new(inner: Body, request: InRequest) -> Responding {
        Responding { inner, request }
    }
}

impl http_body::Body for Responding {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let frame = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(frame, Poll::Ready(None) | Poll::Ready(Some(Err(_)))) {
            self.request.finish();
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        let end = self.inner.is_end_stream();
        if end {
            // An empty body may never be polled.
            self.request.finish();
        }
        end
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn a_response_being_written_has_no_deadline_until_the_client_stops_reading() {
        let activity = Arc::new(Activity::new());
        let request = InRequest::start(&activity);
        activity.bytes_sent();
        assert_eq!(activity.deadline(SECOND, SECOND), None);

        activity.write_blocked();
        assert!(activity.deadline(SECOND, SECOND).is_some());
        activity.bytes_sent();
        assert_eq!(activity.deadline(SECOND, SECOND), None);

        request.finish();
        assert_eq!(
            activity.idle_since(),
            None,
            "bytes may be left to hand over"
        );
        activity.flushed();
        assert!(activity.idle_since().is_some());
    }

    #[test]
    fn a_request_is_finished_once_however_often_it_is_told() {
        let activity = Arc::new(Activity::new());
        let first = InRequest::start(&activity);
        let second = InRequest::start(&activity);
        first.finish();
        first.finish();
        drop(first);
        assert!(activity.is_busy(), "the second request still runs");
        drop(second);
        activity.flushed();
        assert!(!activity.is_busy());
    }
}
