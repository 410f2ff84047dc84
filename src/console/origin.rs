//! The console's own-origin rule for every state-changing request (SPEC §9): a form posted from
//! another site (CSRF, login CSRF) is refused, while the console's pages, and a client that is
//! not a browser, get through.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ConsoleApp;
use crate::error::ApiError;

/// Refuses a state-changing request that does not come from the console's own origin.
pub async fn same_origin_only(
    State(state): State<ConsoleApp>,
    request: Request,
    next: Next,
) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if !safe && !from_own_origin(request.headers(), &state.config.server.public_url) {
        return ApiError::CrossOrigin.into_response();
    }
    next.run(request).await
}

/// The rule itself. `public_url` is `server.public_url` (may be empty): behind a reverse proxy,
/// the browser's origin is the public one.
pub fn from_own_origin(headers: &HeaderMap, public_url: &str) -> bool {
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let fetch_site = text("sec-fetch-site").map(str::to_ascii_lowercase);
    if matches!(fetch_site.as_deref(), Some("cross-site" | "same-site")) {
        return false;
    }
    match text(header::ORIGIN.as_str()).map(str::trim) {
        // Sent under `Referrer-Policy: no-referrer`: only the fetch metadata can vouch for it.
        Some("null") => matches!(fetch_site.as_deref(), Some("same-origin" | "none")),
        Some(origin) => {
            let host = text(header::HOST.as_str()).unwrap_or_default();
            origin_is(origin, host) || same_url_origin(origin, public_url)
        }
        None => true,
    }
}

/// Does `origin` (`scheme://host[:port]`) name the authority the request was sent to? The
/// scheme is not compared: a TLS proxy in front of the box changes it, not the host.
fn origin_is(origin: &str, host: &str) -> bool {
    let authority = origin
        .split_once("://")
        .map_or("", |(_, rest)| rest)
        .trim_end_matches('/');
    !host.is_empty() && authority.eq_ignore_ascii_case(host.trim())
}

fn same_url_origin(origin: &str, public_url: &str) -> bool {
    let Ok(public) = url::Url::parse(public_url) else {
        return false;
    };
    let Ok(origin) = url::Url::parse(origin) else {
        return false;
    };
    public.origin() == origin.origin()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn the_rule_of_spec_9_case_by_case() {
        let host = ("host", "box.lan:8080");
        let cases: &[(&[(&str, &str)], bool)] = &[
            (&[host], true),
            (&[host, ("origin", "http://box.lan:8080")], true),
            (&[host, ("origin", "http://evil.example")], false),
            (
                &[host, ("origin", "http://box.lan:8080.evil.example")],
                false,
            ),
            (&[host, ("sec-fetch-site", "cross-site")], false),
            (&[host, ("sec-fetch-site", "same-site")], false),
            (&[host, ("sec-fetch-site", "same-origin")], true),
            (&[host, ("sec-fetch-site", "none")], true),
            (
                &[host, ("origin", "null"), ("sec-fetch-site", "same-origin")],
                true,
            ),
            (&[host, ("origin", "null")], false),
            (&[host, ("origin", "https://rb.example.com")], true),
            (
                &[
                    host,
                    ("origin", "http://box.lan:8080"),
                    ("sec-fetch-site", "cross-site"),
                ],
                false,
            ),
        ];
        for (pairs, expected) in cases {
            let got = from_own_origin(&headers(pairs), "https://rb.example.com");
            assert_eq!(got, *expected, "{pairs:?}");
        }
    }
}
