//! The one integration-test binary: the real server over HTTP, a fake WhatsApp on loopback.

/// The fault tests fill a small tmpfs for real, and mounting one takes root or a mount namespace
/// of one's own. Run as an ordinary user, this binary starts again, before any test, inside a
/// user and mount namespace of its own (`unshare --user --map-root-user --mount`): root there,
/// the user outside, free to mount what only its own processes see. Where user namespaces are
/// not allowed it runs as it is, and the fault tests say why they cannot mount.
#[allow(unsafe_code)] // ctor's attribute must be marked unsafe: it runs before main.
#[ctor::ctor(unsafe)]
fn in_a_mount_namespace_of_its_own() {
    use std::os::unix::process::CommandExt;
    const ENTERED: &str = "TESTS_IN_USER_NAMESPACE";
    if nix::unistd::geteuid().is_root() || std::env::var_os(ENTERED).is_some() {
        return;
    }
    let allowed = std::process::Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "true"])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    if !allowed {
        eprintln!(
            "note: no user namespace can be created here, so the fault tests cannot mount their \
             tmpfs (allow unprivileged user namespaces, e.g. sysctl \
             kernel.apparmor_restrict_unprivileged_userns=0, or run the tests as root)"
        );
        return;
    }
    let error = std::process::Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "--"])
        .arg(exe)
        .args(std::env::args_os().skip(1))
        .env(ENTERED, "1")
        .exec();
    eprintln!("cannot start the tests again in a user namespace: {error}");
}

mod helpers;

mod backup;
mod balance;
mod browser;
mod cli;
mod cli_calls;
mod cli_guests;
mod cli_harness;
mod cli_lists;
mod cli_output;
mod cli_restaurants;
mod cli_rules;
mod cli_users;
mod cli_whatsapp;
mod concurrency;
mod connection_caps;
mod connections;
mod console_auth;
mod console_export;
mod console_faults;
mod console_links;
mod console_log;
mod console_manager;
mod console_sessions;
mod contract;
mod crash;
mod customers;
mod delivery;
mod demo;
mod disk;
mod errors;
mod failover;
mod fake_whatsapp;
mod forget;
mod forget_races;
mod gates;
mod house;
mod idempotency;
mod invariants;
mod key_file;
mod litestream_bin;
mod logs;
mod normalisation;
mod openapi;
mod openapi_bookings;
mod openapi_requests;
mod openapi_rules;
mod ops;
mod outcomes;
mod process;
mod reads;
mod removal;
mod reservations;
mod result_faults;
mod retention;
mod secrets;
mod soak;
mod storage;
mod survival;
mod telnyx;
mod telnyx_retries;
mod tls;
mod token_checks;
mod unconfirmed;
mod webhook_crash;
mod webhook_faults;
mod webhook_kit;
mod whatsapp_webhook;
mod writer;
