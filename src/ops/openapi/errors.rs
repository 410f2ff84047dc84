//! Keeps the document's error responses in step with `ApiError` and with what reading a body
//! can answer.

use axum::response::IntoResponse;
use utoipa::OpenApi;

use crate::error::responses::ERROR_CODES;
use crate::error::{ApiError, ErrorEnvelope};

/// One of each variant. The match below stops compiling when a variant is added, so that
/// its code is added to `ERROR_CODES` (and here) too.
fn every_api_error() -> Vec<ApiError> {
    let all = vec![
        ApiError::malformed(None, "x"),
        ApiError::Unauthorized,
        ApiError::NotFound("x".into()),
        ApiError::MethodNotAllowed,
        ApiError::CallInProgress {
            call_id: "c".into(),
            retry_after_secs: 1,
        },
        ApiError::Conflict {
            reservation_id: "r".into(),
        },
        ApiError::PayloadTooLarge { limit: 1 },
        ApiError::UnsupportedMediaType,
        ApiError::validation("f", "x"),
        ApiError::ExternalCallIdReused,
        ApiError::DispatchFailed {
            call_id: "c".into(),
            code: None,
            message: None,
        },
        ApiError::RequestTimeout,
        ApiError::UriTooLong { limit: 1 },
        ApiError::RateLimited {
            retry_after_secs: 1,
        },
        ApiError::ServiceBusy,
        ApiError::StorageUnavailable { call_id: None },
        ApiError::InvalidCredentials,
        ApiError::NoSession,
        ApiError::CrossOrigin,
        ApiError::LoginThrottled {
            retry_after_secs: 1,
        },
        ApiError::BadSignature("x"),
        ApiError::WrongVerifyToken,
        ApiError::SuppressionNotOperator {
            reason: "reply".into(),
        },
        ApiError::Internal("x".into()),
    ];
    for error in &all {
        match error {
            ApiError::Malformed { .. }
            | ApiError::Unauthorized
            | ApiError::NotFound(_)
            | ApiError::MethodNotAllowed
            | ApiError::CallInProgress { .. }
            | ApiError::Conflict { .. }
            | ApiError::PayloadTooLarge { .. }
            | ApiError::UnsupportedMediaType
            | ApiError::Validation { .. }
            | ApiError::ExternalCallIdReused
            | ApiError::DispatchFailed { .. }
            | ApiError::RequestTimeout
            | ApiError::UriTooLong { .. }
            | ApiError::RateLimited { .. }
            | ApiError::ServiceBusy
            | ApiError::StorageUnavailable { .. }
            | ApiError::InvalidCredentials
            | ApiError::NoSession
            | ApiError::CrossOrigin
            | ApiError::LoginThrottled { .. }
            | ApiError::BadSignature(_)
            | ApiError::WrongVerifyToken
            | ApiError::SuppressionNotOperator { .. }
            | ApiError::Internal(_) => {}
        }
    }
    all
}

#[test]
fn every_response_an_operation_refers_to_is_in_the_document() {
    let doc = serde_json::to_value(super::ApiDoc::openapi()).expect("json");
    let text = doc.to_string();
    let components = &doc["components"]["responses"];
    let mut referred = 0;
    for piece in text.split("\"#/components/responses/").skip(1) {
        let name = piece.split('"').next().expect("name");
        assert!(
            components.get(name).is_some(),
            "{name} is referred to, not declared"
        );
        referred += 1;
    }
    assert!(referred > 20, "{referred} references");
}

/// Every way reading a body can fail, and the status each gets.
async fn body_failures() -> Vec<u16> {
    use axum::body::Body;
    use axum::http::{HeaderMap, HeaderValue, header};

    use crate::routes::input::read_object;

    let json = |length: Option<&str>| {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Some(length) = length {
            headers.insert(
                header::CONTENT_LENGTH,
                HeaderValue::from_str(length).expect("n"),
            );
        }
        headers
    };
    let stalled = Body::new(Stalled);
    let cases = vec![
        read_object(&HeaderMap::new(), Body::from("{}"), 100).await,
        read_object(&json(Some("1000")), Body::from("{}"), 100).await,
        read_object(&json(None), Body::from(vec![b' '; 1000]), 100).await,
        read_object(&json(None), stalled, 100).await,
        read_object(&json(None), Body::from("not json"), 100).await,
        read_object(&json(None), Body::from("[]"), 100).await,
    ];
    cases
        .into_iter()
        .map(|r| r.expect_err("refused").into_response().status().as_u16())
        .collect()
}

/// A body that fails as one whose deadline passed does.
struct Stalled;

impl http_body::Body for Stalled {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let timed_out = crate::listener::BodyTimedOut;
        std::task::Poll::Ready(Some(Err(axum::Error::new(timed_out))))
    }
}

#[tokio::test]
async fn every_status_reading_a_json_body_can_answer_is_in_the_json_body_kind() {
    let documented: Vec<u16> = crate::error::responses::JSON_BODY
        .iter()
        .map(|(s, _)| *s)
        .collect();
    let answered = body_failures().await;
    assert_eq!(answered, [415, 413, 413, 408, 400, 400]);
    for status in answered {
        assert!(documented.contains(&status), "{status} is not in JsonBody");
    }
}

#[test]
fn every_error_code_the_api_answers_is_in_the_documented_set() {
    for error in every_api_error() {
        let response = error.into_response();
        let envelope = response.extensions().get::<ErrorEnvelope>().cloned();
        let code = envelope.expect("envelope").code;
        assert!(ERROR_CODES.contains(&code), "{code} is not documented");
    }
}
