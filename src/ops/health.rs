//! `GET /healthz` and `GET /readyz` (SPEC §8): for a supervisor or a load balancer. Neither needs
//! a token nor touches the ledger.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::db::{self, DbError};
use crate::state::AppState;

/// How long the writer may take to commit the probe before the box counts as not ready.
const WRITER_DEADLINE: Duration = Duration::from_secs(1);

/// The process is up and serving.
pub async fn get_health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Ready when the database answers a read, its schema is this binary's, and the writer commits
/// a probe within a second; else `503` naming each failing check.
pub async fn get_readiness(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let read = db::read(&state.reads, db::schema_version).await;
    let (database, migrations) = match read {
        Ok(version) if version == db::latest_schema_version() => (Ok(()), Ok(())),
        Ok(version) => (
            Ok(()),
            Err(format!(
                "schema version {version}, this binary needs {}",
                db::latest_schema_version()
            )),
        ),
        Err(e) => (Err(e.to_string()), Err("unknown".to_string())),
    };
    let probe = state.writer.run(|conn| -> Result<(), DbError> {
        conn.prepare_cached("UPDATE readiness_probe SET checked_at = ?1 WHERE id = 1")?
            .execute([crate::time::now_ms()])?;
        Ok(())
    });
    let writer = match tokio::time::timeout(WRITER_DEADLINE, probe).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("the writer did not commit within 1 s".to_string()),
    };
    let checks = [
        ("database", database),
        ("migrations", migrations),
        ("writer", writer),
    ];
    let ready = checks.iter().all(|(_, r)| r.is_ok());
    let detail: serde_json::Map<String, Value> = checks
        .into_iter()
        .map(|(name, r)| {
            let v = match r {
                Ok(()) => json!({"status": "ok"}),
                Err(e) => json!({"status": "failing", "reason": e}),
            };
            (name.to_string(), v)
        })
        .collect();
    let failing: Vec<&String> = detail
        .iter()
        .filter(|(_, v)| v["status"] == "failing")
        .map(|(k, _)| k)
        .collect();
    let body = if ready {
        json!({"status": "ready", "checks": detail})
    } else {
        tracing::warn!(checks = ?failing, "not ready");
        json!({"status": "not_ready", "failing": failing, "checks": detail})
    };
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body))
}

/// The Prometheus text exposition; `404` when `server.metrics = false`.
pub async fn get_metrics(State(state): State<AppState>) -> axum::response::Response {
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
