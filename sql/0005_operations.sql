-- One row that GET /readyz rewrites through the single writer: a probe that writes proves the
-- database can still commit (a full disk refuses it), without touching the ledger.
CREATE TABLE readiness_probe (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    checked_at INTEGER NOT NULL
);
INSERT INTO readiness_probe (id, checked_at) VALUES (1, 0);

