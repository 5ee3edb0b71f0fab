//! What organizers do in the console, over the REST API, on both backends: set up events
//! (refusing bad input without a trace), move them through their lifecycle, rotate keys, and
//! manage who may do what.

mod common;

use common::{BACKENDS, Organizer, PASSWORD, TestHub, festival};
use reqwest::Method;
use serde_json::{Value, json};

/// `festival()` with one field replaced.
fn with(path: &[&str], value: Value) -> Value {
    let mut event = festival();
    let mut at = &mut event;
    for key in path {
        at = match key.parse::<usize>() {
            Ok(i) => &mut at[i],
            Err(_) => &mut at[*key],
        };
    }
    *at = value;
    event
}

#[tokio::test]
async fn bad_events_are_refused_with_the_field_named_and_nothing_created() {
    for backend in BACKENDS {
        let hub = TestHub::start(backend).await;
        let owner = Organizer::create(&hub, "festival").await;
        let starts = festival()["starts_at"].clone();
        let cases = [
            (with(&["name"], json!("  ")), "name"),
            (with(&["time_zone"], json!("CEST")), "time_zone"),
            (with(&["ends_at"], starts), "ends_at"),
            (with(&["gates"], json!([])), "gates"),
            (with(&["ticket_types", "0", "currency"], json!("euro")), "ticket_types[0].currency"),
            (with(&["ticket_types", "0", "capacity"], json!(-1)), "ticket_types[0].capacity"),
            (with(&["ticket_types", "0", "price_minor"], json!(-5)), "ticket_types[0].price_minor"),
            (with(&["ticket_types", "0", "allowed_gates"], json!([9])), "ticket_types[0].allowed_gates"),
            (with(&["clock_skew_tolerance_secs"], json!(100_000)), "clock_skew_tolerance_secs"),
        ];
        for (body, field) in cases {
            let (status, problem) = owner.post("/api/v1/events", &body).await;
            assert_eq!((status, problem["field"].as_str()), (422, Some(field)), "{backend:?}: {problem}");
        }
        // Wrong types, unknown fields and broken JSON are 422 too, never 500.
        for body in [
            with(&["starts_at"], json!("tomorrow")),
            with(&["seating"], json!(true)),
            with(&["ticket_types", "0", "entry_policy"], json!("twice")),
        ] {
            let (status, problem) = owner.post("/api/v1/events", &body).await;
            assert_eq!(status, 422, "{problem}");
        }
        assert_eq!(
            owner.get("/api/v1/events").await["events"],
            json!([]),
            "{backend:?}: nothing was created"
        );
    }
}

#[tokio::test]
async fn an_event_moves_forward_through_its_lifecycle_and_rotates_keys() {
    for backend in BACKENDS {
        let hub = TestHub::start(backend).await;
        let owner = Organizer::create(&hub, "festival").await;
        let (status, created) = owner.post("/api/v1/events", &festival()).await;
        assert_eq!(status, 201, "{created}");
        let id = created["id"].as_i64().unwrap();
        let event = owner.get(&format!("/api/v1/events/{id}")).await;
        assert_eq!(event["status"], "draft");
        assert_eq!(event["gates"][1]["serves"], "exit_only");
        assert_eq!(event["ticket_types"][0]["capacity"], 1000);

        let status_to = |to: &str| {
            let owner = &owner;
            let body = json!({ "status": to });
            async move { owner.post(&format!("/api/v1/events/{id}/status"), &body).await }
        };
        assert_eq!(status_to("on_sale").await.0, 204);
        let (status, problem) = status_to("draft").await;
        assert_eq!((status, problem["code"].as_str()), (409, Some("invalid_status_change")), "{problem}");
        assert_eq!(problem["detail"], "an event that is on_sale cannot become draft");
        assert_eq!(status_to("live").await.0, 204);
        assert_eq!(status_to("ended").await.0, 204);
        assert_eq!(status_to("cancelled").await.0, 409, "an ended event stays ended");
        assert_eq!(status_to("sold_out").await.0, 422);

        // Rotation adds a key; tickets signed with the first stay valid (both are published).
        let manifest = owner.get(&format!("/api/v1/events/{id}/manifest")).await;
        assert_eq!(manifest["keys"].as_array().unwrap().len(), 1);
        let (status, rotated) = owner.post(&format!("/api/v1/events/{id}/keys"), &Value::Null).await;
        assert_eq!((status, rotated["key_id"].as_i64()), (200, Some(2)), "{rotated}");
        let manifest = owner.get(&format!("/api/v1/events/{id}/manifest")).await;
        let keys: Vec<i64> =
            manifest["keys"].as_array().unwrap().iter().map(|k| k["id"].as_i64().unwrap()).collect();
        assert_eq!(keys, [1, 2], "{backend:?}");
        // The hub is listed in its manifest, so devices accept what it signs.
        assert_eq!(manifest["devices"][0]["id"], 0);

        // The audit log has it all, newest first, page by page.
        let audit = owner.get("/api/v1/audit").await;
        let entries = audit["entries"].as_array().unwrap();
        let actions: Vec<&str> = entries.iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions.first(), Some(&"event.key_rotate"), "{actions:?}");
        assert!(
            entries
                .iter()
                .all(|e| e["actor"].as_str().unwrap().starts_with("user:") || e["actor"] == "system")
        );
        let oldest = entries.last().unwrap()["id"].as_i64().unwrap();
        let page = owner.get(&format!("/api/v1/audit?limit=1&before={}", entries[0]["id"])).await;
        assert_eq!(page["entries"].as_array().unwrap().len(), 1);
        assert_eq!(owner.get(&format!("/api/v1/audit?before={oldest}")).await["entries"], json!([]));
        for action in ["event.create", "event.status", "event.key_rotate"] {
            assert!(actions.contains(&action), "{action} missing from {actions:?}");
        }
    }
}

#[tokio::test]
async fn other_organizations_events_do_not_exist_for_you() {
    for backend in BACKENDS {
        let hub = TestHub::start(backend).await;
        let a = Organizer::create(&hub, "org-a").await;
        let b = Organizer::create(&hub, "org-b").await;
        let (_, created) = a.post("/api/v1/events", &festival()).await;
        let id = created["id"].as_i64().unwrap();
        for (method, path) in [
            (Method::GET, format!("/api/v1/events/{id}")),
            (Method::GET, format!("/api/v1/events/{id}/manifest")),
            (Method::POST, format!("/api/v1/events/{id}/keys")),
        ] {
            let (status, _) = b.send(method, &path, &Value::Null).await;
            assert_eq!(status, 404, "{backend:?}: {path}");
        }
        let (status, _) = b.post(&format!("/api/v1/events/{id}/status"), &json!({"status": "on_sale"})).await;
        assert_eq!(status, 404);
        let (status, _) = b
            .post("/api/v1/devices/enrollment-codes", &json!({"name": "x", "role": "gate", "events": [id]}))
            .await;
        assert_eq!(status, 422, "an enrollment code cannot name another organization's event");
        assert_eq!(b.get("/api/v1/events").await["events"], json!([]));
        assert_eq!(a.get(&format!("/api/v1/events/{id}")).await["status"], "draft", "nothing changed");
    }
}

#[tokio::test]
async fn members_get_roles_that_limit_them_and_an_organization_keeps_an_owner() {
    for backend in BACKENDS {
        let hub = TestHub::start(backend).await;
        let owner = Organizer::create(&hub, "festival").await;
        let add = |email: &str, role: &str| {
            let body = json!({"email": email, "name": "Someone", "role": role, "initial_password": PASSWORD});
            let owner = &owner;
            async move { owner.post("/api/v1/members", &body).await }
        };
        let (status, admin) = add("Admin@Festival.example", "admin").await;
        assert_eq!(status, 201, "{admin}");
        assert_eq!(admin["email"], "admin@festival.example");
        assert_eq!(add("viewer@festival.example", "viewer").await.0, 201);
        assert_eq!(add("gate@festival.example", "gate_staff").await.0, 201);
        let (status, problem) = add("viewer@festival.example", "admin").await;
        assert_eq!(status, 422, "an existing account keeps its password: {problem}");
        let (status, problem) = add("x@festival.example", "janitor").await;
        assert_eq!(status, 422, "{problem}");

        let viewer = Organizer::login(&hub, "viewer@festival.example").await;
        let gate = Organizer::login(&hub, "gate@festival.example").await;
        let admin_session = Organizer::login(&hub, "admin@festival.example").await;
        // Viewers and gate staff read but do not write.
        assert_eq!(viewer.get("/api/v1/events").await["events"], json!([]));
        for who in [&viewer, &gate] {
            assert_eq!(who.post("/api/v1/events", &festival()).await.0, 403, "{backend:?}");
            let code = json!({"name": "x", "role": "gate", "events": [1]});
            assert_eq!(who.post("/api/v1/devices/enrollment-codes", &code).await.0, 403);
            let member =
                json!({"email": "y@z.example", "name": "Y", "role": "viewer", "initial_password": PASSWORD});
            assert_eq!(who.post("/api/v1/members", &member).await.0, 403);
        }
        // Admins manage, but only owners make owners.
        assert_eq!(admin_session.post("/api/v1/events", &festival()).await.0, 201);
        let admin_id = admin["user_id"].as_i64().unwrap();
        let (status, _) = admin_session
            .send(Method::PATCH, &format!("/api/v1/members/{admin_id}"), &json!({"role": "owner"}))
            .await;
        assert_eq!(status, 403);
        // The last owner can neither step down nor be removed.
        let members = owner.get("/api/v1/members").await;
        let owner_id = members["members"].as_array().unwrap().iter().find(|m| m["role"] == "owner").unwrap()
            ["user_id"]
            .as_i64()
            .unwrap();
        let (status, problem) = owner
            .send(Method::PATCH, &format!("/api/v1/members/{owner_id}"), &json!({"role": "admin"}))
            .await;
        assert_eq!((status, problem["code"].as_str()), (409, Some("last_owner")), "{problem}");
        assert_eq!(
            owner.send(Method::DELETE, &format!("/api/v1/members/{owner_id}"), &Value::Null).await.0,
            409
        );
        // Promoted, the admin is an owner at once; then the first owner may step down.
        let (status, _) = owner
            .send(Method::PATCH, &format!("/api/v1/members/{admin_id}"), &json!({"role": "owner"}))
            .await;
        assert_eq!(status, 200);
        let (status, _) = owner
            .send(Method::PATCH, &format!("/api/v1/members/{owner_id}"), &json!({"role": "viewer"}))
            .await;
        assert_eq!(status, 200, "{backend:?}");
        assert_eq!(owner.post("/api/v1/events", &festival()).await.0, 403, "the role change applies at once");

        // A removed member's session ends with the membership.
        assert_eq!(owner.get("/api/v1/me").await["role"], "viewer");
        let members = admin_session.get("/api/v1/members").await;
        let gate_id = members["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["email"] == "gate@festival.example")
            .unwrap()["user_id"]
            .as_i64()
            .unwrap();
        assert_eq!(
            admin_session.send(Method::DELETE, &format!("/api/v1/members/{gate_id}"), &Value::Null).await.0,
            204
        );
        let (status, _) = gate.send(Method::GET, "/api/v1/events", &Value::Null).await;
        assert_eq!(status, 401, "{backend:?}");
    }
}
