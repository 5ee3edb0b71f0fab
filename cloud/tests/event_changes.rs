//! Changing an event after it was created: name and times, ticket types (edited and added),
//! gates added — each reaching the devices as a new manifest; and what is refused.

mod common;

use common::{BACKENDS, Organizer, TestHub, checkout, event_on_sale, press_pay, start_payment};
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_changes_and_its_manifest_follows() {
    for backend in BACKENDS {
        let hub = TestHub::start(backend).await;
        let owner = Organizer::create(&hub, "festival").await;
        let event = event_on_sale(&owner, 10, 4500).await;
        let (_, placed) = checkout(&hub, event, 3, None).await;
        press_pay(&hub, &start_payment(&hub, &placed).await).await;
        let patch = |path: String, body: Value| {
            let owner = &owner;
            async move { owner.send(Method::PATCH, &path, &body).await }
        };

        let (status, body) =
            patch(format!("/api/v1/events/{event}"), json!({"name": "Winter Festival"})).await;
        assert_eq!(status, 204, "{backend:?} {body}");
        let (status, added) = owner
            .post(
                &format!("/api/v1/events/{event}/ticket-types"),
                &json!({"name": "VIP", "price_minor": 9900, "currency": "EUR", "capacity": 20, "entry_policy": "exit_reentry"}),
            )
            .await;
        assert_eq!((status, added["number"].as_i64()), (201, Some(2)), "{added}");
        let (status, gate) =
            owner.post(&format!("/api/v1/events/{event}/gates"), &json!({"name": "VIP entrance"})).await;
        assert_eq!((status, gate["number"].as_i64()), (201, Some(3)), "{gate}");
        let (status, body) = patch(
            format!("/api/v1/events/{event}/ticket-types/1"),
            json!({"capacity": 50, "allowed_gates": [1, 3]}),
        )
        .await;
        assert_eq!(status, 204, "{body}");

        let detail = owner.get(&format!("/api/v1/events/{event}")).await;
        assert_eq!(detail["name"], "Winter Festival");
        assert_eq!(detail["ticket_types"][0]["capacity"], 50);
        assert_eq!(detail["ticket_types"][0]["allowed_gates"], json!([1, 3]));
        assert_eq!(detail["ticket_types"][1]["name"], "VIP");
        let manifest = owner.get(&format!("/api/v1/events/{event}/manifest")).await;
        let text = manifest.to_string();
        for expected in ["Winter Festival", "VIP", "VIP entrance"] {
            assert!(text.contains(expected), "{backend:?}: the manifest has {expected}: {text}");
        }

        // Refused, with the field or the reason, and nothing changed.
        for (path, body, status, words) in [
            (format!("/api/v1/events/{event}/ticket-types/1"), json!({"capacity": 2}), 409, "3 are sold"),
            (format!("/api/v1/events/{event}/ticket-types/1"), json!({"allowed_gates": [9]}), 422, "gate 9"),
            (format!("/api/v1/events/{event}/ticket-types/1"), json!({"currency": "USD"}), 422, "currency"),
            (format!("/api/v1/events/{event}/ticket-types/7"), json!({"capacity": 5}), 404, "not found"),
            (format!("/api/v1/events/{event}"), json!({"ends_at": 0}), 422, "ends_at"),
        ] {
            let (got, problem) = patch(path.clone(), body).await;
            assert_eq!(got, status, "{backend:?} {path}: {problem}");
            assert!(problem.to_string().contains(words), "{problem}");
        }
        assert_eq!(owner.get(&format!("/api/v1/events/{event}")).await["ticket_types"][0]["capacity"], 50);

        // A viewer may not; an ended event cannot change any more.
        let viewer = owner.add_member(&hub, "viewer@festival.example", "viewer").await;
        let (status, _) =
            viewer.send(Method::PATCH, &format!("/api/v1/events/{event}"), &json!({"name": "X"})).await;
        assert_eq!(status, 403);
        for to in ["live", "ended"] {
            assert_eq!(
                owner.post(&format!("/api/v1/events/{event}/status"), &json!({"status": to})).await.0,
                204
            );
        }
        let (status, problem) = patch(format!("/api/v1/events/{event}"), json!({"name": "Again"})).await;
        assert_eq!((status, problem["code"].as_str()), (409, Some("event_closed")), "{problem}");
    }
}
