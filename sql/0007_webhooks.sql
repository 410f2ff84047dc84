-- Telnyx detection and WhatsApp webhooks: the number a restaurant's calls arrive on, the events
-- Telnyx sent (kept so that each is folded once, in any order), the statuses WhatsApp sent,
-- why a customer is suppressed, and where each call came from and how its message fared.

-- The Telnyx number (E.164) whose incoming calls are this restaurant's.
ALTER TABLE restaurants ADD COLUMN telnyx_number TEXT;
CREATE UNIQUE INDEX restaurants_telnyx_number ON restaurants (telnyx_number)
    WHERE telnyx_number IS NOT NULL;
-- A WhatsApp webhook names its restaurant by phone number id.
CREATE INDEX restaurants_wa_phone_number_id ON restaurants (wa_phone_number_id)
    WHERE wa_phone_number_id IS NOT NULL;

-- 'operator', '131050' or 'reply'; NULL while the customer is not suppressed.
ALTER TABLE customers ADD COLUMN suppression_reason TEXT;
-- Suppressions made before reasons were kept: 131050 where a refusal says so, else the operator.
UPDATE customers SET suppression_reason = CASE
        WHEN id IN (SELECT customer_id FROM calls WHERE error_code = '131050')
        THEN '131050' ELSE 'operator' END
    WHERE whatsapp_suppressed = 1;

-- 'PARTNER' (reported over the partner API) or 'TELNYX' (detected from Telnyx's events).
ALTER TABLE calls ADD COLUMN source TEXT NOT NULL DEFAULT 'PARTNER';
-- What WhatsApp's statuses said of the message: NULL, 'sent', 'delivered', 'read' or 'failed'.
ALTER TABLE calls ADD COLUMN delivery_state TEXT;
-- Dispatch attempts so far, an interrupted one included.
ALTER TABLE calls ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
-- When ringback itself sends a FAILED Telnyx call again; NULL: it will not.
ALTER TABLE calls ADD COLUMN next_attempt_at INTEGER;
-- A DISPATCHING row a restart found, waiting until then for WhatsApp's status to say whether
-- its message left (SPEC §10); NULL for a send in flight.
ALTER TABLE calls ADD COLUMN held_until INTEGER;
UPDATE calls SET attempts = 1
    WHERE outcome IN ('SENT', 'FAILED', 'UNDELIVERABLE', 'DISPATCHING');

CREATE INDEX calls_message_id ON calls (message_id) WHERE message_id IS NOT NULL;
CREATE INDEX calls_next_attempt ON calls (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
CREATE INDEX calls_held ON calls (held_until) WHERE held_until IS NOT NULL;

-- Every verified Telnyx event, by its id: a redelivery is a no-op.
CREATE TABLE telnyx_events (
    id          TEXT PRIMARY KEY,
    session_id  TEXT NOT NULL,
    event_type  TEXT NOT NULL,
    leg_id      TEXT,
    direction   TEXT,
    from_number TEXT,
    to_number   TEXT,
    -- The call's start_time, in ms.
    started_at  INTEGER,
    received_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX telnyx_events_session ON telnyx_events (session_id);

-- One row per call session, folded from its events.
CREATE TABLE telnyx_sessions (
    session_id   TEXT PRIMARY KEY,
    -- When the incoming leg's hangup arrived (NULL: still open).
    hangup_at    INTEGER,
    answered     INTEGER NOT NULL DEFAULT 0,
    -- When it ran through the pipeline or was set aside; NULL: not yet.
    settled_at   INTEGER,
    -- What settling it did: 'missed' (the pipeline ran), 'answered', or why it was set aside.
    settlement   TEXT,
    call_id      TEXT,
    received_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX telnyx_sessions_due ON telnyx_sessions (hangup_at)
    WHERE settled_at IS NULL AND hangup_at IS NOT NULL;

-- Each WhatsApp status of a message counts once, with the time WhatsApp gave it.
CREATE TABLE message_statuses (
    message_id  TEXT NOT NULL,
    status      TEXT NOT NULL,
    call_id     TEXT,
    at          INTEGER NOT NULL,
    error_code  TEXT,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (message_id, status)
) WITHOUT ROWID;
CREATE INDEX message_statuses_call ON message_statuses (call_id) WHERE call_id IS NOT NULL;
-- What is forgotten after a week goes by arrival.
CREATE INDEX telnyx_events_received ON telnyx_events (received_at);
CREATE INDEX telnyx_sessions_received ON telnyx_sessions (received_at);
CREATE INDEX message_statuses_received ON message_statuses (received_at);

-- STOP and START replies already acted on, by WhatsApp message id: a redelivered old STOP must
-- not undo a later START.
CREATE TABLE whatsapp_replies (
    message_id  TEXT PRIMARY KEY,
    received_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX whatsapp_replies_received ON whatsapp_replies (received_at);
