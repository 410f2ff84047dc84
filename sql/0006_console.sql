-- The operator console (users and their sessions) and booking conversions: each claimed
-- dispatch gets a link token, its clicks are counted, and a reservation made after it may be
-- counted as the booking it won back.

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    -- A phone's keyboard capitalises the first letter: "Marie" and "marie" are one user.
    username      TEXT NOT NULL UNIQUE COLLATE NOCASE,
    -- Argon2id, PHC string (algorithm, parameters and salt included).
    password_hash TEXT NOT NULL,
    -- NULL: the user sees every restaurant (`--all`).
    restaurant_id TEXT REFERENCES restaurants (id),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

CREATE TABLE sessions (
    -- SHA-256 of the cookie's value, hex. The value itself is never stored.
    token_hash   TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id),
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_user ON sessions (user_id);

-- The customer was created by this call ("New customer" in the console's log).
ALTER TABLE calls ADD COLUMN new_customer INTEGER NOT NULL DEFAULT 0;
ALTER TABLE calls ADD COLUMN link_token TEXT;
-- When WhatsApp accepted the message: the conversion window starts there.
ALTER TABLE calls ADD COLUMN sent_at INTEGER;
ALTER TABLE calls ADD COLUMN first_clicked_at INTEGER;
ALTER TABLE calls ADD COLUMN clicks INTEGER NOT NULL DEFAULT 0;
-- The reservation this call won back; it stays set if that reservation is later canceled.
ALTER TABLE calls ADD COLUMN converted_reservation_id TEXT;
UPDATE calls SET sent_at = updated_at WHERE outcome = 'SENT';

CREATE UNIQUE INDEX calls_link_token ON calls (link_token) WHERE link_token IS NOT NULL;
-- A reservation converts at most one call.
CREATE UNIQUE INDEX calls_converted_reservation ON calls (converted_reservation_id)
    WHERE converted_reservation_id IS NOT NULL;
-- A new reservation looks for its customer's clicked messages; only clicked rows are indexed.
CREATE INDEX calls_clicked ON calls (restaurant_id, customer_id, sent_at)
    WHERE first_clicked_at IS NOT NULL;

-- The console counts a restaurant's calls, sends and conversions per day. With the outcome and the
-- conversion in the listing index those counts read the index alone, never the rows; seq keeps
-- the index in the log's order (newest first, the later report first among equal times).
DROP INDEX calls_listing;
CREATE INDEX calls_listing ON calls (restaurant_id, occurred_at, seq, outcome, converted_reservation_id);

-- The console finds a caller's calls by number, whatever became of them. The cooldown's index held
-- only sent calls; the same index over every call serves both, and costs only skipped calls an
-- index entry (sent ones had one already).
DROP INDEX calls_cooldown;
CREATE INDEX calls_caller ON calls (restaurant_id, caller_e164, occurred_at);

-- The `rb_ref` the booking site received, so a booking is attributed without a click.
ALTER TABLE reservations ADD COLUMN ref TEXT;
