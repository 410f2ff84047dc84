//! `ringback user …`: who may sign in to the console.

use clap::Subcommand;

use super::JsonFlag;

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
