//! Reservation pages at a million reservations: one restaurant's book walked from its first page
//! to its last by cursor, then its first and its last page each asked for again and again. Keyset
//! paging on an index serves both at the same speed; sorting per page would not.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::drive::{Stats, closed_loop_get};
use crate::seed;
use crate::server::{ServerProcess, config};

/// Reservations per page: the API's largest.
const LIMIT: usize = 200;
const CLIENTS: usize = 4;

pub struct ListingResult {
    pub first_per_second: f64,
    pub last_per_second: f64,
    pub peak_rss_kb: u64,
}

/// GETs of one restaurant's reservation list.
#[derive(Clone)]
struct Pages {
    client: reqwest::Client,
    url: String,
    token: String,
}

impl Pages {
    fn url(&self, cursor: Option<&str>) -> String {
        match cursor {
            Some(c) => format!("{}?limit={LIMIT}&cursor={c}", self.url),
            None => format!("{}?limit={LIMIT}", self.url),
        }
    }

    async fn get(&self, url: &str) -> Option<reqwest::Response> {
        let response = self
            .client
            .get(url)
            .bearer_auth(&self.token)
            .send()
            .await
            .ok()?;
        response.status().is_success().then_some(response)
    }

    /// Follows the cursors from the first page to the last: the number of pages, of
    /// reservations, and the cursor that asks for the last page.
    async fn walk(&self) -> (usize, usize, Option<String>) {
        let (mut pages, mut rows) = (0, 0);
        let mut cursor: Option<String> = None;
        loop {
            let response = self
                .get(&self.url(cursor.as_deref()))
                .await
                .expect("a page");
            let body: Value = response.json().await.expect("json");
            pages += 1;
            rows += body["data"].as_array().map_or(0, Vec::len);
            match body["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_string()),
                None => return (pages, rows, cursor),
            }
        }
    }

    /// `CLIENTS` clients asking for the same page as fast as answers come back.
    async fn closed_loop(&self, cursor: Option<&str>, duration: Duration) -> Stats {
        let token = ("authorization", format!("Bearer {}", self.token));
        closed_loop_get(&self.client, &self.url(cursor), token, CLIENTS, duration).await
    }
}

/// Seeds `rows` reservations, a fifth of them at the restaurant that is paged (a multiple of
/// the page size, so that its last page is as full as its first), and measures.
pub async fn run(label: &str, rows: usize, duration: Duration) -> ListingResult {
    let dir = tempfile::tempdir_in(std::env::temp_dir()).expect("tempdir");
    let db = dir.path().join("ringback.db");
    let restaurant = seed::restaurant(&db, "Bench", true);
    let own = rows / 5 / LIMIT * LIMIT;
    let started = Instant::now();
    seed::prefill_reservations(&db, &restaurant.id, own, rows, 200, 7);
    println!(
        "\n[listing] {label} reservations pre-filled in {:.1} s: {own} at one restaurant, the \
         rest over 200",
        started.elapsed().as_secs_f64()
    );
    let server = ServerProcess::start(dir.path(), &config(&db, "sandbox", "http://127.0.0.1:9"));
    let result = measure(&server, &restaurant.token, own, duration).await;
    server.stop();
    result
}

async fn measure(
    server: &ServerProcess,
    token: &str,
    own: usize,
    duration: Duration,
) -> ListingResult {
    let pages = Pages {
        client: reqwest::Client::builder()
            .pool_max_idle_per_host(CLIENTS * 2)
            .build()
            .expect("client"),
        url: format!("{}/api/partner/v1/reservations", server.base),
        token: token.to_string(),
    };
    let walked = Instant::now();
    let (count, rows, last) = pages.walk().await;
    let walk = walked.elapsed().as_secs_f64();
    assert_eq!(rows, own, "the walk saw every reservation once");
    println!(
        "      walk by cursor, first page to last: {count} pages of {LIMIT} in {walk:.1} s, \
         {:.0} pages/s",
        count as f64 / walk
    );
    let last = last.expect("more than one page");
    pages.closed_loop(None, Duration::from_secs(1)).await; // warm-up
    let first = pages.closed_loop(None, duration).await;
    let deep = pages.closed_loop(Some(&last), duration).await;
    println!(
        "      first page, {CLIENTS} clients: {}",
        first.summary_in("pages")
    );
    println!(
        "      last page,  {CLIENTS} clients: {}",
        deep.summary_in("pages")
    );
    println!(
        "      ratio first / last: {:.2}",
        first.per_second() / deep.per_second()
    );
    ListingResult {
        first_per_second: first.per_second(),
        last_per_second: deep.per_second(),
        peak_rss_kb: server.peak_rss_kb(),
    }
}
