//! SPEC §9 in a real browser: a manager signs in to the console, reads the log, filters it, pages
//! through it, downloads it, and sees a booking won back — headless Chromium driven through a
//! chromedriver the test starts itself. Skipped, with the reason on stderr, where Chromium or
//! chromedriver is not installed. `RINGBACK_SCREENSHOT=1 cargo test --test api browser` also
//! refreshes the README's picture, `docs/console.png`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use reqwest::Method;
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::helpers::*;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The longest anything may take to show on the page: a broken page fails in seconds.
const WAIT: Duration = Duration::from_secs(10);
const PAGE_SIZE: usize = 50;
/// The caller who rings a moment before the manager signs in: a regular, known by name.
const CAMILLE: &str = "+33612345699";
/// The caller who rings twice in a row; the second call is in cooldown.
const IMPATIENT: &str = "+33612345698";

#[tokio::test]
async fn a_manager_signs_in_sees_todays_calls_filters_pages_downloads_and_sees_a_conversion() {
    let Some(driver) = ChromeDriver::start() else {
        return;
    };
    // Arrange: three weeks of missed calls, reported now as a PBX would report its backlog.
    let app = spawn_app_with(|config| {
        config.missed_calls.stale_after_minutes = 30 * 24 * 60;
        // WhatsApp's webhook on: the log shows how each message fared.
        config.whatsapp.app_secret = crate::webhook_kit::APP_SECRET.into();
        config.whatsapp.verify_token = crate::webhook_kit::VERIFY_TOKEN.into();
    })
    .await;
    app.add_console_user("marie", Some(&app.restaurant.id));
    let log = report_three_weeks(&app).await;
    app.add_customer(CAMILLE, Some("Camille Martin"));
    let latest = report(&app, json!({"caller_phone_number": CAMILLE}), "SENT").await;
    let (total, sent) = (log.calls.len() + 1, log.sent + 1);
    // Camille opened the message.
    let sql = "SELECT message_id FROM calls WHERE id = ?1";
    let message_id: String = app
        .db()
        .query_row(sql, [&latest], |r| r.get(0))
        .expect("wamid");
    let read = crate::webhook_kit::status_payload(&message_id, "read", Some(&latest));
    assert_eq!(app.meta(&read).await, 200);
    let browser = Browser::open(&driver).await;

    // Act: a moment later, the manager signs in through the form.
    browser.sign_in(&app.address, "marie").await;

    // Assert: today's calls, newest first, in words.
    let first_page = browser.settled_page(PAGE_SIZE, None).await;
    assert_eq!(first_page[0], latest, "the call of a moment ago first");
    assert_eq!(browser.cell(&latest, ".badge").await, "Sent");
    assert_eq!(browser.lang().await, "en");
    assert_eq!(
        browser.cell(&latest, ".c-customer .name").await,
        "Camille Martin"
    );
    assert_eq!(browser.cell(&latest, ".c-delivery").await, "Read");
    assert_eq!(browser.cell(&log.cooldown, ".c-delivery").await, "—");
    assert_eq!(browser.cell(&log.cooldown, ".badge").await, "Cooldown");
    let reason = browser.cell(&log.cooldown, ".reason").await;
    assert!(reason.contains("message sent at"), "{reason}");
    assert_eq!(browser.cell(&log.hidden, ".badge").await, "Hidden number");

    // Act: only the calls in cooldown.
    browser.click(COOLDOWN_BOX).await;
    browser.click("#apply").await;
    // Assert
    let only = format!("tr:only-child[data-call-id='{}']", log.cooldown);
    browser
        .see(&format!("#calls:not([aria-busy]) {only}"))
        .await;
    assert_eq!(browser.texts("#calls tbody .badge").await, ["Cooldown"]);

    // Act: every status again, then the older calls, then back.
    browser.click(COOLDOWN_BOX).await;
    browser.click("#apply").await;
    assert_eq!(browser.settled_page(PAGE_SIZE, None).await, first_page);
    browser.click("#next-page").await;
    let rest = total - PAGE_SIZE;
    let second_page = browser.settled_page(rest, Some(&first_page[0])).await;
    browser.see("#next-page:disabled").await;
    browser.click("#prev-page").await;
    let back = browser.settled_page(PAGE_SIZE, Some(&second_page[0])).await;
    // Assert
    assert!(second_page.iter().all(|id| !first_page.contains(id)));
    assert_eq!(back, first_page);
    browser.see("#prev-page:disabled").await;

    // Act: the CSV the link offers, with the browser's session.
    let link = browser.see("a#export-csv").await;
    let href = link.attr("href").await.expect("href").expect("a link");
    let csv = download(&browser, &app.address, &href).await;
    // Assert
    let body = csv.strip_prefix('\u{feff}').expect("a UTF-8 BOM first");
    assert!(!body.replace("\r\n", "").contains('\n'), "CRLF line ends");
    let lines: Vec<&str> = body.split_terminator("\r\n").collect();
    assert_eq!(lines[0], CSV_HEADER);
    assert_eq!(lines.len() - 1, total, "one line per report");
    let camille = |l: &&str| {
        l.contains(",Camille Martin,Sent,") && l.contains(",read,") && l.ends_with(&latest)
    };
    assert!(lines.iter().any(camille), "{csv}");

    // Act: Camille taps the link in her message and books a table.
    assert_eq!(browser.indicator("booking_conversions").await, "0");
    assert_eq!(browser.indicator("conversion_rate").await, "0%");
    book_after_a_click(&app, &latest, CAMILLE).await;
    browser.client.refresh().await.expect("reload");

    // Assert: the cards and the chart count it; the row says so.
    assert_eq!(browser.indicator("booking_conversions").await, "1");
    let rate = format!("{}%", (100.0 / sent as f64).round());
    assert_eq!(browser.indicator("conversion_rate").await, rate);
    assert_eq!(browser.indicator("missed_calls").await, total.to_string());
    assert_eq!(browser.indicator("messages_sent").await, sent.to_string());
    assert_eq!(browser.cell(&latest, ".c-booked").await, "Booked");
    assert_ne!(browser.cell(&latest, ".c-clicked").await, "—");
    assert_eq!(browser.count("#chart svg g.day").await, 30);
    let today = browser.see("#chart svg g.day:last-of-type title").await;
    let title = today.prop("textContent").await.expect("title");
    assert!(title.is_some_and(|t| t.ends_with("1 booked")));
    browser.see("#error[hidden]").await;

    // Act: the manager opens the call to see what Camille was sent.
    browser.click(&format!("{} .open", row(&latest))).await;
    // Assert: the template, its parameters, the link, the times, the click.
    let detail = browser.text("dialog#detail[open] .detail-list").await;
    let token: String = app
        .db()
        .query_row(
            "SELECT link_token FROM calls WHERE id = ?1",
            [&latest],
            |r| r.get(0),
        )
        .expect("token");
    for shown in [
        "missed_call_v1",
        "Camille Martin",
        "Chez Test",
        &token,
        &message_id,
    ] {
        assert!(detail.contains(shown), "{shown} not in {detail}");
    }
    assert_eq!(
        browser.text("dialog#detail a[href^='tel:']").await,
        "Call back"
    );
    save_screenshots(&browser, "console-detail").await;
    browser.click("#detail-close").await;

    // Act: Camille asks on the phone for no more messages; the manager stops them from the row.
    browser.accept_confirmations().await;
    browser
        .click(&format!("{} button[data-action=stop]", row(&latest)))
        .await;
    // Assert: stopped by the restaurant, and it can be resumed from the same row.
    browser
        .see(&format!("{} button[data-action=resume]", row(&latest)))
        .await;
    assert_eq!(
        browser.cell(&latest, ".stopped").await,
        "Messages stopped by the restaurant"
    );
    let stopped = report(
        &app,
        json!({"caller_phone_number": CAMILLE, "occurred_at": minutes_from_now(-1)}),
        "SKIPPED_SUPPRESSED",
    )
    .await;
    browser
        .click(&format!("{} button[data-action=resume]", row(&latest)))
        .await;
    browser
        .see(&format!("{} button[data-action=stop]", row(&latest)))
        .await;
    let customer = app.db().query_row(
        "SELECT whatsapp_suppressed FROM customers WHERE phone_e164 = ?1",
        [CAMILLE],
        |r| r.get::<_, bool>(0),
    );
    assert!(!customer.expect("customer"), "messages resumed");
    assert!(!stopped.is_empty());

    save_screenshots(&browser, "console").await;
    browser.client.close().await.expect("the browser quits");
}

/// SPEC §9, Language: a French manager's console is French throughout — the sign-in page by the
/// browser's Accept-Language, the log, the cards, the chart, dates and percentages as French
/// writes them — and the header's switch keeps English for this user whatever the browser says.
#[tokio::test]
async fn a_french_manager_reads_the_console_in_french_and_the_switch_keeps_the_choice() {
    let Some(driver) = ChromeDriver::start() else {
        return;
    };
    // Arrange
    let app = spawn_app_with(|config| {
        config.missed_calls.stale_after_minutes = 30 * 24 * 60;
    })
    .await;
    app.add_console_user("marie", Some(&app.restaurant.id));
    let log = report_three_weeks(&app).await;
    let browser = Browser::open_in(&driver, "fr-FR,fr").await;

    // Act: the sign-in page, before anyone is known.
    browser
        .client
        .goto(&format!("{}/console/", app.address))
        .await
        .expect("open");
    // Assert: it follows the browser's language.
    browser.see("form[action='/console/login']").await;
    assert_eq!(browser.lang().await, "fr");
    assert_eq!(browser.text("label.field span").await, "Identifiant");

    // Act
    browser.sign_in(&app.address, "marie").await;
    browser.settled_page(PAGE_SIZE, None).await;
    browser.indicator("conversion_rate").await;
    browser.see("#chart svg g.day").await;
    // Assert: French, with none of the English words the console has.
    assert_eq!(browser.lang().await, "fr");
    assert_eq!(
        browser.cell(&log.cooldown, ".badge").await,
        "Délai de repos"
    );
    let reason = browser.cell(&log.cooldown, ".reason").await;
    assert!(reason.starts_with("message envoyé à "), "{reason}");
    // French sets the percent sign apart (a narrow no-break space, read as a space here).
    let rate = browser.indicator("conversion_rate").await;
    assert_eq!(rate.replace(['\u{a0}', '\u{202f}'], " "), "0 %");
    let english = browser.english_words_shown().await;
    assert!(
        english.is_empty(),
        "English on the French page: {english:?}"
    );
    let date = browser.cell(&log.cooldown, ".c-date").await;
    let weekdays = ["lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."];
    assert!(weekdays.iter().any(|d| date.starts_with(d)), "{date}");
    save_screenshots(&browser, "console-fr").await;

    // Act: the switch in the header, to English.
    browser.select("#language", "en").await;
    browser.see("html[lang=en] #calls tbody tr").await;
    // Assert: kept on the user, over the browser's French.
    let kept: Option<String> = app
        .db()
        .query_row("SELECT lang FROM users WHERE username = 'marie'", [], |r| {
            r.get(0)
        })
        .expect("user");
    assert_eq!(kept.as_deref(), Some("en"));
    browser.client.refresh().await.expect("reload");
    browser.see("html[lang=en] #calls tbody tr").await;
    assert_eq!(browser.cell(&log.cooldown, ".badge").await, "Cooldown");
    // The check above finds English where there is some.
    let english = browser.english_words_shown().await;
    assert!(english.len() > 10, "{english:?}");
    browser.client.close().await.expect("the browser quits");
}

const COOLDOWN_BOX: &str = "#statuses input[value=SKIPPED_COOLDOWN]";
const CSV_HEADER: &str =
    "occurred_at,caller,customer,status,reason,template,delivery,clicked,booked,call_id";

/// What `report_three_weeks` reported: every call id, and the ones the test looks for.
#[derive(Default)]
struct Log {
    calls: Vec<String>,
    sent: usize,
    cooldown: String,
    hidden: String,
}

/// Regulars with a name; every other caller is a new customer.
const NAMES: [&str; 4] = [
    "Julien Moreau",
    "Sophie Laurent",
    "Léa Fontaine",
    "Hugo Bernard",
];

/// Lunch and dinner services of the last nineteen days, one to five calls a day, each from
/// another French mobile, one of them out of WhatsApp's reach. Then today: a regular with a table
/// tonight, a hidden caller, and a caller who rings twice in a row.
async fn report_three_weeks(app: &TestApp) -> Log {
    const TIMES: [&str; 5] = ["12:14", "12:52", "19:36", "20:11", "21:03"];
    const PER_DAY: [usize; 7] = [3, 1, 4, 2, 3, 5, 2];
    let today = jiff::Timestamp::now()
        .in_tz("Europe/Paris")
        .expect("zone")
        .date();
    let mut log = Log::default();
    for days_ago in (1..=19).rev() {
        let day = today
            .checked_sub(jiff::Span::new().days(days_ago))
            .expect("day");
        for time in &TIMES[..PER_DAY[days_ago as usize % 7]] {
            let n = log.calls.len();
            let caller = format!("+336123456{n:02}");
            if n % 9 == 4 {
                app.add_customer(&caller, Some(NAMES[n / 9 % NAMES.len()]));
            }
            let body =
                json!({"caller_phone_number": caller, "occurred_at": format!("{day}T{time}:00")});
            if n == 40 {
                app.whatsapp.fail_with(400, 131026);
                log.calls.push(report(app, body, "UNDELIVERABLE").await);
                app.whatsapp.set(Behaviour::Accept);
            } else {
                log.calls.push(report(app, body, "SENT").await);
                log.sent += 1;
            }
        }
    }
    let regular = "+33612345697";
    app.add_customer(regular, Some("Antoine Rousseau"));
    app.add_reservation(regular, 5 * 60, "CONFIRMED");
    let earlier_today = [
        (regular, -40, "SENT"),
        ("anonymous", -25, "SKIPPED_HIDDEN_NUMBER"),
    ];
    for (caller, minutes, outcome) in earlier_today {
        let body = json!({"caller_phone_number": caller, "occurred_at": minutes_from_now(minutes)});
        log.calls.push(report(app, body, outcome).await);
    }
    log.sent += 1;
    for outcome in ["SENT", "SKIPPED_COOLDOWN"] {
        let body = json!({"caller_phone_number": IMPATIENT});
        log.calls.push(report(app, body, outcome).await);
    }
    log.sent += 1;
    log.hidden = log.calls[log.calls.len() - 3].clone();
    log.cooldown = log.calls[log.calls.len() - 1].clone();
    log
}

/// Reports a missed call through the partner API, expecting `outcome`; its id.
async fn report(app: &TestApp, body: Value, outcome: &str) -> String {
    let (status, answer) = app.report_json(body).await;
    assert!(status == 200 || status == 201, "{status} {answer}");
    assert_eq!(answer["data"]["outcome"], outcome, "{answer}");
    answer["data"]["id"].as_str().expect("id").to_string()
}

/// The guest taps the booking link of `call_id`'s message, then books through the partner API.
async fn book_after_a_click(app: &TestApp, call_id: &str, phone: &str) {
    let sql = "SELECT link_token FROM calls WHERE id = ?1";
    let token: String = app
        .db()
        .query_row(sql, [call_id], |r| r.get(0))
        .expect("token");
    let guest = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let link = format!("{}/r/{token}", app.address);
    let tap = guest.get(&link).send().await.expect("tap");
    assert_eq!(tap.status().as_u16(), 302);
    let tomorrow = minutes_from_now(24 * 60);
    let booking =
        json!({"customer": {"phone_number": phone}, "start_at": tomorrow, "party_size": 2});
    let token = app.restaurant.token.clone();
    let (status, answer) = app
        .call(Method::POST, "/reservations", &token, Some(booking))
        .await;
    assert_eq!(status, 201, "{answer}");
}

/// `GET` the console's `href` as the signed-in browser: its `rb_session` cookie, nothing else.
async fn download(browser: &Browser, address: &str, href: &str) -> String {
    let session = browser
        .client
        .get_named_cookie("rb_session")
        .await
        .expect("session cookie");
    let response = reqwest::Client::new()
        .get(format!("{address}{href}"))
        .header("cookie", format!("rb_session={}", session.value()))
        .send()
        .await
        .expect("download");
    assert_eq!(response.status().as_u16(), 200, "{href}");
    response.text().await.expect("csv")
}

/// The log's row of `call_id`.
fn row(call_id: &str) -> String {
    format!("#calls tbody tr[data-call-id='{call_id}']")
}

/// The page as it is now, 1280 px wide and then as a phone shows it (390 px): under the build's
/// temporary directory as `NAME.png` and `NAME-phone.png` (the paths are printed), and the
/// English desktop one as `docs/console.png` with `RINGBACK_SCREENSHOT=1`.
async fn save_screenshots(browser: &Browser, name: &str) {
    let kept = Path::new(env!("CARGO_TARGET_TMPDIR")).join("console-screenshots");
    std::fs::create_dir_all(&kept).expect("a directory for the screenshots");
    browser.js::<Value>("window.scrollTo(0, 0)").await;
    let desktop = browser.client.screenshot().await.expect("screenshot");
    let mut targets = vec![(kept.join(format!("{name}.png")), desktop.clone())];
    if std::env::var("RINGBACK_SCREENSHOT").as_deref() == Ok("1") && name == "console" {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
        std::fs::create_dir_all(&docs).expect("docs/");
        targets.push((docs.join("console.png"), desktop));
    }
    browser
        .client
        .set_window_size(390, 1800)
        .await
        .expect("a phone-sized window");
    browser.js::<Value>("window.scrollTo(0, 0)").await;
    let phone = browser.client.screenshot().await.expect("screenshot");
    targets.push((kept.join(format!("{name}-phone.png")), phone));
    for (path, png) in targets {
        std::fs::write(&path, &png).expect("write the screenshot");
        eprintln!("console screenshot: {}", path.display());
    }
    browser
        .client
        .set_window_size(1280, 1600)
        .await
        .expect("a desktop-sized window");
}

/// chromedriver on a port it chose, in a process group of its own with the Chromium it starts:
/// the whole group is killed on drop, whatever happened to the test.
struct ChromeDriver {
    child: Child,
    url: String,
}

impl ChromeDriver {
    fn start() -> Option<ChromeDriver> {
        let missing = [CHROMIUM, CHROMEDRIVER]
            .into_iter()
            .find(|p| !Path::new(p).exists());
        if let Some(missing) = missing {
            eprintln!(
                "skipped: {missing} is not installed (apt-get install chromium chromium-driver)"
            );
            return None;
        }
        use std::os::unix::process::CommandExt;
        let mut child = Command::new(CHROMEDRIVER)
            .arg("--port=0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("chromedriver starts");
        let stdout = child.stdout.take().expect("stdout");
        let (port_tx, port_rx) = std::sync::mpsc::channel();
        // Reads to the end, so that chromedriver never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(port) = line.split("started successfully on port ").nth(1) {
                    let _ = port_tx.send(port.trim_end_matches('.').to_string());
                }
            }
        });
        let port = port_rx
            .recv_timeout(WAIT)
            .expect("chromedriver tells its port");
        Some(ChromeDriver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        })
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let group = nix::unistd::Pid::from_raw(i32::try_from(self.child.id()).expect("pid"));
        let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
        let _ = self.child.wait();
    }
}

/// A headless Chromium with a fresh profile, and the few gestures the test makes in it.
struct Browser {
    client: Client,
    _profile: TempDir,
}

/// Headless, and quiet: no call to Google's services, refused by a machine without internet.
const CHROMIUM_FLAGS: &str = "--headless --no-sandbox --disable-gpu --disable-quic \
    --no-first-run --disable-background-networking --disable-component-update --disable-sync \
    --hide-scrollbars --window-size=1280,1600";

impl Browser {
    async fn open(driver: &ChromeDriver) -> Browser {
        Browser::open_in(driver, "en-US,en").await
    }

    /// A browser whose user reads `languages` (its Accept-Language).
    async fn open_in(driver: &ChromeDriver, languages: &str) -> Browser {
        let profile = tempfile::tempdir().expect("profile dir");
        let mut args: Vec<String> = CHROMIUM_FLAGS
            .split_whitespace()
            .map(String::from)
            .collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        let prefs = json!({"intl.accept_languages": languages});
        let options = json!({"binary": CHROMIUM, "args": args, "prefs": prefs});
        let capabilities = serde_json::Map::from_iter([("goog:chromeOptions".into(), options)]);
        // chromedriver listens on loopback over plain HTTP: no TLS stack is needed to reach it.
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&driver.url)
            .await
            .expect("a Chromium session");
        Browser {
            client,
            _profile: profile,
        }
    }

    /// Types the username and password into the login form and submits it, as a person would.
    async fn sign_in(&self, address: &str, username: &str) {
        let console = format!("{address}/console/");
        self.client.goto(&console).await.expect("open the console");
        self.see("form[action='/console/login']").await;
        self.type_into("input#username", username).await;
        self.type_into("input#password", CONSOLE_PASSWORD).await;
        self.click("form[action='/console/login'] button[type=submit]")
            .await;
        self.see("#calls tbody tr").await;
        let url = self.client.current_url().await.expect("url");
        assert_eq!(url.as_str(), console);
    }

    /// Waits up to `WAIT` for `css`; a timeout fails with what the page showed.
    async fn see(&self, css: &str) -> Element {
        let wait = self.client.wait().at_most(WAIT);
        match wait.for_element(Locator::Css(css)).await {
            Ok(element) => element,
            Err(e) => {
                let banner = "location.href + ' ' + document.querySelector('#error')?.textContent";
                let shown: Value = self.js(&format!("return {banner}")).await;
                panic!("not seen within {WAIT:?}: {css} ({e}); page: {shown}")
            }
        }
    }

    /// The page's `<html lang>`.
    async fn lang(&self) -> String {
        self.js("return document.documentElement.lang").await
    }

    /// `window.confirm` answers yes from now on, as the manager would.
    async fn accept_confirmations(&self) {
        self.js::<Value>("window.confirm = () => true").await;
    }

    /// Chooses `value` in the `<select>` `css`, as a person would.
    async fn select(&self, css: &str, value: &str) {
        let script = format!(
            "const s = document.querySelector('{css}'); s.value = '{value}'; \
             s.dispatchEvent(new Event('change'))"
        );
        self.js::<Value>(&script).await;
    }

    /// The console's English words (every English message without arguments that French says
    /// otherwise, but the language's own name) found as whole words in the visible page or its
    /// chart.
    async fn english_words_shown(&self) -> Vec<String> {
        use ringback::console::language::Lang;
        let (english, french) = (
            Lang::En.words().client_messages(),
            Lang::Fr.words().client_messages(),
        );
        let find = r##"
            const shown = document.body.innerText + " " + [...document.querySelectorAll("#chart svg text, #chart svg title")].map(n => n.textContent).join(" ")
              + " " + document.querySelector("#chart svg").getAttribute("aria-label");
            const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
            return Object.entries(en).filter(([id, text]) => typeof text === "string" && id !== "language-name"
                && text !== fr[id] && text.trim().length > 1
                && new RegExp("(^|[^\\p{L}])" + escape(text.trim()) + "($|[^\\p{L}])", "u").test(shown))
              .map(([id, text]) => id + ": " + text);"##;
        self.js(&format!("const en = {english}, fr = {french};{find}"))
            .await
    }

    async fn js<T: serde::de::DeserializeOwned>(&self, script: &str) -> T {
        let value = self.client.execute(script, vec![]).await.expect("script");
        serde_json::from_value(value).expect("the script's answer")
    }

    async fn click(&self, css: &str) {
        self.see(css).await.click().await.expect("click");
    }

    async fn type_into(&self, css: &str, text: &str) {
        self.see(css).await.send_keys(text).await.expect("type");
    }

    async fn text(&self, css: &str) -> String {
        self.see(css).await.text().await.expect("text")
    }

    /// The text of `css` in the log's row of `call_id`.
    async fn cell(&self, call_id: &str, css: &str) -> String {
        let row = format!("#calls tbody tr[data-call-id='{call_id}']");
        self.text(&format!("{row} {css}")).await
    }

    /// The figure on an indicator card, once the page has written it.
    async fn indicator(&self, key: &str) -> String {
        let value = format!("[data-indicator={key}] .value:not(:empty)");
        self.text(&value).await
    }

    async fn count(&self, css: &str) -> usize {
        let found = self.client.find_all(Locator::Css(css)).await;
        found.expect("find").len()
    }

    /// The rendered text of every element `css` finds.
    async fn texts(&self, css: &str) -> Vec<String> {
        let script =
            format!("return [...document.querySelectorAll('{css}')].map(n => n.innerText)");
        self.js(&script).await
    }

    /// Waits until the log shows exactly `rows` rows, none of them `gone`, and no request is
    /// running; the ids of its rows, top to bottom.
    async fn settled_page(&self, rows: usize, gone: Option<&str>) -> Vec<String> {
        let tbody = match gone {
            Some(id) => format!("tbody:not(:has(tr[data-call-id='{id}']))"),
            None => "tbody".into(),
        };
        let last = format!("tr:nth-child({rows}):last-child");
        self.see(&format!("#calls:not([aria-busy]) {tbody} {last}"))
            .await;
        let ids = "[...document.querySelectorAll('#calls tbody tr')].map(r => r.dataset.callId)";
        self.js(&format!("return {ids}")).await
    }
}
