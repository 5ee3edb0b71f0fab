//! The whole validator on arbitrary binary tickets at the demo gate. Inputs are the ticket's
//! bytes (encoded to text here), so the fuzzer explores fields rather than base45.
//!
//! Properties: it never panics, and a ticket passes only if its bytes are exactly what the
//! genuine signers produce for its claims. Ed25519 signing is deterministic, so re-signing the
//! claims must reproduce the input byte for byte; any other passing input would be a forgery or
//! a malleated signature. The seeds (from the test vectors) contain genuine tickets signed by
//! the demo key and the vectors' box-office device, so the fuzzer starts from passing inputs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;
use sync_core::admission::AdmissionState;
use sync_core::demo;
use sync_core::keys::{DeviceKey, EventKey};
use sync_core::manifest::EventManifest;
use sync_core::revocation::RevocationSet;
use sync_core::ticket::{SignedTicket, encode_text};
use sync_core::validate::{ScanContext, validate};

static GATE: LazyLock<(EventManifest, EventKey, ScanContext)> = LazyLock::new(demo::festival);
/// The box-office device of the test vectors.
static DEVICE: LazyLock<DeviceKey> = LazyLock::new(|| DeviceKey::from_seed([0x07; 32]));

fuzz_target!(|data: &[u8]| {
    let (manifest, key, ctx) = &*GATE;
    let verdict = validate(manifest, &RevocationSet::new(), &AdmissionState::new(), ctx, &encode_text(data));
    if !verdict.passes() {
        return;
    }
    let t = SignedTicket::from_bytes(data.to_vec()).expect("a passing ticket decodes").ticket().clone();
    let genuine = match &t.delegation {
        None => key.issue(t.serial, t.ticket_type, t.validity),
        Some(d) => {
            assert_eq!(d.grant.device_key, DEVICE.public_key(), "passed under a device key nobody holds");
            let signed = key.delegate(d.grant.clone()).expect("a delegation that passed is valid");
            DEVICE
                .issue(&signed, t.serial, t.ticket_type, t.validity, sync_core::Timestamp(0))
                .expect("covered by its delegation")
        }
    };
    assert_eq!(genuine.bytes(), data, "a ticket passed that its signers did not make: {verdict:?}");
});
