//! `ringback whatsapp check`: the restaurants' WhatsApp numbers at Meta.

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum WhatsappCommand {
    /// Ask the Cloud API about the restaurant's number: tests its credentials without a message.
    Check {
        /// The restaurant's id (rst_…).
        #[arg(long, value_name = "ID")]
        restaurant: String,
    },
}
