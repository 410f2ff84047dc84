//! Each `ApiError`'s status, code and envelope, as the tests hold them.

use super::*;

#[test]
fn an_internal_error_never_shows_its_detail() {
    let response = ApiError::Internal("disk I/O error at /secret/path".into()).into_response();
    let envelope = response.extensions().get::<ErrorEnvelope>().cloned();
    let envelope = envelope.expect("envelope");
    assert_eq!(envelope.code, "INTERNAL_ERROR");
    assert!(!envelope.message.contains("/secret/path"));
}

#[test]
fn every_variant_has_its_status() {
    let cases = [
        (ApiError::malformed(None, "x"), 400),
        (ApiError::Unauthorized, 401),
        (ApiError::NotFound("x".into()), 404),
        (ApiError::MethodNotAllowed, 405),
        (
            ApiError::CallInProgress {
                call_id: "c".into(),
                retry_after_secs: 1,
            },
            409,
        ),
        (ApiError::PayloadTooLarge { limit: 1 }, 413),
        (ApiError::UnsupportedMediaType, 415),
        (ApiError::validation("f", "x"), 422),
        (ApiError::ExternalCallIdReused, 422),
        (
            ApiError::DispatchFailed {
                call_id: "c".into(),
                code: None,
                message: None,
            },
            502,
        ),
        (ApiError::RequestTimeout, 408),
        (ApiError::UriTooLong { limit: 1 }, 414),
        (
            ApiError::RateLimited {
                retry_after_secs: 3,
            },
            429,
        ),
        (ApiError::ServiceBusy, 503),
        (ApiError::StorageUnavailable { call_id: None }, 503),
        (ApiError::InvalidCredentials, 401),
        (ApiError::NoSession, 401),
        (ApiError::CrossOrigin, 403),
        (
            ApiError::LoginThrottled {
                retry_after_secs: 60,
            },
            429,
        ),
        (ApiError::BadSignature("x"), 401),
        (ApiError::WrongVerifyToken, 403),
        (ApiError::Internal("x".into()), 500),
    ];
    for (error, status) in cases {
        assert_eq!(error.into_response().status().as_u16(), status);
    }
}
