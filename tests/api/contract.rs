//! Checks real requests and answers against the OpenAPI document the app serves. A request's
//! body must match the operation's `requestBody` schema (a body sent malformed on purpose goes
//! through `call_malformed`, and must be one the document refuses). An answer's status must be
//! one the operation declares, its body must match the schema declared for it (`$ref`s resolved
//! against the whole document), and the headers it declares must be there.

use jsonschema::{Draft, Registry};
use reqwest::{Method, Response};
use serde_json::{Value, json};

use ringback::config::Config;

use crate::helpers::{TestApp, spawn_app_with};

/// Where the document is registered for `$ref` resolution.
const DOCUMENT_URI: &str = "https://ringback.invalid/openapi.json";

pub const OPENAPI_PATH: &str = "/api/partner/v1/openapi.json";

pub struct Contract {
    pub document: Value,
    registry: Registry<'static>,
}

/// A JSON pointer token (RFC 6901), percent-encoded for a URI fragment.
fn pointer_token(token: &str) -> String {
    token
        .replace('~', "~0")
        .replace('/', "~1")
        .replace('{', "%7B")
        .replace('}', "%7D")
}

impl Contract {
    /// The document as the app serves it, without a token.
    pub async fn fetch(app: &TestApp) -> Contract {
        let response = app
            .client
            .get(format!("{}{OPENAPI_PATH}", app.address))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status().as_u16(), 200);
        Contract::new(response.json().await.expect("json document"))
    }

    pub fn new(document: Value) -> Contract {
        let resource = Draft::Draft202012.create_resource(document.clone());
        let registry = Registry::new()
            .add(DOCUMENT_URI, resource)
            .expect("document uri")
            .prepare()
            .expect("registry");
        Contract { document, registry }
    }

    /// The response object declared for `status` of `method path`, and its JSON pointer;
    /// panics when the operation does not declare that status.
    fn declared(&self, method: &Method, path: &str, status: u16) -> (String, &Value) {
        let method = method.as_str().to_ascii_lowercase();
        let operation = &self.document["paths"][path][&method];
        assert!(
            operation.is_object(),
            "the document has no operation {method} {path}"
        );
        let status_key = status.to_string();
        let response = &operation["responses"][&status_key];
        assert!(
            response.is_object(),
            "{method} {path} answered {status}, which the document does not declare for it"
        );
        match response["$ref"].as_str() {
            Some(reference) => {
                let pointer = reference
                    .strip_prefix('#')
                    .expect("a local response $ref")
                    .to_string();
                let target = self
                    .document
                    .pointer(&pointer)
                    .expect("response $ref target");
                (pointer, target)
            }
            None => {
                let pointer = format!(
                    "/paths/{}/{method}/responses/{status_key}",
                    pointer_token(path)
                );
                (pointer, response)
            }
        }
    }

    /// Checks one answer of `method path` (the path as the document writes it, `{id}` and
    /// all) and returns its status and body.
    pub async fn check(&self, method: Method, path: &str, response: Response) -> (u16, Value) {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body: Value = response.json().await.expect("a JSON body");
        let (pointer, declared) = self.declared(&method, path, status);

        let content = &declared["content"]["application/json"];
        assert!(
            content["schema"].is_object(),
            "{method} {path} {status}: no application/json schema declared"
        );
        self.validate(
            &format!("{pointer}/content/application~1json/schema"),
            &body,
        )
        .unwrap_or_else(|errors| {
            panic!("{method} {path} {status}: the body does not match: {errors}\n{body:#}")
        });

        if let Some(names) = declared["headers"].as_object() {
            for name in names.keys() {
                assert!(
                    headers.contains_key(name.as_str()),
                    "{method} {path} {status}: the declared header {name} is missing"
                );
            }
        }
        (status, body)
    }

    /// The JSON pointer of the `application/json` schema of `method path`'s request body, and
    /// whether the body is required; `None` when the operation takes no body.
    fn request_schema(&self, method: &Method, path: &str) -> Option<(String, bool)> {
        let method = method.as_str().to_ascii_lowercase();
        let operation = &self.document["paths"][path][&method];
        assert!(
            operation.is_object(),
            "the document has no operation {method} {path}"
        );
        let body = &operation["requestBody"];
        if body.is_null() {
            return None;
        }
        assert!(
            body["content"]["application/json"]["schema"].is_object(),
            "{method} {path}: the request body has no application/json schema"
        );
        let pointer = format!(
            "/paths/{}/{method}/requestBody/content/application~1json/schema",
            pointer_token(path)
        );
        Some((pointer, body["required"] == json!(true)))
    }

    /// Checks a request to `method path` (the path as the document writes it) before it is
    /// sent: a JSON body must match the operation's request schema, and a body it requires
    /// must be there. A raw body cannot be checked: send it with `Probe::call_malformed`.
    pub fn check_request(&self, method: &Method, path: &str, body: &Body) {
        let schema = self.request_schema(method, path);
        match (body, schema) {
            (Body::None, Some((_, true))) => {
                panic!("{method} {path}: the document requires a request body")
            }
            (Body::None, _) => {}
            (Body::Json(value), Some((pointer, _))) => {
                self.validate(&pointer, value).unwrap_or_else(|errors| {
                    panic!("{method} {path}: the request body does not match: {errors}\n{value:#}")
                })
            }
            (Body::Json(_), None) => panic!("{method} {path}: the document declares no body"),
            (Body::Raw(..), _) => {
                panic!("{method} {path}: a raw body cannot be checked; send it with call_malformed")
            }
        }
    }

    /// Checks that a body sent malformed on purpose is one the document refuses, so that the
    /// exemption from `check_request` hides no schema the handler does not agree with.
    pub fn check_malformed(&self, method: &Method, path: &str, body: &Body) {
        let Body::Json(value) = body else {
            return; // not JSON, another content type, too large: nothing a schema says
        };
        let (pointer, _) = self
            .request_schema(method, path)
            .unwrap_or_else(|| panic!("{method} {path}: the document declares no body"));
        assert!(
            self.validate(&pointer, value).is_err(),
            "{method} {path}: the document admits this body, sent as malformed: {value}"
        );
    }

    /// Validates `instance` against the schema at `pointer` in the document.
    pub fn validate(&self, pointer: &str, instance: &Value) -> Result<(), String> {
        let schema = json!({"$ref": format!("{DOCUMENT_URI}#{pointer}")});
        let validator = jsonschema::options()
            .with_draft(Draft::Draft202012)
            .with_registry(&self.registry)
            .should_validate_formats(true)
            .build(&schema)
            .unwrap_or_else(|e| panic!("schema at {pointer}: {e}"));
        let errors: Vec<String> = validator
            .iter_errors(instance)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; "))
        }
    }

    /// Every `(method, path)` the document describes.
    pub fn operations(&self) -> Vec<(String, String)> {
        let mut operations = Vec::new();
        for (path, item) in self.document["paths"].as_object().expect("paths") {
            for method in item.as_object().expect("path item").keys() {
                if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                    operations.push((method.clone(), path.clone()));
                }
            }
        }
        operations.sort();
        operations
    }
}

pub const BASE: &str = "/api/partner/v1";

/// A request body.
pub enum Body {
    None,
    Json(Value),
    /// Sent as is, with this content type.
    Raw(&'static str, String),
}

/// Sends `method BASE+path` with the test restaurant's token (or `token`, `None` for none), as
/// is: nothing checks the request against the document (`Probe::call` does).
pub async fn send_unchecked(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Body,
) -> Response {
    let mut request = app
        .client
        .request(method, format!("{}{BASE}{path}", app.address));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request = match body {
        Body::None => request,
        Body::Json(value) => request.json(&value),
        Body::Raw(content_type, text) => request.header("content-type", content_type).body(text),
    };
    request.send().await.expect("request")
}

/// A running app, its document, and a way to call an operation and check the answer.
pub struct Probe {
    pub app: TestApp,
    pub contract: Contract,
}

impl Probe {
    pub async fn start() -> Probe {
        Probe::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Probe {
        let app = spawn_app_with(adjust).await;
        let contract = Contract::fetch(&app).await;
        Probe { app, contract }
    }

    /// Calls `method path` as the test restaurant and checks the request and the answer against
    /// the operation `method template`.
    pub async fn call(
        &self,
        method: Method,
        template: &str,
        path: &str,
        body: Body,
    ) -> (u16, Value) {
        let token = self.app.restaurant.token.clone();
        self.call_as(Some(&token), method, template, path, body)
            .await
    }

    pub async fn call_as(
        &self,
        token: Option<&str>,
        method: Method,
        template: &str,
        path: &str,
        body: Body,
    ) -> (u16, Value) {
        let operation = format!("{BASE}{template}");
        self.contract.check_request(&method, &operation, &body);
        let response = send_unchecked(&self.app, method.clone(), path, token, body).await;
        self.contract.check(method, &operation, response).await
    }

    /// Like `call`, with a body malformed on purpose — a wrong type, a broken rule, not JSON,
    /// too large — which is therefore not checked against the request schema; a JSON one must be
    /// refused by it. The answer is checked as always.
    pub async fn call_malformed(
        &self,
        method: Method,
        template: &str,
        path: &str,
        body: Body,
    ) -> (u16, Value) {
        let operation = format!("{BASE}{template}");
        self.contract.check_malformed(&method, &operation, &body);
        let token = self.app.restaurant.token.clone();
        let response = send_unchecked(&self.app, method.clone(), path, Some(&token), body).await;
        self.contract.check(method, &operation, response).await
    }
}
