//! The seat-plan readers on arbitrary bytes (organizers upload plans in the native format and
//! pretix's): never a panic; a plan that passes its checks survives a round trip through the
//! native format unchanged, and through pretix's with every seat kept.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sync_core::seating::{Plan, pretix};

fuzz_target!(|data: &[u8]| {
    if let Ok(plan) = Plan::from_json(data)
        && plan.check().is_ok()
    {
        let again = Plan::from_json(&serde_json::to_vec(&plan).unwrap()).expect("re-encoded plan reads");
        assert_eq!(again, plan);
    }
    if let Ok(plan) = pretix::import(data)
        && let Ok(summary) = plan.check()
    {
        let back = pretix::import(&serde_json::to_vec(&pretix::export(&plan)).unwrap()).expect("exported plan reads");
        assert_eq!(back.check().expect("exported plan passes").seats, summary.seats);
    }
});
