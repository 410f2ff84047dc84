//! The listening socket, and whether the descriptor limit leaves room for its connections.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpSocket};

/// Connections past `server.max_connections` wait in the kernel's listen backlog; a deep one
/// (capped by the kernel's `somaxconn`) keeps a burst of them waiting instead of refused.
const LISTEN_BACKLOG: u32 = 4096;

/// The kernel's send buffer of each connection (accepted sockets inherit the listener's). It
/// bounds how much of a response the kernel holds on a client's behalf: a client that stops
/// reading then blocks the server's writes within this much, which is how the connection's
/// watchdog tells it from one that reads slowly (SPEC §6.4). Left to autotuning it grows to
/// megabytes, and a slow but steady reader would block writes for longer than the idle timeout:
/// at 128 KiB (the kernel doubles it) a reader at 4 KB/s unblocks them every half minute. It
/// costs the CSV export about 6 % of its rate on loopback (BENCHMARKS.md), and still carries
/// over 100 MB/s on a LAN.
const SEND_BUFFER_BYTES: u32 = 128 * 1024;

/// Descriptors the process needs besides connections: the database and its pool, the WAL, the
/// WhatsApp client's sockets, logs.
const DESCRIPTOR_RESERVE: u64 = 128;

/// The soft limit on open files, read from `/proc/self/limits` (Linux); `None` elsewhere.
fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// Warns when `server.max_connections` cannot all be open under the descriptor limit: the cap
/// would then be the kernel's, met as failed accepts, instead of ours.
pub fn check_descriptor_limit(max_connections: usize) {
    if let Some(limit) = open_files_limit() {
        let needed = max_connections as u64 + DESCRIPTOR_RESERVE;
        if needed > limit {
            tracing::warn!(
                max_connections,
                open_files_limit = limit,
                "server.max_connections needs about {needed} open files but the limit is {limit}: \
                 raise it (LimitNOFILE= in the systemd unit, ulimit -n) or lower max_connections"
            );
        }
    }
}

pub fn bind(addr: &str) -> std::io::Result<TcpListener> {
    let addr: SocketAddr = addr.parse().map_err(std::io::Error::other)?;
    let socket = match addr {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.set_send_buffer_size(SEND_BUFFER_BYTES)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}
