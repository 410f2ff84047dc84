//! SPEC §1 outcomes and §5: what is sent, and how WhatsApp's answers become outcomes.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn an_unknown_caller_is_sent_the_missed_call_template_and_becomes_a_customer() {
    let app = spawn_app().await;

    let (status, body) = app
        .report_json(json!({"caller_phone_number": "+33612345678", "external_call_id": "pbx-1"}))
        .await;

    assert_eq!(status, 201, "{body}");
    let data = &body["data"];
    assert_eq!(data["outcome"], "SENT");
    assert_eq!(data["message_id"], "wamid.TEST1");
    assert_eq!(data["template_type"], "MISSED_CALL");
    assert_eq!(data["caller_phone_number"], "+33612345678");
    assert_eq!(data["external_call_id"], "pbx-1");
    assert!(
        data["customer_id"]
            .as_str()
            .unwrap_or_default()
            .starts_with("cus_")
    );
    assert!(data["id"].as_str().unwrap_or_default().starts_with("call_"));
    assert_eq!(data["reservation_id"], json!(null));
    assert_eq!(data["error"], json!(null));
    let source: String = app
        .db()
        .query_row("SELECT source FROM customers", [], |r| r.get(0))
        .expect("customer");
    assert_eq!(source, "MISSED_CALL");
}

#[tokio::test]
async fn the_cloud_request_has_the_exact_shape_of_the_spec() {
    let app = spawn_app().await;

    let (_, body) = app
        .report_json(json!({"caller_phone_number": "06 12 34 56 78"}))
        .await;

    let requests = app.whatsapp.requests();
    assert_eq!(requests.len(), 1);
    let sent = &requests[0];
    assert_eq!(sent.phone_number_id, PHONE_NUMBER_ID);
    assert_eq!(
        sent.authorization.as_deref(),
        Some(format!("Bearer {ACCESS_TOKEN}").as_str())
    );
    let call_id = body["data"]["id"].as_str().expect("id");
    let token: String = app
        .db()
        .query_row(
            "SELECT link_token FROM calls WHERE id = ?1",
            [call_id],
            |r| r.get(0),
        )
        .expect("link token");
    assert_eq!(
        sent.body,
        json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "+33612345678",
            "type": "template",
            "biz_opaque_callback_data": call_id,
            "template": {
                "name": "missed_call_v1",
                "language": {"policy": "deterministic", "code": "fr"},
                "components": [
                    {"type": "body", "parameters": [
                        {"type": "text", "text": "there"},
                        {"type": "text", "text": "Chez Test"}
                    ]},
                    {"type": "button", "sub_type": "url", "index": "0", "parameters": [
                        {"type": "text", "text": token}
                    ]}
                ]
            }
        })
    );
}

#[tokio::test]
async fn a_caller_with_an_upcoming_booking_gets_the_reservation_template_in_restaurant_time() {
    let app = spawn_app().await;
    app.add_customer("+33612345678", Some("Camille"));
    let reservation = ringback::cli::reservations::add_reservation(
        &app.db(),
        &ringback::cli::reservations::ReservationSpec {
            restaurant_id: &app.restaurant.id,
            phone: "+33612345678",
            start: "2099-07-14T19:30:00Z",
            party_size: 3,
            status: "CONFIRMED",
            name: None,
            external_id: None,
        },
        ringback::config::MissedCallsConfig::default().conversion_window_days,
    )
    .expect("reservation");

    let (status, body) = app
        .report_json(json!({"caller_phone_number": "+33612345678"}))
        .await;

    assert_eq!(status, 201);
    assert_eq!(body["data"]["outcome"], "SENT");
    assert_eq!(
        body["data"]["template_type"],
        "MISSED_CALL_WITH_RESERVATION"
    );
    assert_eq!(body["data"]["reservation_id"], reservation.as_str());
    let sent = &app.whatsapp.requests()[0].body;
    assert_eq!(sent["template"]["name"], "missed_call_reservation_v1");
    let texts: Vec<&str> = sent["template"]["components"][0]["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .map(|p| p["text"].as_str().unwrap_or_default())
        .collect();
    // 19:30 UTC in July is 21:30 in Paris.
    assert_eq!(texts, ["Camille", "2099-07-14", "21:30", "3"]);
}

#[tokio::test]
async fn a_refusal_that_a_retry_cannot_fix_is_undeliverable_with_its_code() {
    let app = spawn_app().await;
    app.whatsapp.fail_with(400, 131026);

    let (status, body) = app
        .report_json(json!({"caller_phone_number": "+33612345678"}))
        .await;

    assert_eq!(status, 201);
    assert_eq!(body["data"]["outcome"], "UNDELIVERABLE");
    assert_eq!(body["data"]["error"]["code"], 131026);
    assert_eq!(body["data"]["error"]["message"], "error 131026");
    assert_eq!(body["data"]["message_id"], json!(null));
}

#[tokio::test]
async fn a_whatsapp_5xx_is_failed_with_502_naming_the_call() {
    let app = spawn_app().await;
    app.whatsapp
        .set(Behaviour::Reply(503, json!({"error": {"message": "down"}})));

    let (status, body) = app
        .report_json(json!({"caller_phone_number": "+33612345678", "external_call_id": "c-1"}))
        .await;

    assert_eq!(status, 502, "{body}");
    assert_eq!(body["error"]["code"], "WHATSAPP_DISPATCH_FAILED");
    let call_id = body["error"]["details"]["call_id"]
        .as_str()
        .expect("call id");
    let (_, stored) = app.get_call(&app.restaurant.token, call_id).await;
    assert_eq!(stored["data"]["outcome"], "FAILED");
}

#[tokio::test]
async fn retryable_whatsapp_error_codes_are_failed_even_on_a_4xx() {
    let app = spawn_app().await;
    app.whatsapp.fail_with(400, 131000);

    let (status, body) = app
        .report_json(json!({"caller_phone_number": "+33612345678"}))
        .await;

    assert_eq!(status, 502);
    assert_eq!(body["error"]["details"]["whatsapp_error"]["code"], "131000");
}

#[tokio::test]
async fn a_rate_limit_429_is_failed() {
    let app = spawn_app().await;
    app.whatsapp.fail_with(429, 130429);

    let response = app
        .report(json!({"caller_phone_number": "+33612345678"}))
        .await;

    assert_eq!(response.status().as_u16(), 502);
}

#[tokio::test]
async fn a_2xx_without_a_message_id_is_failed() {
    let app = spawn_app().await;
    app.whatsapp.set(Behaviour::Reply(
        200,
        json!({"messaging_product": "whatsapp"}),
    ));

    let response = app
        .report(json!({"caller_phone_number": "+33612345678"}))
        .await;

    assert_eq!(response.status().as_u16(), 502);
}

#[tokio::test]
async fn a_whatsapp_that_does_not_answer_in_time_is_failed_with_code_timeout() {
    let app = spawn_app_with(|c| c.whatsapp.timeout_ms = 200).await;
    app.whatsapp
        .set(Behaviour::Delay(std::time::Duration::from_millis(1500)));

    let (status, body) = app
        .report_json(json!({"caller_phone_number": "+33612345678", "external_call_id": "slow"}))
        .await;

    assert_eq!(status, 502);
    let call_id = body["error"]["details"]["call_id"].as_str().expect("id");
    let (_, stored) = app.get_call(&app.restaurant.token, call_id).await;
    assert_eq!(stored["data"]["error"]["code"], "timeout");
}

#[tokio::test]
async fn an_unreachable_whatsapp_is_failed_with_code_transport() {
    // A port that was just free: nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let app = spawn_app_with(move |c| c.whatsapp.api_base = base).await;

    let (status, body) = app
        .report_json(json!({"caller_phone_number": "+33612345678", "external_call_id": "x"}))
        .await;

    assert_eq!(status, 502);
    let call_id = body["error"]["details"]["call_id"].as_str().expect("id");
    let (_, stored) = app.get_call(&app.restaurant.token, call_id).await;
    assert_eq!(stored["data"]["error"]["code"], "transport");
}

#[tokio::test]
async fn error_131050_suppresses_the_customer_for_the_next_calls() {
    let app = spawn_app_with(|c| c.missed_calls.cooldown_minutes = 0).await;
    app.whatsapp.fail_with(400, 131050);
    let (_, first) = app
        .report_json(json!({"caller_phone_number": "+33612345678"}))
        .await;
    assert_eq!(first["data"]["outcome"], "UNDELIVERABLE");
    app.whatsapp.set(Behaviour::Accept);

    let (_, second) = app
        .report_json(json!({"caller_phone_number": "+33612345678"}))
        .await;

    assert_eq!(second["data"]["outcome"], "SKIPPED_SUPPRESSED");
    assert_eq!(app.whatsapp.requests().len(), 1);
}

#[tokio::test]
async fn a_template_change_takes_effect_for_the_next_report_of_a_running_server() {
    let app = spawn_app().await;
    set_template(
        &app.db(),
        &app.restaurant.id,
        ringback::domain::TemplateType::MissedCall,
        "PENDING",
        true,
    );

    let (_, body) = app
        .report_json(json!({"caller_phone_number": "+33612345678"}))
        .await;

    assert_eq!(body["data"]["outcome"], "SKIPPED_NO_TEMPLATE");
}

#[tokio::test]
async fn the_sandbox_transport_records_a_send_without_calling_whatsapp() {
    let app =
        spawn_app_with(|c| c.whatsapp.transport = ringback::config::TransportKind::Sandbox).await;

    let (status, body) = app
        .report_json(json!({"caller_phone_number": "+33612345678"}))
        .await;

    assert_eq!(status, 201);
    assert_eq!(body["data"]["outcome"], "SENT");
    let id = body["data"]["id"].as_str().expect("id");
    assert_eq!(body["data"]["message_id"], format!("sandbox.{id}"));
    assert!(app.whatsapp.requests().is_empty());
}

/// A template whose body is the booking link.
fn link_template(app: &TestApp) {
    ringback::cli::templates::set_template(
        &app.db(),
        &ringback::cli::templates::TemplateSpec {
            restaurant_id: app.restaurant.id.clone(),
            template_type: ringback::domain::TemplateType::MissedCall,
            name: "missed_call_link".into(),
            language: "en".into(),
            status: "APPROVED".into(),
            body_params: vec!["booking_link".into()],
            button_param: None,
            name_fallback: None,
            active: true,
        },
    )
    .expect("template");
}

fn link_token_of(app: &TestApp, call_id: &str) -> String {
    app.db()
        .query_row(
            "SELECT link_token FROM calls WHERE id = ?1",
            [call_id],
            |r| r.get(0),
        )
        .expect("link token")
}

#[tokio::test]
async fn without_a_public_url_the_booking_link_is_the_booking_page_with_the_tracking_query() {
    let app = spawn_app().await;
    link_template(&app);

    let (_, body) = app
        .report_json(json!({"caller_phone_number": "+33612345678"}))
        .await;

    let token = link_token_of(&app, body["data"]["id"].as_str().expect("id"));
    assert!(token.len() >= 22 && token.bytes().all(|b| b.is_ascii_alphanumeric()));
    let sent = &app.whatsapp.requests()[0].body;
    let link = format!(
        "{BOOKING_URL}?utm_source=whatsapp&utm_medium=missed_call&utm_campaign=ringback&rb_ref={token}"
    );
    assert_eq!(
        sent["template"]["components"],
        json!([{"type": "body", "parameters": [{"type": "text", "text": link}]}])
    );
}

#[tokio::test]
async fn with_a_public_url_the_booking_link_goes_through_the_box() {
    let app = spawn_app_with(|c| c.server.public_url = "https://rb.example.com/".into()).await;
    link_template(&app);

    let (_, body) = app
        .report_json(json!({"caller_phone_number": "+33612345678"}))
        .await;

    let token = link_token_of(&app, body["data"]["id"].as_str().expect("id"));
    let sent = &app.whatsapp.requests()[0].body;
    let link = format!("https://rb.example.com/r/{token}");
    assert_eq!(
        sent["template"]["components"],
        json!([{"type": "body", "parameters": [{"type": "text", "text": link}]}])
    );
}
