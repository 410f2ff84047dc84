//! Step 8 of SPEC §1: the send, outside any transaction, and the short job that stores how it
//! ended — retried until it commits, so that no row stays DISPATCHING while the process lives.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::ledger::record_result;
use super::{Claim, Pipeline, PipelineError};
use crate::db::calls::CallRow;
use crate::db::{DbError, Writer};
use crate::missed_call::retry::RetryRule;
use crate::time::now_ms;
use crate::whatsapp::DispatchResult;

/// Back-off between attempts to store a send's result while the database cannot commit.
const RECORD_RETRY_FIRST: Duration = Duration::from_millis(100);
const RECORD_RETRY_MAX: Duration = Duration::from_secs(5);

impl Pipeline {
    /// Step 8: the send, outside any transaction. A claim that cannot get a dispatch thread
    /// within `whatsapp.timeout_ms` ends `FAILED busy` instead of piling up behind a slow API.
    pub(super) async fn send(&self, claim: &Claim) -> DispatchResult {
        let started = Instant::now();
        self.metrics.whatsapp_inflight(1.0);
        let result = self.dispatch(claim).await;
        self.metrics.whatsapp_inflight(-1.0);
        self.metrics.dispatch(result.kind(), started.elapsed());
        result
    }

    async fn dispatch(&self, claim: &Claim) -> DispatchResult {
        if !self.transport.blocks() {
            return self.transport.send(&claim.message());
        }
        let slot = tokio::time::timeout(self.slot_wait, self.dispatch_slots.acquire()).await;
        let _slot = match slot {
            Ok(Ok(slot)) => slot,
            Ok(Err(_)) => return failed("transport", "the dispatch threads are shut down"),
            Err(_) => {
                return failed(
                    "busy",
                    "every dispatch thread stayed busy for whatsapp.timeout_ms",
                );
            }
        };
        let transport = Arc::clone(&self.transport);
        let message = claim.message();
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            transport.send(&message)
        })
        .await
        .unwrap_or_else(|e| failed("transport", &format!("the dispatch thread failed: {e}")))
    }

    /// Stores how the send ended. When the database cannot commit, the caller hears so at once
    /// and the result is stored in the background, with back-off, for as long as the process
    /// lives: the row never stays DISPATCHING behind a send that ended.
    pub(super) async fn record(
        &self,
        row: CallRow,
        result: DispatchResult,
    ) -> Result<CallRow, PipelineError> {
        let rule = self.retry_rule();
        let attempt = {
            let (row, result) = (row.clone(), result.clone());
            self.writer
                .run_always(move |conn| record_result(conn, &row, &result, now_ms(), rule))
                .await
        };
        let source = match attempt {
            Ok(call) => return Ok(call),
            Err(gone @ PipelineError::CallGone { .. }) => {
                tracing::warn!(
                    call.id = %row.id, result = result.kind(),
                    "the call was deleted while it was being sent; its result is not stored"
                );
                return Err(gone);
            }
            Err(PipelineError::Db(DbError::WriterGone)) => DbError::WriterGone,
            Err(PipelineError::Db(e)) => e,
            Err(e) => DbError::Task(e.to_string()),
        };
        if matches!(source, DbError::WriterGone) {
            // The process is stopping; start-up recovery will find the row.
            return Err(source.into());
        }
        tracing::warn!(
            call.id = %row.id, db.error = %source,
            "the result of a send could not be stored; retrying until it is"
        );
        let call_id = row.id.clone();
        let writer = self.writer.clone();
        self.in_flight
            .spawn(async move { store_until_committed(writer, row, result, rule).await });
        Err(PipelineError::ResultNotRecorded { call_id, source })
    }
}

async fn store_until_committed(
    writer: Writer,
    row: CallRow,
    result: DispatchResult,
    rule: RetryRule,
) {
    let mut pause = RECORD_RETRY_FIRST;
    loop {
        tokio::time::sleep(pause).await;
        let (r, res) = (row.clone(), result.clone());
        // Every error but a stopped writer is retried: a row must not stay DISPATCHING
        // while the process lives.
        match writer
            .run_always(move |conn| record_result(conn, &r, &res, now_ms(), rule))
            .await
        {
            Ok(call) => {
                tracing::info!(call.id = %call.id, outcome = %call.outcome, "the result of a send is stored");
                return;
            }
            Err(PipelineError::Db(DbError::WriterGone)) => return,
            Err(PipelineError::CallGone { call_id }) => {
                tracing::warn!(call.id = %call_id, "the call was deleted before its result could be stored");
                return;
            }
            Err(_) => pause = (pause * 2).min(RECORD_RETRY_MAX),
        }
    }
}

fn failed(code: &str, message: &str) -> DispatchResult {
    DispatchResult::Failed {
        code: code.into(),
        message: message.into(),
    }
}
