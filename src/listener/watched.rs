//! The connection's stream as hyper sees it: reads and writes mark the connection's activity (a
//! write that waits means the client stopped reading), and a response hyper writes on its own (a head too large, too many headers, a request that is not
//! HTTP) is replaced by the same status in the error envelope, with a request id.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::activity::Activity;
use crate::error::ErrorEnvelope;
use crate::secret::random_alphanumeric;

/// The connection's stream (TCP, or TLS over it) as hyper sees it: reads mark the connection's activity, and a response hyper
/// writes on its own (it carries no `x-request-id`, which every routed response has) is
/// replaced by the same status in the error envelope.
pub(super) struct Watched<S> {
    stream: S,
    activity: Arc<Activity>,
    /// A line end was read since the last response: the request line is complete. Hyper calls
    /// a head that outgrows its buffer "too large" (431) even when it is the URI (414).
    line_seen: bool,
    /// The last write took only part of its buffer: the next one continues a response, and is
    /// never the start of one of hyper's own.
    continuing: bool,
    /// Our replacement of hyper's own answer, and how much of it is written.
    rewrite: Option<(Vec<u8>, usize)>,
    /// After a replaced answer hyper closes the connection; anything more it writes is dropped.
    rewritten: bool,
}

impl<S> Watched<S> {
    pub(super) fn new(stream: S, activity: Arc<Activity>) -> Watched<S> {
        Watched {
            stream,
            activity,
            line_seen: false,
            continuing: false,
            rewrite: None,
            rewritten: false,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        ready!(Pin::new(&mut self.stream).poll_read(cx, buf))?;
        if buf.filled().len() > before {
            if buf.filled()[before..].contains(&b'\n') {
                self.line_seen = true;
            }
            self.activity.bytes_arrived();
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.rewritten {
            return Poll::Ready(Ok(buf.len()));
        }
        if self.rewrite.is_none()
            && !self.continuing
            && let Some(status) = unrouted_status(buf)
        {
            let status = if status == 431 && !self.line_seen {
                414
            } else {
                status
            };
            self.rewrite = Some((enveloped(status), 0));
        }
        let this = &mut *self;
        let Some((bytes, written)) = &mut this.rewrite else {
            let n = match Pin::new(&mut this.stream).poll_write(cx, buf) {
                Poll::Pending => {
                    this.activity.write_blocked();
                    return Poll::Pending;
                }
                Poll::Ready(written) => written?,
            };
            this.activity.bytes_sent();
            this.continuing = n < buf.len();
            // A response went out: the next request's line starts afresh.
            this.line_seen = false;
            return Poll::Ready(Ok(n));
        };
        while *written < bytes.len() {
            let n = ready!(Pin::new(&mut this.stream).poll_write(cx, &bytes[*written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *written += n;
        }
        this.rewrite = None;
        this.rewritten = true;
        // Hyper's own bytes count as written: they were answered by ours.
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let flushed = ready!(Pin::new(&mut self.stream).poll_flush(cx));
        if flushed.is_ok() {
            // Hyper flushes after it wrote its buffer: a response ended before is all out.
            self.activity.flushed();
        }
        Poll::Ready(flushed)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// The status of a response that hyper wrote on its own, or `None` for a routed response.
fn unrouted_status(buf: &[u8]) -> Option<u16> {
    let rest = buf
        .strip_prefix(b"HTTP/1.1 ")
        .or_else(|| buf.strip_prefix(b"HTTP/1.0 "))?;
    let status: u16 = std::str::from_utf8(rest.get(..3)?).ok()?.parse().ok()?;
    if status < 400 {
        return None;
    }
    let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    (!head.contains("\r\nx-request-id:")).then_some(status)
}

/// A whole response for `status` in the error envelope, with a request id; the connection closes.
fn enveloped(status: u16) -> Vec<u8> {
    let (code, message) = match status {
        400 => ("MALFORMED_REQUEST", "the request is not valid HTTP/1.x"),
        414 => ("URI_TOO_LONG", "the request URI is too long"),
        431 => (
            "HEADERS_TOO_LARGE",
            "the request headers are too large or too many",
        ),
        _ => ("INTERNAL_ERROR", "the request could not be served"),
    };
    let request_id = format!("req_{}", random_alphanumeric(20));
    let body = ErrorEnvelope {
        code,
        message: message.into(),
        details: serde_json::json!({}),
    }
    .to_json(&request_id)
    .to_string();
    let reason = axum::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error");
    format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         x-request-id: {request_id}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_response_of_hyper_itself_is_recognised_by_its_missing_request_id() {
        let hyper_431 =
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        let routed = b"HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\nx-request-id: req_1\r\n\r\n{}";
        let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";

        assert_eq!(unrouted_status(hyper_431), Some(431));
        assert_eq!(unrouted_status(routed), None);
        assert_eq!(unrouted_status(ok), None);
    }
}
