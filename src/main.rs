//! The `ringback` binary: parse the command line, load the configuration, start logging, run.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;

use ringback::cli::{self, Cli, Command, CommandError};
use ringback::config::{Config, LogFormat};
use ringback::{demo, server, telemetry};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut config = match Config::load(cli.config.as_deref(), std::env::vars()) {
        Ok(c) => c,
        Err(e) => {
            return exit(CommandError {
                exit_code: 1,
                message: e.to_string(),
            });
        }
    };
    if let Some(db) = &cli.db {
        config.database.path = db.clone();
        config.set_by_flag("database.path");
    }
    if let Command::Serve { listen: Some(addr) } | Command::Demo { listen: Some(addr) } =
        &cli.command
    {
        config.server.listen = addr.clone();
        config.set_by_flag("server.listen");
    }
    if let Command::Demo { .. } = &cli.command {
        config = demo::demo_config(config, cli.db.clone());
    }
    // A server's log starts before its configuration is checked, so that with JSON logs even a
    // bad value is reported as a JSON event.
    let log = config.log.clone();
    let is_server = matches!(cli.command, Command::Serve { .. } | Command::Demo { .. });
    telemetry::init(&log);
    if is_server {
        telemetry::log_panics(&log);
    }
    if let Err(e) = config.validate() {
        let e = CommandError {
            exit_code: 1,
            message: e.to_string(),
        };
        if is_server && log.format == LogFormat::Json {
            telemetry::fatal(&e.message);
            return code(&e);
        }
        return exit(e);
    }
    let result = match cli.command {
        Command::Serve { .. } => server::serve(config, None),
        Command::Demo { .. } => server::serve_demo(config),
        admin => cli::run_admin(admin, &config),
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
