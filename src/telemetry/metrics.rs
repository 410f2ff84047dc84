//! Prometheus metrics (SPEC §8): one recorder per app, so that two apps in one process (the
//! tests) never mix their counts. Labels hold only closed sets — outcomes, results, route
//! templates, statuses — never a phone number, a token or a restaurant's name.

use std::sync::Arc;
use std::time::Duration;

use metrics::{Key, Label, Level, Metadata, Recorder, Unit};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

use crate::domain::Outcome;

const META: Metadata<'static> = Metadata::new("ringback", Level::INFO, Some("ringback"));

/// Seconds: a send to the Cloud API, an HTTP request.
const SECONDS_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// Jobs in one group commit of the writer.
const BATCH_BUCKETS: [f64; 10] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];

const REPORTS: &str = "ringback_reports_total";
const DISPATCH: &str = "ringback_dispatch_seconds";
const HTTP_REQUESTS: &str = "ringback_http_requests_total";
const HTTP_SECONDS: &str = "ringback_http_request_seconds";
const QUEUE_DEPTH: &str = "ringback_write_queue_depth";
const BATCH_SIZE: &str = "ringback_write_batch_size";
const INFLIGHT: &str = "ringback_whatsapp_inflight";

/// The app's metrics; cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let builder = PrometheusBuilder::new();
        // Both bucket lists are fixed and non-empty, so these never fail; without buckets the
        // exporter would write summaries instead of the histograms SPEC §8 names.
        let builder = builder
            .set_buckets_for_metric(Matcher::Full(BATCH_SIZE.into()), &BATCH_BUCKETS)
            .and_then(|b| b.set_buckets(&SECONDS_BUCKETS))
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        let r = &recorder;
        r.describe_counter(REPORTS.into(), None, "Reports handled, by outcome".into());
        r.describe_histogram(
            DISPATCH.into(),
            Some(Unit::Seconds),
            "Time WhatsApp took to answer a send, by result".into(),
        );
        r.describe_counter(
            HTTP_REQUESTS.into(),
            None,
            "HTTP requests, by route template and status".into(),
        );
        r.describe_histogram(
            HTTP_SECONDS.into(),
            Some(Unit::Seconds),
            "Time to answer an HTTP request, by route template".into(),
        );
        r.describe_gauge(
            QUEUE_DEPTH.into(),
            None,
            "Writes waiting for the database writer".into(),
        );
        r.describe_histogram(
            BATCH_SIZE.into(),
            None,
            "Jobs committed together by the writer".into(),
        );
        r.describe_gauge(
            INFLIGHT.into(),
            None,
            "Sends waiting on WhatsApp right now".into(),
        );
        Metrics {
            inner: Arc::new(Inner { recorder, handle }),
        }
    }

    fn recorder(&self) -> &PrometheusRecorder {
        &self.inner.recorder
    }

    /// One report reached its outcome (a replay counts as `SKIPPED_DUPLICATE`).
    pub fn report(&self, outcome: Outcome) {
        let key = Key::from_parts(REPORTS, vec![Label::new("outcome", outcome.as_str())]);
        self.recorder().register_counter(&key, &META).increment(1);
    }

    /// One send ended with `result` (`sent`, `undeliverable`, `failed`) after `took`.
    pub fn dispatch(&self, result: &'static str, took: Duration) {
        let key = Key::from_parts(DISPATCH, vec![Label::new("result", result)]);
        self.recorder()
            .register_histogram(&key, &META)
            .record(took.as_secs_f64());
    }

    /// A send started (`+1`) or ended (`-1`).
    pub fn whatsapp_inflight(&self, delta: f64) {
        let gauge = self
            .recorder()
            .register_gauge(&Key::from_name(INFLIGHT), &META);
        if delta >= 0.0 {
            gauge.increment(delta);
        } else {
            gauge.decrement(-delta);
        }
    }

    /// One HTTP request answered; `route` is the route template (`/api/partner/v1/missed-calls/{id}`)
    /// or `unmatched`, never the raw path.
    pub fn http(&self, route: &str, status: u16, took: Duration) {
        let labels = vec![
            Label::new("route", route.to_string()),
            Label::new("status", status.to_string()),
        ];
        let key = Key::from_parts(HTTP_REQUESTS, labels);
        self.recorder().register_counter(&key, &META).increment(1);
        let key = Key::from_parts(HTTP_SECONDS, vec![Label::new("route", route.to_string())]);
        self.recorder()
            .register_histogram(&key, &META)
            .record(took.as_secs_f64());
    }

    /// The writer committed (or rolled back) a batch of `jobs`.
    pub fn write_batch(&self, jobs: usize) {
        self.recorder()
            .register_histogram(&Key::from_name(BATCH_SIZE), &META)
            .record(jobs as f64);
    }

    /// The text exposition, with the write queue's depth read now.
    pub fn render(&self, write_queue_depth: usize) -> String {
        self.recorder()
            .register_gauge(&Key::from_name(QUEUE_DEPTH), &META)
            .set(write_queue_depth as f64);
        self.inner.handle.run_upkeep();
        self.inner.handle.render()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_has_histograms_with_buckets_not_summaries() {
        let metrics = Metrics::new();
        metrics.write_batch(3);
        metrics.dispatch("sent", Duration::from_millis(20));
        let text = metrics.render(0);
        assert!(
            text.contains("ringback_write_batch_size_bucket{le=\"4\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("ringback_dispatch_seconds_bucket{result=\"sent\",le=\"0.025\"} 1"),
            "{text}"
        );
    }
}
