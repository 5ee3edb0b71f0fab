//! A table as a PDF: landscape A4 in Courier, so columns line up by counting characters (the
//! base fonts' widths are not in this crate, and a fixed-width face needs none). The font
//! shrinks from 10 to 6 points to fit the widest row; if even 6 points is too wide, the widest
//! columns are cut short (with "…") until the row fits — the CSV beside it has them whole.
//! Long tables continue on further pages, each with the header row again.

use pdf_writer::{Content, Name, Str};

/// A table to print.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    /// Its heading.
    pub title: String,
    /// Lines under the heading (what it covers, when it was made).
    pub notes: Vec<String>,
    /// The column headings.
    pub columns: Vec<String>,
    /// The rows, each as long as `columns`, as text.
    pub rows: Vec<Vec<String>>,
}

/// Landscape A4 in points.
const PAGE: (f32, f32) = (842.0, 595.0);
const MARGIN: f32 = 40.0;
/// Courier's advance: 600 units of 1000, for every character.
const ADVANCE: f32 = 0.6;
const GAP: usize = 2;
const LARGEST: f32 = 10.0;
const SMALLEST: f32 = 6.0;
/// No column is wider than this many characters.
const WIDEST_COLUMN: usize = 40;
/// Nor narrower than this when cut to fit.
const NARROWEST_COLUMN: usize = 4;

/// `table` as a PDF.
pub fn table(table: &Table) -> anyhow::Result<Vec<u8>> {
    let layout = Layout::of(table);
    let line = layout.size * 1.3;
    let heading_room = 22.0 + 14.0 * f32::from(u16::try_from(table.notes.len()).unwrap_or(u16::MAX)) + 8.0;
    let first_rows = rows_fitting(PAGE.1 - 2.0 * MARGIN - heading_room - line, line);
    let later_rows = rows_fitting(PAGE.1 - 2.0 * MARGIN - line, line);
    let mut pages = Vec::new();
    let mut rest: &[Vec<String>] = &table.rows;
    let mut first = true;
    loop {
        let take = rest.len().min(if first { first_rows } else { later_rows });
        let mut c = Content::new();
        let mut y = PAGE.1 - MARGIN;
        if first {
            write(&mut c, b"F2", 16.0, MARGIN, y, &table.title);
            y -= 22.0;
            for note in &table.notes {
                write(&mut c, b"F1", 10.0, MARGIN, y, note);
                y -= 14.0;
            }
            y -= 8.0;
        }
        write(&mut c, b"F4", layout.size, MARGIN, y, &layout.row(&table.columns));
        for row in &rest[..take] {
            y -= line;
            write(&mut c, b"F3", layout.size, MARGIN, y, &layout.row(row));
        }
        if first && table.rows.is_empty() {
            write(&mut c, b"F3", layout.size, MARGIN, y - line, "(nothing)");
        }
        pages.push(c.finish());
        rest = &rest[take..];
        first = false;
        if rest.is_empty() {
            break;
        }
    }
    crate::write_pdf(PAGE, &pages)
}

fn rows_fitting(room: f32, line: f32) -> usize {
    // Truncation intended: whole rows only; at least one, so a page always moves on.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let rows = (room / line).floor().max(1.0) as usize;
    rows
}

fn write(c: &mut Content, font: &[u8], size: f32, x: f32, y: f32, text: &str) {
    c.begin_text().set_font(Name(font), size).next_line(x, y).show(Str(&crate::winansi(text))).end_text();
}

/// Column widths (characters) and the font size that fits them.
#[derive(Debug, PartialEq)]
struct Layout {
    widths: Vec<usize>,
    /// Right-aligned: every cell is a number.
    numeric: Vec<bool>,
    size: f32,
}

impl Layout {
    fn of(table: &Table) -> Self {
        let chars = |s: &str| s.chars().count();
        let mut widths: Vec<usize> = table
            .columns
            .iter()
            .enumerate()
            .map(|(i, heading)| {
                let cells = table.rows.iter().filter_map(|r| r.get(i)).map(|c| chars(c));
                cells.chain([chars(heading)]).max().unwrap_or(0).min(WIDEST_COLUMN)
            })
            .collect();
        let numeric = (0..table.columns.len())
            .map(|i| table.rows.iter().filter_map(|r| r.get(i)).all(|c| c.is_empty() || is_number(c)))
            .collect();
        let fits = |total: usize, size: f32| {
            #[allow(clippy::cast_precision_loss)] // a few hundred characters
            let wide = total as f32 * ADVANCE * size;
            wide <= PAGE.0 - 2.0 * MARGIN
        };
        let total = |w: &[usize]| w.iter().sum::<usize>() + GAP * w.len().saturating_sub(1);
        let mut size = LARGEST;
        while size > SMALLEST && !fits(total(&widths), size) {
            size -= 0.5;
        }
        while !fits(total(&widths), size) {
            let Some((widest, _)) =
                widths.iter().enumerate().filter(|(_, w)| **w > NARROWEST_COLUMN).max_by_key(|(_, w)| **w)
            else {
                break; // every column as narrow as it goes: the row runs off the page
            };
            widths[widest] -= 1;
        }
        Self { widths, numeric, size }
    }

    /// `cells` padded (numbers to the right) and cut to their columns.
    fn row(&self, cells: &[String]) -> String {
        let mut out = String::new();
        for (i, width) in self.widths.iter().enumerate() {
            if i > 0 {
                out.push_str(&" ".repeat(GAP));
            }
            let cell = cells.get(i).map_or("", String::as_str);
            let count = cell.chars().count();
            let shown: String = if count > *width {
                cell.chars().take(width.saturating_sub(1)).chain(['…']).collect()
            } else {
                cell.to_owned()
            };
            let pad = " ".repeat(width.saturating_sub(shown.chars().count()));
            if self.numeric[i] {
                out.push_str(&pad);
                out.push_str(&shown);
            } else {
                out.push_str(&shown);
                out.push_str(&pad);
            }
        }
        out.trim_end().to_owned()
    }
}

/// "12", "-5.05", "1234.5": a number, to be right-aligned.
fn is_number(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
        && digits.chars().next().is_some_and(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(rows: usize, columns: usize, cell: &str) -> Table {
        Table {
            title: "Sales".into(),
            notes: vec!["Summer Nights".into()],
            columns: (0..columns).map(|i| format!("column {i}")).collect(),
            rows: (0..rows).map(|r| (0..columns).map(|_| format!("{cell}{r}")).collect()).collect(),
        }
    }

    #[test]
    fn columns_line_up_and_numbers_align_right() {
        let t = Table {
            columns: vec!["day".into(), "sold".into()],
            rows: vec![vec!["2026-06-13".into(), "5".into()], vec!["2026-06-14".into(), "120".into()]],
            ..Table::default()
        };
        let layout = Layout::of(&t);
        assert_eq!(layout.widths, [10, 4]);
        assert!((layout.size - LARGEST).abs() < f32::EPSILON);
        assert_eq!(layout.row(&t.columns), "day         sold");
        assert_eq!(layout.row(&t.rows[0]), "2026-06-13     5");
        assert_eq!(layout.row(&t.rows[1]), "2026-06-14   120");
    }

    #[test]
    fn a_wide_table_gets_a_smaller_font_then_its_widest_columns_cut() {
        let narrow = Layout::of(&sample(2, 8, "a longer value of a cell "));
        assert!(narrow.size < LARGEST && narrow.size >= SMALLEST, "{narrow:?}");
        let wide = Layout::of(&sample(2, 30, "a very long value indeed, longer than forty characters "));
        assert!((wide.size - SMALLEST).abs() < f32::EPSILON);
        let total = wide.widths.iter().sum::<usize>() + GAP * 29;
        #[allow(clippy::cast_precision_loss)]
        let fits = total as f32 * ADVANCE * SMALLEST <= PAGE.0 - 2.0 * MARGIN;
        assert!(fits, "{wide:?}");
        let row = wide.row(&sample(1, 30, "a very long value indeed, longer than forty characters ").rows[0]);
        assert!(row.contains('…'), "{row}");
    }

    #[test]
    fn long_tables_continue_on_more_pages() {
        let count =
            |bytes: &[u8], needle: &[u8]| bytes.windows(needle.len()).filter(|w| *w == needle).count();
        let short = table(&sample(3, 4, "x")).unwrap();
        assert!(short.starts_with(b"%PDF-"));
        assert_eq!(count(&short, b"/Count 1"), 1);
        let long = table(&sample(200, 4, "x")).unwrap();
        assert_eq!(count(&long, b"/Count 1") + count(&long, b"/Count 2"), 0, "more than two pages");
        let empty = table(&sample(0, 4, "x")).unwrap();
        assert_eq!(count(&empty, b"/Count 1"), 1);
    }

    #[test]
    fn numbers_are_told_from_text() {
        for n in ["0", "12", "-5.05", "4500"] {
            assert!(is_number(n), "{n}");
        }
        for t in ["", "-", "EUR", "2026-06-13", ".5", "1,2"] {
            assert!(!is_number(t), "{t}");
        }
    }
}
