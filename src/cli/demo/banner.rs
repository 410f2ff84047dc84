//! What `ringback demo` prints before it serves: its token, two curl commands, the console.

use std::net::SocketAddr;
use std::path::Path;

use super::{CONSOLE_PASSWORD, CONSOLE_USER, DemoSeed, NAME};

/// What the demo prints before it serves. `addr` is where it listens.
pub fn banner(seed: &DemoSeed, scheme: &str, addr: SocketAddr, database: &Path) -> String {
    // Fresh call ids per start, so the printed commands are not replays of an earlier run.
    let run = crate::secret::random_alphanumeric(6).to_lowercase();
    let port = addr.port();
    // Listening on every address: the commands still go to this machine's loopback.
    let local = if addr.ip().is_unspecified() {
        format!("{scheme}://127.0.0.1:{port}")
    } else {
        format!("{scheme}://{addr}")
    };
    let curl = |phone: &str, call_id: &str| {
        format!(
            "curl -s -X POST {local}/api/partner/v1/missed-calls \\\n  \
             -H 'Authorization: Bearer {}' -H 'Content-Type: application/json' \\\n  \
             -d '{{\"caller_phone_number\": \"{phone}\", \"external_call_id\": \"{call_id}\"}}'",
            seed.token
        )
    };
    let db = database.display();
    let lan_line = lan_line(scheme, addr);
    format!(
        "ringback demo: {NAME} ({}), sandbox transport (nothing leaves this machine), \
         database {db}\n\
         Partner token: {}\n\n\
         # A caller the restaurant does not know yet (answers SENT with the MISSED_CALL \
         template):\n{}\n\n\
         # {}, who has a booking tomorrow at 20:00 (answers SENT with \
         MISSED_CALL_WITH_RESERVATION):\n{}\n\n\
         Console: {local}/console/ (user {CONSOLE_USER}, password {CONSOLE_PASSWORD})\n\
         Command line on this database: ringback --db {db} calls list\n  \
         (from the source tree: cargo run --release -- --db {db} calls list)\n\
         {lan_line}\n",
        seed.restaurant_id,
        seed.token,
        curl(&seed.unknown_caller, &format!("demo-{run}-1")),
        seed.guest_name,
        curl(&seed.guest_phone, &format!("demo-{run}-2")),
    )
}

/// How another machine on the LAN reaches the console.
fn lan_line(scheme: &str, addr: SocketAddr) -> String {
    let port = addr.port();
    let lan = lan_address();
    match (addr.ip().is_unspecified(), &lan) {
        (true, Some(ip)) => {
            format!("From another machine on the LAN: {scheme}://{ip}:{port}/console/")
        }
        (true, None) => format!(
            "From another machine on the LAN: {scheme}://<this machine's address>:{port}/console/"
        ),
        (false, _) => format!(
            "From another machine on the LAN: start it with --listen 0.0.0.0:{port}, then open \
             {scheme}://{}:{port}/console/",
            lan.map_or_else(
                || "<this machine's address>".to_string(),
                |ip| ip.to_string()
            )
        ),
    }
}

/// This machine's address on the LAN: the source address of the default route, found without
/// sending anything (a UDP socket's `connect` only picks the route).
fn lan_address() -> Option<std::net::IpAddr> {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.0.2.1:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}
