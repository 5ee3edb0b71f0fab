//! The template language: Jinja (minijinja), sandboxed so that an organization's template can
//! neither reach outside nor hold the hub up.
//!
//! - **No file or network access.** The environment has no loader (`include`, `extends` and
//!   `import` are not even in the grammar: minijinja is built without `multi_template`), and
//!   none of its functions or filters reads a file, a clock or the network.
//! - **Bounded time and memory.** Every render gets [`FUEL`]: each instruction and every 64
//!   bytes the template creates cost one, so a loop that never ends or a string doubled in a
//!   loop stops with "too much work" instead of spinning or filling memory.
//! - **Bounded output.** What a render writes goes through a writer that refuses more than
//!   the part may hold ([`BODY_BYTES`], [`SUBJECT_BYTES`]).
//! - **Strict names.** A name the message does not have (`{{ odrer.code }}`) is an error, not
//!   an empty string — found on save, with its line, not by a buyer reading a blank.
//!
//! In a Markdown part (an e-mail's body) every value is written with its Markdown
//! punctuation escaped and its line breaks flattened, so a buyer named `*[x](y)*` is printed
//! as written and cannot add a link or a heading to the organizer's text.

use minijinja::value::Value;
use minijinja::{Environment, ErrorKind, UndefinedBehavior};
use std::io::Write;
use std::sync::LazyLock;

/// The work one render may do: about 50,000 instructions or 3 MB created. A default message
/// takes a few hundred; a template that needs more is doing something no message needs.
pub const FUEL: u64 = 50_000;
/// The most a body may render to (a long order's confirmation is a few KiB).
pub const BODY_BYTES: usize = 64 * 1024;
/// The most a subject line (or a text message) may render to.
pub const SUBJECT_BYTES: usize = 1024;
/// The longest template source a part may be.
pub const SOURCE_CHARS: usize = 20_000;

/// How values are written into the output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// Plain text, as it is (a subject line, a text message).
    Plain,
    /// Markdown: values escaped so they stay text.
    Markdown,
}

/// What is wrong with a template, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Broken {
    /// The line (1-based) of the template the fault is on, when the engine knows it.
    pub line: Option<usize>,
    /// What is wrong, in words.
    pub reason: String,
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.reason),
            None => f.write_str(&self.reason),
        }
    }
}

fn environment(part: Part) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(FUEL));
    // No auto-escaping for HTML: the parts are text and Markdown; the HTML is made from the
    // Markdown afterwards, escaping every text.
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    if part == Part::Markdown {
        // Every value escaped, even one a filter marked safe (`|e` HTML-escapes and marks
        // safe): in Markdown, only the organizer's own text may be markup.
        env.set_formatter(|out, _state, value| {
            let text = if value.is_none() { String::new() } else { value.to_string() };
            out.write_str(&escape_markdown(&text)).map_err(minijinja::Error::from)
        });
    } else {
        env.set_formatter(|out, _state, value| {
            let text = if value.is_none() { String::new() } else { value.to_string() };
            out.write_str(&text).map_err(minijinja::Error::from)
        });
    }
    env
}

static PLAIN: LazyLock<Environment<'static>> = LazyLock::new(|| environment(Part::Plain));
static MARKDOWN: LazyLock<Environment<'static>> = LazyLock::new(|| environment(Part::Markdown));

/// `text` as Markdown that reads as `text`: every ASCII punctuation mark backslash-escaped
/// (CommonMark lets any be), line breaks as spaces (a value cannot start a block).
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' | '\r' => out.push(' '),
            c if c.is_ascii_punctuation() => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// A writer that takes at most `limit` bytes, then refuses.
struct Bounded {
    out: Vec<u8>,
    limit: usize,
}

impl Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.out.len() + buf.len() > self.limit {
            return Err(std::io::Error::other("too long"));
        }
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Whether `source` is a template the engine accepts (its syntax only: names are checked by
/// rendering it with a sample, [`render`]).
pub fn parse(source: &str) -> Result<(), Broken> {
    if source.chars().count() > SOURCE_CHARS {
        return Err(Broken { line: None, reason: format!("longer than {SOURCE_CHARS} characters") });
    }
    PLAIN.template_from_str(source).map(|_| ()).map_err(|e| broken(&e, 0))
}

/// `source` rendered with `context` as `part`, at most `limit` bytes.
pub fn render(source: &str, context: &Value, part: Part, limit: usize) -> Result<String, Broken> {
    parse(source)?;
    let env = match part {
        Part::Plain => &*PLAIN,
        Part::Markdown => &*MARKDOWN,
    };
    let template = env.template_from_str(source).map_err(|e| broken(&e, limit))?;
    let mut out = Bounded { out: Vec::new(), limit };
    template.render_captured_to(context, &mut out).map_err(|e| broken(&e, limit))?;
    // The engine writes only whole strings: UTF-8 in, UTF-8 out.
    String::from_utf8(out.out).map_err(|_| Broken { line: None, reason: "not text".into() })
}

/// The engine's error in words a person writing a message understands.
fn broken(e: &minijinja::Error, limit: usize) -> Broken {
    let reason = match e.kind() {
        ErrorKind::OutOfFuel => {
            "too much work for one message (a loop that does not end, or a value grown too large)".to_owned()
        }
        ErrorKind::WriteFailure => format!("the message would be longer than {limit} bytes"),
        ErrorKind::UndefinedError => {
            format!("{}: the message has no such name (see the list of names)", detail(e, "undefined value"))
        }
        ErrorKind::UnknownFilter => detail(e, "unknown filter"),
        ErrorKind::UnknownTest => detail(e, "unknown test"),
        ErrorKind::UnknownFunction => detail(e, "unknown function"),
        _ => detail(e, &e.kind().to_string()),
    };
    Broken { line: e.line(), reason }
}

fn detail(e: &minijinja::Error, fallback: &str) -> String {
    match e.detail() {
        Some(d) if !d.is_empty() => format!("{}: {d}", e.kind()),
        _ => fallback.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Value {
        Value::from(minijinja::value::Serde(serde_json::json!({
            "buyer": {"name": "*Ada* [x](https://evil.example)\n# Heading"},
            "lines": [{"name": "Standing", "count": 2}, {"name": "VIP", "count": 1}],
        })))
    }

    #[test]
    fn a_template_renders_its_names_and_loops() {
        let out = render(
            "Hi {{ buyer.name|upper }}{% for l in lines %}, {{ l.count }} × {{ l.name }}{% endfor %}",
            &ctx(),
            Part::Plain,
            BODY_BYTES,
        )
        .unwrap();
        assert_eq!(out, "Hi *ADA* [X](HTTPS://EVIL.EXAMPLE)\n# HEADING, 2 × Standing, 1 × VIP");
    }

    #[test]
    fn in_markdown_a_value_stays_text() {
        let out = render("Hello {{ buyer.name }}!", &ctx(), Part::Markdown, BODY_BYTES).unwrap();
        assert_eq!(out, r"Hello \*Ada\* \[x\]\(https\:\/\/evil\.example\) \# Heading!");
    }

    #[test]
    fn a_broken_template_says_the_line_and_the_reason() {
        let syntax = parse("Hello\n\n{% for l in lines %}\n{{ l.name }").unwrap_err();
        assert_eq!(syntax.line, Some(4), "{syntax}");
        let unknown = render("Hello\n{{ odrer.code }}", &ctx(), Part::Plain, BODY_BYTES).unwrap_err();
        assert_eq!(unknown.line, Some(2), "{unknown}");
        assert!(unknown.reason.contains("no such name"), "{unknown}");
        let filter = render("{{ buyer.name|uper }}", &ctx(), Part::Plain, BODY_BYTES).unwrap_err();
        assert!(filter.reason.contains("unknown filter"), "{filter}");
        for outside in ["{% include 'x' %}", "{% extends 'base' %}", "{% import 'x' as y %}"] {
            assert!(parse(outside).is_err(), "{outside}");
        }
    }

    #[test]
    fn work_memory_and_output_are_bounded() {
        let endless = "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}";
        let e = render(endless, &ctx(), Part::Plain, BODY_BYTES).unwrap_err();
        assert!(e.reason.contains("too much work"), "{e}");
        let huge = "{{ 'x' * 1000000000 }}";
        let e = render(huge, &ctx(), Part::Plain, BODY_BYTES).unwrap_err();
        assert!(e.reason.contains("too much work"), "{e}");
        let doubling = "{% set ns = namespace(s='xxxxxxxx') %}{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}";
        assert!(render(doubling, &ctx(), Part::Plain, BODY_BYTES).is_err());
        let long = "{% for i in range(2000) %}0123456789{% endfor %}";
        let e = render(long, &ctx(), Part::Plain, 1024).unwrap_err();
        assert!(e.reason.contains("longer than 1024 bytes"), "{e}");
        assert!(parse(&"x".repeat(SOURCE_CHARS + 1)).is_err());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        /// Whatever an organizer types (built from the template language's own pieces, so that
        /// many parse), rendering ends with text or a reason, within its bounds, never a panic;
        /// and the letter made of it carries no markup of its own.
        #[test]
        fn any_template_renders_within_bounds_or_is_refused(
            pieces in proptest::collection::vec(proptest::sample::select(vec![
                "{{ ", " }}", "{% ", " %}", "for l in lines", "endfor", "if ", "endif", "else",
                "buyer.name", "lines", "l.name", "|upper", "|length", "~", "*", "9999", "range(",
                ")", "'x'", "\n", "<script>", "[a](javascript:x)", "**", "# ", "- ", "namespace(",
                "set ", "=", "recursive", "loop(", "{#", "#}", "raw", "endraw",
            ]), 0..40)
        ) {
            let source: String = pieces.concat();
            for part in [Part::Plain, Part::Markdown] {
                if let Ok(out) = render(&source, &ctx(), part, BODY_BYTES) {
                    proptest::prop_assert!(out.len() <= BODY_BYTES);
                    let letter = crate::mail::Letter { lang: "en", subject: "s".into(), sender: "o".into(), markdown: out };
                    let html = letter.html_body();
                    proptest::prop_assert!(!html.contains("<script") && !html.contains("href=\"javascript"), "{}", html);
                }
            }
        }
    }
}
