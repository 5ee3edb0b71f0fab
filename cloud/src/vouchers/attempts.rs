//! Unknown voucher codes per client address: the brake on guessing codes through the shop.
//!
//! An address may enter [`ALLOWED`] codes that do not exist per [`WINDOW_MS`] (an hour);
//! after that every code it enters — even a valid one — is answered 429 until the oldest
//! failure is an hour old, so an enumeration learns nothing more. With generated codes of
//! 12 characters from 31 (31¹² ≈ 7.9·10¹⁷, 59.5 bits) and 10,000 valid codes in an event, a
//! guess hits a valid code with probability 1.3·10⁻¹⁴: ~7.9·10¹³ guesses per hit. One address
//! at 20 an hour: never; a botnet of 100,000 addresses guesses 2·10⁶ times an hour and would
//! expect its first hit after ~4,500 years.
//!
//! Hand-written rather than `governor` (which checkout's own rate limit uses): only failures
//! may count, and governor cannot ask "is this key over its limit?" without spending a cell.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// Unknown codes an address may enter per window.
pub const ALLOWED: usize = 20;
/// The window.
pub const WINDOW_MS: i64 = 60 * 60 * 1000;
/// Addresses remembered before the oldest entries are dropped (bounds memory under a flood
/// of addresses: ~10 MB at most).
const MAX_ADDRESSES: usize = 100_000;

/// Failed attempts per address: the times of the last [`ALLOWED`] within the window.
#[derive(Default)]
pub struct Attempts {
    failures: Mutex<HashMap<String, VecDeque<i64>>>,
}

impl Attempts {
    /// Whether `address` may try a code at `now`; if not, how many seconds until it may.
    pub fn check(&self, address: &str, now: i64) -> Result<(), u64> {
        let failures = self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match failures.get(address) {
            Some(times) if times.len() >= ALLOWED => {
                let oldest = times.front().copied().unwrap_or(now);
                let wait = oldest + WINDOW_MS - now;
                if wait > 0 { Err(u64::try_from((wait + 999) / 1000).unwrap_or(1)) } else { Ok(()) }
            }
            _ => Ok(()),
        }
    }

    /// `address` entered a code that does not exist at `now`.
    pub fn failed(&self, address: &str, now: i64) {
        let mut failures = self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if failures.len() >= MAX_ADDRESSES && !failures.contains_key(address) {
            failures.retain(|_, times| times.back().is_some_and(|t| *t > now - WINDOW_MS));
            if failures.len() >= MAX_ADDRESSES {
                failures.clear();
            }
        }
        let times = failures.entry(address.to_owned()).or_default();
        while times.front().is_some_and(|t| *t <= now - WINDOW_MS) || times.len() >= ALLOWED {
            times.pop_front();
        }
        times.push_back(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_stopped_after_its_allowance_for_an_hour_and_others_are_not() {
        let attempts = Attempts::default();
        for i in 0..ALLOWED {
            assert_eq!(attempts.check("1.2.3.4", 1000), Ok(()), "attempt {i}");
            attempts.failed("1.2.3.4", 1000);
        }
        assert_eq!(attempts.check("1.2.3.4", 1000), Err(3600));
        assert_eq!(attempts.check("5.6.7.8", 1000), Ok(()));
        assert_eq!(attempts.check("1.2.3.4", 1000 + WINDOW_MS - 1), Err(1));
        assert_eq!(attempts.check("1.2.3.4", 1000 + WINDOW_MS), Ok(()));
    }
}
