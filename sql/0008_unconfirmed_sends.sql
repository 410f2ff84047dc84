-- A FAILED call whose send may have left (a timeout, a connection cut before WhatsApp's answer)
-- now also waits in `held_until` for WhatsApp's status before it is dispatched again. Only a
-- DISPATCHING row's hold has an end that the timers act on, so only those stay in the index the
-- timers read.
DROP INDEX calls_held;
CREATE INDEX calls_held ON calls (held_until)
    WHERE held_until IS NOT NULL AND outcome = 'DISPATCHING';
