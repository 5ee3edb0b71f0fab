//! # What a customer holds, on paper and on screen
//!
//! The signed ticket as a QR code — PNG for the hub's downloads, SVG for an app's screen — and
//! printable PDFs: tickets (one A4 page each), any document of text lines with optional
//! codes (a box-office receipt, a shift report), and tables (a report, in columns). Shared by the hub and the box office.
//!
//! The QR code carries the ticket's `VG1:` text at error correction level M (the level gates
//! are tested at; version 5 for a hub ticket). The PDF draws the code as vector squares — sharp
//! at any print size, no image to embed — with the text in the standard Helvetica every PDF
//! reader has (so no font is embedded either).

mod table;

pub use table::{Table, table};

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};
use qrcode::{Color, EcLevel, QrCode};
use std::fmt::Write;

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

/// The text as an SVG QR code (one unit per module, quiet zone included): a screen scales it
/// to any size without blur. One path, so the web view draws it in one go.
pub fn qr_svg(text: &str) -> anyhow::Result<String> {
    let code = qr(text)?;
    let modules = code.width();
    let side = modules + 2 * QUIET;
    let mut path = String::new();
    for (i, color) in code.to_colors().iter().enumerate() {
        if *color == Color::Dark {
            let (x, y) = (i % modules + QUIET, i / modules + QUIET);
            // Writing to a String cannot fail.
            let _ = write!(path, "M{x} {y}h1v1h-1z");
        }
    }
    Ok(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {side} {side}\" shape-rendering=\"crispEdges\">\
         <rect width=\"{side}\" height=\"{side}\" fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/></svg>"
    ))
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
    /// Its reserved seat ("Stalls · Row F · Seat 12"), if it has one.
    pub seat: Option<String>,
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

/// A line of text on a page.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// Bold (Helvetica-Bold) or regular.
    pub bold: bool,
    /// Font size in points.
    pub size: f32,
    /// The text (Windows-1252 characters print; others show as '?').
    pub text: String,
}

impl Line {
    /// A regular line of `size` points.
    pub fn plain(size: f32, text: impl Into<String>) -> Self {
        Self { bold: false, size, text: text.into() }
    }

    /// A bold line of `size` points.
    pub fn bold(size: f32, text: impl Into<String>) -> Self {
        Self { bold: true, size, text: text.into() }
    }
}

/// One A4 page: lines from the top, then (optionally) a QR code 7 cm wide, centred, then more
/// lines under it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page {
    /// Lines above the code.
    pub lines: Vec<Line>,
    /// The text of the QR code, if the page has one.
    pub code: Option<String>,
    /// Lines under the code.
    pub footer: Vec<Line>,
}

/// The page of one ticket.
pub fn ticket_page(t: &PrintedTicket) -> Page {
    let mut lines =
        vec![Line::bold(24.0, &t.event), Line::plain(13.0, &t.starts), Line::bold(16.0, &t.ticket_type)];
    // The seat large, where an usher's eye falls first after the event.
    lines.extend(t.seat.as_ref().map(|seat| Line::bold(20.0, seat)));
    lines.push(Line::plain(12.0, format!("{}  ·  {}", t.holder, t.price)));
    Page {
        lines,
        code: Some(t.text.clone()),
        footer: vec![
            Line::plain(10.0, format!("Order {}, ticket {}", t.order, t.serial)),
            Line::plain(
                9.0,
                "Show this code at the entrance, printed or on a screen. It admits once; a copy is refused.",
            ),
        ],
    }
}

/// A PDF with one A4 page per ticket.
pub fn pdf(tickets: &[PrintedTicket]) -> anyhow::Result<Vec<u8>> {
    document(&tickets.iter().map(ticket_page).collect::<Vec<_>>())
}

/// A PDF of `pages`. A page whose lines run past the bottom margin continues on the next.
pub fn document(pages: &[Page]) -> anyhow::Result<Vec<u8>> {
    let pages: Vec<Page> = pages.iter().flat_map(split_long).collect();
    let contents = pages.iter().map(page_content).collect::<anyhow::Result<Vec<_>>>()?;
    write_pdf(PAGE, &contents)
}

/// A PDF of content streams, one page of `size` (points) each, with the fonts the content
/// streams name: F1 Helvetica, F2 Helvetica-Bold, F3 Courier, F4 Courier-Bold.
pub(crate) fn write_pdf(size: (f32, f32), contents: &[Vec<u8>]) -> anyhow::Result<Vec<u8>> {
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let fonts = [
        (b"F1", b"Helvetica".as_slice()),
        (b"F2", b"Helvetica-Bold"),
        (b"F3", b"Courier"),
        (b"F4", b"Courier-Bold"),
    ];
    let font_refs = [Ref::new(3), Ref::new(4), Ref::new(5), Ref::new(6)];
    let refs: Vec<(Ref, Ref)> = (0..contents.len())
        .map(|i| {
            let base = 7 + 2 * i32::try_from(i).unwrap_or(0);
            (Ref::new(base), Ref::new(base + 1))
        })
        .collect();
    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids(refs.iter().map(|(page, _)| *page)).count(i32::try_from(refs.len())?);
    // WinAnsi: the accents of European names and the euro sign, in the base-14 fonts.
    for ((_, base), id) in fonts.iter().zip(font_refs) {
        pdf.type1_font(id).base_font(Name(base)).encoding_predefined(Name(b"WinAnsiEncoding"));
    }
    for (content, (page_id, content_id)) in contents.iter().zip(&refs) {
        let mut page = pdf.page(*page_id);
        page.media_box(Rect::new(0.0, 0.0, size.0, size.1)).parent(tree).contents(*content_id);
        let mut resources = page.resources();
        let mut names = resources.fonts();
        for ((name, _), id) in fonts.iter().zip(font_refs) {
            names.pair(Name(name.as_slice()), id);
        }
        names.finish();
        resources.finish();
        page.finish();
        pdf.stream(*content_id, content);
    }
    Ok(pdf.finish())
}

const LEFT: f32 = 56.0;
const TOP: f32 = 770.0;
const BOTTOM: f32 = 56.0;
const CODE_SIDE: f32 = 200.0;

fn line_height(l: &Line) -> f32 {
    l.size * 1.45
}

/// A page whose lines do not fit, as several (the code stays on the first).
fn split_long(page: &Page) -> Vec<Page> {
    let room = TOP - BOTTOM - if page.code.is_some() { CODE_SIDE + 40.0 } else { 0.0 };
    let mut out = vec![Page { code: page.code.clone(), ..Page::default() }];
    let mut used = 0.0;
    for line in page.lines.iter().chain(&page.footer) {
        if used + line_height(line) > room {
            out.push(Page::default());
            used = 0.0;
        }
        used += line_height(line);
        if let Some(last) = out.last_mut() {
            last.lines.push(line.clone());
        }
    }
    // The footer of a page with a code goes under the code.
    if page.code.is_some() && out.len() == 1 {
        out[0].lines.truncate(page.lines.len());
        out[0].footer.clone_from(&page.footer);
    }
    out
}

fn text(content: &mut Content, line: &Line, x: f32, y: f32) {
    let font: &[u8] = if line.bold { b"F2" } else { b"F1" };
    content
        .begin_text()
        .set_font(Name(font), line.size)
        .next_line(x, y)
        .show(Str(&winansi(&line.text)))
        .end_text();
}

fn page_content(page: &Page) -> anyhow::Result<Vec<u8>> {
    let mut c = Content::new();
    let mut y = TOP;
    for line in &page.lines {
        text(&mut c, line, LEFT, y);
        y -= line_height(line);
    }
    if let Some(code_text) = &page.code {
        let code = qr(code_text)?;
        let modules = code.width();
        #[allow(clippy::cast_precision_loss)] // at most 177 modules
        let unit = CODE_SIDE / (modules as f32);
        let (x0, y0) = ((PAGE.0 - CODE_SIDE) / 2.0, y - 20.0 - CODE_SIDE);
        c.set_fill_gray(0.0);
        for (i, color) in code.to_colors().iter().enumerate() {
            if *color == Color::Dark {
                #[allow(clippy::cast_precision_loss)]
                let (col, row) = ((i % modules) as f32, (i / modules) as f32);
                // PDF's y axis points up; the code's rows go down.
                c.rect(x0 + col * unit, y0 + CODE_SIDE - (row + 1.0) * unit, unit, unit);
            }
        }
        c.fill_nonzero();
        y = y0 - 30.0;
    }
    for line in &page.footer {
        text(&mut c, line, LEFT, y);
        y -= line_height(line);
    }
    Ok(c.finish())
}

/// `s` in Windows-1252 (the PDF base fonts' WinAnsi encoding); characters it lacks become '?'.
/// (Written out rather than pulling in an encoding crate for one 27-entry table.)
pub(crate) fn winansi(s: &str) -> Vec<u8> {
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
    fn documents_print_every_page_and_continue_long_ones() {
        let long = Page {
            lines: (0..120).map(|i| Line::plain(11.0, format!("line {i}"))).collect(),
            ..Page::default()
        };
        let ticket = Page { code: Some("VG1:TEST".into()), ..Page::default() };
        let bytes = document(&[ticket, long]).unwrap();
        assert!(bytes.starts_with(b"%PDF-"));
        let count = |needle: &[u8]| bytes.windows(needle.len()).filter(|w| *w == needle).count();
        assert_eq!(count(b"/Type /Page\n") + count(b"/Type /Page "), 4, "one /Page object per page");
        assert_eq!(
            count(b"/Count 4"),
            1,
            "the code page and 120 lines over 3 pages: {}",
            String::from_utf8_lossy(&bytes[..400])
        );
    }

    #[test]
    fn an_svg_code_has_a_square_view_box() {
        let svg = qr_svg("VG1:TEST").unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("viewBox=\"0 0 29 29\""), "{svg}");
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
