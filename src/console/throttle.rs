//! Failed console logins, counted per username and per client address (SPEC §9): after 5
//! failures within 15 minutes, attempts are refused — the right password included — for a
//! lockout that doubles each time it is earned again, up to 15 minutes.
//!
//! One attempt at a time per username and per address: a burst of concurrent guesses cannot all
//! pass the check before the first of them is counted. Kept in memory: a restart forgets it.

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
    /// An attempt with this key is being checked right now.
    in_flight: bool,
}

#[derive(Debug, Default)]
pub struct LoginThrottle {
    entries: Mutex<HashMap<Key, Entry>>,
}

fn keys(username: &str, address: Option<IpAddr>) -> Vec<Key> {
    let mut keys = vec![Key::Username(username.trim().to_lowercase())];
    keys.extend(address.map(|a| Key::Address(network(a))));
    keys
}

/// An IPv6 client holds a whole /64: counting its addresses one by one would count nothing. An
/// IPv4 client seen through an IPv6 socket is itself.
fn network(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(segments.into())
            }
        },
    }
}

/// Wait a moment: another attempt for the same username or address is being checked.
const BUSY_RETRY_SECS: u64 = 1;

/// An admitted attempt; its keys are free again when it is settled or dropped.
pub struct Attempt<'a> {
    throttle: &'a LoginThrottle,
    username: String,
    address: Option<IpAddr>,
    settled: bool,
}

impl Attempt<'_> {
    /// The password was wrong (or the user unknown): counted, and the keys freed, under one
    /// lock, so that no attempt admitted meanwhile can miss the lockout this failure earns.
    pub fn failed(mut self, now: Instant) {
        self.settled = true;
        let mut entries = self.throttle.lock();
        release(&mut entries, &self.username, self.address);
        count_failure(&mut entries, &self.username, self.address, now);
    }

    pub fn succeeded(mut self) {
        self.settled = true;
        let mut entries = self.throttle.lock();
        release(&mut entries, &self.username, self.address);
        // A successful login clears its username's count. The address keeps its own: one good
        // account must not reset the count of guesses made at others from the same place.
        entries.remove(&Key::Username(self.username.trim().to_lowercase()));
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if !self.settled {
            release(&mut self.throttle.lock(), &self.username, self.address);
        }
    }
}

type Entries = HashMap<Key, Entry>;

impl LoginThrottle {
    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Admits one attempt, or says how many seconds to wait: the username or the address is
    /// locked out, or another attempt with either is being checked. One lock for the look and
    /// the admission: two guesses cannot both pass a check the first of them is about to fail.
    pub fn begin(
        &self,
        username: &str,
        address: Option<IpAddr>,
        now: Instant,
    ) -> Result<Attempt<'_>, u64> {
        let mut entries = self.lock();
        lockout(&entries, username, address, now)?;
        let keys = keys(username, address);
        if keys
            .iter()
            .any(|k| entries.get(k).is_some_and(|e| e.in_flight))
        {
            return Err(BUSY_RETRY_SECS);
        }
        for key in keys {
            entries.entry(key).or_default().in_flight = true;
        }
        Ok(Attempt {
            throttle: self,
            username: username.to_string(),
            address,
            settled: false,
        })
    }

    #[cfg(test)]
    fn check(&self, username: &str, address: Option<IpAddr>, now: Instant) -> Result<(), u64> {
        lockout(&self.lock(), username, address, now)
    }

    #[cfg(test)]
    fn failed(&self, username: &str, address: Option<IpAddr>, now: Instant) {
        count_failure(&mut self.lock(), username, address, now);
    }
}

fn release(entries: &mut Entries, username: &str, address: Option<IpAddr>) {
    for key in keys(username, address) {
        if let Some(entry) = entries.get_mut(&key) {
            entry.in_flight = false;
        }
    }
}

/// `Err(seconds)` while the username or the address is locked out.
fn lockout(
    entries: &Entries,
    username: &str,
    address: Option<IpAddr>,
    now: Instant,
) -> Result<(), u64> {
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
fn count_failure(entries: &mut Entries, username: &str, address: Option<IpAddr>, now: Instant) {
    if entries.len() > PRUNE_ABOVE {
        entries.retain(|_, e| {
            e.in_flight
                || e.locked_until.is_some_and(|u| now < u + WINDOW)
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
    fn a_second_attempt_for_the_same_username_or_address_waits_for_the_first() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        let address: IpAddr = "192.0.2.7".parse().expect("ip");
        let first = t.begin("marie", Some(address), now).expect("admitted");
        assert_eq!(t.begin("marie", None, now).err(), Some(BUSY_RETRY_SECS));
        assert_eq!(
            t.begin("paul", Some(address), now).err(),
            Some(BUSY_RETRY_SECS)
        );
        first.failed(now);
        assert!(t.begin("marie", Some(address), now).is_ok());
    }

    #[test]
    fn ipv6_addresses_of_one_slash_64_count_as_one() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        for n in 1..=5 {
            let address: IpAddr = format!("2001:db8:1:2::{n}").parse().expect("ip");
            t.failed(&format!("user{n}"), Some(address), now);
        }
        let same_net: IpAddr = "2001:db8:1:2:ffff::9".parse().expect("ip");
        let other_net: IpAddr = "2001:db8:1:3::9".parse().expect("ip");
        assert!(t.check("x", Some(same_net), now).is_err());
        assert!(t.check("x", Some(other_net), now).is_ok());
    }

    #[test]
    fn a_success_clears_the_username_but_not_the_address() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        let address: IpAddr = "192.0.2.7".parse().expect("ip");
        for _ in 0..4 {
            t.failed("marie", Some(address), now);
        }
        t.begin("marie", Some(address), now)
            .expect("admitted")
            .succeeded();
        t.failed("marie", Some(address), now);
        assert!(t.check("marie", None, now).is_ok());
        assert!(t.check("other", Some(address), now).is_err());
    }
}
