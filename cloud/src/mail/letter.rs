//! A message to a person, written once in Markdown and sent as two parts: plain text for
//! every mail program, and HTML (one column, readable on a phone) for those that show it.
//! Both parts are made from the same parse of the same text, so they never say different
//! things.
//!
//! The Markdown is CommonMark (pulldown-cmark) with two limits for mail: HTML written in it is
//! shown as text, not passed through (a template cannot add a form or a script), and a link
//! goes only to `http`, `https`, `mailto` or `tel` (anything else is shown as its text).

use askama::Template;
use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd};
use std::fmt::Write as _;

/// What a message says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Letter {
    /// The language it is written in (the HTML part's `lang`).
    pub lang: &'static str,
    /// Its subject line (no line breaks).
    pub subject: String,
    /// Who it is from, shown above the text and as the signature ("Concertgebouw").
    pub sender: String,
    /// What it says, in Markdown.
    pub markdown: String,
}

#[derive(Template)]
#[template(path = "mail/letter.html")]
struct Html<'a> {
    lang: &'a str,
    subject: &'a str,
    sender: &'a str,
    /// The body as HTML, every text in it escaped.
    body: &'a str,
}

/// Whether a link may point at `url` in a message.
fn linkable(url: &str) -> bool {
    let lower = url.trim_start().to_ascii_lowercase();
    ["http://", "https://", "mailto:", "tel:"].iter().any(|scheme| lower.starts_with(scheme))
}

/// The Markdown's events, made safe for mail: HTML as text, links and images only to
/// [`linkable`] addresses (others become their words).
fn events(markdown: &str) -> Vec<Event<'_>> {
    let mut out = Vec::new();
    // For each open link or image: whether it was dropped (its words stay).
    let mut dropped: Vec<bool> = Vec::new();
    for event in Parser::new_ext(markdown, Options::ENABLE_STRIKETHROUGH) {
        match event {
            Event::Html(raw) | Event::InlineHtml(raw) => out.push(Event::Text(raw)),
            Event::Start(Tag::Link { ref dest_url, .. } | Tag::Image { ref dest_url, .. }) => {
                let drop = !linkable(dest_url);
                dropped.push(drop);
                if !drop {
                    out.push(event);
                }
            }
            Event::End(TagEnd::Link | TagEnd::Image) => {
                if !dropped.pop().unwrap_or(false) {
                    out.push(event);
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// The Markdown as plain text: paragraphs apart by a blank line, list items on lines of their
/// own, a link as its words and then its address in angle brackets (mail programs make it
/// clickable).
fn plain(events: &[Event<'_>]) -> String {
    let mut out = String::new();
    // Each open list: its next number, or None for bullets.
    let mut lists: Vec<Option<u64>> = Vec::new();
    // Each open link's address and where its words began.
    let mut links: Vec<(CowStr<'_>, usize)> = Vec::new();
    for event in events {
        match event {
            Event::Text(t) | Event::Code(t) => out.push_str(t),
            Event::SoftBreak | Event::HardBreak => out.push('\n'),
            Event::Rule => out.push_str("----\n\n"),
            Event::Start(Tag::List(first)) => {
                if !lists.is_empty() && !out.ends_with('\n') {
                    out.push('\n');
                }
                lists.push(*first);
            }
            Event::End(TagEnd::List(_)) => {
                lists.pop();
                if lists.is_empty() {
                    out.push('\n');
                }
            }
            Event::Start(Tag::Item) => {
                let depth = lists.len().saturating_sub(1);
                out.push_str(&"   ".repeat(depth));
                match lists.last_mut() {
                    Some(Some(n)) => {
                        let _ = write!(out, "{n}. "); // to a String: cannot fail
                        *n += 1;
                    }
                    _ => out.push_str("- "),
                }
            }
            Event::End(TagEnd::Item) if !out.ends_with('\n') => out.push('\n'),
            Event::End(
                TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::CodeBlock | TagEnd::BlockQuote(_),
            ) => {
                if lists.is_empty() {
                    out.push_str("\n\n");
                } else if !out.ends_with('\n') {
                    out.push('\n');
                }
            }
            Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) => {
                links.push((dest_url.clone(), out.len()));
            }
            Event::End(TagEnd::Link | TagEnd::Image) => {
                if let Some((url, start)) = links.pop()
                    && out[start..].trim() != url.as_ref()
                {
                    let _ = write!(out, " <{url}>");
                }
            }
            _ => {}
        }
    }
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    out.push('\n');
    out
}

impl Letter {
    /// The plain-text part, signed with the sender's name.
    pub fn text(&self) -> String {
        format!("{}\n-- \n{}\n", plain(&events(&self.markdown)), self.sender)
    }

    /// The body as an HTML fragment (what the HTML part frames); every text is escaped.
    pub fn html_body(&self) -> String {
        let mut body = String::new();
        pulldown_cmark::html::push_html(&mut body, events(&self.markdown).into_iter());
        body
    }

    /// The HTML part; every text is escaped.
    pub fn html(&self) -> String {
        let body = self.html_body();
        let html = Html { lang: self.lang, subject: &self.subject, sender: &self.sender, body: &body };
        // Rendering into a String fails only if a Display impl does, and these are strs.
        html.render().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::Letter;

    fn letter(markdown: &str) -> Letter {
        Letter {
            lang: "en",
            subject: "Your tickets".into(),
            sender: "Rock & <Roll> Hall".into(),
            markdown: markdown.into(),
        }
    }

    #[test]
    fn both_parts_say_the_same_and_the_html_escapes_every_text() {
        let l = letter(
            "Hello Ada,\n\nThank you. See \\<you\\> there & then.\n\n- **Order:** K7Q2\n- **Total paid:** 90.00 EUR\n\n\
             [Your order](https://hub.example/shop/orders/K7Q2/s3cr3t?a=1&b=2)\n\nEach code admits once.\n",
        );
        let text = l.text();
        assert_eq!(
            text,
            "Hello Ada,\n\nThank you. See <you> there & then.\n\n- Order: K7Q2\n- Total paid: 90.00 EUR\n\n\
             Your order <https://hub.example/shop/orders/K7Q2/s3cr3t?a=1&b=2>\n\nEach code admits once.\n\
             \n-- \nRock & <Roll> Hall\n"
        );
        let html = l.html();
        assert!(html.contains("See &lt;you&gt; there &amp; then."), "{html}");
        assert!(!html.contains("<Roll>"), "{html}");
        assert!(html.contains("<html lang=\"en\">"));
        assert!(html.contains("<strong>Total paid:</strong> 90.00 EUR"), "{html}");
        assert!(html.contains("href=\"https://hub.example/shop/orders/K7Q2/s3cr3t?a=1&amp;b=2\""), "{html}");
    }

    #[test]
    fn html_in_a_template_is_text_and_links_go_only_to_the_web_mail_or_phone() {
        let l = letter(
            "<script>alert(1)</script>\n\nClick [here](javascript:alert(1)) or [call](tel:+31201234567).\n\n\
             ![logo](data:image/png;base64,AAAA)",
        );
        let html = l.html();
        assert!(!html.contains("<script>") && html.contains("&lt;script&gt;"), "{html}");
        assert!(!html.contains("javascript:") && html.contains("href=\"tel:+31201234567\""), "{html}");
        assert!(!html.contains("data:image"), "{html}");
        let text = l.text();
        assert!(text.contains("Click here or call <tel:+31201234567>."), "{text}");
    }

    #[test]
    fn numbered_and_nested_lists_read_as_text() {
        let text = letter("Steps:\n\n1. Come\n2. Scan\n   - at gate A\n3. Enjoy\n\nBye").text();
        assert!(text.starts_with("Steps:\n\n1. Come\n2. Scan\n   - at gate A\n3. Enjoy\n\nBye\n"), "{text}");
    }
}
