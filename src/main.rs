//! The `ringback` binary: parse the command line, load the configuration, start logging, run.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;

use ringback::cli::{self, Cli, CommandError, fail};
use ringback::config::{Config, LogFormat};
use ringback::telemetry;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref(), std::env::vars()) {
        Ok(c) => cli.configure(c),
        Err(e) => return exit(fail(e.to_string())),
    };
    // A server's log starts before its configuration is checked, so that with JSON logs even a
    // bad value is reported as a JSON event.
    let log = config.log.clone();
    let is_server = cli.command.is_server();
    telemetry::init(&log);
    if is_server {
        telemetry::log_panics(&log);
    }
    let result = match config.validate() {
        Ok(()) => cli::run(cli.command, config),
        Err(e) => Err(fail(e.to_string())),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // A server's last word goes where its log goes, in the log's format.
        Err(e) if is_server && log.format == LogFormat::Json => {
            telemetry::fatal(&e.message);
            code(&e)
        }
        Err(e) => exit(e),
    }
}

fn exit(e: CommandError) -> ExitCode {
    eprintln!("ringback: {}", e.message);
    code(&e)
}

fn code(e: &CommandError) -> ExitCode {
    ExitCode::from(u8::try_from(e.exit_code).unwrap_or(1))
}
