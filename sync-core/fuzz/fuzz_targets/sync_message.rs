//! The sync message decoder on arbitrary bytes (what a peer or the network sends): never
//! panics, refuses oversized input before decoding, and whatever it accepts re-encodes to a
//! message that decodes to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sync_core::sync::message::MAX_MESSAGE_BYTES;
use sync_core::sync::{Framed, SyncRequest, SyncResponse};

fn check<M: Framed + PartialEq + std::fmt::Debug>(data: &[u8]) {
    match M::decode(data) {
        Ok(message) => assert_eq!(M::decode(&message.encode()).unwrap(), message),
        Err(_) => {}
    }
}

fuzz_target!(|data: &[u8]| {
    assert!(data.len() <= MAX_MESSAGE_BYTES || SyncRequest::decode(data).is_err());
    // Behind a valid header, so the fuzzer reaches the body decoder at once.
    let mut framed = b"VGSYNC\x00\x01".to_vec();
    framed.extend_from_slice(data);
    for bytes in [data, &framed[..]] {
        check::<SyncRequest>(bytes);
        check::<SyncResponse>(bytes);
    }
});
