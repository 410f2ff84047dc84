//! The open connections, so that no client can lock the others out (SPEC §6.4): how many each
//! client address holds, and which connection has waited longest on its client, to be closed
//! when a new one needs its slot.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::activity::Activity;

/// Warnings of a client at the cap: at most one this often, whichever the client.
const WARN_EVERY: Duration = Duration::from_secs(60);

struct Entry {
    address: IpAddr,
    activity: Arc<Activity>,
    /// Cancelled to make room for a new connection.
    close: CancellationToken,
}

#[derive(Default)]
struct Inner {
    next_id: u64,
    open: HashMap<u64, Entry>,
    per_address: HashMap<IpAddr, usize>,
    warned_at: Option<Instant>,
}

#[derive(Default)]
pub(super) struct Registry {
    inner: Mutex<Inner>,
}

/// A connection's place in the registry, given back when it is dropped.
pub(super) struct Registered {
    registry: Arc<Registry>,
    id: u64,
}

impl Drop for Registered {
    fn drop(&mut self) {
        let mut inner = self.registry.lock();
        if let Some(entry) = inner.open.remove(&self.id)
            && let Some(n) = inner.per_address.get_mut(&entry.address)
        {
            *n -= 1;
            if *n == 0 {
                inner.per_address.remove(&entry.address);
            }
        }
    }
}

/// The address a client is counted by: its own, an IPv4 client seen through an IPv6 socket as
/// itself. (Not an IPv6 client's /64: on a LAN every host shares one, and the PBX would share its
/// connections with every phone.)
fn client_address(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        IpAddr::V4(_) => address,
    }
}

impl Registry {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether a new connection from `address` stays within `max_per_address` (`0`: no cap).
    /// Says so in the log, at most once a minute, when it does not.
    pub(super) fn admits(&self, address: IpAddr, max_per_address: usize) -> bool {
        if max_per_address == 0 {
            return true;
        }
        let client = client_address(address);
        let mut inner = self.lock();
        let held = inner.per_address.get(&client).copied().unwrap_or(0);
        if held < max_per_address {
            return true;
        }
        let now = Instant::now();
        if inner.warned_at.is_none_or(|at| now >= at + WARN_EVERY) {
            inner.warned_at = Some(now);
            tracing::warn!(
                client = %client, connections = held,
                "a client holds server.max_connections_per_address connections: its new ones are \
                 closed at once (behind a reverse proxy, set it to 0)"
            );
        }
        false
    }

    pub(super) fn register(
        self: &Arc<Self>,
        address: IpAddr,
        activity: &Arc<Activity>,
        close: &CancellationToken,
    ) -> Registered {
        let client = client_address(address);
        let mut inner = self.lock();
        let id = inner.next_id;
        inner.next_id += 1;
        inner.open.insert(
            id,
            Entry {
                address: client,
                activity: Arc::clone(activity),
                close: close.clone(),
            },
        );
        *inner.per_address.entry(client).or_default() += 1;
        Registered {
            registry: Arc::clone(self),
            id,
        }
    }

    /// Closes the connection that has waited longest on its client (between requests, or for
    /// a head still incomplete), as nginx does at its cap. `false` when every connection is
    /// answering a request.
    pub(super) fn close_longest_idle(&self) -> bool {
        let inner = self.lock();
        let longest = inner
            .open
            .values()
            .filter(|e| !e.close.is_cancelled())
            .filter_map(|e| Some((e.activity.idle_since()?, e)))
            .min_by_key(|(since, _)| *since);
        match longest {
            Some((_, entry)) => {
                entry.close.cancel();
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv4_client_through_an_ipv6_socket_is_itself_and_ipv6_hosts_of_one_lan_are_apart() {
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().expect("ip");
        let v4: IpAddr = "192.0.2.7".parse().expect("ip");
        assert_eq!(client_address(mapped), v4);
        let pbx: IpAddr = "2001:db8:1:2::10".parse().expect("ip");
        let phone: IpAddr = "2001:db8:1:2::99".parse().expect("ip");
        assert_ne!(client_address(pbx), client_address(phone));
    }

    #[tokio::test]
    async fn a_client_at_its_cap_is_refused_until_one_of_its_connections_closes() {
        let registry = Arc::new(Registry::default());
        let address: IpAddr = "192.0.2.7".parse().expect("ip");
        let other: IpAddr = "192.0.2.8".parse().expect("ip");
        let open = |registry: &Arc<Registry>, a| {
            registry.register(a, &Arc::new(Activity::new()), &CancellationToken::new())
        };
        let first = open(&registry, address);
        let _second = open(&registry, address);

        assert!(!registry.admits(address, 2));
        assert!(registry.admits(other, 2));
        assert!(registry.admits(address, 0), "0 turns the cap off");
        drop(first);
        assert!(registry.admits(address, 2));
    }

    #[tokio::test]
    async fn the_connection_idle_longest_is_the_one_closed_and_a_busy_one_never() {
        let registry = Arc::new(Registry::default());
        let address: IpAddr = "192.0.2.7".parse().expect("ip");
        let (oldest, newer) = (Arc::new(Activity::new()), Arc::new(Activity::new()));
        let (close_oldest, close_newer) = (CancellationToken::new(), CancellationToken::new());
        let _a = registry.register(address, &oldest, &close_oldest);
        tokio::time::sleep(Duration::from_millis(5)).await;
        let _b = registry.register(address, &newer, &close_newer);

        assert!(registry.close_longest_idle());
        assert!(close_oldest.is_cancelled() && !close_newer.is_cancelled());

        let answering = super::super::activity::InRequest::start(&newer);
        assert!(!registry.close_longest_idle(), "the only other one is busy");
        answering.finish();
        assert!(
            !registry.close_longest_idle(),
            "its answer may not be all out yet"
        );
        assert!(!close_newer.is_cancelled());
        newer.flushed();
        assert!(registry.close_longest_idle(), "all out: idle");
    }
}
