-- One row that GET /readyz rewrites through the single writer: a probe that writes proves the
-- database can still commit (a full disk refuses it), without touching the ledger.
CREATE TABLE readiness_probe (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    checked_at INTEGER NOT NULL
);
INSERT INTO readiness_probe (id, checked_at) VALUES (1, 0);

-- Retention (missed_calls.retention_days) deletes the oldest ledger rows a small batch at a time;
-- this index lets each batch find them without reading the whole ledger.
CREATE INDEX calls_occurred_at ON calls (occurred_at);
