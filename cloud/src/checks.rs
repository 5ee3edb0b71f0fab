//! The field checks every request body shares, each written to mean exactly what its OpenAPI
//! schema says, so that a request the published document calls valid is accepted:
//!
//! | check | schema |
//! |---|---|
//! | [`text`] | `minLength: 1, maxLength: max,` [`TEXT_PATTERN`] (lengths in characters, as JSON Schema counts) |
//! | [`note`] | `minLength: 1, maxLength: max,` [`NOTE_PATTERN`] |
//! | [`email`] | `maxLength: 254,` [`EMAIL_PATTERN`] |
//! | [`currency`] | [`CURRENCY_PATTERN`] |
//! | [`range`] | `minimum`, `maximum` |
//!
//! Names are one line: no control characters (they end up in manifests, on receipts and in
//! PDFs). Notes may span lines, but no text the hub stores may hold a NUL character, which
//! PostgreSQL cannot store.
//!
//! White space is Unicode's, as `char::is_whitespace` and `str::trim` see it, and the patterns
//! spell it out (`\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000`) rather
//! than write `\s`: in ECMA-262, the dialect JSON Schema uses, `\s` leaves out U+0085 and adds
//! U+FEFF, so a name of one BOM would be invalid by the document and accepted by the hub.
//!
//! Each names the field in its refusal (`invalid_field` with `field`).

use crate::error::ApiError;

/// The schema pattern of a [`text`]: no control characters, and one that is not white space.
pub const TEXT_PATTERN: &str = r"^[^\x00-\x1f\x7f-\x9f]*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00-\x1f\x7f-\x9f]*$";
/// The schema pattern of a [`note`]: no NUL, and one character that is not white space.
pub const NOTE_PATTERN: &str =
    r"^[^\x00]*[^\x00\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00]*$";
/// The schema pattern of an [`email`] (surrounding white space is trimmed first).
pub const EMAIL_PATTERN: &str = r"^[\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*[^@\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+@[^@\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+[\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$";
/// The schema pattern of a [`currency`].
pub const CURRENCY_PATTERN: &str = "^[A-Z]{3}$";

/// A name: 1–`max` characters on one line, not all white space.
pub fn text(field: &str, value: &str, max: usize) -> Result<(), ApiError> {
    if value.chars().any(char::is_control) {
        return Err(ApiError::invalid(field, "line breaks and control characters are not allowed"));
    }
    note(field, value, max)
}

/// A note (a reason, a description): 1–`max` characters, lines allowed, not all white space.
pub fn note(field: &str, value: &str, max: usize) -> Result<(), ApiError> {
    if value.contains('\0') {
        return Err(ApiError::invalid(field, "NUL characters are not allowed"));
    }
    if value.trim().is_empty() || value.chars().count() > max {
        return Err(ApiError::invalid(field, format!("1–{max} characters, not only spaces")));
    }
    Ok(())
}

/// An optional text a person wrote (a description, an address): empty, or at most `max`
/// characters without NUL or control characters other than line breaks and tabs.
pub fn optional_text(field: &str, value: &str, max: usize) -> Result<(), ApiError> {
    if value.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
        return Err(ApiError::invalid(field, "control characters are not allowed"));
    }
    if value.chars().count() > max {
        return Err(ApiError::invalid(field, format!("at most {max} characters")));
    }
    Ok(())
}

/// Whether `value` may be looked up as a code or name: no NUL (PostgreSQL refuses to compare
/// one) and at most `max` bytes. A lookup of anything else finds nothing, so callers answer
/// as for a code nobody has.
pub fn lookupable(value: &str, max: usize) -> bool {
    value.len() <= max && !value.contains('\0')
}

/// An e-mail address as people type it: something, one `@`, something, no spaces; at most 254
/// characters. (Deliverability is the mail server's to judge.)
pub fn email(field: &str, value: &str) -> Result<(), ApiError> {
    let ok = value.chars().count() <= 254
        && value
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty() && !domain.contains('@'))
        && !value.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok { Ok(()) } else { Err(ApiError::invalid(field, "an e-mail address like name@example.org")) }
}

/// An ISO 4217 code: three capital letters.
pub fn currency(field: &str, value: &str) -> Result<(), ApiError> {
    if value.len() == 3 && value.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(ApiError::invalid(field, "a three-letter ISO 4217 code such as EUR"))
    }
}

/// A number within `min..=max`.
pub fn range(field: &str, value: i64, min: i64, max: i64) -> Result<(), ApiError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(ApiError::invalid(field, format!("{min} to {max}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The patterns as the regex crate reads them (the same syntax, for these patterns, as
    /// the ECMA-262 dialect JSON Schema uses).
    fn regex_lite(pattern: &str) -> regex::Regex {
        regex::Regex::new(pattern).unwrap()
    }

    #[test]
    fn checks_agree_with_their_schema_patterns() {
        assert!(text("name", "a", 1).is_ok());
        assert!(text("name", "   ", 10).is_err(), "only spaces");
        assert!(text("name", "ééé", 3).is_ok(), "characters, not bytes");
        assert!(text("name", "éééé", 3).is_err());
        assert!(text("name", "a\nb", 10).is_err(), "names are one line");
        assert!(note("reason", "a\nb", 10).is_ok(), "notes may span lines");
        assert!(note("reason", "a\0b", 10).is_err(), "no NUL anywhere");
        let regex = |p: &str| regex_lite(p);
        for (pattern, good, bad) in [
            (TEXT_PATTERN, "Main gate", "Main\ngate"),
            (NOTE_PATTERN, "line\nline", " \n "),
            (NOTE_PATTERN, "\u{feff}", "\0"),
            (TEXT_PATTERN, "\u{feff}", "\u{a0}"),
            (EMAIL_PATTERN, " a@b ", "a b@c"),
            (CURRENCY_PATTERN, "EUR", "eur"),
        ] {
            assert!(regex(pattern).is_match(good) && !regex(pattern).is_match(bad), "{pattern}");
        }
        assert!(email("email", "a@b").is_ok());
        for bad in ["", "a", "@b", "a@", "a@b@c", "a b@c", " a@b", "a@b\0"] {
            assert!(email("email", bad).is_err(), "{bad:?}");
        }
        assert!(currency("currency", "EUR").is_ok());
        assert!(currency("currency", "eur").is_err());
        assert!(range("n", 0, 0, 5).is_ok() && range("n", 6, 0, 5).is_err());
    }
}
