//! Checks real answers against the OpenAPI document the app serves: the status must be one the
//! operation declares, the body must match the schema declared for it (its `$ref`s resolved
//! against the whole document), and the headers it declares must be there.

use jsonschema::{Draft, Registry};
use reqwest::{Method, Response};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

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

/// Sends `method BASE+path` with the test restaurant's token (or `token`, `None` for none).
pub async fn send(
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
        let app = spawn_app().await;
        let contract = Contract::fetch(&app).await;
        Probe { app, contract }
    }

    /// Calls `method path` as the test restaurant and checks the answer against the operation
    /// `method template`.
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
        let response = send(&self.app, method.clone(), path, token, body).await;
        self.contract
            .check(method, &format!("{BASE}{template}"), response)
            .await
    }
}
