//! Step 8 of SPEC §1: the send, outside any transaction, and the short job that stores how it
//! ended — retried until it commits while storage is unavailable, stored as its outcome alone
//! when the job itself cannot succeed, or else the process stops for start-up recovery: no row
//! stays DISPATCHING while the process lives (SPEC §6.4).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::ledger::{record_outcome_only, record_result};
use super::{Claim, Fatal, Pipeline, PipelineError};
use crate::db::calls::CallRow;
use crate::db::{DbError, StorageFault, Writer};
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

    /// A panic here (a bug) ends the send like any failure, so that its row is recorded: before
    /// the request could leave it is `Failed`, after it `Unconfirmed`.
    async fn dispatch(&self, claim: &Claim) -> DispatchResult {
        let Ok(message) = catch_unwind(AssertUnwindSafe(|| claim.message())) else {
            return failed("transport", "the message could not be built");
        };
        if !self.transport.blocks() {
            let transport = &self.transport;
            return catch_unwind(AssertUnwindSafe(|| transport.send(&message)))
                .unwrap_or_else(|_| unconfirmed("the send failed unexpectedly"));
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
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            transport.send(&message)
        })
        .await
        .unwrap_or_else(|e| unconfirmed(&format!("the dispatch thread failed: {e}")))
    }

    /// Stores how the send ended. When the database cannot commit (a full disk, another
    /// connection holding the lock), the caller hears so at once and the result is stored in the
    /// background, with back-off, for as long as the process lives. A result whose job fails for
    /// another reason (a bug, a row changed past what the job expects) is stored as its outcome
    /// alone; if even that fails for a reason other than storage, the process stops so that
    /// start-up recovery settles the row. Either way the row never stays DISPATCHING behind a
    /// send that ended.
    pub(super) async fn record(
        &self,
        row: CallRow,
        result: DispatchResult,
    ) -> Result<CallRow, PipelineError> {
        let rule = self.retry_rule();
        let source = match store(&self.writer, &row, &result, rule).await {
            Ok(call) => return Ok(call),
            Err(Unstored::Gone(e)) => return Err(e),
            Err(Unstored::Storage(source)) => source,
            Err(Unstored::Broken(reason)) => {
                match settle_unstorable(&self.writer, &self.fatal, &row, &result, &reason).await {
                    Settled::Stored(call) => return Ok(*call),
                    Settled::Later(source) => source,
                    Settled::Never => {
                        return Err(PipelineError::ResultNotRecorded {
                            call_id: row.id.clone(),
                            source: DbError::Task(reason),
                        });
                    }
                }
            }
        };
        tracing::warn!(
            call.id = %row.id, db.error = %source,
            "the result of a send could not be stored; retrying until it is"
        );
        let call_id = row.id.clone();
        let (writer, fatal) = (self.writer.clone(), self.fatal.clone());
        self.in_flight.spawn(async move {
            store_until_committed(writer, fatal, row, result, rule).await;
        });
        Err(PipelineError::ResultNotRecorded { call_id, source })
    }
}

/// Why a result was not stored.
enum Unstored {
    /// Nothing left to store it on, or nobody to store it: the row was deleted, or the writer
    /// stopped (start-up recovery finds the row).
    Gone(PipelineError),
    /// The database cannot commit now (a full disk, another connection's lock); it may later.
    Storage(DbError),
    /// Anything else: trying the same job again would fail the same way.
    Broken(String),
}

/// Whether a database error passes with time.
fn passes(e: &DbError) -> bool {
    e.is_storage_fault() || matches!(e, DbError::Busy)
}

async fn store(
    writer: &Writer,
    row: &CallRow,
    result: &DispatchResult,
    rule: RetryRule,
) -> Result<CallRow, Unstored> {
    let (r, res) = (row.clone(), result.clone());
    let stored = writer
        .run_always(move |conn| record_result(conn, &r, &res, now_ms(), rule))
        .await;
    stored.map_err(|e| match e {
        gone @ (PipelineError::CallGone { .. } | PipelineError::Db(DbError::WriterGone)) => {
            if let PipelineError::CallGone { call_id } = &gone {
                tracing::warn!(
                    call.id = %call_id,
                    "the call was deleted while it was being sent; its result is not stored"
                );
            }
            Unstored::Gone(gone)
        }
        PipelineError::Db(e) if passes(&e) => Unstored::Storage(e),
        e if e.is_storage_fault() => Unstored::Storage(DbError::Storage(e.to_string())),
        e => Unstored::Broken(e.to_string()),
    })
}

/// What became of a result stored as its outcome alone.
enum Settled {
    Stored(Box<CallRow>),
    /// The database cannot commit now: tried again later.
    Later(DbError),
    /// It cannot be stored in any way: the process is stopping.
    Never,
}

/// A result whose job fails for a reason other than storage: its outcome alone, or else the
/// process stops for start-up recovery.
async fn settle_unstorable(
    writer: &Writer,
    fatal: &Fatal,
    row: &CallRow,
    result: &DispatchResult,
    reason: &str,
) -> Settled {
    let (r, res) = (row.clone(), result.clone());
    let settled = writer
        .run_always(move |conn| record_outcome_only(conn, &r, &res, now_ms()))
        .await;
    match settled {
        Ok(call) => {
            tracing::error!(
                call.id = %call.id, outcome = %call.outcome, error.detail = %reason,
                "the result of a send could not be stored whole: its outcome is stored alone \
                 (no suppression, retry or delivery state)"
            );
            Settled::Stored(Box::new(call))
        }
        Err(PipelineError::Db(e)) if passes(&e) => Settled::Later(e),
        Err(e) => {
            fatal.stop(format!(
                "the result of call {} cannot be stored ({reason}; then {e}): stopping so that \
                 start-up recovery settles it",
                row.id
            ));
            Settled::Never
        }
    }
}

async fn store_until_committed(
    writer: Writer,
    fatal: Fatal,
    row: CallRow,
    result: DispatchResult,
    rule: RetryRule,
) {
    let mut pause = RECORD_RETRY_FIRST;
    loop {
        tokio::time::sleep(pause).await;
        let again = match store(&writer, &row, &result, rule).await {
            Ok(call) => {
                tracing::info!(call.id = %call.id, outcome = %call.outcome, "the result of a send is stored");
                return;
            }
            Err(Unstored::Gone(_)) => return,
            // Storage unavailable: retried for as long as the process lives.
            Err(Unstored::Storage(_)) => true,
            Err(Unstored::Broken(reason)) => matches!(
                settle_unstorable(&writer, &fatal, &row, &result, &reason).await,
                Settled::Later(_)
            ),
        };
        if !again {
            return;
        }
        pause = (pause * 2).min(RECORD_RETRY_MAX);
    }
}

fn failed(code: &str, message: &str) -> DispatchResult {
    DispatchResult::Failed {
        code: code.into(),
        message: message.into(),
    }
}

/// A send that ended without an answer, its request possibly gone.
fn unconfirmed(message: &str) -> DispatchResult {
    DispatchResult::Unconfirmed {
        code: crate::whatsapp::TRANSPORT_CODE.into(),
        message: message.into(),
    }
}
