//! Terminal output: QR codes and coloured verdict banners.

use qrcode::render::unicode::Dense1x2;
use qrcode::{EcLevel, QrCode, Version};
use std::io::IsTerminal;
use sync_core::display::{Colour, VerdictDisplay};

/// The QR code of `text` at ECC level M, as terminal art (two modules per character cell), and
/// its version.
pub(crate) fn qr(text: &str) -> anyhow::Result<(String, i16)> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)?;
    let version = match code.version() {
        Version::Normal(v) | Version::Micro(v) => v,
    };
    // Light modules drawn as blocks: on a dark terminal the code reads dark-on-light, as
    // printed codes do, which every phone camera expects.
    let art = code.render::<Dense1x2>().dark_color(Dense1x2::Light).light_color(Dense1x2::Dark).build();
    Ok((art, version))
}

/// One verdict as a coloured banner line (plain text when not a terminal).
pub(crate) fn verdict(label: &str, d: &VerdictDisplay) -> String {
    let (code, mark) = match d.colour {
        Colour::Green => ("42;30", "✔"),
        Colour::Amber => ("43;30", "!"),
        Colour::Red => ("41;97", "✘"),
    };
    let title = format!(" {mark} {} ", d.title.to_uppercase());
    let title = if std::io::stdout().is_terminal() { format!("\x1b[{code};1m{title}\x1b[0m") } else { title };
    match &d.seat {
        Some(seat) => format!("{label:<32} {title} {} — {seat}", d.reason),
        None => format!("{label:<32} {title} {}", d.reason),
    }
}
