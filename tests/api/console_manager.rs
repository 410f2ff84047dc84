//! SPEC §9, Language and The manager acts, over HTTP: the console's words follow the user's
//! setting, else the browser's Accept-Language, else English; the CSV's separator follows the
//! language; a call's detail shows what its message was sent with; a customer is stopped and
//! resumed from the console, which lifts only the restaurant's own stop.

use reqwest::Method;
use ringback::db::customers::suppress;
use ringback::domain::Suppression;
use serde_json::{Value, json};

use crate::helpers::*;

/// A console request with a session cookie and extra headers: status, headers, body text.
async fn console(
    app: &TestApp,
    method: Method,
    cookie: Option<&str>,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (u16, reqwest::header::HeaderMap, String) {
    let mut request = app.client.request(method, format!("{}{path}", app.address));
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("console request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.expect("body"))
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn content_language(headers: &reqwest::header::HeaderMap) -> &str {
    headers
        .get("content-language")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

fn set_lang(app: &TestApp, username: &str, lang: &str) {
    app.db()
        .execute(
            "UPDATE users SET lang = ?2 WHERE username = ?1",
            [username, lang],
        )
        .expect("lang");
}

async fn sent_call(app: &TestApp, caller: &str) -> Value {
    let (status, answer) = app
        .report_json(json!({"caller_phone_number": caller}))
        .await;
    assert_eq!(
        (status, answer["data"]["outcome"].as_str()),
        (201, Some("SENT"))
    );
    answer["data"].clone()
}

#[tokio::test]
async fn status_labels_and_reasons_follow_the_user_s_language_or_lang_and_codes_never_change() {
    // Arrange
    let app = spawn_app().await;
    app.add_console_user("marie", Some(&app.restaurant.id));
    set_lang(&app, "marie", "fr");
    let cookie = app.console_session("marie").await;
    sent_call(&app, "+33612345678").await;
    app.report_json(json!({"caller_phone_number": "+33612345678"}))
        .await;

    // Act: the user's setting (French) over an English browser, then `?lang=en` over both.
    let english_browser = [("accept-language", "en-GB,en;q=0.9")];
    let (status, headers, french) = console(
        &app,
        Method::GET,
        Some(&cookie),
        "/console/api/calls",
        &english_browser,
        None,
    )
    .await;
    let (_, asked_headers, english) = console(
        &app,
        Method::GET,
        Some(&cookie),
        "/console/api/calls?lang=en",
        &english_browser,
        None,
    )
    .await;

    // Assert
    assert_eq!(status, 200);
    assert_eq!(content_language(&headers), "fr");
    assert_eq!(content_language(&asked_headers), "en");
    let (french, english) = (json_of(&french), json_of(&english));
    let rows = |v: &Value, field: &str| -> Vec<Value> {
        v["data"]
            .as_array()
            .expect("rows")
            .iter()
            .map(|r| r[field].clone())
            .collect()
    };
    assert_eq!(
        rows(&french, "status_label"),
        [json!("Délai de repos"), json!("Envoyé")]
    );
    assert_eq!(
        rows(&english, "status_label"),
        [json!("Cooldown"), json!("Sent")]
    );
    assert_eq!(rows(&french, "outcome"), rows(&english, "outcome"));
    let reason = french["data"][0]["reason"].as_str().expect("reason");
    assert!(reason.starts_with("message envoyé à "), "{reason}");
}

#[tokio::test]
async fn the_sign_in_page_follows_accept_language_by_quality_and_says_its_language() {
    // Arrange
    let app = spawn_app().await;
    let cases = [
        ("fr-FR,fr;q=0.9,en;q=0.8", "fr", "Identifiant"),
        ("de-DE, en;q=0.5, fr;q=0.7", "fr", "Identifiant"),
        ("en-US,en;q=0.9,fr;q=0.8", "en", "Username"),
        ("de-DE", "en", "Username"),
        ("", "en", "Username"),
    ];
    for (accept, lang, label) in cases {
        // Act
        let (status, headers, page) = console(
            &app,
            Method::GET,
            None,
            "/console/login",
            &[("accept-language", accept)],
            None,
        )
        .await;
        // Assert
        assert_eq!(status, 200);
        assert!(
            page.contains(&format!("<html lang=\"{lang}\">")),
            "{accept}: {page}"
        );
        assert!(page.contains(label), "{accept}");
        assert_eq!(content_language(&headers), lang, "{accept}");
    }
}

#[tokio::test]
async fn a_console_error_is_said_in_the_request_s_language_with_its_code_unchanged() {
    // Arrange
    let app = spawn_app().await;
    app.add_console_user("marie", Some(&app.restaurant.id));
    set_lang(&app, "marie", "fr");
    let cookie = app.console_session("marie").await;

    // Act
    let (status, _, bad_date) = console(
        &app,
        Method::GET,
        Some(&cookie),
        "/console/api/calls?from=hier",
        &[],
        None,
    )
    .await;
    let (no_session, headers, unknown) = console(
        &app,
        Method::GET,
        None,
        "/console/api/calls",
        &[("accept-language", "fr")],
        None,
    )
    .await;
    let (_, _, english) = console(&app, Method::GET, None, "/console/api/calls", &[], None).await;

    // Assert
    assert_eq!(status, 422);
    let bad_date = json_of(&bad_date);
    assert_eq!(bad_date["error"]["code"], "VALIDATION_ERROR");
    assert_eq!(bad_date["error"]["details"]["field"], "from");
    assert_eq!(
        bad_date["error"]["message"],
        "« Du » doit être une date comme 2026-05-10."
    );
    assert_eq!(no_session, 401);
    assert_eq!(content_language(&headers), "fr");
    assert_eq!(
        json_of(&unknown)["error"]["message"],
        "Veuillez vous reconnecter."
    );
    assert_eq!(
        json_of(&english)["error"]["message"],
        "Please sign in again."
    );
    assert_eq!(json_of(&english)["error"]["code"], "UNAUTHORIZED");
}

#[tokio::test]
async fn the_csv_separator_is_a_semicolon_in_french_a_comma_in_english_and_sep_overrides_both() {
    // Arrange
    let app = spawn_app().await;
    app.add_console_user("marie", Some(&app.restaurant.id));
    let cookie = app.console_session("marie").await;
    sent_call(&app, "+33612345678").await;
    let export = |lang: &'static str, sep: &'static str| {
        let (app, cookie) = (&app, cookie.clone());
        async move {
            let path = format!("/console/export.csv?lang={lang}{sep}");
            let (status, headers, body) =
                console(app, Method::GET, Some(&cookie), &path, &[], None).await;
            assert_eq!(status, 200, "{path}: {body}");
            (content_language(&headers).to_string(), body)
        }
    };

    // Act
    let (fr_lang, french) = export("fr", "").await;
    let (_, english) = export("en", "").await;
    let (_, french_commas) = export("fr", "&sep=comma").await;
    let (_, english_semicolons) = export("en", "&sep=semicolon").await;
    let (status, _, refused) = console(
        &app,
        Method::GET,
        Some(&cookie),
        "/console/export.csv?sep=tab",
        &[],
        None,
    )
    .await;

    // Assert: the column names never change; the words do.
    let header = |csv: &str, sep: &str| {
        [
            "occurred_at",
            "caller",
            "customer",
            "status",
            "reason",
            "template",
            "delivery",
            "clicked",
            "booked",
            "call_id",
        ]
        .join(sep)
            == csv
                .trim_start_matches('\u{feff}')
                .lines()
                .next()
                .unwrap_or("")
    };
    assert_eq!(fr_lang, "fr");
    assert!(header(&french, ";"), "{french}");
    assert!(header(&english, ","), "{english}");
    assert!(header(&french_commas, ","), "{french_commas}");
    assert!(header(&english_semicolons, ";"), "{english_semicolons}");
    assert!(
        french.contains(";Nouveau client;Envoyé;;Appel manqué;"),
        "{french}"
    );
    assert!(
        english.contains(",New customer,Sent,,Missed call,"),
        "{english}"
    );
    assert_eq!(status, 422);
    assert_eq!(json_of(&refused)["error"]["details"]["field"], "sep");
}

#[tokio::test]
async fn a_call_s_detail_shows_what_its_message_was_sent_with_and_another_restaurant_s_call_is_not_found()
 {
    // Arrange
    let app = spawn_app().await;
    app.add_console_user("marie", Some(&app.restaurant.id));
    let cookie = app.console_session("marie").await;
    app.add_customer("+33612345678", Some("Camille Martin"));
    let sent = sent_call(&app, "+33612345678").await;
    let skipped = app
        .report_json(json!({"caller_phone_number": "anonymous"}))
        .await
        .1["data"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let other = app.other_restaurant("Ailleurs", "FR", "Europe/Paris");
    let (_, elsewhere) = post_json(
        &app.address,
        &other.token,
        &json!({"caller_phone_number": "+33612345679"}),
    )
    .await;

    // Act
    let id = sent["id"].as_str().expect("id");
    let (status, detail) = app
        .console_get(&cookie, &format!("/console/api/calls/{id}"))
        .await;
    let (_, nothing_sent) = app
        .console_get(&cookie, &format!("/console/api/calls/{skipped}"))
        .await;
    let theirs = elsewhere["data"]["id"].as_str().expect("their call");
    let (not_found, refusal) = app
        .console_get(&cookie, &format!("/console/api/calls/{theirs}"))
        .await;

    // Assert
    assert_eq!(status, 200, "{detail}");
    let data = &detail["data"];
    assert_eq!(data["id"], sent["id"]);
    assert_eq!(data["status_label"], "Sent");
    assert_eq!(data["clicks"], 0);
    let message = &data["message"];
    assert_eq!(message["template"], "missed_call_v1");
    assert_eq!(message["language"], "fr");
    let token: String = app
        .db()
        .query_row("SELECT link_token FROM calls WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .expect("token");
    assert_eq!(
        message["parameters"],
        json!(["Camille Martin", "Chez Test", token])
    );
    assert!(
        message["booking_link"]
            .as_str()
            .expect("link")
            .contains(&token)
    );
    assert_eq!(message["message_id"], sent["message_id"]);
    assert!(message["sent_at"].is_string());
    assert_eq!(
        (message["delivered_at"].clone(), message["read_at"].clone()),
        (Value::Null, Value::Null)
    );
    assert_eq!(nothing_sent["data"]["message"], Value::Null);
    assert_eq!(not_found, 404, "{refusal}");
    assert_eq!(refusal["error"]["code"], "NOT_FOUND");
}

#[tokio::test]
async fn a_call_from_before_the_ledger_kept_its_parameters_shows_what_is_known() {
    // Arrange: a sent call whose row has no parameters, as rows from the previous release.
    let app = spawn_app().await;
    app.add_console_user("marie", Some(&app.restaurant.id));
    let cookie = app.console_session("marie").await;
    let sent = sent_call(&app, "+33612345678").await;
    let id = sent["id"].as_str().expect("id");
    app.db()
        .execute("UPDATE calls SET message = NULL WHERE id = ?1", [id])
        .expect("as before");

    // Act
    let (status, detail) = app
        .console_get(&cookie, &format!("/console/api/calls/{id}"))
        .await;

    // Assert
    assert_eq!(status, 200);
    let message = &detail["data"]["message"];
    assert_eq!(message["template"], Value::Null);
    assert_eq!(message["parameters"], json!([]));
    assert_eq!(message["message_id"], sent["message_id"]);
    assert!(message["sent_at"].is_string());
}

#[tokio::test]
async fn a_forgotten_caller_s_message_parameters_are_erased_with_the_number() {
    // Arrange
    let app = spawn_app().await;
    app.add_console_user("marie", Some(&app.restaurant.id));
    let cookie = app.console_session("marie").await;
    app.add_customer("+33612345678", Some("Camille Martin"));
    let sent = sent_call(&app, "+33612345678").await;
    let id = sent["id"].as_str().expect("id").to_string();
    let stored = |app: &TestApp| -> Option<String> {
        app.db()
            .query_row("SELECT message FROM calls WHERE id = ?1", [&id], |r| {
                r.get(0)
            })
            .expect("row")
    };
    assert!(stored(&app).expect("kept").contains("Camille Martin"));

    // Act
    let forgot = crate::forget::forget(&app.db_path, &app.restaurant.id, "+33612345678");
    assert!(forgot.status.success(), "{forgot:?}");

    // Assert: nothing of them in the detail or the log.
    assert_eq!(stored(&app), None);
    let (_, detail) = app
        .console_get(&cookie, &format!("/console/api/calls/{id}"))
        .await;
    assert!(!detail.to_string().contains("Camille"), "{detail}");
    assert_eq!(detail["data"]["caller_display"], "Forgotten caller");
}

#[tokio::test]
async fn the_manager_stops_and_resumes_messages_and_the_console_lifts_only_its_own_stop() {
    // Arrange
    let app = spawn_app().await;
    app.add_console_user("marie", Some(&app.restaurant.id));
    let cookie = app.console_session("marie").await;
    let camille = app.add_customer("+33612345678", Some("Camille Martin"));
    let path = format!("/console/api/customers/{camille}/suppression");
    let post = |suppressed: bool| {
        let (app, cookie, path) = (&app, cookie.clone(), path.clone());
        async move {
            let (status, _, body) = console(
                app,
                Method::POST,
                Some(&cookie),
                &path,
                &[],
                Some(json!({ "suppressed": suppressed })),
            )
            .await;
            (status, json_of(&body))
        }
    };

    // Act: stop, then a missed call from Camille.
    let (stopped, customer) = post(true).await;
    let (_, report) = app
        .report_json(json!({"caller_phone_number": "+33612345678"}))
        .await;
    // Assert
    assert_eq!(stopped, 200, "{customer}");
    assert_eq!(customer["data"]["whatsapp_suppressed"], true);
    assert_eq!(customer["data"]["suppression_reason"], "operator");
    assert_eq!(report["data"]["outcome"], "SKIPPED_SUPPRESSED");
    let (_, log) = app.console_get(&cookie, "/console/api/calls").await;
    assert_eq!(log["data"][0]["customer_suppression"], "operator");

    // Act: resume.
    let (resumed, customer) = post(false).await;
    // Assert
    assert_eq!(resumed, 200);
    assert_eq!(customer["data"]["whatsapp_suppressed"], false);
    assert_eq!(customer["data"]["suppression_reason"], Value::Null);

    for (by, code) in [
        (Suppression::Reply, "reply"),
        (Suppression::StoppedMarketing, "131050"),
    ] {
        // Arrange: the guest stopped the messages themselves.
        suppress(&app.db(), &camille, by).expect("suppress");
        // Act
        let (refused, answer) = post(false).await;
        let (kept, customer) = post(true).await;
        // Assert: neither lifted nor turned into the restaurant's own stop.
        assert_eq!(refused, 409, "{answer}");
        assert_eq!(answer["error"]["code"], "SUPPRESSION_NOT_OPERATOR");
        assert_eq!(answer["error"]["details"]["suppression_reason"], code);
        assert_eq!(kept, 200);
        assert_eq!(customer["data"]["suppression_reason"], code);
        let (_, log) = app.console_get(&cookie, "/console/api/calls").await;
        assert_eq!(log["data"][0]["customer_suppression"], code);
        ringback::db::customers::unsuppress(&app.db(), &camille).expect("reset");
    }
}

#[tokio::test]
async fn another_restaurant_s_customer_is_not_found_and_a_cross_site_stop_changes_nothing() {
    // Arrange
    let app = spawn_app().await;
    app.add_console_user("marie", Some(&app.restaurant.id));
    let cookie = app.console_session("marie").await;
    let other = app.other_restaurant("Ailleurs", "FR", "Europe/Paris");
    let theirs = ringback::db::customers::match_or_create_customer(
        &app.db(),
        &other.id,
        "+33612345670",
        None,
        "API",
    )
    .expect("customer")
    .0
    .id;
    let ours = app.add_customer("+33612345678", None);
    let body = Some(json!({"suppressed": true}));

    // Act
    let (not_found, _, refusal) = console(
        &app,
        Method::POST,
        Some(&cookie),
        &format!("/console/api/customers/{theirs}/suppression"),
        &[],
        body.clone(),
    )
    .await;
    let (forbidden, _, cross_site) = console(
        &app,
        Method::POST,
        Some(&cookie),
        &format!("/console/api/customers/{ours}/suppression"),
        &[
            ("sec-fetch-site", "cross-site"),
            ("origin", "https://evil.example"),
        ],
        body.clone(),
    )
    .await;
    let (bad, _, invalid) = console(
        &app,
        Method::POST,
        Some(&cookie),
        &format!("/console/api/customers/{ours}/suppression"),
        &[],
        Some(json!({"suppressed": "yes"})),
    )
    .await;

    // Assert
    assert_eq!(not_found, 404, "{refusal}");
    assert_eq!(json_of(&refusal)["error"]["code"], "NOT_FOUND");
    assert_eq!(forbidden, 403, "{cross_site}");
    assert_eq!(json_of(&cross_site)["error"]["code"], "FORBIDDEN");
    assert_eq!(bad, 422);
    assert_eq!(json_of(&invalid)["error"]["details"]["field"], "suppressed");
    let suppressed = |id: &str| -> bool {
        app.db()
            .query_row(
                "SELECT whatsapp_suppressed FROM customers WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .expect("customer")
    };
    assert!(!suppressed(&theirs) && !suppressed(&ours));
}

#[tokio::test]
async fn the_header_s_switch_keeps_the_language_on_the_user_and_null_gives_it_back_to_the_browser()
{
    // Arrange
    let app = spawn_app().await;
    app.add_console_user("marie", Some(&app.restaurant.id));
    let cookie = app.console_session("marie").await;
    let switch = |lang: Value| {
        let (app, cookie) = (&app, cookie.clone());
        async move {
            let (status, headers, body) = console(
                app,
                Method::POST,
                Some(&cookie),
                "/console/api/me",
                &[("accept-language", "en")],
                Some(json!({ "lang": lang })),
            )
            .await;
            (
                status,
                content_language(&headers).to_string(),
                json_of(&body),
            )
        }
    };

    // Act
    let (chosen, said_in, me) = switch(json!("fr")).await;
    let (_, page_headers, page) = console(
        &app,
        Method::GET,
        Some(&cookie),
        "/console/",
        &[("accept-language", "en")],
        None,
    )
    .await;
    let (refused, _, refusal) = switch(json!("de")).await;
    let (cleared, _, cleared_me) = switch(Value::Null).await;

    // Assert
    assert_eq!((chosen, said_in.as_str()), (200, "fr"), "{me}");
    assert_eq!(me["data"]["lang"], "fr");
    assert_eq!(me["data"]["lang_setting"], "fr");
    assert!(page.contains("<html lang=\"fr\">"));
    assert_eq!(content_language(&page_headers), "fr");
    assert_eq!(refused, 422);
    assert_eq!(refusal["error"]["details"]["field"], "lang");
    assert_eq!(cleared, 200);
    assert_eq!(cleared_me["data"]["lang_setting"], Value::Null);
    assert_eq!(cleared_me["data"]["lang"], "en");
}

#[tokio::test]
async fn a_call_s_delivery_and_read_times_outlive_the_statuses_webhook_records() {
    // Arrange: WhatsApp said delivered, then read.
    let app = spawn_app_with(|config| {
        config.whatsapp.app_secret = crate::webhook_kit::APP_SECRET.into();
        config.whatsapp.verify_token = crate::webhook_kit::VERIFY_TOKEN.into();
    })
    .await;
    app.add_console_user("marie", Some(&app.restaurant.id));
    let cookie = app.console_session("marie").await;
    let sent = sent_call(&app, "+33612345678").await;
    let (id, wamid) = (
        sent["id"].as_str().expect("id"),
        sent["message_id"].as_str().expect("wamid"),
    );
    for status in ["delivered", "read"] {
        let payload = crate::webhook_kit::status_payload(wamid, status, Some(id));
        assert_eq!(app.meta(&payload).await, 200);
    }

    // Act: the statuses are forgotten, as they are after 8 days.
    app.db()
        .execute("DELETE FROM message_statuses", [])
        .expect("purge");
    let (status, detail) = app
        .console_get(&cookie, &format!("/console/api/calls/{id}"))
        .await;

    // Assert
    assert_eq!(status, 200);
    let message = &detail["data"]["message"];
    assert!(message["delivered_at"].is_string(), "{detail}");
    assert!(message["read_at"].is_string(), "{detail}");
    assert_eq!(detail["data"]["delivery_state"], "read");
}

#[tokio::test]
async fn a_malformed_call_or_customer_id_in_the_path_is_answered_in_the_error_envelope() {
    // Arrange
    let app = spawn_app().await;
    app.add_console_user("marie", Some(&app.restaurant.id));
    let cookie = app.console_session("marie").await;

    for (method, path) in [
        (Method::GET, "/console/api/calls/%FF%FE"),
        (Method::POST, "/console/api/customers/%C3%28/suppression"),
    ] {
        // Act
        let (status, _, body) = console(
            &app,
            method,
            Some(&cookie),
            path,
            &[],
            Some(json!({"suppressed": true})),
        )
        .await;
        // Assert
        assert_eq!(status, 404, "{path}: {body}");
        assert_eq!(json_of(&body)["error"]["code"], "NOT_FOUND", "{path}");
    }
}

#[tokio::test]
async fn a_cross_site_language_switch_is_refused_and_changes_nothing() {
    // Arrange
    let app = spawn_app().await;
    app.add_console_user("marie", Some(&app.restaurant.id));
    let cookie = app.console_session("marie").await;

    // Act
    let (status, _, body) = console(
        &app,
        Method::POST,
        Some(&cookie),
        "/console/api/me",
        &[("sec-fetch-site", "cross-site")],
        Some(json!({"lang": "fr"})),
    )
    .await;

    // Assert
    assert_eq!(status, 403, "{body}");
    let kept: Option<String> = app
        .db()
        .query_row("SELECT lang FROM users WHERE username = 'marie'", [], |r| {
            r.get(0)
        })
        .expect("user");
    assert_eq!(kept, None);
}
