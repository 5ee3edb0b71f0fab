//! Phone numbers as texts are sent to: E.164 (`+` and the country code, 8 to 15 digits in
//! all). Written here rather than with a port of libphonenumber: the hub needs only the
//! international form a provider accepts, not each country's numbering plan (the provider
//! refuses a number that does not exist, and that refusal fails the text for good).

/// `raw` as E.164 (`+31 6 1234-5678` → `+31612345678`; `0031…` → `+31…`), or why not.
/// Spaces, dashes, dots and brackets between the digits are allowed, as people write them.
pub fn normalize(raw: &str) -> Result<String, &'static str> {
    const WHY: &str = "a phone number in international form, like +31 6 12345678";
    let trimmed = raw.trim();
    let rest = if let Some(r) = trimmed.strip_prefix('+') {
        r
    } else if let Some(r) = trimmed.strip_prefix("00") {
        r
    } else {
        return Err(WHY);
    };
    // "+31 (0)6 …": the (0) is the trunk prefix dialled at home, never part of the number.
    let rest = rest.replacen("(0)", "", 1);
    let mut digits = String::with_capacity(16);
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => return Err(WHY),
        }
    }
    if !(8..=15).contains(&digits.len()) || digits.starts_with('0') {
        return Err(WHY);
    }
    Ok(format!("+{digits}"))
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn numbers_as_people_write_them_become_e164() {
        assert_eq!(normalize(" +31 6 1234-5678 ").as_deref(), Ok("+31612345678"));
        assert_eq!(normalize("0049 (30) 123.4567").as_deref(), Ok("+49301234567"));
        assert_eq!(normalize("+1 415 523 8886").as_deref(), Ok("+14155238886"));
        assert_eq!(normalize("+31 (0)6 12345678").as_deref(), Ok("+31612345678"), "the trunk (0) dropped");
        assert_eq!(normalize("+44 (0)7700 900123").as_deref(), Ok("+447700900123"));
        for bad in [
            "",
            "0612345678",
            "+",
            "+0612345678",
            "+31 6 12",
            "+31612345678901234",
            "+31 6 ABC",
            "+31\n612345678",
        ] {
            assert!(normalize(bad).is_err(), "{bad:?}");
        }
    }

    proptest::proptest! {
        /// Whatever is typed, a number comes out in E.164 or it is refused: never something
        /// else a provider would be handed.
        #[test]
        fn whatever_is_typed_comes_out_e164_or_refused(raw in "\\PC{0,24}") {
            if let Ok(n) = normalize(&raw) {
                proptest::prop_assert!(n.starts_with('+') && (9..=16).contains(&n.len()));
                proptest::prop_assert!(n[1..].chars().all(|c| c.is_ascii_digit()) && !n[1..].starts_with('0'));
            }
        }
    }
}
