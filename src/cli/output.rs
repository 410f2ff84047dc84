//! What a command prints: `--json`, the lines it gathers while it runs, tables and JSON.

use std::io::Write;

use clap::Args;
use serde_json::Value;

use super::CommandError;

#[derive(Debug, Args)]
pub struct JsonFlag {
    /// Print one JSON array, with the API's field names.
    #[arg(long)]
    pub json: bool,
}

// `--restaurant ID [--json]`: which restaurant's templates, customers or reservations to list.
#[derive(Debug, Args)]
pub struct RestaurantList {
    /// The restaurant's id (rst_…).
    #[arg(long, value_name = "ID")]
    pub restaurant: String,
    #[command(flatten)]
    pub json: JsonFlag,
}

/// What a command prints, gathered while it runs and written once its transaction has ended:
/// a reader that stops reading (`ringback calls list | less`) must not hold the database.
#[derive(Debug, Default)]
pub(super) struct Printed {
    /// stdout: the new id of a creation, or a listing; nothing for a change.
    pub out: Vec<u8>,
    /// stderr: what a change did, one line each.
    said: Vec<String>,
}

impl Printed {
    /// Says on stderr what the command did.
    pub fn say(&mut self, line: impl Into<String>) {
        self.said.push(line.into());
    }

    pub(super) fn write(self) -> Result<(), CommandError> {
        let mut stdout = std::io::stdout().lock();
        match stdout.write_all(&self.out).and_then(|()| stdout.flush()) {
            // The reader went away (`| head`): what it read is all it wanted.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            other => other?,
        }
        for line in self.said {
            eprintln!("{line}");
        }
        Ok(())
    }
}

pub(super) fn print_json(out: &mut impl Write, value: Value) -> std::io::Result<()> {
    writeln!(
        out,
        "{}",
        serde_json::to_string_pretty(&value).unwrap_or_default()
    )
}

/// A list as text: its header row, then one line per row, columns aligned by two spaces (the
/// last one left ragged, as it often holds free text).
pub(super) fn write_table(
    out: &mut impl Write,
    header: &[&str],
    rows: &[Vec<String>],
) -> std::io::Result<()> {
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    let lines = std::iter::once(&header).chain(rows);
    let columns = header.len();
    let mut widths = vec![0; columns];
    for line in lines.clone() {
        for (width, cell) in widths.iter_mut().zip(line) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for line in lines {
        let mut text = String::new();
        for (i, cell) in line.iter().enumerate() {
            if i + 1 == columns {
                text.push_str(cell);
            } else {
                text.push_str(&format!("{cell:<width$}  ", width = widths[i]));
            }
        }
        writeln!(out, "{}", text.trim_end())?;
    }
    Ok(())
}

/// `1 token`, `2 tokens`.
pub(super) fn count(n: i64, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}
