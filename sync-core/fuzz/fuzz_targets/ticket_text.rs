//! The ticket text parser on arbitrary bytes: it must never panic, must refuse anything over
//! the input cap before decoding, and whatever it accepts must re-encode to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sync_core::ticket::{DecodeError, MAX_INPUT_LEN, SignedTicket, encode_text};

fuzz_target!(|data: &[u8]| {
    match SignedTicket::from_text_bytes(data) {
        Err(DecodeError::TooLong { len }) => assert!(len > MAX_INPUT_LEN),
        Err(_) => assert!(data.len() <= MAX_INPUT_LEN),
        Ok(ticket) => {
            let again = SignedTicket::from_text(&ticket.to_text()).expect("re-encoded ticket decodes");
            assert_eq!(again, ticket);
        }
    }
    // The same bytes as the binary form behind a valid prefix: reaches the field decoder
    // without the fuzzer having to discover base45 first.
    if let Ok(ticket) = SignedTicket::from_text(&encode_text(data)) {
        assert_eq!(ticket.bytes(), data);
    }
});
