-- ringback's first schema. Times are integer milliseconds since the Unix epoch (UTC);
-- every table is scoped by restaurant so that one box can serve many restaurants.

CREATE TABLE restaurants (
    id                   TEXT PRIMARY KEY,
    name                 TEXT NOT NULL,
    country              TEXT NOT NULL,
    timezone             TEXT NOT NULL,
    booking_url          TEXT,
    missed_calls_enabled INTEGER NOT NULL DEFAULT 0,
    -- NULL: no balance is kept (unlimited).
    balance_cents        INTEGER CHECK (balance_cents IS NULL OR balance_cents >= 0),
    message_cost_cents   INTEGER NOT NULL DEFAULT 0 CHECK (message_cost_cents >= 0),
    -- Both set: the restaurant has an active WhatsApp integration.
    wa_phone_number_id   TEXT,
    wa_access_token      TEXT,
    created_at           INTEGER NOT NULL
);

CREATE TABLE partner_tokens (
    id            TEXT PRIMARY KEY,
    restaurant_id TEXT NOT NULL REFERENCES restaurants (id),
    name          TEXT,
    -- SHA-256 of the token, hex. The plaintext is never stored.
    token_hash    TEXT NOT NULL UNIQUE,
    created_at    INTEGER NOT NULL,
    revoked_at    INTEGER
);
CREATE INDEX partner_tokens_restaurant ON partner_tokens (restaurant_id);

CREATE TABLE customers (
    id                  TEXT PRIMARY KEY,
    restaurant_id       TEXT NOT NULL REFERENCES restaurants (id),
    phone_e164          TEXT NOT NULL,
    name                TEXT,
    source              TEXT NOT NULL,
    whatsapp_suppressed INTEGER NOT NULL DEFAULT 0,
    created_at          INTEGER NOT NULL,
    UNIQUE (restaurant_id, phone_e164)
);

CREATE TABLE reservations (
    id            TEXT PRIMARY KEY,
    restaurant_id TEXT NOT NULL REFERENCES restaurants (id),
    customer_id   TEXT REFERENCES customers (id),
    external_id   TEXT,
    start_at      INTEGER NOT NULL,
    party_size    INTEGER NOT NULL CHECK (party_size >= 1),
    status        TEXT NOT NULL,
    source        TEXT NOT NULL DEFAULT 'WEBSITE',
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    UNIQUE (restaurant_id, external_id)
);
CREATE INDEX reservations_customer_start ON reservations (restaurant_id, customer_id, start_at);
CREATE INDEX reservations_restaurant_start ON reservations (restaurant_id, start_at);

CREATE TABLE templates (
    restaurant_id TEXT NOT NULL REFERENCES restaurants (id),
    type          TEXT NOT NULL CHECK (type IN ('MISSED_CALL', 'MISSED_CALL_WITH_RESERVATION')),
    name          TEXT NOT NULL,
    language      TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('APPROVED', 'PENDING', 'REJECTED')),
    -- Comma-separated variable names, in the order of the template's body parameters.
    body_params   TEXT NOT NULL DEFAULT '',
    button_param  TEXT,
    name_fallback TEXT NOT NULL DEFAULT 'there',
    active        INTEGER NOT NULL DEFAULT 1,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (restaurant_id, type)
);

-- The call ledger: one row per accepted report.
CREATE TABLE calls (
    seq              INTEGER PRIMARY KEY,
    id               TEXT NOT NULL UNIQUE,
    restaurant_id    TEXT NOT NULL REFERENCES restaurants (id),
    external_call_id TEXT,
    caller_raw       TEXT NOT NULL,
    -- NULL for a hidden caller id.
    caller_e164      TEXT,
    customer_id      TEXT REFERENCES customers (id),
    reservation_id   TEXT REFERENCES reservations (id),
    template_type    TEXT,
    occurred_at      INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    outcome          TEXT NOT NULL,
    message_id       TEXT,
    error_code       TEXT,
    error_message    TEXT,
    -- What the claim debited, so that a FAILED or UNDELIVERABLE end credits exactly that back.
    debited_cents    INTEGER NOT NULL DEFAULT 0,
    UNIQUE (restaurant_id, external_call_id)
);
CREATE INDEX calls_cooldown ON calls (restaurant_id, caller_e164, occurred_at)
    WHERE outcome IN ('SENT', 'DISPATCHING');
CREATE INDEX calls_restaurant_seq ON calls (restaurant_id, seq);
CREATE INDEX calls_in_flight ON calls (outcome) WHERE outcome = 'DISPATCHING';
