//! `GET /healthz` and `GET /readyz` (SPEC §8): for a supervisor or a load balancer. Neither needs
//! a token nor touches the ledger.

use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};
use tokio::time::error::Elapsed;

use crate::db::{self, DbError};
use crate::state::RoomState;
use crate::time::now_ms;

/// How long each check may take before the box counts as not ready.
const DEADLINE: Duration = Duration::from_secs(1);

/// A write refused by the disk this recently still makes the box not ready.
const RECENT_FAULT_MS: i64 = 5_000;

/// A readiness answer is reused for this long: a flood of `/readyz`, which needs no token, costs
/// one probe a second, and never crowds reports out of the writer's queue.
const REUSE_FOR: Duration = Duration::from_secs(1);

/// What the operations handlers reach: the app's shared handles and the last readiness answer.
pub type OpsApp = RoomState<Readiness>;

/// The last readiness answer, shared by every request; one probe runs at a time.
#[derive(Default)]
pub struct Readiness {
    last: tokio::sync::Mutex<Option<(Instant, StatusCode, Value)>>,
}

/// The process is up and serving.
pub async fn get_health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Ready when the database answers a read, its schema is this binary's, and the writer commits
/// a probe within a second; else `503` naming each failing check.
pub async fn get_readiness(State(state): State<OpsApp>) -> (StatusCode, Json<Value>) {
    // A task of its own: a client that hangs up mid-probe neither cancels the probe nor leaves
    // the next request to start another.
    let answer = tokio::spawn(answer(state)).await;
    answer.unwrap_or_else(|e| {
        let body = json!({"status": "not_ready", "failing": ["probe"], "reason": e.to_string()});
        (StatusCode::SERVICE_UNAVAILABLE, Json(body))
    })
}

/// The cached answer when it is fresh, else a new probe's, which the next second reuses.
async fn answer(state: OpsApp) -> (StatusCode, Json<Value>) {
    let mut last = state.room.last.lock().await;
    if let Some((at, status, body)) = last.as_ref()
        && at.elapsed() < REUSE_FOR
    {
        return (*status, Json(body.clone()));
    }
    let (status, body) = probe(&state).await;
    *last = Some((Instant::now(), status, body.clone()));
    (status, Json(body))
}

async fn probe(state: &OpsApp) -> (StatusCode, Value) {
    let read = tokio::time::timeout(DEADLINE, db::read(&state.reads, db::schema_version));
    let write = state
        .writer
        .run(|conn| -> Result<(), DbError> { Ok(db::touch_readiness_probe(conn, now_ms())?) });
    // Both at once: an answer within about a second, whichever check is the slow one.
    let (read, write) = tokio::join!(read, tokio::time::timeout(DEADLINE, write));
    let (database, migrations) = read_checks(read);
    let writer = writer_check(state, write);
    answer_from([
        ("database", database),
        ("migrations", migrations),
        ("writer", writer),
    ])
}

/// A check's outcome: `Err` says why it fails.
type Check = Result<(), String>;

/// The `database` and `migrations` checks, from the read of the schema version.
fn read_checks(read: Result<Result<i64, DbError>, Elapsed>) -> (Check, Check) {
    match read {
        Ok(Ok(version)) if version == db::latest_schema_version() => (Ok(()), Ok(())),
        Ok(Ok(version)) => (
            Ok(()),
            Err(format!(
                "schema version {version}, this binary needs {}",
                db::latest_schema_version()
            )),
        ),
        Ok(Err(e)) => (Err(e.to_string()), Err("unknown".to_string())),
        Err(_) => (
            Err("no read within 1 s".to_string()),
            Err("unknown".to_string()),
        ),
    }
}

/// The `writer` check, from the probe's commit and the writer's last storage fault.
fn writer_check(state: &OpsApp, write: Result<Result<(), DbError>, Elapsed>) -> Check {
    let fault_ms = state
        .writer
        .stats()
        .last_storage_fault_ms
        .load(std::sync::atomic::Ordering::SeqCst);
    let since_fault = now_ms() - fault_ms;
    match write {
        // A clock stepped backwards makes `since_fault` negative: not counted as recent.
        Ok(Ok(())) if fault_ms > 0 && (0..RECENT_FAULT_MS).contains(&since_fault) => Err(format!(
            "a write could not be stored {since_fault} ms ago (disk full or I/O error)"
        )),
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("the writer did not commit within 1 s".to_string()),
    }
}

/// `200` when every check passes, else `503` naming the failing ones; each check's detail.
fn answer_from(checks: [(&str, Check); 3]) -> (StatusCode, Value) {
    let ready = checks.iter().all(|(_, r)| r.is_ok());
    let failing: Vec<&str> = checks
        .iter()
        .filter(|(_, r)| r.is_err())
        .map(|(name, _)| *name)
        .collect();
    let detail: serde_json::Map<String, Value> = checks
        .iter()
        .map(|(name, r)| {
            let v = match r {
                Ok(()) => json!({"status": "ok"}),
                Err(e) => json!({"status": "failing", "reason": e}),
            };
            (name.to_string(), v)
        })
        .collect();
    if ready {
        (StatusCode::OK, json!({"status": "ready", "checks": detail}))
    } else {
        tracing::warn!(checks = ?failing, "not ready");
        (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"status": "not_ready", "failing": failing, "checks": detail}),
        )
    }
}

/// The Prometheus text exposition; `404` when `server.metrics = false`.
pub async fn get_metrics(State(state): State<OpsApp>) -> axum::response::Response {
    use axum::response::IntoResponse;
    if !state.config.server.metrics {
        return crate::error::ApiError::NotFound("no such route".into()).into_response();
    }
    let depth = state
        .writer
        .stats()
        .pending
        .load(std::sync::atomic::Ordering::Relaxed);
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(depth),
    )
        .into_response()
}
