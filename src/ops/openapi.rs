//! `GET /api/partner/v1/openapi.json` (SPEC §8): the OpenAPI 3.1 document of the partner API,
//! generated from the handlers' `#[utoipa::path]` and the types they answer with.

#[cfg(test)]
mod errors;

use std::sync::LazyLock;

use axum::Json;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{Schema, SchemaType, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{Object, RefOr, Required};
use utoipa::{Modify, OpenApi};

use crate::error::responses;
use crate::routes::{customers, partner, reservations};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "ringback partner API",
        version = env!("CARGO_PKG_VERSION"),
        description = "Missed calls in, WhatsApp messages out; the reservations and customers \
            the box matches them with. Every response carries `x-request-id`."
    ),
    paths(
        partner::report_missed_call,
        partner::get_missed_call,
        partner::get_me,
        reservations::create_reservation,
        reservations::list_reservations,
        reservations::get_reservation,
        reservations::update_reservation,
        reservations::cancel_reservation,
        customers::find_customers,
        customers::update_customer,
        get_openapi,
    ),
    components(
        schemas(responses::ErrorBody),
        responses(
            responses::Malformed,
            responses::Unauthorized,
            responses::NotFound,
            responses::RequestTimeout,
            responses::CallInProgress,
            responses::Conflict,
            responses::PayloadTooLarge,
            responses::UnsupportedMediaType,
            responses::Invalid,
            responses::RateLimited,
            responses::Internal,
            responses::DispatchFailed,
            responses::Unavailable,
        )
    ),
    modifiers(&BearerToken, &RequestIds, &OptionalBodies),
)]
pub struct ApiDoc;

/// The name of the bearer scheme the handlers' `security(...)` refers to.
pub const BEARER: &str = "bearer";

struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.description =
            Some("A restaurant's partner token: `rbk_` and at least 32 letters and digits.".into());
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(BEARER, SecurityScheme::Http(scheme));
    }
}

/// Every request may name its id, and every response (errors too) carries it (SPEC §2): said
/// once here rather than on each of them.
struct RequestIds;

const REQUEST_ID: &str = "x-request-id";

impl Modify for RequestIds {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let header = || {
            HeaderBuilder::new()
                .schema(Object::with_type(Type::String))
                .description(Some(
                    "The request's own id when it is 1–64 visible ASCII characters, else a new `req_…`.",
                ))
                .build()
        };
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.post,
                &mut item.patch,
                &mut item.put,
                &mut item.delete,
            ];
            for operation in operations.into_iter().flatten() {
                add_request_id_parameter(operation);
                for response in operation.responses.responses.values_mut() {
                    if let RefOr::T(response) = response {
                        response.headers.insert(REQUEST_ID.into(), header());
                    }
                }
            }
        }
        if let Some(components) = openapi.components.as_mut() {
            for response in components.responses.values_mut() {
                if let RefOr::T(response) = response {
                    response.headers.insert(REQUEST_ID.into(), header());
                }
            }
        }
    }
}

fn add_request_id_parameter(operation: &mut Operation) {
    let parameter = ParameterBuilder::new()
        .name(REQUEST_ID)
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "Echoed on the response when 1–64 visible ASCII characters; logged with the request.",
        ))
        .schema(Some(Object::with_type(Type::String)))
        .build();
    operation
        .parameters
        .get_or_insert_with(Vec::new)
        .push(parameter);
}

/// An optional body is absent, never `null`: the `null` utoipa adds to an `Option` body's schema
/// is taken off again (a `null` body is a `400`).
struct OptionalBodies;

impl Modify for OptionalBodies {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let is_null = |schema: &RefOr<Schema>| matches!(schema, RefOr::T(Schema::Object(o)) if o.schema_type == SchemaType::Type(Type::Null));
        for item in openapi.paths.paths.values_mut() {
            let operations = [&mut item.post, &mut item.patch, &mut item.put];
            for operation in operations.into_iter().flatten() {
                let Some(body) = operation.request_body.as_mut() else {
                    continue;
                };
                for content in body.content.values_mut() {
                    if let Some(RefOr::T(Schema::OneOf(one_of))) = &content.schema {
                        let mut items = one_of.items.iter().filter(|s| !is_null(s));
                        if let (Some(only), None) = (items.next(), items.next()) {
                            content.schema = Some(only.clone());
                        }
                    }
                }
            }
        }
    }
}

/// Built once: the document does not change while the process runs.
static DOCUMENT: LazyLock<utoipa::openapi::OpenApi> = LazyLock::new(ApiDoc::openapi);

/// This document. It needs no token: an integrator reads it before having one.
#[utoipa::path(
    get,
    path = "/api/partner/v1/openapi.json",
    tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 document of the partner API", body = Object)),
)]
pub async fn get_openapi() -> Json<&'static utoipa::openapi::OpenApi> {
    Json(&DOCUMENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_is_openapi_3_1_with_the_crate_version() {
        let doc = serde_json::to_value(&*DOCUMENT).expect("json");
        assert_eq!(doc["openapi"], "3.1.0");
        assert_eq!(doc["info"]["title"], "ringback partner API");
        assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    }
}
