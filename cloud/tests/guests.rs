//! Guest lists against the real hub: the organizer keeps the list through the API while a box
//! office checks the party in, each side working on its own copy of the automerge document and
//! converging through the ordinary sync.

mod common;

use common::{BACKENDS, Organizer, TestHub, enroll, enrollment_code, event_on_sale};
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use sync_core::documents::{DocId, Guest, GuestList};
use sync_core::hlc::Hlc;
use sync_core::ids::EventId;
use sync_core::journal::HUB;
use sync_core::replica::Replica;
use sync_core::sync::http::HttpTransport;
use sync_core::sync::sync_with;

/// One exchange with the hub at `url`; a sync that does not settle fails the test in a minute
/// rather than hanging it.
async fn sync(device: &Arc<Replica>, url: &str) {
    let transport = HttpTransport::new(url, Arc::clone(device), HUB).unwrap();
    tokio::time::timeout(Duration::from_secs(60), sync_with(&**device, &transport))
        .await
        .expect("sync settles")
        .unwrap();
}

fn door_list(device: &Replica, event: i64) -> Vec<Guest> {
    device.read_doc(&DocId::guest_list(EventId(u32::try_from(event).unwrap())), GuestList::guests)
}

/// (name, plus_ones, checked_in) of every guest, as the hub lists them.
async fn office_list(owner: &Organizer, event: i64) -> Vec<(String, u64, u64)> {
    let list = owner.get(&format!("/api/v1/events/{event}/guests")).await;
    list["guests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["name"].as_str().unwrap().to_owned(),
                g["plus_ones"].as_u64().unwrap(),
                g["checked_in"].as_u64().unwrap(),
            )
        })
        .collect()
}

async fn add(owner: &Organizer, event: i64, name: &str, plus_ones: u32) -> String {
    let (status, added) = owner
        .post(&format!("/api/v1/events/{event}/guests"), &json!({"name": name, "plus_ones": plus_ones}))
        .await;
    assert_eq!(status, 201, "{added}");
    added["id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_office_keeps_the_list_while_the_door_checks_guests_in() {
    for backend in BACKENDS {
        let hub = TestHub::start(backend).await;
        let dir = tempfile::tempdir().unwrap();
        let owner = Organizer::create(&hub, "festival").await;
        let event = event_on_sale(&owner, 10, 4500).await;
        let door =
            enroll(&hub, dir.path(), &enrollment_code(&owner, "Door", "box_office", event).await).await;
        let doc = DocId::guest_list(EventId(u32::try_from(event).unwrap()));

        // The office adds Ada with one companion; the door learns of her at its next sync.
        let ada = add(&owner, event, "  Ada Lovelace ", 1).await;
        sync(&door, &hub.url).await;
        let at_door = door_list(&door, event);
        assert_eq!(at_door.len(), 1, "{backend:?}");
        assert_eq!((at_door[0].name.as_str(), at_door[0].plus_ones), ("Ada Lovelace", 1));

        // Apart: the door checks Ada and her companion in; the office adds Grace and allows
        // Ada a second companion.
        door.edit_doc(&doc, |d| GuestList::check_in(d, &ada, 2, door.device(), Hlc(1))).unwrap();
        add(&owner, event, "Grace Hopper", 0).await;
        let (status, body) = owner
            .send(
                Method::PUT,
                &format!("/api/v1/events/{event}/guests/{ada}"),
                &json!({"name": "Ada Lovelace", "plus_ones": 2}),
            )
            .await;
        assert_eq!(status, 204, "{body}");

        // Both sides' facts survive, on both sides.
        sync(&door, &hub.url).await;
        let expected = vec![("Ada Lovelace".to_owned(), 2, 2), ("Grace Hopper".to_owned(), 0, 0)];
        assert_eq!(office_list(&owner, event).await, expected, "{backend:?}");
        let at_door: Vec<_> = door_list(&door, event)
            .into_iter()
            .map(|g| (g.name, u64::from(g.plus_ones), u64::from(g.checked_in)))
            .collect();
        assert_eq!(at_door, expected, "{backend:?}");
        let found = owner.get(&format!("/api/v1/events/{event}/guests?q=GRACE")).await;
        assert_eq!(found["guests"].as_array().unwrap().len(), 1);

        // A guest already checked in stays on the list; one not yet in can be taken off.
        let remove = |id: String| {
            let owner = &owner;
            async move {
                owner.send(Method::DELETE, &format!("/api/v1/events/{event}/guests/{id}"), &Value::Null).await
            }
        };
        let (status, problem) = remove(ada.clone()).await;
        assert_eq!((status, problem["code"].as_str()), (409, Some("guest_checked_in")), "{problem}");
        let grace = owner.get(&format!("/api/v1/events/{event}/guests?q=grace")).await["guests"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(remove(grace.clone()).await.0, 204);
        assert_eq!(remove(grace).await.0, 404, "already gone");
        sync(&door, &hub.url).await;
        assert_eq!(door_list(&door, event).len(), 1, "{backend:?}: the door no longer lists Grace");

        // Every change is in the audit log.
        let audit = owner.get("/api/v1/audit").await;
        let actions: Vec<&str> =
            audit["entries"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
        for action in ["guest.add", "guest.edit", "guest.remove"] {
            assert!(actions.contains(&action), "{backend:?}: {action} audited: {actions:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guest_lists_stay_within_their_event_and_organization() {
    for backend in BACKENDS {
        let hub = TestHub::start(backend).await;
        let dir = tempfile::tempdir().unwrap();
        let owner = Organizer::create(&hub, "festival").await;
        let event = event_on_sale(&owner, 10, 4500).await;
        let other_event = event_on_sale(&owner, 10, 4500).await;
        let door =
            enroll(&hub, dir.path(), &enrollment_code(&owner, "Door", "box_office", event).await).await;
        let elsewhere =
            enroll(&hub, dir.path(), &enrollment_code(&owner, "Other door", "box_office", other_event).await)
                .await;
        add(&owner, event, "Ada Lovelace", 0).await;
        sync(&door, &hub.url).await;
        sync(&elsewhere, &hub.url).await;
        assert_eq!(door_list(&door, event).len(), 1);
        assert!(door_list(&elsewhere, event).is_empty(), "{backend:?}: another event's door gets no names");

        // Bad input is refused with the field named, and changes nothing.
        let path = format!("/api/v1/events/{event}/guests");
        for (body, field) in [
            (json!({"name": "   "}), "name"),
            (json!({"name": "A\r\nBcc: x"}), "name"),
            (json!({"name": "x".repeat(201)}), "name"),
            (json!({"name": "Ada", "plus_ones": 51}), "plus_ones"),
            (json!({"name": "Ada", "plus_ones": -1}), ""),
            (json!({"name": "Ada", "vip": true}), ""),
        ] {
            let (status, problem) = owner.post(&path, &body).await;
            assert_eq!(status, 422, "{body}: {problem}");
            assert!(problem.to_string().contains(field), "{problem}");
        }
        assert_eq!(office_list(&owner, event).await.len(), 1);

        // A viewer reads but may not edit; another organization sees nothing at all.
        let viewer = owner.add_member(&hub, "viewer@festival.example", "viewer").await;
        assert_eq!(office_list(&viewer, event).await.len(), 1);
        assert_eq!(viewer.post(&path, &json!({"name": "Mallory"})).await.0, 403);
        let stranger = Organizer::create(&hub, "other").await;
        let (status, _) = stranger.send(Method::GET, &path, &Value::Null).await;
        assert_eq!(status, 404, "{backend:?}");
        assert_eq!(stranger.post(&path, &json!({"name": "Mallory"})).await.0, 404);
        assert_eq!(stranger.send(Method::GET, "/api/v1/events/999999/guests", &Value::Null).await.0, 404);
        assert_eq!(office_list(&owner, event).await.len(), 1);
    }
}

/// Two hub instances over one PostgreSQL: a name added through one reaches a door syncing
/// through the other, and the door's check-in is listed by the first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_through_one_instance_reaches_a_door_on_another() {
    let hub = TestHub::start(cloud::db::Backend::Postgres).await;
    let other = hub.another_instance().await;
    let dir = tempfile::tempdir().unwrap();
    let owner = Organizer::create(&hub, "festival").await;
    let event = event_on_sale(&owner, 10, 4500).await;
    let door = enroll(&hub, dir.path(), &enrollment_code(&owner, "Door", "box_office", event).await).await;
    let doc = DocId::guest_list(EventId(u32::try_from(event).unwrap()));
    let ada = add(&owner, event, "Ada Lovelace", 0).await;
    sync(&door, &other.url).await;
    assert_eq!(door_list(&door, event).len(), 1);
    door.edit_doc(&doc, |d| GuestList::check_in(d, &ada, 1, door.device(), Hlc(1))).unwrap();
    sync(&door, &other.url).await;
    // Both instances have edited as themselves by now: the first adds another name.
    add(&owner, event, "Grace Hopper", 0).await;
    sync(&door, &other.url).await;
    assert_eq!(
        office_list(&owner, event).await,
        vec![("Ada Lovelace".to_owned(), 0, 1), ("Grace Hopper".to_owned(), 0, 0)]
    );
    assert_eq!(door_list(&door, event).len(), 2);

    // Organizers on both instances add at once: every name is kept, whichever instance took
    // which chunk number first, and each instance lists them all.
    let there = owner.at(&other.url);
    let mut adds = tokio::task::JoinSet::new();
    for i in 0..8 {
        let who = if i % 2 == 0 { owner.at(&hub.url) } else { owner.at(&other.url) };
        adds.spawn(async move { add(&who, event, &format!("Guest {i}"), 0).await });
    }
    while let Some(added) = adds.join_next().await {
        added.unwrap();
    }
    for who in [&owner, &there] {
        assert_eq!(office_list(who, event).await.len(), 10);
    }
    sync(&door, &hub.url).await;
    assert_eq!(door_list(&door, event).len(), 10);
}
