//! The subcommands. Each is a few calls into sync-core plus printing.

use crate::{DemoType, render};
use anyhow::{Context, bail};
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;
use sync_core::admission::{AdmissionState, Stamp};
use sync_core::demo;
use sync_core::display::{DisplayClock, describe};
use sync_core::hlc::{DEFAULT_MAX_DRIFT_MS, Hlc, HlcClock};
use sync_core::ids::{DeviceId, EventId, GateId, KeyId, Serial, TicketTypeId, Timestamp};
use sync_core::keys::{DeviceKey, EventKey};
use sync_core::manifest::{Direction, EventManifest};
use sync_core::revocation::RevocationSet;
use sync_core::ticket::{SignedTicket, ValidityWindow};
use sync_core::validate::{ScanContext, validate};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// Issues a demo ticket with a fresh key, prints its QR code and walks it through the demo gates.
pub(crate) fn demo(serial: u32, ticket_type: DemoType, show_qr: bool) -> anyhow::Result<ExitCode> {
    let key = EventKey::generate(demo::EVENT, KeyId(1))?;
    let manifest = demo::manifest(vec![key.public()]);
    let (ticket_type, entrance) = match ticket_type {
        DemoType::Day => (demo::DAY, demo::MAIN_GATE),
        DemoType::Weekend => (demo::WEEKEND, demo::MAIN_GATE),
        DemoType::Vip => (demo::VIP, demo::VIP_GATE),
    };
    let ticket = key.issue(Serial(serial), ticket_type, None);
    let text = ticket.to_text();
    let type_name = manifest.ticket_type(ticket_type).map_or("ticket", |t| t.name.as_str());

    println!("{} — {type_name} no. {serial}, signed just now with a fresh event key.\n", manifest.name);
    let (art, version) = render::qr(&text)?;
    if show_qr {
        println!("{art}");
    }
    println!(
        "Ticket text ({} characters, {} bytes, QR version {version} at ECC level M):\n{text}\n",
        text.len(),
        ticket.bytes().len()
    );

    let mut forged = text.clone();
    let last = forged.pop().map_or('0', |c| if c == '0' { '1' } else { '0' });
    forged.push(last);
    let foreign =
        EventKey::generate(EventId(7), KeyId(1))?.issue(Serial(serial), ticket_type, None).to_text();

    let entry =
        |label, device, text| Step { label, gate: entrance, direction: Direction::Entry, device, text };
    let steps = [
        entry("1. entry", demo::MAIN_SCANNER, &text),
        entry("2. same ticket again", DeviceId(2), &text),
        Step {
            label: "3. out at the South exit",
            gate: demo::SOUTH_EXIT,
            direction: Direction::Exit,
            device: DeviceId(2),
            text: &text,
        },
        entry("4. back in", demo::MAIN_SCANNER, &text),
        entry("5. a copy with one char changed", demo::MAIN_SCANNER, &forged),
        entry("6. a ticket of another event", demo::MAIN_SCANNER, &foreign),
    ];
    walk_through_gates(&manifest, &steps);
    println!(
        "Make your own: `voelgoed keygen event --event 1 --out event.json`, then `voelgoed issue` and `voelgoed check`."
    );
    Ok(ExitCode::SUCCESS)
}

/// One scan of the demo walk-through.
struct Step<'a> {
    label: &'static str,
    gate: GateId,
    direction: Direction,
    device: DeviceId,
    text: &'a str,
}

/// Scans each step five minutes after the previous one, as the gate pipeline does: validate,
/// then record a passing scan; prints each verdict with the time it took.
fn walk_through_gates(manifest: &EventManifest, steps: &[Step<'_>]) {
    let mut state = AdmissionState::new();
    let mut clock = HlcClock::new(Hlc::default(), DEFAULT_MAX_DRIFT_MS);
    let revocations = RevocationSet::new();
    let start = Timestamp::now();
    println!("At the gates of {} (each verdict is computed offline):", manifest.name);
    for (minutes, step) in (0i64..).step_by(5).zip(steps) {
        let now = start.plus_seconds(minutes * 60);
        let ctx = ScanContext { device: step.device, gate: step.gate, direction: step.direction, now };
        let began = Instant::now();
        let verdict = validate(manifest, &revocations, &state, &ctx, step.text);
        let micros = began.elapsed().as_micros();
        let stamp = Stamp { hlc: clock.tick(now), origin: step.device };
        if let Some(scan) = verdict.scan(&ctx, stamp) {
            state.record(&scan);
        }
        let shown = describe(&verdict, manifest, None, DisplayClock { now, offset: local_offset() });
        println!("{}  [{micros} µs]", render::verdict(step.label, &shown));
    }
    println!("\nAdmitted: {}, inside now: {}.", state.admitted_count(), state.inside_count());
}

pub(crate) fn keygen_event(event: u32, key_id: u8, out: &Path) -> anyhow::Result<ExitCode> {
    let key = EventKey::generate(EventId(event), KeyId(key_id))?;
    key.save(out)?;
    println!(
        "event key {key_id} of event {event} written to {} (public key {})",
        out.display(),
        hex_key(&key)
    );
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn keygen_device(out: &Path) -> anyhow::Result<ExitCode> {
    let key = DeviceKey::generate()?;
    key.save(out)?;
    println!("device key written to {} (public key {})", out.display(), hex::encode(key.public_key()));
    Ok(ExitCode::SUCCESS)
}

fn hex_key(key: &EventKey) -> String {
    hex::encode(key.public().key.to_bytes())
}

pub(crate) fn issue(
    key: &Path,
    serial: u32,
    ticket_type: u16,
    window: Option<(&str, &str)>,
    qr: bool,
) -> anyhow::Result<ExitCode> {
    let key = EventKey::load(key)?;
    let validity = window
        .map(|(from, until)| {
            ValidityWindow::new(unix_seconds(from)?, unix_seconds(until)?)
                .context("--valid-until is before --valid-from")
        })
        .transpose()?;
    let text = key.issue(Serial(serial), TicketTypeId(ticket_type), validity).to_text();
    if qr {
        println!("{}", render::qr(&text)?.0);
    }
    println!("{text}");
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn check(
    text: &str,
    manifest: Option<&Path>,
    key: Option<&Path>,
    gate: u16,
    exit: bool,
    at: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let text = read_text(text)?;
    let manifest = match (manifest, key) {
        (Some(path), _) => {
            let json = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read manifest {}", path.display()))?;
            EventManifest::from_json(&json).with_context(|| format!("manifest {}", path.display()))?
        }
        (None, Some(path)) => {
            // The demo event's gates and ticket types, for this key's event.
            let key = EventKey::load(path)?;
            let name = format!("event {} (demo gates and types)", key.event());
            EventManifest { event: key.event(), name, ..demo::manifest(vec![key.public()]) }
        }
        (None, None) => bail!("give --manifest or --key"),
    };
    let now = match at {
        Some(at) => Timestamp::from_unix_seconds(i64::from(unix_seconds(at)?)),
        None => Timestamp::now(),
    };
    let direction = if exit { Direction::Exit } else { Direction::Entry };
    let ctx = ScanContext { device: DeviceId(0), gate: GateId(gate), direction, now };
    let verdict = validate(&manifest, &RevocationSet::new(), &AdmissionState::new(), &ctx, &text);
    let shown = describe(&verdict, &manifest, None, DisplayClock { now, offset: local_offset() });
    println!("{}", render::verdict(&format!("{} ({})", manifest.name, verdict.code()), &shown));
    Ok(if verdict.passes() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

pub(crate) fn inspect(text: &str) -> anyhow::Result<ExitCode> {
    let line = read_text(text)?;
    // Measure what a QR code would carry: the ticket without a scanner's line ending.
    let text = line.trim_ascii();
    let ticket = SignedTicket::from_text(text).context("not a ticket")?;
    let t = ticket.ticket();
    println!("NOT VERIFIED — these are the ticket's claims; `voelgoed check` verifies them.");
    println!(
        "event        {}\nkey id       {}\nserial       {}\nticket type  {}",
        t.event, t.key_id, t.serial, t.ticket_type
    );
    if let Some(w) = t.validity {
        println!("valid        {} … {}", w.start(), w.end());
    }
    match &t.delegation {
        None => println!("issuer       the hub (event key {})", t.key_id),
        Some(d) => {
            let d = &d.grant;
            let types: Vec<String> = d.ticket_types.iter().map(ToString::to_string).collect();
            println!("issuer       box-office device {}", hex::encode(d.device_key));
            println!(
                "delegation   serials {}–{}, types {}, expires {}",
                d.first_serial,
                d.last_serial,
                types.join(", "),
                d.expires_at()
            );
        }
    }
    println!(
        "size         {} bytes, {} characters, QR version {}",
        ticket.bytes().len(),
        text.len(),
        render::qr(text)?.1
    );
    Ok(ExitCode::SUCCESS)
}

/// The text argument, or one line of standard input for `-` (what a wedge scanner types).
fn read_text(arg: &str) -> anyhow::Result<String> {
    if arg != "-" {
        return Ok(arg.to_owned());
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).context("cannot read standard input")?;
    Ok(line)
}

fn unix_seconds(rfc3339: &str) -> anyhow::Result<u32> {
    let t = OffsetDateTime::parse(rfc3339, &Rfc3339)
        .with_context(|| format!("{rfc3339:?} is not an RFC 3339 time like 2026-06-06T14:00:00+02:00"))?;
    u32::try_from(t.unix_timestamp()).with_context(|| format!("{rfc3339} is outside 1970–2106"))
}

fn local_offset() -> UtcOffset {
    UtcOffset::current_local_offset().unwrap_or(UtcOffset::UTC)
}
