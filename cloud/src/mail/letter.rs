//! A message to a person, written once and sent as two parts: plain text for every mail
//! program, and HTML (inline styles, one column, readable on a phone) for those that show it.
//! Both parts come from the same [`Letter`], so they never say different things.

use askama::Template;
use std::fmt::Write as _;

/// What a message says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Letter {
    /// The language it is written in (the HTML part's `lang`).
    pub lang: &'static str,
    /// Its subject line (no line breaks).
    pub subject: String,
    /// Who it is from, shown above the heading ("Concertgebouw").
    pub sender: String,
    /// The first line ("Hello Ada,").
    pub heading: String,
    /// The body, paragraph by paragraph.
    pub paragraphs: Vec<String>,
    /// Facts as label and value ("Order", "K7Q2-MX4P").
    pub details: Vec<(String, String)>,
    /// The one thing to click, as label and address.
    pub link: Option<(String, String)>,
    /// Small print after the link.
    pub closing: Vec<String>,
}

#[derive(Template)]
#[template(path = "mail/letter.html")]
struct Html<'a> {
    lang: &'a str,
    subject: &'a str,
    sender: &'a str,
    heading: &'a str,
    paragraphs: &'a [String],
    details: &'a [(String, String)],
    link: &'a Option<(String, String)>,
    closing: &'a [String],
}

impl Letter {
    /// The plain-text part: paragraphs separated by blank lines, facts aligned, the link on a
    /// line of its own (mail programs make it clickable).
    pub fn text(&self) -> String {
        let mut out = format!("{}\n\n", self.heading);
        for p in &self.paragraphs {
            out.push_str(p);
            out.push_str("\n\n");
        }
        let width = self.details.iter().map(|(l, _)| l.chars().count()).max().unwrap_or(0);
        for (label, value) in &self.details {
            let pad = width - label.chars().count();
            let _ = writeln!(out, "  {label}:{} {value}", " ".repeat(pad)); // to a String: cannot fail
        }
        if !self.details.is_empty() {
            out.push('\n');
        }
        if let Some((label, url)) = &self.link {
            let _ = write!(out, "{label}:\n{url}\n\n");
        }
        for p in &self.closing {
            out.push_str(p);
            out.push('\n');
        }
        let _ = write!(out, "\n-- \n{}\n", self.sender);
        out
    }

    /// The HTML part; every text is escaped.
    pub fn html(&self) -> String {
        let html = Html {
            lang: self.lang,
            subject: &self.subject,
            sender: &self.sender,
            heading: &self.heading,
            paragraphs: &self.paragraphs,
            details: &self.details,
            link: &self.link,
            closing: &self.closing,
        };
        // Rendering into a String fails only if a Display impl does, and these are Strings.
        html.render().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::Letter;

    fn letter() -> Letter {
        Letter {
            lang: "en",
            subject: "Your tickets".into(),
            sender: "Rock & <Roll> Hall".into(),
            heading: "Hello Ada,".into(),
            paragraphs: vec!["Thank you.".into(), "See <you> there & then.".into()],
            details: vec![("Order".into(), "K7Q2".into()), ("Total paid".into(), "90.00 EUR".into())],
            link: Some(("Your order".into(), "https://hub.example/shop/orders/K7Q2/s3cr3t?a=1&b=2".into())),
            closing: vec!["Each code admits once.".into()],
        }
    }

    #[test]
    fn both_parts_say_the_same_and_the_html_escapes_every_text() {
        let l = letter();
        let text = l.text();
        assert!(text.starts_with("Hello Ada,\n\nThank you.\n\nSee <you> there & then.\n\n"), "{text}");
        assert!(text.contains("  Order:      K7Q2\n  Total paid: 90.00 EUR\n"), "{text}");
        assert!(
            text.contains("Your order:\nhttps://hub.example/shop/orders/K7Q2/s3cr3t?a=1&b=2\n"),
            "{text}"
        );
        assert!(text.ends_with("Each code admits once.\n\n-- \nRock & <Roll> Hall\n"), "{text}");
        let html = l.html();
        assert!(
            html.contains("See &#60;you&#62; there &#38; then.")
                || html.contains("See &lt;you&gt; there &amp; then."),
            "{html}"
        );
        assert!(!html.contains("<Roll>"), "{html}");
        assert!(html.contains("<html lang=\"en\">"));
        assert!(html.contains("90.00 EUR") && html.contains("K7Q2"));
    }
}
