//! Replies: a whole-text STOP word (any case, any accents) suppresses its sender for `reply`, as a
//! text, a quick-reply button or an interactive button; START or REPRENDRE lifts only that.

use serde_json::{Value, json};

use super::*;

/// The `i`th test sender: its WhatsApp id and its E.164 number.
fn sender(i: usize) -> (String, String) {
    let wa_id = format!("336123456{:02}", 10 + i);
    let e164 = format!("+{wa_id}");
    (wa_id, e164)
}

#[tokio::test]
async fn every_stop_word_in_any_case_and_with_or_without_accents_suppresses_its_sender_for_reply() {
    let app = whatsapp_app().await;
    let words = [
        "STOP",
        "STOP ALL",
        "ARRET",
        "ARRETER",
        "UNSUBSCRIBE",
        "DESABONNER",
        "DESINSCRIRE",
        "stop",
        "Stop All",
        "Arrêt",
        "arrêter",
        "Unsubscribe",
        "désabonner",
        "DÉSINSCRIRE",
        " stop ",
    ];

    for (i, word) in words.iter().enumerate() {
        let (wa_id, e164) = sender(i);
        deliver(&app, &text_reply(&format!("wamid.IN{i}"), &wa_id, word)).await;

        assert_eq!(
            suppression(&app, &e164).await,
            (json!(true), json!("reply")),
            "{word:?}"
        );
        assert_eq!(
            next_call_outcome(&app, &e164).await,
            "SKIPPED_SUPPRESSED",
            "{word:?}"
        );
    }
}

#[tokio::test]
async fn a_stop_quick_reply_button_suppresses_its_sender_for_reply() {
    let app = whatsapp_app().await;

    deliver(&app, &button_reply("wamid.IN1", CALLER_WA_ID, "Stop")).await;

    assert_eq!(
        suppression(&app, CALLER).await,
        (json!(true), json!("reply"))
    );
    assert_eq!(next_call_outcome(&app, CALLER).await, "SKIPPED_SUPPRESSED");
}

#[tokio::test]
async fn a_stop_interactive_button_reply_suppresses_its_sender_for_reply() {
    let app = whatsapp_app().await;

    deliver(
        &app,
        &interactive_reply("wamid.IN1", CALLER_WA_ID, "Arrêter"),
    )
    .await;

    assert_eq!(
        suppression(&app, CALLER).await,
        (json!(true), json!("reply"))
    );
    assert_eq!(next_call_outcome(&app, CALLER).await, "SKIPPED_SUPPRESSED");
}

#[tokio::test]
async fn stop_inside_a_sentence_is_not_a_stop() {
    let app = whatsapp_app().await;
    app.add_customer(CALLER, Some("Camille"));
    let (stranger_wa_id, stranger) = sender(0);

    let sentence = "please stop sending me this";
    deliver(&app, &text_reply("wamid.IN1", CALLER_WA_ID, sentence)).await;
    deliver(&app, &text_reply("wamid.IN2", &stranger_wa_id, sentence)).await;

    assert_eq!(suppression(&app, CALLER).await, (json!(false), Value::Null));
    assert_eq!(customer(&app, &stranger).await, Value::Null);
    assert_eq!(next_call_outcome(&app, CALLER).await, "SENT");
}

#[tokio::test]
async fn a_stop_from_a_number_with_no_customer_creates_the_customer_suppressed() {
    let app = whatsapp_app().await;
    let before = customer(&app, CALLER).await;

    deliver(&app, &text_reply("wamid.IN1", CALLER_WA_ID, "STOP")).await;

    assert_eq!(before, Value::Null);
    let created = customer(&app, CALLER).await;
    assert_eq!(created["phone_number"], CALLER);
    assert_eq!(created["name"], Value::Null);
    assert_eq!(created["whatsapp_suppressed"], true);
    assert_eq!(created["suppression_reason"], "reply");
}

#[tokio::test]
async fn a_stop_keeps_the_operator_s_reason_on_a_customer_the_operator_suppressed() {
    let app = whatsapp_app().await;
    ringback::cli::customers::set_suppression(&app.db(), &app.restaurant.id, CALLER, true)
        .expect("operator suppression");

    deliver(&app, &text_reply("wamid.IN1", CALLER_WA_ID, "STOP")).await;

    assert_eq!(
        suppression(&app, CALLER).await,
        (json!(true), json!("operator"))
    );
}

#[tokio::test]
async fn start_or_reprendre_after_a_stop_lifts_the_suppression_and_the_next_call_is_sent() {
    let app = whatsapp_app().await;

    for (i, word) in ["START", "Reprendre"].iter().enumerate() {
        let (wa_id, e164) = sender(i);
        deliver(&app, &text_reply(&format!("wamid.STOP{i}"), &wa_id, "STOP")).await;
        let while_stopped = next_call_outcome(&app, &e164).await;

        deliver(&app, &text_reply(&format!("wamid.START{i}"), &wa_id, word)).await;

        assert_eq!(while_stopped, "SKIPPED_SUPPRESSED", "{word}");
        assert_eq!(
            suppression(&app, &e164).await,
            (json!(false), Value::Null),
            "{word}"
        );
        assert_eq!(next_call_outcome(&app, &e164).await, "SENT", "{word}");
    }
}

#[tokio::test]
async fn a_start_does_not_lift_an_operator_s_suppression() {
    let app = whatsapp_app().await;
    ringback::cli::customers::set_suppression(&app.db(), &app.restaurant.id, CALLER, true)
        .expect("operator suppression");

    deliver(&app, &text_reply("wamid.IN1", CALLER_WA_ID, "START")).await;

    assert_eq!(
        suppression(&app, CALLER).await,
        (json!(true), json!("operator"))
    );
    assert_eq!(next_call_outcome(&app, CALLER).await, "SKIPPED_SUPPRESSED");
}
