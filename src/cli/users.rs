//! `ringback user …`: who may sign in to the console (SPEC §9).

// A password never appears on the command line: it is read from stdin, twice and without echo
// on a terminal.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use clap::Subcommand;
use rusqlite::TransactionBehavior;
use serde_json::json;

use super::error::{AdminError, CommandError, fail};
use super::output::{JsonFlag, Printed, count, print_json};
use crate::console::password::{PasswordError, hash_password};
use crate::db::restaurants::find_restaurant;
use crate::db::users::{delete_user, find_login, insert_user, list_users, set_lang, set_password};
use crate::db::{self, Access};
use crate::time::{format_utc, now_ms};

fn usage(message: impl Into<String>) -> CommandError {
    AdminError::Usage(message.into()).into()
}

/// 1 to 64 visible characters: what a manager can type on a phone.
fn check_username(name: &str) -> Result<&str, CommandError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_whitespace) {
        return Err(usage(
            "--username must be 1 to 64 characters without spaces",
        ));
    }
    Ok(name)
}

/// The new password, hashed: asked twice without echo on a terminal, else one line of stdin.
fn read_new_password(username: &str) -> Result<String, CommandError> {
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("New password for {username}: "))?;
        let again = rpassword::prompt_password("Same password again: ")?;
        if first != again {
            return Err(fail("the two passwords differ; nothing was changed"));
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        let line = line.strip_suffix('\n').unwrap_or(&line);
        line.strip_suffix('\r').unwrap_or(line).to_string()
    };
    hash_password(&password).map_err(|e| match e {
        PasswordError::Hash(_) => fail(e.to_string()),
        _ => usage(e.to_string()),
    })
}

/// A language of the console (SPEC §9).
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ConsoleLang {
    /// French.
    Fr,
    /// English.
    En,
    /// The browser's language (its Accept-Language), else English.
    Auto,
}

impl ConsoleLang {
    /// As stored on the user: `None` for `auto`.
    pub fn stored(self) -> Option<&'static str> {
        match self {
            ConsoleLang::Fr => Some("fr"),
            ConsoleLang::En => Some("en"),
            ConsoleLang::Auto => None,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a console user; the password is read from stdin (asked twice, hidden, on a terminal).
    Add {
        /// The name the user signs in with (letters are compared without case).
        #[arg(long, value_name = "NAME")]
        username: String,
        /// The one restaurant this user sees.
        #[arg(
            long,
            value_name = "ID",
            conflicts_with = "all",
            required_unless_present = "all"
        )]
        restaurant: Option<String>,
        /// The user sees every restaurant on this box.
        #[arg(long)]
        all: bool,
        /// The console's language for this user; without it, the browser's language decides.
        #[arg(long, value_enum, value_name = "LANG")]
        lang: Option<ConsoleLang>,
    },
    /// List the console users (never their passwords).
    List(JsonFlag),
    /// Set a user's new password, read like `user add`'s; the user's open sessions end.
    Passwd {
        /// The user's name.
        username: String,
    },
    /// Change a console user's settings.
    Update {
        /// The user's name.
        username: String,
        /// The console's language for this user (`auto`: the browser's language decides).
        #[arg(long, value_enum, value_name = "LANG")]
        lang: ConsoleLang,
    },
    /// Remove a console user; its open sessions end.
    Remove {
        /// The user's name.
        username: String,
    },
}

pub(super) fn run(path: &Path, c: UserCommand, p: &mut Printed) -> Result<(), CommandError> {
    match c {
        UserCommand::Add {
            username,
            restaurant,
            all: _,
            lang,
        } => add(path, &username, restaurant, lang, p),
        UserCommand::List(json) => list(path, json, p),
        UserCommand::Passwd { username } => passwd(path, &username, p),
        UserCommand::Update { username, lang } => update(path, &username, lang, p),
        UserCommand::Remove { username } => remove(path, &username, p),
    }
}

fn add(
    path: &Path,
    username: &str,
    restaurant: Option<String>,
    lang: Option<ConsoleLang>,
    p: &mut Printed,
) -> Result<(), CommandError> {
    let username = check_username(username)?;
    // What can be checked is checked before anyone types a password for nothing.
    let mut conn = db::open_existing(path, Access::Write)?;
    if let Some(id) = &restaurant
        && find_restaurant(&conn, id)?.is_none()
    {
        return Err(fail(format!("no restaurant {id}")));
    }
    if find_login(&conn, username)?.is_some() {
        return Err(fail(format!("a user named {username} already exists")));
    }
    let hash = read_new_password(username)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let scope = match &restaurant {
        Some(id) => {
            let r = find_restaurant(&tx, id)?.ok_or_else(|| fail(format!("no restaurant {id}")))?;
            format!("restaurant {} ({})", r.id, r.name)
        }
        None => "every restaurant".into(),
    };
    let id = insert_user(
        &tx,
        username,
        &hash,
        restaurant.as_deref(),
        lang.and_then(|l| l.stored()),
        now_ms(),
    )?
    .ok_or_else(|| fail(format!("a user named {username} already exists")))?;
    tx.commit()?;
    writeln!(p.out, "{id}")?;
    p.say(format!("user {username} added; sees {scope}"));
    Ok(())
}

fn list(path: &Path, json: JsonFlag, p: &mut Printed) -> Result<(), CommandError> {
    let conn = db::open_existing(path, Access::Read)?;
    let users = list_users(&conn)?;
    drop(conn);
    if json.json {
        print_json(
            &mut p.out,
            users
                .iter()
                .map(|u| {
                    json!({"id": u.id, "username": u.username,
                           "restaurant_id": u.restaurant_id,
                           "all_restaurants": u.restaurant_id.is_none(),
                           "lang": u.lang,
                           "created_at": format_utc(u.created_at)})
                })
                .collect(),
        )?;
    } else {
        writeln!(p.out, "ID\tUSERNAME\tRESTAURANT\tLANGUAGE")?;
        for u in &users {
            let sees = u.restaurant_id.as_deref().unwrap_or("(all)");
            let lang = u.lang.as_deref().unwrap_or("(browser)");
            writeln!(p.out, "{}\t{}\t{sees}\t{lang}", u.id, u.username)?;
        }
        p.say(count(users.len() as i64, "user"));
    }
    Ok(())
}

fn passwd(path: &Path, username: &str, p: &mut Printed) -> Result<(), CommandError> {
    let mut conn = db::open_existing(path, Access::Write)?;
    if find_login(&conn, username.trim())?.is_none() {
        return Err(fail(format!("no user named {username}")));
    }
    let hash = read_new_password(username)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if !set_password(&tx, username.trim(), &hash, now_ms())? {
        return Err(fail(format!("no user named {username}")));
    }
    tx.commit()?;
    p.say(format!(
        "password of {username} changed; its open sessions are ended"
    ));
    Ok(())
}

fn update(
    path: &Path,
    username: &str,
    lang: ConsoleLang,
    p: &mut Printed,
) -> Result<(), CommandError> {
    let mut conn = db::open_existing(path, Access::Write)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if !set_lang(&tx, username.trim(), lang.stored(), now_ms())? {
        return Err(fail(format!("no user named {username}")));
    }
    tx.commit()?;
    p.say(match lang.stored() {
        Some(code) => format!("user {username} now sees the console in {code}"),
        None => format!("user {username} now sees the console in the browser's language"),
    });
    Ok(())
}

fn remove(path: &Path, username: &str, p: &mut Printed) -> Result<(), CommandError> {
    let mut conn = db::open_existing(path, Access::Write)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if !delete_user(&tx, username.trim())? {
        return Err(fail(format!("no user named {username}")));
    }
    tx.commit()?;
    p.say(format!(
        "user {username} removed; its open sessions are ended"
    ));
    Ok(())
}
