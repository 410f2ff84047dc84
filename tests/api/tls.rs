//! SPEC §8 TLS: with `server.tls_cert` and `server.tls_key` the same listener serves HTTPS.

use std::path::Path;

use serde_json::{Value, json};

use crate::helpers::*;

/// A self-signed certificate for 127.0.0.1, written as PEM files; returns the certificate PEM.
fn write_test_certificate(dir: &Path) -> String {
    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
            .expect("certificate");
    let cert = certified.cert.pem();
    std::fs::write(dir.join("cert.pem"), &cert).expect("cert");
    std::fs::write(dir.join("key.pem"), certified.signing_key.serialize_pem()).expect("key");
    cert
}

/// The app serving HTTPS with a fresh certificate, its `https://` address, and a client that
/// trusts that certificate only; the directory holds the PEM files while the app runs.
async fn spawn_https_app() -> (TestApp, String, reqwest::Client, tempfile::TempDir) {
    let pems = tempfile::tempdir().expect("tempdir");
    let cert = write_test_certificate(pems.path());
    let (cert_path, key_path) = (pems.path().join("cert.pem"), pems.path().join("key.pem"));
    let app = spawn_app_with(|c| {
        c.server.tls_cert = cert_path;
        c.server.tls_key = key_path;
    })
    .await;
    let https = app.address.replacen("http://", "https://", 1);
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert.as_bytes()).expect("pem"))
        .https_only(true)
        .build()
        .expect("client");
    (app, https, client, pems)
}

#[tokio::test]
async fn with_a_certificate_and_key_the_partner_api_is_served_over_https() {
    let (app, https, client, _pems) = spawn_https_app().await;

    let response = client
        .post(format!("{https}/api/partner/v1/missed-calls"))
        .bearer_auth(&app.restaurant.token)
        .json(&json!({"caller_phone_number": "+33612345678"}))
        .send()
        .await
        .expect("an HTTPS request");

    assert_eq!(response.status().as_u16(), 201);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["data"]["outcome"], "SENT");
    let plain = app
        .client
        .get(format!("{}/healthz", app.address))
        .send()
        .await;
    assert!(
        plain.map_or(true, |r| !r.status().is_success()),
        "plain HTTP is not served on a TLS listener"
    );
}

#[tokio::test]
async fn a_missing_key_file_stops_start_up_naming_the_key() {
    let pems = tempfile::tempdir().expect("tempdir");
    write_test_certificate(pems.path());
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = test_config(dir.path().join("ringback.db"), "http://127.0.0.1:9");
    config.server.tls_cert = pems.path().join("cert.pem");
    config.server.tls_key = pems.path().join("missing.pem");

    let error = match ringback::app::App::build(config).await {
        Ok(_) => panic!("started without its key"),
        Err(e) => e.to_string(),
    };

    assert!(error.contains("server.tls_key"), "{error}");
    assert!(error.contains("missing.pem"), "{error}");
}

#[tokio::test]
async fn over_https_the_console_session_cookie_is_secure() {
    let (app, https, client, _pems) = spawn_https_app().await;
    app.add_console_user("marie", Some(&app.restaurant.id));

    let response = client
        .post(format!("{https}/console/login"))
        .json(&json!({"username": "marie", "password": CONSOLE_PASSWORD}))
        .send()
        .await
        .expect("an HTTPS sign-in");

    assert_eq!(response.status().as_u16(), 204);
    let cookie = response.headers()["set-cookie"].to_str().expect("ascii");
    assert!(cookie.ends_with("; Secure"), "{cookie}");
    assert!(
        cookie.contains("HttpOnly; SameSite=Strict; Path=/"),
        "{cookie}"
    );
}
