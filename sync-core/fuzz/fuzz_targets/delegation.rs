//! A lease's delegation bytes (they reach a box office through sync): the parser must never
//! panic, and whatever it accepts must re-encode to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sync_core::keys::SignedDelegation;

fuzz_target!(|data: &[u8]| {
    if let Ok(delegation) = SignedDelegation::from_bytes(data) {
        assert_eq!(delegation.to_bytes(), data);
    }
});
