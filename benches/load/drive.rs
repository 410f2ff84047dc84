//! Load generation over real HTTP on loopback, and latency statistics.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

/// Latencies of the reports that got a 2xx, and a count of the others.
#[derive(Default)]
pub struct Stats {
    pub latencies: Vec<Duration>,
    pub errors: usize,
    pub elapsed: Duration,
}

impl Stats {
    /// Every client's figures as one, over the time since `started`.
    pub async fn gather(tasks: Vec<tokio::task::JoinHandle<Stats>>, started: Instant) -> Stats {
        let mut total = Stats::default();
        for task in tasks {
            total.absorb(task.await.expect("client"));
        }
        total.elapsed = started.elapsed();
        total
    }

    /// Adds another client's latencies and errors to these.
    pub fn absorb(&mut self, other: Stats) {
        self.latencies.extend(other.latencies);
        self.errors += other.errors;
    }

    pub fn per_second(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }

    /// The `p`-th percentile (0–100), in milliseconds.
    pub fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let mut sorted = self.latencies.clone();
        sorted.sort();
        let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
        sorted[rank.min(sorted.len() - 1)].as_secs_f64() * 1000.0
    }

    pub fn summary(&self) -> String {
        self.summary_in("reports")
    }

    /// The summary, counting `unit` (reports, pages) per second.
    pub fn summary_in(&self, unit: &str) -> String {
        format!(
            "{:>8.0} {unit}/s  p50 {:>6.2} ms  p95 {:>6.2} ms  p99 {:>6.2} ms  ({} ok, {} errors)",
            self.per_second(),
            self.percentile_ms(50.0),
            self.percentile_ms(95.0),
            self.percentile_ms(99.0),
            self.latencies.len(),
            self.errors
        )
    }
}

/// Where to post, as whom, and which callers to use (each used once).
#[derive(Clone)]
pub struct Target {
    pub client: reqwest::Client,
    pub url: String,
    /// `host:port` of the server, for the closed loop's own connections.
    pub address: String,
    pub token: String,
    pub callers: Arc<Vec<String>>,
    pub next: Arc<AtomicUsize>,
}

impl Target {
    pub fn new(base: &str, token: &str, callers: Vec<String>) -> Target {
        Target {
            client: reqwest::Client::builder()
                .pool_max_idle_per_host(256)
                .build()
                .expect("client"),
            url: format!("{base}/api/partner/v1/missed-calls"),
            address: base.trim_start_matches("http://").to_string(),
            token: token.to_string(),
            callers: Arc::new(callers),
            next: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// The next unused caller's report, as JSON.
    fn next_report(&self) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let caller = &self.callers[n % self.callers.len()];
        json!({"caller_phone_number": caller, "external_call_id": format!("bench-{n}")}).to_string()
    }

    /// Posts one report with the next unused caller; returns its latency when it got a 2xx.
    async fn post_one(&self) -> Option<Duration> {
        let body = self.next_report();
        let started = Instant::now();
        let response = self
            .client
            .post(&self.url)
            .bearer_auth(&self.token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .ok()?;
        let ok = response.status().is_success();
        let _ = response.bytes().await;
        ok.then(|| started.elapsed())
    }
}

/// `clients` clients each posting as fast as answers come back, for `duration`.
pub async fn closed_loop(target: &Target, clients: usize, duration: Duration) -> Stats {
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let target = target.clone();
            tokio::spawn(async move {
                let mut stats = Stats::default();
                let mut connection = None;
                while Instant::now() < deadline {
                    match Lean::post(&mut connection, &target).await {
                        Some(latency) => stats.latencies.push(latency),
                        None => stats.errors += 1,
                    }
                }
                stats
            })
        })
        .collect();
    Stats::gather(tasks, started).await
}

/// One keep-alive HTTP/1.1 connection posting reports: each request written whole from one
/// buffer, the answer read into a reused one until its body is complete. A general client
/// (connection pool, header maps, a future per request) cost the cores the server shares about
/// twice as much per report, which the server's figures then paid for.
struct Lean {
    stream: tokio::net::TcpStream,
    answer: Vec<u8>,
}

/// What one exchange found: the answer's status, and whether the connection may carry another.
struct Answer {
    status: u16,
    reusable: bool,
}

impl Lean {
    /// Posts the next report on `connection`, opening it first when there is none (or the last
    /// answer closed it); the latency of a 2xx answer, from the request's first byte written
    /// (as wrk measures: a connect is not a report's latency).
    async fn post(connection: &mut Option<Lean>, target: &Target) -> Option<Duration> {
        if connection.is_none() {
            let stream = tokio::net::TcpStream::connect(&target.address).await.ok()?;
            stream.set_nodelay(true).ok()?;
            *connection = Some(Lean {
                stream,
                answer: Vec::with_capacity(4096),
            });
        }
        let lean = connection.as_mut()?;
        let body = target.next_report();
        let request = format!(
            "POST /api/partner/v1/missed-calls HTTP/1.1\r\nhost: {}\r\n\
             authorization: Bearer {}\r\ncontent-type: application/json\r\n\
             content-length: {}\r\n\r\n{body}",
            target.address,
            target.token,
            body.len()
        );
        let started = Instant::now();
        let answer = lean.exchange(request.as_bytes()).await;
        if !answer.as_ref().is_some_and(|a| a.reusable) {
            *connection = None;
        }
        answer.filter(|a| (200..300).contains(&a.status))?;
        Some(started.elapsed())
    }

    /// Writes `request` and reads its answer whole. `None` for an answer this client cannot
    /// frame (no `Content-Length`, more bytes than one answer, a closed connection): counted as
    /// an error, never as a report answered.
    async fn exchange(&mut self, request: &[u8]) -> Option<Answer> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        self.stream.write_all(request).await.ok()?;
        self.answer.clear();
        loop {
            if self.stream.read_buf(&mut self.answer).await.ok()? == 0 {
                return None;
            }
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut response = httparse::Response::new(&mut headers);
            let httparse::Status::Complete(head) = response.parse(&self.answer).ok()? else {
                continue;
            };
            let header = |name: &str| {
                response
                    .headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case(name))
                    .and_then(|h| std::str::from_utf8(h.value).ok())
            };
            let length: usize = header("content-length")?.parse().ok()?;
            let reusable = !header("connection").is_some_and(|c| c.eq_ignore_ascii_case("close"));
            let whole = head + length;
            if self.answer.len() > whole {
                return None;
            }
            if self.answer.len() == whole {
                return Some(Answer {
                    status: response.code?,
                    reusable,
                });
            }
            self.answer.reserve(whole - self.answer.len());
        }
    }
}

/// A steady `rate` of reports per second for `duration`, whatever the answers' pace (open loop).
pub async fn open_loop(target: &Target, rate: f64, duration: Duration) -> Stats {
    open_loop_until(target, rate, tokio::time::sleep(duration)).await
}

/// The same open loop, until `stop` completes (while another load runs); the figures then cover
/// the time from the first report to the last answer.
pub async fn open_loop_until(target: &Target, rate: f64, stop: impl Future<Output = ()>) -> Stats {
    let started = Instant::now();
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut tasks = Vec::new();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            biased;
            () = &mut stop => break,
            _ = ticker.tick() => {
                let target = target.clone();
                tasks.push(tokio::spawn(async move { target.post_one().await }));
            }
        }
    }
    let mut total = Stats::default();
    for task in tasks {
        match task.await.expect("request") {
            Some(latency) => total.latencies.push(latency),
            None => total.errors += 1,
        }
    }
    total.elapsed = started.elapsed();
    total
}

/// `clients` clients GETting `url` with one header (a token, a session cookie) as fast as
/// answers come back, reading each body whole.
pub async fn closed_loop_get(
    client: &reqwest::Client,
    url: &str,
    header: (&'static str, String),
    clients: usize,
    duration: Duration,
) -> Stats {
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (client, url, header) = (client.clone(), url.to_string(), header.clone());
            tokio::spawn(async move {
                let mut stats = Stats::default();
                while Instant::now() < deadline {
                    let asked = Instant::now();
                    let ok = match client.get(&url).header(header.0, &header.1).send().await {
                        Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
                        _ => false,
                    };
                    if ok {
                        stats.latencies.push(asked.elapsed());
                    } else {
                        stats.errors += 1;
                    }
                }
                stats
            })
        })
        .collect();
    Stats::gather(tasks, started).await
}
