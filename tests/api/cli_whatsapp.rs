//! SPEC §6.2: `whatsapp check` asks the Cloud API (here the fake one) about a restaurant's number.

use std::process::Output;

use crate::cli_harness::{Cli, restaurant, stderr, stdout};
use crate::fake_whatsapp::{DISPLAY_PHONE_NUMBER, VERIFIED_NAME};
use crate::helpers::{ACCESS_TOKEN, FakeWhatsApp, PHONE_NUMBER_ID};

/// A restaurant whose WhatsApp number is connected with `token`.
fn connected(cli: &Cli, token: &str) -> String {
    let rid = restaurant(cli);
    let out = cli.run_with(
        &[
            "restaurant",
            "whatsapp",
            &rid,
            "--phone-number-id",
            PHONE_NUMBER_ID,
            "--access-token",
            "-",
        ],
        &[],
        Some(token),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    rid
}

/// `whatsapp check` against the fake Cloud API, off the runtime that serves it.
async fn check(cli: Cli, whatsapp: &FakeWhatsApp, rid: &str) -> Output {
    let env = [("RINGBACK_WHATSAPP_API_BASE", whatsapp.base_url.clone())];
    let rid = rid.to_string();
    tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        cli.run_with(&["whatsapp", "check", "--restaurant", &rid], &env, None)
    })
    .await
    .expect("join")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whatsapp_check_prints_the_number_for_a_good_token() {
    let whatsapp = FakeWhatsApp::start().await;
    let cli = Cli::new();
    let rid = connected(&cli, ACCESS_TOKEN);

    let out = check(cli, &whatsapp, &rid).await;

    assert!(out.status.success(), "{}", stderr(&out));
    let printed = stdout(&out);
    assert!(printed.contains(DISPLAY_PHONE_NUMBER), "{printed}");
    assert!(printed.contains(VERIFIED_NAME), "{printed}");
    assert!(printed.contains("GREEN"), "{printed}");
    assert!(!printed.contains(ACCESS_TOKEN) && !stderr(&out).contains(ACCESS_TOKEN));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whatsapp_check_prints_metas_error_for_a_bad_token() {
    let whatsapp = FakeWhatsApp::start().await;
    let cli = Cli::new();
    let rid = connected(&cli, "EAAGexpiredtoken");

    let out = check(cli, &whatsapp, &rid).await;

    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let said = stderr(&out);
    assert!(
        said.contains("Invalid OAuth access token - Cannot parse access token"),
        "{said}"
    );
    assert!(said.contains("190"), "{said}");
    assert!(!said.contains("EAAGexpiredtoken"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whatsapp_check_of_a_restaurant_without_whatsapp_exits_1_saying_so() {
    let whatsapp = FakeWhatsApp::start().await;
    let cli = Cli::new();
    let rid = restaurant(&cli);

    let out = check(cli, &whatsapp, &rid).await;

    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no WhatsApp number connected"),
        "{}",
        stderr(&out)
    );
}
