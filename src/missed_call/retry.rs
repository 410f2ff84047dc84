//! When ringback itself sends a FAILED Telnyx call again (SPEC §10): 30 s after the first
//! failure, doubling, at most 30 min apart, and never once the call is older than the stale
//! limit — nobody sent it through the partner API, so nobody else would retry it.

/// The first pause, doubled after each failed attempt.
pub const FIRST_DELAY_MS: i64 = 30_000;
/// The longest pause between two attempts.
pub const MAX_DELAY_MS: i64 = 30 * 60_000;

/// What decides a retry's time, from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct RetryRule {
    /// `missed_calls.stale_after_minutes`, in ms: no retry past it.
    pub stale_after_ms: i64,
    /// With the WhatsApp webhook on, `whatsapp.reconcile_seconds` in ms: a send that timed out
    /// may have reached WhatsApp, whose status then says so; the retry waits for it at least
    /// this long. `0` with the webhook off.
    pub status_wait_ms: i64,
}

/// When to try again after `attempts` attempts, the last of which failed at `now`, waiting at
/// least `min_delay_ms`; `None` when the call would by then be older than `stale_after_ms` (it
/// then stays FAILED).
pub fn next_attempt_at(
    attempts: i64,
    occurred_at: i64,
    now: i64,
    stale_after_ms: i64,
    min_delay_ms: i64,
) -> Option<i64> {
    let doublings = (attempts - 1).clamp(0, 20);
    let delay = (FIRST_DELAY_MS << doublings)
        .min(MAX_DELAY_MS)
        .max(min_delay_ms);
    let at = now + delay;
    (at - occurred_at < stale_after_ms).then_some(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 24 * 60 * 60_000;

    #[test]
    fn the_pause_starts_at_thirty_seconds_doubles_and_stops_growing_at_thirty_minutes() {
        let delays: Vec<i64> = (1..=9)
            .map(|n| next_attempt_at(n, 0, 1_000, DAY, 0).expect("fresh call") - 1_000)
            .collect();
        assert_eq!(
            delays,
            [30, 60, 120, 240, 480, 960, 1800, 1800, 1800].map(|s| s * 1000)
        );
    }

    #[test]
    fn no_attempt_is_planned_past_the_stale_limit() {
        let stale = 10 * 60_000;
        assert_eq!(
            next_attempt_at(1, 0, stale - 40_000, stale, 0),
            Some(stale - 10_000)
        );
        assert_eq!(next_attempt_at(1, 0, stale - 30_000, stale, 0), None);
        assert_eq!(next_attempt_at(1, 0, stale + 1, stale, 0), None);
    }

    #[test]
    fn a_send_that_may_have_left_waits_at_least_for_its_status() {
        assert_eq!(next_attempt_at(1, 0, 1_000, DAY, 120_000), Some(121_000));
        assert_eq!(next_attempt_at(7, 0, 1_000, DAY, 120_000), Some(1_801_000));
    }
}
