//! `ringback user …`: who may sign in to the console.

use clap::Subcommand;

use super::JsonFlag;

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
    },
    /// List the console users (never their passwords).
    List(JsonFlag),
    /// Set a user's new password, read like `user add`'s; the user's open sessions end.
    Passwd {
        /// The user's name.
        username: String,
    },
    /// Remove a console user; its open sessions end.
    Remove {
        /// The user's name.
        username: String,
    },
}
