//! SPEC §7: reservations over the partner API.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

async fn create(app: &TestApp, body: Value) -> (u16, Value) {
    let token = app.restaurant.token.clone();
    app.call(Method::POST, "/reservations", &token, Some(body))
        .await
}

async fn created_id(app: &TestApp, body: Value) -> String {
    let (status, answer) = create(app, body).await;
    assert_eq!(status, 201, "{answer}");
    answer["data"]["id"].as_str().expect("id").to_string()
}

fn booking(start_at: &str) -> Value {
    json!({"start_at": start_at, "party_size": 2})
}

#[tokio::test]
async fn creating_a_reservation_matches_or_creates_its_customer_and_answers_201() {
    let app = spawn_app().await;
    let known = app.add_customer("+33612345678", Some("Old Name"));

    let (status, body) = create(
        &app,
        json!({
            "customer": {"name": "Camille Martin", "phone_number": "06 12 34 56 78"},
            "start_at": "2099-07-14T20:30",
            "party_size": 4,
            "source": "PHONE",
            "external_id": "bk-1"
        }),
    )
    .await;

    assert_eq!(status, 201, "{body}");
    let r = &body["data"];
    assert!(r["id"].as_str().unwrap_or_default().starts_with("res_"));
    assert_eq!(r["external_id"], "bk-1");
    assert_eq!(r["start_at"], "2099-07-14T20:30:00+02:00");
    assert_eq!(r["party_size"], 4);
    assert_eq!(r["status"], "CONFIRMED");
    assert_eq!(r["source"], "PHONE");
    assert_eq!(
        r["customer"],
        json!({"id": known, "name": "Camille Martin", "phone_number": "+33612345678"})
    );
    assert!(r["created_at"].as_str().is_some_and(|t| t.ends_with('Z')));
    assert_eq!(r["created_at"], r["updated_at"]);
}

#[tokio::test]
async fn a_reservation_may_have_no_customer_and_defaults_to_website() {
    let app = spawn_app().await;

    let (status, body) = create(
        &app,
        json!({"customer": null, "start_at": "2099-01-10T12:00:00Z", "party_size": 2}),
    )
    .await;

    assert_eq!(status, 201);
    assert_eq!(body["data"]["customer"], Value::Null);
    assert_eq!(body["data"]["source"], "WEBSITE");
    assert_eq!(body["data"]["start_at"], "2099-01-10T13:00:00+01:00");
}

#[tokio::test]
async fn a_repeated_external_id_is_409_conflict_naming_the_reservation() {
    let app = spawn_app().await;
    let mut body = booking("2099-07-14T20:30");
    body["external_id"] = json!("bk-9");
    let first = created_id(&app, body.clone()).await;

    let (status, answer) = create(&app, body).await;

    assert_eq!(status, 409);
    assert_eq!(answer["error"]["code"], "CONFLICT");
    assert_eq!(answer["error"]["details"]["reservation_id"], first.as_str());
}

#[tokio::test]
async fn every_rule_of_a_new_reservation_answers_with_the_field() {
    let app = spawn_app().await;
    let cases = [
        (json!({"party_size": 2}), 400, "start_at"),
        (json!({"start_at": "2099-07-14T20:30"}), 400, "party_size"),
        (
            json!({"start_at": "2099-07-14T20:30", "party_size": "2"}),
            400,
            "party_size",
        ),
        (
            json!({"start_at": "2099-07-14T20:30", "party_size": 2.5}),
            400,
            "party_size",
        ),
        (json!({"start_at": 7, "party_size": 2}), 400, "start_at"),
        (
            json!({"start_at": "2099-07-14T20:30", "party_size": 2, "customer": "x"}),
            400,
            "customer",
        ),
        (
            json!({"start_at": "someday", "party_size": 2}),
            422,
            "start_at",
        ),
        (
            json!({"start_at": "2099-07-14T20:30", "party_size": 0}),
            422,
            "party_size",
        ),
        (
            json!({"start_at": "2099-07-14T20:30", "party_size": 1001}),
            422,
            "party_size",
        ),
        (
            json!({"start_at": "2099-07-14T20:30", "party_size": 2, "status": "LATE"}),
            422,
            "status",
        ),
        (
            json!({"start_at": "2099-07-14T20:30", "party_size": 2, "source": "RADIO"}),
            422,
            "source",
        ),
        (
            json!({"start_at": "2099-07-14T20:30", "party_size": 2, "external_id": ""}),
            422,
            "external_id",
        ),
        (
            json!({"start_at": "2099-07-14T20:30", "party_size": 2, "customer": {"name": "A"}}),
            422,
            "customer.phone_number",
        ),
        (
            json!({"start_at": "2099-07-14T20:30", "party_size": 2,
                   "customer": {"phone_number": "123"}}),
            422,
            "customer.phone_number",
        ),
        (
            json!({"start_at": "2099-07-14T20:30", "party_size": 2,
                   "customer": {"phone_number": "+33612345678", "name": "x".repeat(201)}}),
            422,
            "customer.name",
        ),
    ];
    for (body, status, field) in cases {
        let (got, answer) = create(&app, body.clone()).await;
        assert_eq!(got, status, "{body} → {answer}");
        assert_eq!(answer["error"]["details"]["field"], field, "{body}");
    }
    let count: i64 = app
        .db()
        .query_row("SELECT COUNT(*) FROM reservations", [], |r| r.get(0))
        .expect("count");
    assert_eq!(count, 0);
}

#[tokio::test]
async fn another_restaurants_reservation_is_not_found_for_every_method() {
    let app = spawn_app().await;
    let other = app.other_restaurant("Autre", "FR", "Europe/Paris");
    let id = created_id(&app, booking("2099-07-14T20:30")).await;
    let path = format!("/reservations/{id}");

    let (get, _) = app.call(Method::GET, &path, &other.token, None).await;
    let (patch, _) = app
        .call(
            Method::PATCH,
            &path,
            &other.token,
            Some(json!({"party_size": 3})),
        )
        .await;
    let (cancel, body) = app
        .call(Method::POST, &format!("{path}/cancel"), &other.token, None)
        .await;

    assert_eq!((get, patch, cancel), (404, 404, 404));
    assert_eq!(body["error"]["code"], "NOT_FOUND");
    let (own, _) = app
        .call(Method::GET, &path, &app.restaurant.token, None)
        .await;
    assert_eq!(own, 200);
}

#[tokio::test]
async fn patch_changes_the_time_size_and_status() {
    let app = spawn_app().await;
    let id = created_id(&app, booking("2099-07-14T20:30")).await;

    let (status, body) = app
        .call(
            Method::PATCH,
            &format!("/reservations/{id}"),
            &app.restaurant.token,
            Some(
                json!({"start_at": "2099-07-14T21:00:00+02:00", "party_size": 6,
                        "status": "DOUBLE_CONFIRMED"}),
            ),
        )
        .await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["start_at"], "2099-07-14T21:00:00+02:00");
    assert_eq!(body["data"]["party_size"], 6);
    assert_eq!(body["data"]["status"], "DOUBLE_CONFIRMED");
    let (_, read) = app
        .call(
            Method::GET,
            &format!("/reservations/{id}"),
            &app.restaurant.token,
            None,
        )
        .await;
    assert_eq!(read["data"], body["data"]);
}

#[tokio::test]
async fn patch_detaches_attaches_updates_and_creates_the_customer() {
    let app = spawn_app().await;
    let token = app.restaurant.token.clone();
    let mut body = booking("2099-07-14T20:30");
    body["customer"] = json!({"name": "Lou", "phone_number": "+33698765432"});
    let id = created_id(&app, body).await;
    let path = format!("/reservations/{id}");
    let camille = app.add_customer("+33612345678", Some("Camille"));

    let (_, renamed) = app
        .call(
            Method::PATCH,
            &path,
            &token,
            Some(json!({"customer": {"name": "Lou B."}})),
        )
        .await;
    let (_, detached) = app
        .call(
            Method::PATCH,
            &path,
            &token,
            Some(json!({"customer": null})),
        )
        .await;
    let (needs_phone, _) = app
        .call(
            Method::PATCH,
            &path,
            &token,
            Some(json!({"customer": {"name": "X"}})),
        )
        .await;
    let (_, attached) = app
        .call(
            Method::PATCH,
            &path,
            &token,
            Some(json!({"customer": {"id": camille}})),
        )
        .await;
    let (_, created) = app
        .call(
            Method::PATCH,
            &path,
            &token,
            Some(json!({"customer": {"phone_number": "07 81 23 45 67", "name": "Nouveau"}})),
        )
        .await;

    assert_eq!(renamed["data"]["customer"]["name"], "Lou B.");
    assert_eq!(renamed["data"]["customer"]["phone_number"], "+33698765432");
    assert_eq!(detached["data"]["customer"], Value::Null);
    assert_eq!(needs_phone, 422);
    assert_eq!(attached["data"]["customer"]["id"], camille.as_str());
    assert_eq!(created["data"]["customer"]["phone_number"], "+33781234567");
    assert_eq!(created["data"]["customer"]["name"], "Nouveau");
}

#[tokio::test]
async fn attaching_another_restaurants_customer_is_not_found() {
    let app = spawn_app().await;
    let other = app.other_restaurant("Autre", "FR", "Europe/Paris");
    let foreign =
        ringback::cli::customers::add_customer(&app.db(), &other.id, "+33612345678", None)
            .expect("customer");
    let id = created_id(&app, booking("2099-07-14T20:30")).await;

    let (status, _) = app
        .call(
            Method::PATCH,
            &format!("/reservations/{id}"),
            &app.restaurant.token,
            Some(json!({"customer": {"id": foreign}})),
        )
        .await;

    assert_eq!(status, 404);
}

#[tokio::test]
async fn cancelling_twice_is_safe_and_answers_the_same_reservation() {
    let app = spawn_app().await;
    let id = created_id(&app, booking("2099-07-14T20:30")).await;
    let path = format!("/reservations/{id}/cancel");

    let (status, first) = app
        .call(
            Method::POST,
            &path,
            &app.restaurant.token,
            Some(json!({"reason": "ill"})),
        )
        .await;
    let (again, second) = app
        .call(Method::POST, &path, &app.restaurant.token, None)
        .await;

    assert_eq!((status, again), (200, 200));
    assert_eq!(first["data"]["status"], "CANCELED");
    assert_eq!(first["data"], second["data"]);
}

#[tokio::test]
async fn the_list_is_ordered_by_start_and_filtered_by_time_and_status() {
    let app = spawn_app().await;
    let late = created_id(&app, booking("2099-07-14T22:00")).await;
    let early = created_id(&app, booking("2099-07-14T19:00")).await;
    let mut cancelled = booking("2099-07-14T20:00");
    cancelled["status"] = json!("CANCELED");
    created_id(&app, cancelled).await;
    created_id(&app, booking("2099-07-20T20:00")).await;

    let (status, body) = app
        .call(
            Method::GET,
            "/reservations?start_at_from=2099-07-14T00:00&start_at_to=2099-07-14T23:59&status=CONFIRMED,PENDING",
            &app.restaurant.token,
            None,
        )
        .await;

    assert_eq!(status, 200, "{body}");
    let ids: Vec<&str> = body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|r| r["id"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(ids, [early.as_str(), late.as_str()]);
    assert_eq!(body["next_cursor"], Value::Null);
}

#[tokio::test]
async fn cursor_paging_neither_skips_nor_repeats_while_reservations_arrive() {
    let app = spawn_app().await;
    let token = app.restaurant.token.clone();
    let mut expected = Vec::new();
    for day in 1..=25 {
        expected.push(created_id(&app, booking(&format!("2099-03-{day:02}T20:00"))).await);
    }

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut page = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/reservations?limit=10&cursor={c}"),
            None => "/reservations?limit=10".to_string(),
        };
        let (status, body) = app.call(Method::GET, &path, &token, None).await;
        assert_eq!(status, 200, "{body}");
        for r in body["data"].as_array().expect("data") {
            seen.push(r["id"].as_str().unwrap_or_default().to_string());
        }
        // New bookings arrive between pages: one before the pages read so far, one after.
        page += 1;
        created_id(&app, booking(&format!("2099-02-{page:02}T20:00"))).await;
        let later = created_id(&app, booking(&format!("2099-04-{page:02}T20:00"))).await;
        expected.push(later);
        cursor = body["next_cursor"].as_str().map(str::to_string);
        if cursor.is_none() {
            break;
        }
    }

    let mut unique = seen.clone();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "no reservation is repeated");
    // Everything that existed when paging began, and everything added after the cursor, once
    // and in order; the last page's own additions come after the last cursor was used.
    expected.pop();
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn list_parameters_are_checked() {
    let app = spawn_app().await;
    let cases = [
        ("/reservations?limit=0", 422, "limit"),
        ("/reservations?limit=201", 422, "limit"),
        ("/reservations?limit=ten", 400, "limit"),
        ("/reservations?cursor=nonsense", 422, "cursor"),
        ("/reservations?status=LATE", 422, "status"),
        (
            "/reservations?start_at_from=yesterday",
            422,
            "start_at_from",
        ),
    ];
    for (path, status, field) in cases {
        let (got, body) = app
            .call(Method::GET, path, &app.restaurant.token, None)
            .await;
        assert_eq!(got, status, "{path}");
        assert_eq!(body["error"]["details"]["field"], field, "{path}");
    }
}

#[tokio::test]
async fn a_missed_call_picks_up_a_reservation_created_a_moment_before_over_the_api() {
    let app = spawn_app().await;
    let start = minutes_from_now(90);
    let mut body = booking(&start);
    body["customer"] = json!({"phone_number": "+33612345678"});
    let id = created_id(&app, body).await;

    let (_, call) = app
        .report_json(json!({"caller_phone_number": "06 12 34 56 78"}))
        .await;

    assert_eq!(call["data"]["reservation_id"], id.as_str());
    assert_eq!(
        call["data"]["template_type"],
        "MISSED_CALL_WITH_RESERVATION"
    );
}

#[tokio::test]
async fn a_missed_call_ignores_a_reservation_cancelled_a_moment_before_over_the_api() {
    let app = spawn_app().await;
    let mut body = booking(&minutes_from_now(90));
    body["customer"] = json!({"phone_number": "+33612345678"});
    let id = created_id(&app, body).await;
    app.call(
        Method::POST,
        &format!("/reservations/{id}/cancel"),
        &app.restaurant.token,
        None,
    )
    .await;

    let (_, call) = app
        .report_json(json!({"caller_phone_number": "+33612345678"}))
        .await;

    assert_eq!(call["data"]["reservation_id"], Value::Null);
    assert_eq!(call["data"]["template_type"], "MISSED_CALL");
}

#[tokio::test]
async fn every_rule_of_a_patch_answers_with_the_field() {
    let app = spawn_app().await;
    let id = created_id(&app, booking("2099-07-14T20:30")).await;
    let path = format!("/reservations/{id}");
    let cases = [
        (json!({"party_size": "six"}), 400, "party_size"),
        (json!({"start_at": false}), 400, "start_at"),
        (json!({"customer": 12}), 400, "customer"),
        (json!({"customer": {"id": 12}}), 400, "customer.id"),
        (json!({"party_size": 0}), 422, "party_size"),
        (json!({"status": "GONE"}), 422, "status"),
        (json!({"start_at": "soon"}), 422, "start_at"),
        (
            json!({"customer": {"phone_number": "0000"}}),
            422,
            "customer.phone_number",
        ),
    ];
    for (body, status, field) in cases {
        let (got, answer) = app
            .call(
                Method::PATCH,
                &path,
                &app.restaurant.token,
                Some(body.clone()),
            )
            .await;
        assert_eq!(got, status, "{body} → {answer}");
        assert_eq!(answer["error"]["details"]["field"], field, "{body}");
    }
    let (_, unchanged) = app
        .call(Method::GET, &path, &app.restaurant.token, None)
        .await;
    assert_eq!(unchanged["data"]["party_size"], 2);
    assert_eq!(unchanged["data"]["status"], "CONFIRMED");
}

#[tokio::test]
async fn a_cancel_reason_of_the_wrong_type_is_400_and_nothing_is_cancelled() {
    let app = spawn_app().await;
    let id = created_id(&app, booking("2099-07-14T20:30")).await;

    let (status, body) = app
        .call(
            Method::POST,
            &format!("/reservations/{id}/cancel"),
            &app.restaurant.token,
            Some(json!({"reason": 42})),
        )
        .await;

    assert_eq!(status, 400);
    assert_eq!(body["error"]["details"]["field"], "reason");
    let (_, read) = app
        .call(
            Method::GET,
            &format!("/reservations/{id}"),
            &app.restaurant.token,
            None,
        )
        .await;
    assert_eq!(read["data"]["status"], "CONFIRMED");
}

#[tokio::test]
async fn reservation_writes_share_the_body_rules_of_the_api() {
    let app = spawn_app().await;

    let response = app
        .client
        .post(format!("{}/api/partner/v1/reservations", app.address))
        .bearer_auth(&app.restaurant.token)
        .header("content-type", "text/plain")
        .body(booking("2099-07-14T20:30").to_string())
        .send()
        .await
        .expect("request");
    let unauthenticated = app
        .client
        .get(format!("{}/api/partner/v1/reservations", app.address))
        .send()
        .await
        .expect("request");

    assert_eq!(response.status().as_u16(), 415);
    assert_eq!(unauthenticated.status().as_u16(), 401);
}
