-- The console in the manager's language, what each message was sent with, and when a partner
-- token was last used (SPEC §9 Language and The manager acts, §6.2).

-- 'fr' or 'en'; NULL: the browser's Accept-Language decides.
ALTER TABLE users ADD COLUMN lang TEXT;

-- What a claimed dispatch sent, as JSON: {"template", "language", "parameters": [text…],
-- "booking_link"}. Rows from before this release have none; the console shows what is known.
ALTER TABLE calls ADD COLUMN message TEXT;

-- When the token last authenticated a request (ms), written at most once a minute per token.
ALTER TABLE partner_tokens ADD COLUMN last_used_at INTEGER;

-- When WhatsApp said the message was delivered and read, kept on the call: the statuses
-- themselves are forgotten after 8 days, the call's detail shows these for as long as the call.
ALTER TABLE calls ADD COLUMN delivered_at INTEGER;
ALTER TABLE calls ADD COLUMN read_at INTEGER;
UPDATE calls SET
    delivered_at = (SELECT min(at) FROM message_statuses AS s
                    WHERE s.message_id = calls.message_id AND s.status = 'delivered'),
    read_at = (SELECT min(at) FROM message_statuses AS s
               WHERE s.message_id = calls.message_id AND s.status = 'read')
WHERE message_id IN (SELECT message_id FROM message_statuses);
