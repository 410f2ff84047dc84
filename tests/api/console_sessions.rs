//! SPEC §9, sign-in and sessions under a hostile client: concurrent guesses cannot slip one past
//! a fresh lockout, and a stale duplicate cookie does not hide a live session.

use serde_json::json;

use crate::helpers::*;

/// One wrong guess: the status, and `Retry-After` when there is one.
async fn guess(client: &reqwest::Client, url: &str, n: usize) -> (u16, Option<u64>) {
    let body = json!({"username": "marie", "password": format!("wrong guess {n}")});
    let response = client.post(url).json(&body).send().await.expect("login");
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok()?.parse().ok());
    (response.status().as_u16(), retry_after)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_concurrent_wrong_sign_ins_after_the_fourth_failure_get_one_guess_checked_not_more()
{
    let app = spawn_app().await;
    app.add_console_user("marie", Some(&app.restaurant.id));
    let url = format!("{}/console/login", app.address);
    for n in 0..4 {
        assert_eq!(guess(&app.client, &url, n).await.0, 401);
    }

    // Each keeps guessing while told only to wait a moment (another guess is being checked),
    // and stops once locked out: as close on the heels of the fifth failure as a client gets.
    let guessers: Vec<_> = (0..20)
        .map(|g| {
            let (client, url) = (app.client.clone(), url.clone());
            tokio::spawn(async move {
                let mut checked = 0;
                for n in 0..2_000 {
                    match guess(&client, &url, g * 10_000 + n).await {
                        (401, _) => checked += 1,
                        (429, Some(wait)) if wait > 1 => return (checked, true),
                        (429, _) => tokio::task::yield_now().await,
                        (status, _) => panic!("unexpected {status}"),
                    }
                }
                (checked, false)
            })
        })
        .collect();
    let mut checked = 0;
    for guesser in guessers {
        let (n, locked_out) = guesser.await.expect("join");
        assert!(locked_out, "every guesser ends locked out");
        checked += n;
    }

    assert_eq!(checked, 1, "only the fifth guess was checked");
    let right = app
        .client
        .post(&url)
        .json(&json!({"username": "marie", "password": CONSOLE_PASSWORD}))
        .send()
        .await
        .expect("login");
    assert_eq!(right.status().as_u16(), 429, "the right password too");
}

#[tokio::test]
async fn a_stale_session_cookie_sent_before_the_live_one_does_not_hide_it() {
    let app = spawn_app().await;
    app.add_console_user("marie", Some(&app.restaurant.id));
    let live = app.console_session("marie").await;
    // Left by an earlier sign-in under another path or a parent domain; sent first.
    let stale = format!("rb_session={}", "0f".repeat(32));

    let (status, body) = app
        .console_get(&format!("{stale}; theme=dark; {live}"), "/console/api/me")
        .await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["username"], "marie");
}

#[tokio::test]
async fn signing_out_ends_the_live_session_even_behind_a_stale_cookie() {
    let app = spawn_app().await;
    app.add_console_user("marie", Some(&app.restaurant.id));
    let live = app.console_session("marie").await;
    let both = format!("rb_session={}; {live}", "0f".repeat(32));

    let out = app
        .client
        .post(format!("{}/console/logout", app.address))
        .header("cookie", &both)
        .header("accept", "application/json")
        .send()
        .await
        .expect("logout");
    let (status, _) = app.console_get(&live, "/console/api/me").await;

    assert_eq!(out.status().as_u16(), 204);
    assert_eq!(status, 401, "the live session ended");
}
