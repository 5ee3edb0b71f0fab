//! Random secrets and codes the hub hands out: session and API tokens, order secrets, order
//! codes. Each draws from the system's random source; a failing source is an error, never a
//! weaker code.

/// Characters of codes people read or type: no 0/O, 1/I/L to misread.
pub const READABLE: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// A fresh random token (256 bits, hex).
pub fn random_token() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("system random source: {e}"))?;
    Ok(hex::encode(bytes))
}

/// `n` characters of [`READABLE`].
pub fn readable(n: usize) -> anyhow::Result<String> {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("system random source: {e}"))?;
    Ok(bytes.iter().map(|b| char::from(READABLE[usize::from(*b) % READABLE.len()])).collect())
}

/// A customer-facing order code: 8 characters that cannot be misread.
pub fn order_code() -> anyhow::Result<String> {
    readable(8)
}

/// Equality that takes the same time wherever the strings differ (comparing secrets: CSRF
/// tokens, order secrets, API keys).
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    #[test]
    fn codes_use_the_readable_alphabet_and_tokens_are_256_bits() {
        let code = super::order_code().unwrap();
        assert_eq!(code.len(), 8);
        assert!(code.bytes().all(|b| super::READABLE.contains(&b)));
        assert_eq!(super::random_token().unwrap().len(), 64);
        assert_ne!(super::random_token().unwrap(), super::random_token().unwrap());
    }
}
