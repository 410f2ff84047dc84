//! Background tasks of a running server that are not the pipeline's own. Each one is started
//! with the app and supervised by it: a task that dies stops the process with a clear log line
//! (the WAL checkpointer, a thread of its own, lives with the writer in `db`).

pub mod retention;
pub mod timers;
pub mod token_use;
