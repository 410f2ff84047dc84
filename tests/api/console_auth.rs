//! SPEC §9, users and sessions: sign-in, the cookie, expiry, sign-out, throttling, the
//! own-origin rule, the security headers, and what a user may see.

use reqwest::redirect::Policy;
use serde_json::{Value, json};

use crate::helpers::*;

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("client")
}

async fn login_json(app: &TestApp, username: &str, password: &str) -> reqwest::Response {
    app.client
        .post(format!("{}/console/login", app.address))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .expect("login")
}

async fn login_form(app: &TestApp, username: &str, password: &str) -> reqwest::Response {
    no_redirects()
        .post(format!("{}/console/login", app.address))
        .form(&[("username", username), ("password", password)])
        .send()
        .await
        .expect("login")
}

/// The error envelope without its request id, which differs for every request.
fn without_request_id(mut body: Value) -> Value {
    body["error"]["request_id"] = Value::Null;
    body
}

#[tokio::test]
async fn a_good_json_login_answers_204_with_an_http_only_strict_session_cookie() {
    let app = spawn_app().await;
    app.add_console_user("marie", Some(&app.restaurant.id));

    let response = login_json(&app, "marie", CONSOLE_PASSWORD).await;

    assert_eq!(response.status().as_u16(), 204);
    let cookie = response.headers()["set-cookie"].to_str().expect("ascii");
    let (pair, attributes) = cookie.split_once(';').expect("attributes");
    let value = pair.strip_prefix("rb_session=").expect("rb_session");
    assert_eq!(value.len(), 64, "256 random bits, hex");
    assert!(attributes.contains("HttpOnly"), "{cookie}");
    assert!(attributes.contains("SameSite=Strict"), "{cookie}");
    assert!(attributes.contains("Path=/"), "{cookie}");
    assert!(!attributes.contains("Secure"), "plain HTTP: {cookie}");
    let stored: String = app
        .db()
        .query_row("SELECT token_hash FROM sessions", [], |r| r.get(0))
        .expect("session");
    assert_ne!(stored, value, "only the hash is stored");
    let (status, me) = app.console_get(pair, "/console/api/me").await;
    assert_eq!(status, 200);
    assert_eq!(me["data"]["username"], "marie");
    assert_eq!(me["data"]["restaurant_id"], json!(app.restaurant.id));
}

#[tokio::test]
async fn a_good_form_login_answers_303_to_the_console_and_the_username_ignores_case() {
    let app = spawn_app().await;
    app.add_console_user("marie", Some(&app.restaurant.id));

    let response = login_form(&app, "Marie", CONSOLE_PASSWORD).await;

    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(response.headers()["location"], "/console/");
    assert!(response.headers().contains_key("set-cookie"));
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_answer() {
    let app = spawn_app().await;
    app.add_console_user("marie", Some(&app.restaurant.id));

    let wrong = login_json(&app, "marie", "not the password").await;
    let unknown = login_json(&app, "nobody", "not the password").await;

    assert_eq!(wrong.status().as_u16(), 401);
    assert_eq!(unknown.status().as_u16(), 401);
    assert!(wrong.headers().get("set-cookie").is_none());
    let wrong: Value = wrong.json().await.expect("json");
    let unknown: Value = unknown.json().await.expect("json");
    assert_eq!(wrong["error"]["code"], "INVALID_CREDENTIALS");
    assert_eq!(without_request_id(wrong), without_request_id(unknown));

    let wrong_form = login_form(&app, "marie", "not the password").await;
    let unknown_form = login_form(&app, "nobody", "not the password").await;
    assert_eq!(wrong_form.status().as_u16(), 401);
    assert_eq!(unknown_form.status().as_u16(), 401);
    let (wrong_page, unknown_page) = (
        wrong_form.text().await.expect("page"),
        unknown_form.text().await.expect("page"),
    );
    assert!(wrong_page.contains("Wrong username or password."));
    assert!(wrong_page.contains("<form"), "the login page again");
    assert_eq!(wrong_page, unknown_page);
}

#[tokio::test]
async fn after_five_failures_for_a_username_even_the_right_password_gets_429_with_retry_after() {
    let app = spawn_app().await;
    app.add_console_user("marie", Some(&app.restaurant.id));
    for _ in 0..5 {
        let r = login_json(&app, "marie", "guess guess guess").await;
        assert_eq!(r.status().as_u16(), 401);
    }

    let refused = login_json(&app, "marie", CONSOLE_PASSWORD).await;

    assert_eq!(refused.status().as_u16(), 429);
    let retry: u64 = refused.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry), "{retry}");
    let body: Value = refused.json().await.expect("json");
    assert_eq!(body["error"]["code"], "RATE_LIMITED");
    let form = login_form(&app, "marie", CONSOLE_PASSWORD).await;
    assert_eq!(form.status().as_u16(), 429);
    assert!(form.headers().contains_key("retry-after"));
    assert!(
        form.text()
            .await
            .expect("page")
            .contains("Too many failed sign-ins")
    );
}

#[tokio::test]
async fn after_five_failures_from_one_address_another_username_gets_429_too() {
    let app = spawn_app().await;
    app.add_console_user("marie", Some(&app.restaurant.id));
    for name in ["a", "b", "c", "d", "e"] {
        login_json(&app, name, "guess guess guess").await;
    }

    let refused = login_json(&app, "marie", CONSOLE_PASSWORD).await;

    assert_eq!(refused.status().as_u16(), 429);
}

#[tokio::test]
async fn a_session_ends_after_twelve_idle_hours() {
    let app = spawn_app().await;
    app.add_console_user("marie", Some(&app.restaurant.id));
    let cookie = app.console_session("marie").await;
    let twelve_hours_ago = ringback::time::now_ms() - 12 * 3_600_000 - 1_000;
    app.db()
        .execute("UPDATE sessions SET last_seen_at = ?1", [twelve_hours_ago])
        .expect("age");

    let (status, body) = app.console_get(&cookie, "/console/api/me").await;

    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "UNAUTHORIZED");
}

#[tokio::test]
async fn a_session_in_use_still_ends_seven_days_after_it_began() {
    let app = spawn_app().await;
    app.add_console_user("marie", Some(&app.restaurant.id));
    let cookie = app.console_session("marie").await;
    let week_ago = ringback::time::now_ms() - 7 * 86_400_000 - 1_000;
    app.db()
        .execute("UPDATE sessions SET created_at = ?1", [week_ago])
        .expect("age");

    let (status, _) = app.console_get(&cookie, "/console/api/me").await;

    assert_eq!(status, 401);
}

#[tokio::test]
async fn logout_ends_the_session_and_clears_the_cookie() {
    let app = spawn_app().await;
    app.add_console_user("marie", Some(&app.restaurant.id));
    let cookie = app.console_session("marie").await;

    let response = no_redirects()
        .post(format!("{}/console/logout", app.address))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("logout");

    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(response.headers()["location"], "/console/login");
    let cleared = response.headers()["set-cookie"].to_str().expect("ascii");
    assert!(cleared.starts_with("rb_session=;") && cleared.contains("Max-Age=0"));
    let (status, _) = app.console_get(&cookie, "/console/api/me").await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn a_state_changing_request_from_another_origin_is_refused() {
    let app = spawn_app().await;
    app.add_console_user("marie", Some(&app.restaurant.id));
    let cookie = app.console_session("marie").await;
    let host = app.address.trim_start_matches("http://").to_string();
    let logout = |headers: Vec<(&'static str, String)>| {
        let mut request = no_redirects()
            .post(format!("{}/console/logout", app.address))
            .header("cookie", &cookie);
        for (k, v) in headers {
            request = request.header(k, v);
        }
        request.send()
    };

    let other_origin = logout(vec![("origin", "http://evil.example".into())])
        .await
        .expect("logout");
    let cross_site = logout(vec![("sec-fetch-site", "cross-site".into())])
        .await
        .expect("logout");
    let same_site = logout(vec![("sec-fetch-site", "same-site".into())])
        .await
        .expect("logout");
    let null_origin = logout(vec![("origin", "null".into())])
        .await
        .expect("logout");

    for refused in [other_origin, cross_site, same_site, null_origin] {
        assert_eq!(refused.status().as_u16(), 403);
        let body: Value = refused.json().await.expect("json");
        assert_eq!(body["error"]["code"], "FORBIDDEN");
    }
    let (status, _) = app.console_get(&cookie, "/console/api/me").await;
    assert_eq!(status, 200, "the session was not ended");
    let cross_login = app
        .client
        .post(format!("{}/console/login", app.address))
        .header("origin", "http://evil.example")
        .json(&json!({"username": "marie", "password": CONSOLE_PASSWORD}))
        .send()
        .await
        .expect("login");
    assert_eq!(cross_login.status().as_u16(), 403, "login CSRF");

    let own = logout(vec![
        ("origin", format!("http://{host}")),
        ("sec-fetch-site", "same-origin".into()),
    ])
    .await
    .expect("logout");
    assert_eq!(own.status().as_u16(), 303);
}

#[tokio::test]
async fn the_own_origin_a_null_origin_from_the_same_origin_and_a_client_without_either_are_accepted()
 {
    let app = spawn_app().await;
    app.add_console_user("marie", Some(&app.restaurant.id));
    let host = app.address.trim_start_matches("http://").to_string();
    let cases: [Vec<(&str, String)>; 4] = [
        vec![("origin", format!("http://{host}"))],
        vec![
            ("origin", "null".into()),
            ("sec-fetch-site", "same-origin".into()),
        ],
        vec![("sec-fetch-site", "none".into())],
        vec![],
    ];
    for headers in cases {
        let mut request = app
            .client
            .post(format!("{}/console/login", app.address))
            .json(&json!({"username": "marie", "password": CONSOLE_PASSWORD}));
        for (k, v) in &headers {
            request = request.header(*k, v);
        }
        let response = request.send().await.expect("login");
        assert_eq!(response.status().as_u16(), 204, "{headers:?}");
    }
}

#[tokio::test]
async fn every_console_answer_carries_the_security_headers() {
    let app = spawn_app().await;
    let paths = [
        "/console/login",
        "/console/",
        "/console/api/me",
        "/console/assets/app.js",
        "/console/export.csv",
        "/r/NoSuchTokenNoSuchToken123",
    ];
    for path in paths {
        let response = no_redirects()
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .expect("get");
        let h = response.headers();
        assert_eq!(
            h["content-security-policy"], "default-src 'self'; frame-ancestors 'none'",
            "{path}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
    }
}

#[tokio::test]
async fn without_a_session_the_api_is_401_and_the_page_sends_to_the_login() {
    let app = spawn_app().await;

    for path in [
        "/console/api/me",
        "/console/api/restaurants",
        "/console/api/calls",
        "/console/api/indicators",
        "/console/api/daily",
        "/console/export.csv",
    ] {
        let (status, body) = app.console_get("rb_session=nope", path).await;
        assert_eq!(status, 401, "{path}");
        assert_eq!(body["error"]["code"], "UNAUTHORIZED", "{path}");
    }
    let page = no_redirects()
        .get(format!("{}/console/", app.address))
        .send()
        .await
        .expect("page");
    assert_eq!(page.status().as_u16(), 303);
    assert_eq!(page.headers()["location"], "/console/login");
}

#[tokio::test]
async fn a_single_restaurant_user_gets_404_for_another_restaurants_data() {
    let app = spawn_app().await;
    let other = app.other_restaurant("Chez Autre", "FR", "Europe/Paris");
    app.add_console_user("marie", Some(&app.restaurant.id));
    let cookie = app.console_session("marie").await;

    for path in [
        "/console/api/calls",
        "/console/api/indicators",
        "/console/api/daily",
        "/console/export.csv",
    ] {
        let (status, body) = app
            .console_get(&cookie, &format!("{path}?restaurant={}", other.id))
            .await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(body["error"]["code"], "NOT_FOUND", "{path}");
    }
    let (_, list) = app.console_get(&cookie, "/console/api/restaurants").await;
    assert_eq!(list["data"].as_array().expect("list").len(), 1);
    let (status, _) = app.console_get(&cookie, "/console/api/calls").await;
    assert_eq!(status, 200, "restaurant may be omitted with one restaurant");
}

#[tokio::test]
async fn a_user_with_every_restaurant_picks_one_and_must_name_it() {
    let app = spawn_app().await;
    let other = app.other_restaurant("Chez Autre", "FR", "Europe/Paris");
    app.add_console_user("owner", None);
    let cookie = app.console_session("owner").await;

    let (_, list) = app.console_get(&cookie, "/console/api/restaurants").await;
    let (status, body) = app.console_get(&cookie, "/console/api/calls").await;
    let (named, _) = app
        .console_get(
            &cookie,
            &format!("/console/api/calls?restaurant={}", other.id),
        )
        .await;

    assert_eq!(list["data"].as_array().expect("list").len(), 2);
    assert_eq!(status, 422);
    assert_eq!(body["error"]["details"]["field"], "restaurant");
    assert_eq!(named, 200);
}

#[tokio::test]
async fn a_burst_of_concurrent_guesses_gets_no_more_than_five_checked() {
    let app = spawn_app().await;
    app.add_console_user("marie", Some(&app.restaurant.id));

    let guesses: Vec<_> = (0..20)
        .map(|n| {
            let (client, url) = (app.client.clone(), format!("{}/console/login", app.address));
            tokio::spawn(async move {
                let body = json!({"username": "marie", "password": format!("guess number {n}")});
                let response = client.post(url).json(&body).send().await.expect("login");
                response.status().as_u16()
            })
        })
        .collect();
    let mut answers = Vec::new();
    for guess in guesses {
        answers.push(guess.await.expect("task"));
    }

    let checked = answers.iter().filter(|s| **s == 401).count();
    let refused = answers.iter().filter(|s| **s == 429).count();
    assert!(checked <= 5, "{checked} guesses were checked: {answers:?}");
    assert_eq!(checked + refused, 20, "{answers:?}");
    for _ in checked..5 {
        login_json(&app, "marie", "one more guess").await;
    }
    let later = login_json(&app, "marie", CONSOLE_PASSWORD).await;
    assert_eq!(
        later.status().as_u16(),
        429,
        "locked out after five guesses"
    );
}

#[tokio::test]
async fn a_session_in_use_is_kept_alive_past_twelve_hours_from_its_start() {
    let app = spawn_app().await;
    app.add_console_user("marie", Some(&app.restaurant.id));
    let cookie = app.console_session("marie").await;
    let eleven_hours_ago = ringback::time::now_ms() - 11 * 3_600_000;
    app.db()
        .execute(
            "UPDATE sessions SET last_seen_at = ?1, created_at = ?1",
            [eleven_hours_ago],
        )
        .expect("age");

    let (status, _) = app.console_get(&cookie, "/console/api/me").await;

    assert_eq!(status, 200);
    let db = app.db();
    eventually("the session's last use is written back", || {
        let seen: i64 = db
            .query_row("SELECT last_seen_at FROM sessions", [], |r| r.get(0))
            .expect("session");
        seen > eleven_hours_ago + 3_600_000
    })
    .await;
}

#[tokio::test]
async fn behind_a_tls_proxy_that_says_so_the_session_cookie_is_secure() {
    let app = spawn_app().await;
    app.add_console_user("marie", Some(&app.restaurant.id));

    let response = app
        .client
        .post(format!("{}/console/login", app.address))
        .header("x-forwarded-proto", "https")
        .json(&json!({"username": "marie", "password": CONSOLE_PASSWORD}))
        .send()
        .await
        .expect("login");

    assert_eq!(response.status().as_u16(), 204);
    let cookie = response.headers()["set-cookie"].to_str().expect("ascii");
    assert!(cookie.ends_with("; Secure"), "{cookie}");
}

#[tokio::test]
async fn an_unknown_console_path_is_a_404_envelope_with_the_security_headers() {
    let app = spawn_app().await;

    for path in [
        "/console/nope",
        "/console/api/nope",
        "/console/assets/nope.js",
    ] {
        let response = app
            .client
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .expect("get");
        assert_eq!(response.status().as_u16(), 404, "{path}");
        assert_eq!(
            response.headers()["x-content-type-options"],
            "nosniff",
            "{path}"
        );
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["error"]["code"], "NOT_FOUND", "{path}");
    }
}
