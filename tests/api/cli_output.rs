//! SPEC §6.2, "Rules every command keeps": help for everything, what a change did on stderr
//! with ids alone on stdout.

use clap::CommandFactory;

use crate::cli_harness::{Cli, restaurant, stderr, stdout};

/// Every command and every flag or argument, at any depth: a command added later is checked too.
fn walk(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
    for arg in command.get_arguments() {
        let id = arg.get_id().as_str();
        if matches!(id, "help" | "version") {
            continue;
        }
        if arg.get_help().is_none() {
            missing.push(format!("{path} {id}"));
        }
    }
    for sub in command.get_subcommands() {
        let sub_path = format!("{path} {}", sub.get_name());
        if sub.get_about().is_none() {
            missing.push(sub_path.clone());
        }
        walk(sub, &sub_path, missing);
    }
}

#[test]
fn every_command_flag_and_argument_has_help() {
    let mut missing = Vec::new();

    walk(&ringback::cli::Cli::command(), "ringback", &mut missing);

    assert!(missing.is_empty(), "no help for: {missing:#?}");
}

#[test]
fn a_change_is_confirmed_on_stderr_and_stdout_holds_only_ids() {
    let cli = Cli::new();
    let csv = cli.path("customers.csv");
    std::fs::write(&csv, "phone,name\n0698765432,Lou\n").expect("csv");
    let csv = csv.to_str().expect("path");
    let add = cli.run(&[
        "restaurant",
        "add",
        "--name",
        "Chez Dit",
        "--country",
        "FR",
        "--timezone",
        "Europe/Paris",
    ]);
    let rid = stdout(&add).trim().to_string();
    let r = rid.as_str();
    let token = cli.run(&["token", "create", "--restaurant", r]);
    let tid = cli.json(&["token", "list", "--json"])[0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let customer = cli.run(&[
        "customer",
        "add",
        "--restaurant",
        r,
        "--phone",
        "0612345678",
    ]);
    let reservation = cli.run(&[
        "reservation",
        "add",
        "--restaurant",
        r,
        "--phone",
        "0612345678",
        "--start",
        "2099-07-14T20:30",
        "--party-size",
        "2",
    ]);
    let res_id = stdout(&reservation).trim().to_string();
    let creations = [
        (&add, "rst_"),
        (&token, "rbk_"),
        (&customer, "cus_"),
        (&reservation, "res_"),
    ];
    let changes = [
        cli.run(&["restaurant", "update", r, "--missed-calls", "on"]),
        cli.run(&[
            "restaurant",
            "whatsapp",
            r,
            "--phone-number-id",
            "123",
            "--access-token",
            "EAAGabc",
        ]),
        cli.run(&["restaurant", "whatsapp", r, "--disable"]),
        cli.run(&[
            "template",
            "set",
            "--restaurant",
            r,
            "--type",
            "MISSED_CALL",
            "--name",
            "mc",
            "--language",
            "fr",
        ]),
        cli.run(&[
            "customer",
            "suppress",
            "--restaurant",
            r,
            "--phone",
            "0612345678",
        ]),
        cli.run(&[
            "customer",
            "unsuppress",
            "--restaurant",
            r,
            "--phone",
            "0612345678",
        ]),
        cli.run(&["customer", "import", "--restaurant", r, csv]),
        cli.run(&["reservation", "update", &res_id, "--status", "CANCELED"]),
        cli.run(&["token", "revoke", &tid]),
    ];

    for (out, prefix) in creations {
        assert!(out.status.success(), "{}", stderr(out));
        let printed = stdout(out);
        assert_eq!(printed.lines().count(), 1, "{printed:?}");
        assert!(printed.starts_with(prefix), "{printed:?}");
        assert_eq!(stderr(out).lines().count(), 1, "{}", stderr(out));
    }
    for out in &changes {
        assert!(out.status.success(), "{}", stderr(out));
        assert!(out.stdout.is_empty(), "{}", stdout(out));
        let said = stderr(out);
        assert_eq!(said.lines().count(), 1, "{said}");
        assert!(!said.trim().is_empty());
    }
    assert!(stderr(&changes[0]).contains("missed-call messages on"));
    assert!(stderr(&changes[3]).contains("MISSED_CALL template"));
    assert!(!stderr(&changes[1]).contains("EAAGabc"), "never the token");
}

#[test]
fn revoking_a_revoked_token_says_so_and_an_unknown_token_exits_1() {
    let cli = Cli::new();
    let rid = restaurant(&cli);
    cli.new_id(&["token", "create", "--restaurant", &rid]);
    let tid = cli.json(&["token", "list", "--json"])[0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    cli.ok(&["token", "revoke", &tid]);
    let revoked_at = cli.json(&["token", "list", "--json"])[0]["revoked_at"].clone();

    let again = cli.run(&["token", "revoke", &tid]);
    let unknown = cli.run(&["token", "revoke", "tok_nope"]);

    assert_eq!(again.status.code(), Some(0));
    assert!(
        stderr(&again).contains("already revoked"),
        "{}",
        stderr(&again)
    );
    assert_eq!(
        cli.json(&["token", "list", "--json"])[0]["revoked_at"],
        revoked_at,
        "the first revocation is kept"
    );
    assert_eq!(unknown.status.code(), Some(1));
    assert!(stderr(&unknown).contains("tok_nope"));
}
