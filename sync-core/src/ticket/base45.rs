//! Base45 (RFC 9285), strict.
//!
//! Written by hand rather than taken from the `base45` crate because the ticket parser must
//! reject every non-canonical text: that crate silently truncates a final character pair whose
//! value exceeds 255 (so two different texts decode to the same bytes), and its error does not
//! say which character is wrong — a gate log needs to. The whole codec is forty lines.
//!
//! Two properties the ticket format relies on (docs/ticket-format.md §Text):
//! - every byte string has exactly one encoding and every text decodes to at most one byte
//!   string, so a changed character can never produce the same ticket;
//! - an encoding never ends in a space (the last character is at most `W` for a pair and at
//!   most `5` for a single byte), so trimming the whitespace a wedge scanner adds is safe.

/// The 45 characters of QR alphanumeric mode, in base45 digit order.
pub(crate) const ALPHABET: &[u8; 45] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

/// Why a text is not canonical base45.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Base45Error {
    /// A character outside the 45-character alphabet, at this character offset.
    InvalidChar {
        /// Offset of the character within the base45 part of the text.
        position: usize,
    },
    /// The text's length leaves one character alone (length ≡ 1 mod 3).
    InvalidLength,
    /// A group encodes a value too large for its bytes (over 65535 for three characters, over
    /// 255 for a final pair), starting at this character offset.
    ValueOutOfRange {
        /// Offset of the group's first character.
        position: usize,
    },
}

fn digit(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == c).and_then(|p| u32::try_from(p).ok())
}

fn char_of(d: u32) -> char {
    // `d < 45` holds for every caller: they pass remainders of division by 45.
    char::from(ALPHABET[(d % 45) as usize])
}

/// Encodes `bytes`: each pair (big-endian) becomes three characters, least significant first; a
/// final odd byte becomes two.
pub(crate) fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(2) * 3);
    for chunk in bytes.chunks(2) {
        match *chunk {
            [a, b] => {
                let n = u32::from(a) << 8 | u32::from(b);
                out.extend([char_of(n % 45), char_of(n / 45 % 45), char_of(n / 2025)]);
            }
            [a] => {
                let n = u32::from(a);
                out.extend([char_of(n % 45), char_of(n / 45)]);
            }
            _ => {}
        }
    }
    out
}

/// Decodes canonical base45; see [`Base45Error`] for what is refused.
pub(crate) fn decode(text: &[u8]) -> Result<Vec<u8>, Base45Error> {
    if text.len() % 3 == 1 {
        return Err(Base45Error::InvalidLength);
    }
    let mut out = Vec::with_capacity(text.len() / 3 * 2 + 1);
    for (group, chunk) in text.chunks(3).enumerate() {
        let start = group * 3;
        let mut value = 0u32;
        let mut weight = 1u32;
        for (i, &c) in chunk.iter().enumerate() {
            let d = digit(c).ok_or(Base45Error::InvalidChar { position: start + i })?;
            value += d * weight;
            weight *= 45;
        }
        let out_of_range = Base45Error::ValueOutOfRange { position: start };
        if chunk.len() == 3 {
            let pair = u16::try_from(value).map_err(|_| out_of_range)?;
            out.extend_from_slice(&pair.to_be_bytes());
        } else {
            out.push(u8::try_from(value).map_err(|_| out_of_range)?);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn matches_rfc_9285_examples() {
        assert_eq!(encode(b"AB"), "BB8");
        assert_eq!(encode(b"Hello!!"), "%69 VD92EX0");
        assert_eq!(encode(b"base-45"), "UJCLQE7W581");
        assert_eq!(decode(b"QED8WEX0").unwrap(), b"ietf!");
    }

    #[test]
    fn refuses_non_canonical_and_foreign_text() {
        assert_eq!(decode(b"GGW"), Err(Base45Error::ValueOutOfRange { position: 0 }));
        assert_eq!(decode(b"BB8ZZ"), Err(Base45Error::ValueOutOfRange { position: 3 }));
        assert_eq!(decode(b"BB8A"), Err(Base45Error::InvalidLength));
        assert_eq!(decode(b"BBa"), Err(Base45Error::InvalidChar { position: 2 }));
    }

    proptest! {
        #[test]
        fn round_trips_and_never_ends_in_space(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let text = encode(&bytes);
            prop_assert_eq!(decode(text.as_bytes()).unwrap(), bytes);
            prop_assert!(!text.ends_with(' '));
        }
    }
}
