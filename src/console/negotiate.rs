//! The language of each console request (SPEC §9, Language): `?lang=`, else the signed-in
//! user's setting, else the browser's `Accept-Language`, else English. The layer looks the
//! session up once for the handler, says the language in `Content-Language`, and puts every
//! error's message in that language, from the same message files as the pages.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use fluent_bundle::FluentValue;
use serde_json::Value;

use super::ConsoleApp;
use super::language::{Arg, Lang};
use super::session::{self, Resolved};
use crate::error::ErrorEnvelope;

/// Decides the request's language and speaks it in the answer.
pub async fn speak(State(state): State<ConsoleApp>, mut request: Request, next: Next) -> Response {
    let path = request.uri().path();
    // Files and booking links have no words and no session to look up.
    if path.starts_with("/console/assets/") || path.starts_with("/r/") {
        return next.run(request).await;
    }
    let asked = super::api::Query::parse(request.uri().query().map(str::to_string))
        .get("lang")
        .and_then(Lang::parse);
    let user = session::resolve(request.headers(), &state).await;
    let chosen = user
        .as_ref()
        .ok()
        .and_then(|u| u.as_ref())
        .and_then(|u| u.user.lang.as_deref())
        .and_then(Lang::parse);
    let browser = request
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(Lang::from_accept_language);
    let lang = asked.or(chosen).or(browser).unwrap_or_default();
    // A session that could not be read is looked up again by the handler, which answers why.
    if let Ok(user) = user {
        request.extensions_mut().insert(Resolved(user));
    }
    request.extensions_mut().insert(lang);
    let mut response = next.run(request).await;
    if let Some(envelope) = response.extensions_mut().get_mut::<ErrorEnvelope>() {
        envelope.message = localised(envelope, lang);
    }
    response
        .headers_mut()
        .entry(header::CONTENT_LANGUAGE)
        .or_insert(HeaderValue::from_static(lang.code()));
    response
}

/// The error's message in `lang`: by code and field (`error-VALIDATION_ERROR-from`), else by
/// code, with the details' values as arguments; the message as it was for a code the files
/// do not know.
pub(super) fn localised(envelope: &ErrorEnvelope, lang: Lang) -> String {
    let words = lang.words();
    let field = envelope.details.get("field").and_then(Value::as_str);
    let by_field = field.map(|f| format!("error-{}-{f}", envelope.code));
    let by_code = format!("error-{}", envelope.code);
    let Some(id) = by_field
        .filter(|id| words.has(id))
        .or_else(|| words.has(&by_code).then_some(by_code))
    else {
        return envelope.message.clone();
    };
    let args: Vec<Arg<'_>> = envelope
        .details
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(name, value)| {
            let value = match value {
                Value::Number(n) => FluentValue::from(n.as_f64()?),
                Value::String(s) => FluentValue::from(s.as_str()),
                _ => return None,
            };
            Some((name.as_str(), value))
        })
        .collect();
    words.format(&id, &args)
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    /// The language the layer decided; English outside the console's routes.
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<Lang>().copied().unwrap_or_default())
    }
}
