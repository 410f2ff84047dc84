//! The per-token rate limit of SPEC §8: a token bucket per partner token whose capacity is
//! `server.rate_limit_per_minute`, refilled evenly over the minute (governor's GCRA).

use std::num::NonZeroU32;
use std::sync::Arc;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Shared by every request; cheap to clone. `None` inside when the limit is off.
#[derive(Clone)]
pub struct RateLimit {
    limiter: Option<Arc<DefaultKeyedRateLimiter<String>>>,
    clock: DefaultClock,
}

impl RateLimit {
    /// `per_minute = 0` turns the limit off.
    pub fn new(per_minute: u32) -> RateLimit {
        RateLimit {
            limiter: NonZeroU32::new(per_minute)
                .map(|n| Arc::new(RateLimiter::keyed(Quota::per_minute(n)))),
            clock: DefaultClock::default(),
        }
    }

    /// Takes one request from the token's bucket; `Err(seconds)` to wait when it is empty
    /// (at least 1: `Retry-After` counts whole seconds).
    pub fn check(&self, token_id: &str) -> Result<(), u64> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        limiter
            .check_key(&token_id.to_string())
            .map_err(|not_until| {
                let wait = not_until.wait_time_from(self.clock.now());
                (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_holds_a_minutes_worth_and_each_token_has_its_own() {
        let limit = RateLimit::new(3);
        for _ in 0..3 {
            assert_eq!(limit.check("tok_a"), Ok(()));
        }
        // Refilled evenly: one request every 20 s.
        let wait = limit.check("tok_a").expect_err("over the limit");
        assert!((1..=20).contains(&wait), "{wait}");
        assert_eq!(limit.check("tok_b"), Ok(()));
    }

    #[test]
    fn zero_turns_the_limit_off() {
        let limit = RateLimit::new(0);
        for _ in 0..10_000 {
            assert_eq!(limit.check("tok_a"), Ok(()));
        }
    }
}
