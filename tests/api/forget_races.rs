//! SPEC §10 and §6.4: a forgotten caller stays forgotten whatever answer or status lands after
//! the erasure, and erasing while reports flow never makes the server answer `SERVICE_BUSY`.

use std::time::Duration;

use serde_json::json;

use crate::forget::{NUMBER, count, forget, forgot, mentions};
use crate::helpers::*;
use crate::webhook_kit::{TelnyxKeys, failed_status, webhooks_on};

/// Customers holding the number, or the word written where it was.
fn customers_with_the_number_or_forgotten(app: &TestApp) -> i64 {
    count(
        app,
        &format!("SELECT count(*) FROM customers WHERE phone_e164 IN ('{NUMBER}', 'forgotten')"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_forgotten_while_whatsapp_answers_131050_is_not_brought_back_by_the_answer() {
    // WhatsApp holds the send until the erasure is done, however long the CLI takes.
    let app = spawn_app_with(|c| c.whatsapp.timeout_ms = 30_000).await;
    app.whatsapp.set(Behaviour::Hold);
    let report = app.report_in_background(
        json!({"caller_phone_number": NUMBER, "external_call_id": "stopped"}),
    );
    app.whatsapp.wait_for_requests(1).await;
    forgot(&app, NUMBER);
    assert_eq!(customers_with_the_number_or_forgotten(&app), 0);
    // The guest had stopped marketing messages: WhatsApp's 131050 lands after the erasure.
    app.whatsapp.fail_with(400, 131050);
    app.whatsapp.release();

    let (status, body) = report.await.expect("join");

    assert_eq!(
        (status, body["data"]["outcome"].as_str()),
        (201, Some("UNDELIVERABLE")),
        "{body}"
    );
    assert_eq!(
        customers_with_the_number_or_forgotten(&app),
        0,
        "no customer came back with the number, nor one named `forgotten`"
    );
    assert_eq!(mentions(&app.db()), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_131050_status_arriving_after_a_forget_suppresses_nobody_and_creates_no_customer() {
    let keys = TelnyxKeys::new();
    let app = spawn_app_with(|c| webhooks_on(c, &keys, 0)).await;
    let (status, body) = app
        .report_json(json!({"caller_phone_number": NUMBER, "external_call_id": "late-status"}))
        .await;
    assert_eq!(
        (status, body["data"]["outcome"].as_str()),
        (201, Some("SENT"))
    );
    let message_id = body["data"]["message_id"]
        .as_str()
        .expect("wamid")
        .to_string();
    forgot(&app, NUMBER);

    let acknowledged = app.meta(&failed_status(&message_id, 131050)).await;

    assert_eq!(acknowledged, 200);
    assert_eq!(
        customers_with_the_number_or_forgotten(&app),
        0,
        "the status created a customer"
    );
    assert_eq!(count(&app, "SELECT count(*) FROM customers"), 0);
    assert_eq!(mentions(&app.db()), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_forget_run_twenty_times_while_reports_flow_at_200_a_second_never_makes_the_server_busy()
 {
    let app = spawn_app().await;
    let callers: Vec<String> = (0..20).map(|n| format!("+3361234{n:04}")).collect();
    for caller in &callers {
        let (status, _) = app
            .report_json(json!({"caller_phone_number": caller}))
            .await;
        assert_eq!(status, 201);
    }
    // Reports at 200 a second, each from a new caller, until the erasures are done; over
    // keep-alive connections, as a PBX sends them.
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let flow = {
        let (client, url) = (
            app.client.clone(),
            format!("{}/api/partner/v1/missed-calls", app.address),
        );
        let token = app.restaurant.token.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(5));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            // At most as many in flight as a PBX would keep: a machine too slow for 200 a
            // second slows the flow down rather than opening connection after connection.
            let in_flight = std::sync::Arc::new(tokio::sync::Semaphore::new(32));
            let mut sent = Vec::new();
            for n in 0u32.. {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stopped.changed() => break,
                }
                let Ok(permit) = std::sync::Arc::clone(&in_flight).acquire_owned().await else {
                    break;
                };
                let report = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({"caller_phone_number": format!("+3362{n:07}")}));
                sent.push(tokio::spawn(async move {
                    let _permit = permit;
                    match report.send().await {
                        Ok(r) => r.status().as_u16(),
                        Err(e) => {
                            eprintln!("report failed: {e:?}");
                            0
                        }
                    }
                }));
            }
            let mut statuses = Vec::new();
            for report in sent {
                statuses.push(report.await.expect("join"));
            }
            statuses
        })
    };

    let mut erasures = Vec::new();
    for caller in &callers {
        let (db, restaurant, caller) = (
            app.db_path.clone(),
            app.restaurant.id.clone(),
            caller.clone(),
        );
        let out = tokio::task::spawn_blocking(move || forget(&db, &restaurant, &caller))
            .await
            .expect("join");
        erasures.push((
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ));
    }
    stop.send(true).expect("stop the flow");
    let statuses = flow.await.expect("join");

    assert!(
        statuses.len() > 200,
        "the flow ran: {} reports",
        statuses.len()
    );
    let refused: Vec<&u16> = statuses.iter().filter(|s| **s != 201).collect();
    assert!(
        refused.is_empty(),
        "{} of {} reports refused: {refused:?}",
        refused.len(),
        statuses.len()
    );
    for (code, said) in erasures {
        assert_eq!(code, Some(0), "{said}");
    }
}
