//! Failed console logins, counted per username and per client address (SPEC §9): after 5
//! failures within 15 minutes, attempts are refused — the right password included — for a
//! lockout that doubles each time it is earned again, up to 15 minutes.
//!
//! Kept in memory: a restart forgets it, which costs an attacker a restart of the box they
//! cannot cause.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(15 * 60);
const FAILURES_ALLOWED: usize = 5;
const FIRST_LOCKOUT: Duration = Duration::from_secs(60);
const MAX_LOCKOUT: Duration = Duration::from_secs(15 * 60);
/// Past this many tracked keys, keys with nothing recent are dropped: a flood of made-up
/// usernames cannot grow the map without bound.
const PRUNE_ABOVE: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Username(String),
    Address(IpAddr),
}

#[derive(Debug, Default)]
struct Entry {
    failures: Vec<Instant>,
    lockouts: u32,
    locked_until: Option<Instant>,
}

#[derive(Debug, Default)]
pub struct LoginThrottle {
    entries: Mutex<HashMap<Key, Entry>>,
}

fn keys(username: &str, address: Option<IpAddr>) -> Vec<Key> {
    let mut keys = vec![Key::Username(username.trim().to_lowercase())];
    keys.extend(address.map(Key::Address));
    keys
}

impl LoginThrottle {
    /// `Err(seconds)` while the username or the address is locked out.
    pub fn check(&self, username: &str, address: Option<IpAddr>, now: Instant) -> Result<(), u64> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let wait = keys(username, address)
            .iter()
            .filter_map(|k| entries.get(k)?.locked_until)
            .filter(|until| *until > now)
            .map(|until| until - now)
            .max();
        match wait {
            // Whole seconds, rounded up, never 0: "retry after 0 s" would be refused again.
            Some(wait) => Err(wait.as_secs() + u64::from(wait.subsec_nanos() > 0)),
            None => Ok(()),
        }
    }

    /// Counts a failure; locks the key out once it has 5 within the window.
    pub fn failed(&self, username: &str, address: Option<IpAddr>, now: Instant) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() > PRUNE_ABOVE {
            entries.retain(|_, e| {
                e.locked_until.is_some_and(|u| u > now)
                    || e.failures.last().is_some_and(|f| now - *f < WINDOW)
            });
        }
        for key in keys(username, address) {
            let entry = entries.entry(key).or_default();
            // A failure within a window of the last lockout's end earns the next, doubled one;
            // quiet for a whole window, the count starts over.
            let in_series = entry.locked_until.is_some_and(|until| now < until + WINDOW);
            if !in_series {
                entry.lockouts = 0;
            }
            entry.failures.retain(|f| now.duration_since(*f) < WINDOW);
            entry.failures.push(now);
            if in_series || entry.failures.len() >= FAILURES_ALLOWED {
                let lockout = FIRST_LOCKOUT
                    .saturating_mul(2u32.saturating_pow(entry.lockouts))
                    .min(MAX_LOCKOUT);
                entry.lockouts = entry.lockouts.saturating_add(1);
                entry.locked_until = Some(now + lockout);
            }
        }
    }

    /// A successful login clears its username's count. The address keeps its own: one good
    /// account must not reset the count of guesses made at others from the same place.
    pub fn succeeded(&self, username: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.remove(&Key::Username(username.trim().to_lowercase()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fail(t: &LoginThrottle, user: &str, at: Instant) {
        t.failed(user, None, at);
    }

    #[test]
    fn five_failures_lock_the_username_out_the_right_password_included() {
        let t = LoginThrottle::default();
        let start = Instant::now();
        for i in 0..4 {
            fail(&t, "marie", start + Duration::from_secs(i));
            assert_eq!(
                t.check("marie", None, start + Duration::from_secs(i)),
                Ok(())
            );
        }
        fail(&t, "Marie", start + Duration::from_secs(4));
        assert_eq!(
            t.check("marie", None, start + Duration::from_secs(4)),
            Err(60)
        );
        assert_eq!(
            t.check("paul", None, start + Duration::from_secs(4)),
            Ok(())
        );
    }

    #[test]
    fn each_further_lockout_doubles_up_to_fifteen_minutes() {
        let t = LoginThrottle::default();
        let mut now = Instant::now();
        for _ in 0..5 {
            fail(&t, "marie", now);
        }
        let mut waits = vec![];
        for _ in 0..6 {
            let wait = t.check("marie", None, now).expect_err("locked");
            waits.push(wait);
            now += Duration::from_secs(wait);
            assert_eq!(t.check("marie", None, now), Ok(()));
            fail(&t, "marie", now);
        }
        assert_eq!(waits, [60, 120, 240, 480, 900, 900]);
    }

    #[test]
    fn failures_older_than_fifteen_minutes_are_forgotten() {
        let t = LoginThrottle::default();
        let start = Instant::now();
        for i in 0..4 {
            fail(&t, "marie", start + Duration::from_secs(i));
        }
        let later = start + WINDOW + Duration::from_secs(10);
        fail(&t, "marie", later);
        assert_eq!(t.check("marie", None, later), Ok(()));
    }

    #[test]
    fn one_address_guessing_at_many_usernames_is_locked_out() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        let address: IpAddr = "192.0.2.7".parse().expect("ip");
        for user in ["a", "b", "c", "d", "e"] {
            t.failed(user, Some(address), now);
        }
        assert!(t.check("f", Some(address), now).is_err());
        assert_eq!(t.check("f", None, now), Ok(()));
    }

    #[test]
    fn a_success_clears_the_username_but_not_the_address() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        let address: IpAddr = "192.0.2.7".parse().expect("ip");
        for _ in 0..4 {
            t.failed("marie", Some(address), now);
        }
        t.succeeded("marie");
        t.failed("marie", Some(address), now);
        assert!(t.check("marie", None, now).is_ok());
        assert!(t.check("other", Some(address), now).is_err());
    }
}
