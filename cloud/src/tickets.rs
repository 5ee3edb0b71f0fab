//! What a customer holds: the signed ticket as a QR code (PNG), and a printable PDF.
//!
//! The QR code carries the ticket's `VG1:` text at error correction level M (the level gates
//! are tested at; version 5 for a hub ticket). The PDF draws the code as vector squares — sharp
//! at any print size, no image to embed — with the event, the ticket type, the holder and the
//! serial in the standard Helvetica every PDF reader has (so no font is embedded either).

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};
use qrcode::{Color, EcLevel, QrCode};

/// Modules of quiet zone around a code (the QR specification's minimum).
const QUIET: usize = 4;

fn qr(text: &str) -> anyhow::Result<QrCode> {
    Ok(QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)?)
}

/// The ticket text as a PNG QR code, `scale` pixels per module, with its quiet zone.
pub fn qr_png(text: &str, scale: usize) -> anyhow::Result<Vec<u8>> {
    let code = qr(text)?;
    let modules = code.width();
    let colors = code.to_colors();
    let side = (modules + 2 * QUIET) * scale;
    let mut pixels = vec![255u8; side * side];
    for (i, color) in colors.iter().enumerate() {
        if *color == Color::Dark {
            let (x, y) = ((i % modules + QUIET) * scale, (i / modules + QUIET) * scale);
            for row in y..y + scale {
                pixels[row * side + x..row * side + x + scale].fill(0);
            }
        }
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, u32::try_from(side)?, u32::try_from(side)?);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.write_header()?.write_image_data(&pixels)?;
    Ok(out)
}

/// One ticket as printed.
#[derive(Debug, Clone)]
pub struct PrintedTicket {
    /// The event's name.
    pub event: String,
    /// When it starts, as the venue's clock shows it (e.g. "Sat 13 June 2026, 14:00").
    pub starts: String,
    /// The ticket type's name.
    pub ticket_type: String,
    /// Price, formatted ("45.00 EUR").
    pub price: String,
    /// The holder's name.
    pub holder: String,
    /// The order's code.
    pub order: String,
    /// The serial.
    pub serial: u32,
    /// The signed ticket text (what the QR code holds).
    pub text: String,
}

/// A4 in points.
const PAGE: (f32, f32) = (595.0, 842.0);

/// A PDF with one A4 page per ticket.
pub fn pdf(tickets: &[PrintedTicket]) -> anyhow::Result<Vec<u8>> {
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let font = Ref::new(3);
    let bold = Ref::new(4);
    let pages: Vec<(Ref, Ref)> = (0..tickets.len())
        .map(|i| {
            let base = 5 + 2 * i32::try_from(i).unwrap_or(0);
            (Ref::new(base), Ref::new(base + 1))
        })
        .collect();
    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids(pages.iter().map(|(page, _)| *page)).count(i32::try_from(pages.len())?);
    // WinAnsi: the accents of European names and the euro sign, in the base-14 fonts.
    pdf.type1_font(font).base_font(Name(b"Helvetica")).encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(bold).base_font(Name(b"Helvetica-Bold")).encoding_predefined(Name(b"WinAnsiEncoding"));
    for (ticket, (page_id, content_id)) in tickets.iter().zip(&pages) {
        let mut page = pdf.page(*page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE.0, PAGE.1)).parent(tree).contents(*content_id);
        page.resources().fonts().pair(Name(b"F1"), font).pair(Name(b"F2"), bold);
        page.finish();
        let content = page_content(ticket)?;
        pdf.stream(*content_id, &content);
    }
    Ok(pdf.finish())
}

fn text(content: &mut Content, font: &[u8], size: f32, x: f32, y: f32, s: &str) {
    content.begin_text().set_font(Name(font), size).next_line(x, y).show(Str(&winansi(s))).end_text();
}

fn page_content(t: &PrintedTicket) -> anyhow::Result<Vec<u8>> {
    let mut c = Content::new();
    let left = 56.0;
    text(&mut c, b"F2", 24.0, left, 770.0, &t.event);
    text(&mut c, b"F1", 13.0, left, 748.0, &t.starts);
    text(&mut c, b"F2", 16.0, left, 712.0, &t.ticket_type);
    text(&mut c, b"F1", 12.0, left, 692.0, &format!("{}  ·  {}", t.holder, t.price));
    // The code: 7 cm wide, centred.
    let code = qr(&t.text)?;
    let modules = code.width();
    let side = 200.0_f32;
    #[allow(clippy::cast_precision_loss)] // at most 177 modules
    let unit = side / (modules as f32);
    let (x0, y0) = ((PAGE.0 - side) / 2.0, 420.0);
    c.set_fill_gray(0.0);
    for (i, color) in code.to_colors().iter().enumerate() {
        if *color == Color::Dark {
            #[allow(clippy::cast_precision_loss)]
            let (col, row) = ((i % modules) as f32, (i / modules) as f32);
            // PDF's y axis points up; the code's rows go down.
            c.rect(x0 + col * unit, y0 + side - (row + 1.0) * unit, unit, unit);
        }
    }
    c.fill_nonzero();
    text(&mut c, b"F1", 10.0, left, 380.0, &format!("Order {}, ticket {}", t.order, t.serial));
    text(
        &mut c,
        b"F1",
        9.0,
        left,
        362.0,
        "Show this code at the entrance, printed or on a screen. It admits once; a copy is refused.",
    );
    Ok(c.finish())
}

/// `s` in Windows-1252 (the PDF base fonts' WinAnsi encoding); characters it lacks become '?'.
/// (Written out rather than pulling in an encoding crate for one 27-entry table.)
fn winansi(s: &str) -> Vec<u8> {
    const HIGH: [(char, u8); 27] = [
        ('€', 0x80),
        ('‚', 0x82),
        ('ƒ', 0x83),
        ('„', 0x84),
        ('…', 0x85),
        ('†', 0x86),
        ('‡', 0x87),
        ('ˆ', 0x88),
        ('‰', 0x89),
        ('Š', 0x8A),
        ('‹', 0x8B),
        ('Œ', 0x8C),
        ('Ž', 0x8E),
        ('‘', 0x91),
        ('’', 0x92),
        ('“', 0x93),
        ('”', 0x94),
        ('•', 0x95),
        ('–', 0x96),
        ('—', 0x97),
        ('˜', 0x98),
        ('™', 0x99),
        ('š', 0x9A),
        ('›', 0x9B),
        ('œ', 0x9C),
        ('ž', 0x9E),
        ('Ÿ', 0x9F),
    ];
    s.chars()
        .map(|c| match u32::from(c) {
            0x20..=0x7E | 0xA0..=0xFF => u8::try_from(u32::from(c)).unwrap_or(b'?'),
            _ if c == '·' => 0xB7,
            _ => HIGH.iter().find(|(h, _)| *h == c).map_or(b'?', |(_, b)| *b),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn european_names_and_the_euro_sign_print() {
        assert_eq!(winansi("Zoë €5 – ok"), b"Zo\xEB \x805 \x96 ok");
        assert_eq!(winansi("日本"), b"??");
    }

    #[test]
    fn a_png_is_a_png_with_a_quiet_zone() {
        let png = qr_png("VG1:TEST", 4).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let decoder = png::Decoder::new(std::io::Cursor::new(png));
        let mut reader = decoder.read_info().unwrap();
        let mut pixels = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut pixels).unwrap();
        assert_eq!(info.width, u32::try_from((21 + 8) * 4).unwrap(), "version 1, 4 px per module");
        assert!(pixels[..info.width as usize * 16].iter().all(|p| *p == 255), "quiet zone is white");
        assert!(pixels.contains(&0));
    }
}
