//! The desk without a screen: a device enrolled earlier (its files on disk), no hub reachable.
//! The guest list checks people in up to their party's size, the sale screen's data says what
//! the leases allow, and the cashier's mistakes get sentences, not errors.

use boxoffice_app::desk::{Desk, DeskSettings, PaymentInput, REPLICA_FILE, SETTINGS_FILE};
use serde_json::Value;
use sync_core::demo;
use sync_core::documents::{DocId, GuestList};
use sync_core::ids::DeviceId;
use sync_core::replica::{Replica, ReplicaConfig};

/// A desk whose replica holds the demo festival's manifest and a guest list, enrolled with a
/// hub that is not there.
fn desk(dir: &std::path::Path) -> Desk {
    let replica = Replica::open(dir.join(REPLICA_FILE), ReplicaConfig::new(DeviceId(7))).unwrap();
    let (manifest, _, _) = demo::festival();
    replica.set_manifest(&manifest).unwrap();
    replica
        .edit_doc(&DocId::guest_list(demo::EVENT), |doc| {
            GuestList::add_guest(doc, "g1", "Zanele Mokoena", 2)?;
            GuestList::add_guest(doc, "g2", "Pieter de Wet", 0)
        })
        .unwrap();
    drop(replica);
    let settings = DeskSettings {
        hub_url: "http://127.0.0.1:9".into(),
        device: 7,
        events: vec![demo::EVENT.0],
        event: Some(demo::EVENT.0),
        pin_hash: app_core::pin::hash_pin("1357").unwrap(),
        pin_set_at: 0,
    };
    app_core::json_file::save(dir, SETTINGS_FILE, &settings).unwrap();
    Desk::open(dir.to_owned(), "test", tokio::runtime::Handle::current()).unwrap()
}

#[tokio::test]
async fn guests_are_checked_in_up_to_their_party_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let desk = desk(dir.path());
    let names: Vec<String> = desk.guests("").unwrap().iter().map(|g| field(g, "name")).collect();
    assert_eq!(names, ["Pieter de Wet", "Zanele Mokoena"], "sorted by name");
    assert_eq!(desk.guests("  mokoe ").unwrap().len(), 1, "any part of the name, any case");

    desk.check_in("g1", 2).unwrap();
    let refused = desk.check_in("g1", 2).unwrap_err().to_string();
    assert_eq!(refused, "Zanele Mokoena has 1 of 3 places left.");
    desk.check_in("g1", 1).unwrap();
    assert!(desk.check_in("nobody", 1).is_err());
    drop(desk);

    let desk = Desk::open(dir.path().to_owned(), "test", tokio::runtime::Handle::current()).unwrap();
    let zanele = desk.guests("zanele").unwrap().remove(0);
    assert_eq!((count(&zanele, "checked_in"), count(&zanele, "remaining")), (3, 0));
}

#[tokio::test]
async fn without_a_lease_or_a_shift_the_cashier_is_told_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let desk = desk(dir.path());
    let cash = PaymentInput { method: "cash".into(), tendered_minor: None, text: None, voucher: None };
    assert_eq!(
        desk.sell(1, 2, &[], &cash, 0).unwrap_err().to_string(),
        "Open a shift first (with the cash float in the drawer)."
    );
    desk.open_shift("Anna", 10_000).unwrap();
    // The demo manifest has no door prices: only a comp can be given, and there is no lease.
    assert!(desk.sell(1, 2, &[], &cash, 0).unwrap_err().to_string().contains("no price"));
    let comp = PaymentInput {
        method: "comp".into(),
        tendered_minor: None,
        text: Some("press".into()),
        voucher: None,
    };
    // A card is not charged for a sale the leases cannot cover.
    let card =
        PaymentInput { method: "card".into(), tendered_minor: None, text: Some("T-1".into()), voucher: None };
    assert!(desk.sell(1, 2, &[], &card, 0).unwrap_err().to_string().starts_with("No “Day ticket” left"));
    assert_eq!(
        desk.sell(1, 2, &[], &comp, 0).unwrap_err().to_string(),
        "No “Day ticket” left on this device's lease: request more rights when online."
    );
    let status = serde_json::to_value(desk.status(0)).unwrap();
    assert_eq!(status["ready"], true);
    assert_eq!(status["shift"]["cashier"], "Anna");
    assert_eq!(status["types"][0]["left"], 0);
    // Asking for rights with the hub away says so in words.
    let asked = desk.request_rights(1, 10).await.unwrap_err().to_string();
    assert!(asked.contains("cannot be reached"), "{asked}");
    assert!(desk.close_shift(-1, 0).is_err(), "a negative count");
    let closed = serde_json::to_value(desk.close_shift(10_000, 0).unwrap()).unwrap();
    assert_eq!(closed["difference_minor"], 0);
    assert!(std::fs::read(closed["pdf"].as_str().unwrap()).unwrap().starts_with(b"%PDF-"));
    let csv = std::fs::read_to_string(closed["csv"].as_str().unwrap()).unwrap();
    assert!(csv.starts_with("section,ticket_type,method,"), "{csv}");
}

fn field(v: &impl serde::Serialize, name: &str) -> String {
    serde_json::to_value(v).unwrap()[name].as_str().unwrap().to_owned()
}

fn count(v: &impl serde::Serialize, name: &str) -> u64 {
    let value: Value = serde_json::to_value(v).unwrap();
    value[name].as_u64().unwrap()
}
