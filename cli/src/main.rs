//! # voelgoed — the command-line tool
//!
//! A thin shell over sync-core for people who handle tickets outside the apps:
//!
//! - `voelgoed demo` issues a signed demo ticket, prints it as a QR code in the terminal and
//!   walks it through a gate (admitted, already inside, out, back in, a forged copy refused);
//! - `voelgoed keygen` makes event and device key files;
//! - `voelgoed issue` signs a ticket with an event key file;
//! - `voelgoed check` validates a scanned text against a manifest (or a key) as a gate would;
//! - `voelgoed inspect` shows what a ticket text claims, without trusting it.
//!
//! Ticket texts are taken from the command line or, given `-`, from standard input — so a
//! keyboard-wedge scanner can type straight into `voelgoed check -`.

mod commands;
mod render;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "voelgoed", version, about = "Voelgoed tickets: demo, keys, issue, check, inspect")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Issue a demo ticket, show its QR code and scan it at a demo gate.
    Demo {
        /// Serial number of the demo ticket.
        #[arg(long, default_value_t = 1)]
        serial: u32,
        /// Ticket type of the demo ticket.
        #[arg(long, value_enum, default_value_t = DemoType::Weekend)]
        r#type: DemoType,
        /// Do not print the QR code.
        #[arg(long)]
        no_qr: bool,
    },
    /// Generate a key file (never overwrites an existing file).
    Keygen {
        #[command(subcommand)]
        kind: KeyKind,
    },
    /// Sign a ticket with an event key file and print its text (and QR code).
    Issue {
        /// The event key file.
        #[arg(long)]
        key: PathBuf,
        /// Serial number.
        #[arg(long)]
        serial: u32,
        /// Ticket type id.
        #[arg(long = "type")]
        ticket_type: u16,
        /// Start of the validity window (RFC 3339, e.g. 2026-06-06T10:00:00+02:00).
        #[arg(long, requires = "valid_until")]
        valid_from: Option<String>,
        /// End of the validity window, inclusive (RFC 3339).
        #[arg(long, requires = "valid_from")]
        valid_until: Option<String>,
        /// Also print the QR code.
        #[arg(long)]
        qr: bool,
    },
    /// Validate a ticket text as a gate would (exit status 0 if it passes, 1 if refused).
    Check {
        /// The ticket text, or `-` to read one line from standard input.
        text: String,
        /// The event manifest (JSON) the gate holds.
        #[arg(long, conflicts_with = "key", required_unless_present = "key")]
        manifest: Option<PathBuf>,
        /// Instead of a manifest: an event key file; the demo event's gates and types are used.
        #[arg(long)]
        key: Option<PathBuf>,
        /// Gate id the scan happens at.
        #[arg(long, default_value_t = 1)]
        gate: u16,
        /// Scan an exit instead of an entry.
        #[arg(long)]
        exit: bool,
        /// The time of the scan (RFC 3339); default now.
        #[arg(long)]
        at: Option<String>,
    },
    /// Decode a ticket text and show its claims WITHOUT verifying them.
    Inspect {
        /// The ticket text, or `-` to read one line from standard input.
        text: String,
    },
}

#[derive(Subcommand)]
enum KeyKind {
    /// An event signing key.
    Event {
        /// Event id.
        #[arg(long)]
        event: u32,
        /// Key id within the event (a new id for each rotation).
        #[arg(long, default_value_t = 1)]
        key_id: u8,
        /// Where to write the key file.
        #[arg(long)]
        out: PathBuf,
    },
    /// A device key.
    Device {
        /// Where to write the key file.
        #[arg(long)]
        out: PathBuf,
    },
}

/// The demo's ticket types.
#[derive(Clone, Copy, ValueEnum)]
enum DemoType {
    /// Single entry.
    Day,
    /// Exit and re-entry.
    Weekend,
    /// Multi-entry, VIP entrance only.
    Vip,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo { serial, r#type, no_qr } => commands::demo(serial, r#type, !no_qr),
        Command::Keygen { kind: KeyKind::Event { event, key_id, out } } => {
            commands::keygen_event(event, key_id, &out)
        }
        Command::Keygen { kind: KeyKind::Device { out } } => commands::keygen_device(&out),
        Command::Issue { key, serial, ticket_type, valid_from, valid_until, qr } => {
            commands::issue(&key, serial, ticket_type, valid_from.as_deref().zip(valid_until.as_deref()), qr)
        }
        Command::Check { text, manifest, key, gate, exit, at } => {
            commands::check(&text, manifest.as_deref(), key.as_deref(), gate, exit, at.as_deref())
        }
        Command::Inspect { text } => commands::inspect(&text),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
