//! The ticket as text: `VG1:` followed by base45 (docs/ticket-format.md §Text).

use super::{DecodeError, base45};

/// Every ticket text starts with this. It names the scheme and its major version, so a reader
/// can tell a Voelgoed ticket (and its version) from any other QR code before decoding.
pub const PREFIX: &str = "VG1:";

/// Inputs longer than this are refused before any decoding. The longest valid v1 text is 307
/// characters (a delegation naming four types, with a validity window); the cap leaves room
/// for the whitespace a scanner may add, and no more.
pub const MAX_INPUT_LEN: usize = 512;

/// `PREFIX` + base45.
pub(crate) fn encode(bytes: &[u8]) -> String {
    let mut s = String::from(PREFIX);
    s.push_str(&base45::encode(bytes));
    s
}

/// Checks the cap, trims ASCII whitespace (a wedge scanner's CR/LF or TAB, stray spaces) and the
/// prefix, and decodes base45. Base45 never ends in a space and the prefix protects the start,
/// so trimming cannot eat part of a ticket.
pub(crate) fn decode(input: &[u8]) -> Result<Vec<u8>, DecodeError> {
    if input.len() > MAX_INPUT_LEN {
        return Err(DecodeError::TooLong { len: input.len() });
    }
    let trimmed = input.trim_ascii();
    if trimmed.is_empty() {
        return Err(DecodeError::Empty);
    }
    let body = trimmed.strip_prefix(PREFIX.as_bytes()).ok_or(DecodeError::MissingPrefix)?;
    base45::decode(body).map_err(DecodeError::Base45)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_around_a_ticket_is_ignored() {
        let text = encode(b"\x01\x02\x03");
        let bytes = decode(format!(" \t{text}\r\n").as_bytes()).unwrap();
        assert_eq!(bytes, b"\x01\x02\x03");
    }

    #[test]
    fn oversized_input_is_refused_before_decoding() {
        // Not even a prefix check happens: the length alone decides.
        let junk = vec![b'!'; MAX_INPUT_LEN + 1];
        assert_eq!(decode(&junk), Err(DecodeError::TooLong { len: MAX_INPUT_LEN + 1 }));
    }

    #[test]
    fn other_codes_are_named_as_such() {
        assert_eq!(decode(b"https://example.com"), Err(DecodeError::MissingPrefix));
        assert_eq!(decode(b"vg1:ABC"), Err(DecodeError::MissingPrefix));
        assert_eq!(decode(b" \r\n"), Err(DecodeError::Empty));
    }
}
