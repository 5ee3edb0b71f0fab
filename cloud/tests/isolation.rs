//! Organizations cannot see each other: row-level security on PostgreSQL as the second wall,
//! checked from the catalog and by queries that forget to name their organization.

mod common;

use cloud::db::Backend;
use common::{Organizer, TestHub, festival};
use serde_json::{Value, json};

/// Tables that belong to no organization.
const GLOBAL_TABLES: &[&str] = &[
    "_sqlx_migrations",
    "hub_identity",
    "psp_events",
    "rate_limits",
    "request_nonces",
    "schema_compatibility",
    "users",
];

#[tokio::test]
async fn every_tenant_table_has_row_level_security_enabled_and_forced() {
    let hub = TestHub::start(Backend::Postgres).await;
    let mut tx = hub.inspect().await;
    let tables: Vec<(String, bool, bool, i64)> = sqlx::query_as(
        "SELECT c.relname::TEXT, c.relrowsecurity, c.relforcerowsecurity, \
                (SELECT COUNT(*) FROM pg_policies p WHERE p.tablename = c.relname) \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 1",
    )
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    assert!(tables.len() > 20, "{tables:?}");
    for (table, enabled, forced, policies) in &tables {
        if GLOBAL_TABLES.contains(&table.as_str()) {
            continue;
        }
        assert!(
            *enabled && *forced && *policies > 0,
            "{table}: enabled {enabled}, forced {forced}, policies {policies}"
        );
    }
    // The hub's queries run as a role the policies bind: no superuser, no BYPASSRLS, owning
    // no table.
    let (user, superuser, bypass): (String, bool, bool) = sqlx::query_as(
        "SELECT current_user::TEXT, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    assert_eq!((user.as_str(), superuser, bypass), (cloud::db::APP_ROLE, false, false));
    let owned: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname = current_user",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    assert_eq!(owned, 0);
}

#[tokio::test]
async fn a_query_that_forgets_its_organization_sees_only_its_own_rows() {
    let hub = TestHub::start(Backend::Postgres).await;
    let a = Organizer::create(&hub, "org-a").await;
    let b = Organizer::create(&hub, "org-b").await;
    for org in [&a, &b] {
        assert_eq!(org.post("/api/v1/events", &festival()).await.0, 201);
    }
    // No WHERE org_id: row-level security filters.
    let count = |sql: &'static str, org: Option<i64>| {
        let db = hub.db.clone();
        async move {
            match org {
                Some(org) => {
                    let mut tx = db.tenant(org).await.unwrap();
                    sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut *tx).await.unwrap()
                }
                // A plain connection of the hub's pool: neither an organization nor a system
                // lookup.
                None => sqlx::query_scalar::<_, i64>(sql).fetch_one(db.pool()).await.unwrap(),
            }
        }
    };
    assert_eq!(count("SELECT COUNT(*) FROM events", Some(a.org_id)).await, 1);
    assert_eq!(count("SELECT COUNT(*) FROM ticket_types", Some(b.org_id)).await, 1);
    assert_eq!(count("SELECT COUNT(*) FROM organizations", Some(a.org_id)).await, 1);
    assert_eq!(count("SELECT COUNT(*) FROM events", None).await, 0, "no organization, no rows");
    assert_eq!(count("SELECT COUNT(*) FROM memberships", None).await, 0);
    assert_eq!(hub.number("SELECT COUNT(*) FROM events").await, 2, "a system lookup sees both");

    // Writing into another organization is refused by the policy's check.
    let mut tx = hub.db.tenant(a.org_id).await.unwrap();
    let err =
        sqlx::query("UPDATE events SET org_id = $1").bind(b.org_id).execute(&mut *tx).await.unwrap_err();
    assert!(err.to_string().contains("row-level security"), "{err}");
    drop(tx);
    let mut tx = hub.db.tenant(a.org_id).await.unwrap();
    let moved = sqlx::query("UPDATE ticket_types SET capacity = 0 WHERE org_id = $1")
        .bind(b.org_id)
        .execute(&mut *tx)
        .await
        .unwrap();
    assert_eq!(moved.rows_affected(), 0, "B's rows are invisible to A's transaction");
}

/// Organization A's objects of every kind, for B to reach for.
struct Objects {
    event: i64,
    device: i64,
    lease: i64,
    token: i64,
    member: i64,
    order: String,
    guest: String,
    voucher: String,
    rule: i64,
    plan: i64,
    webhook: i64,
    delivery: i64,
    schedule: i64,
}

/// A seat plan with one seat.
fn small_plan() -> Value {
    json!({"name": "Room", "size": {"width": 100, "height": 100}, "categories": [{"name": "stalls", "color": "#c33"}],
        "sections": [{"name": "Room", "rows": [{"label": "A", "seats": [{"id": "A-1", "label": "1", "x": 50, "y": 50, "category": "stalls"}]}]}]})
}

async fn objects_of(hub: &TestHub, a: &Organizer) -> Objects {
    let event = common::event_on_sale(a, 100, 1000).await;
    let dir = tempfile::tempdir().unwrap();
    let desk =
        common::enroll(hub, dir.path(), &common::enrollment_code(a, "Desk", "box_office", event).await).await;
    let (_, lease) = a
        .post(
            &format!("/api/v1/events/{event}/leases"),
            &json!({"device_id": desk.device().0, "ticket_type": 1, "quantity": 5}),
        )
        .await;
    let (_, token) = a.post("/api/v1/tokens", &json!({"name": "ci"})).await;
    let (_, member) = a
        .post("/api/v1/members", &json!({"email": "viewer@a.example", "name": "V", "role": "viewer", "initial_password": common::PASSWORD}))
        .await;
    let (_, placed) = common::checkout(hub, event, 1, None).await;
    common::press_pay(hub, &common::start_payment(hub, &placed).await).await;
    let (_, guest) = a.post(&format!("/api/v1/events/{event}/guests"), &json!({"name": "Ada"})).await;
    let (_, voucher) = a
        .post(
            &format!("/api/v1/events/{event}/vouchers"),
            &json!({"code": "SPONSOR", "terms": {"price": {"mode": "unlock"}}}),
        )
        .await;
    let (_, rule) = a
        .post(
            &format!("/api/v1/events/{event}/discounts"),
            &json!({"name": "Early", "effect": {"mode": "percent", "percent": 10}}),
        )
        .await;
    let (_, plan) = a.post("/api/v1/seat-plans", &small_plan()).await;
    let (_, hook) = a
        .post("/api/v1/webhooks", &json!({"url": "https://partner.example/", "event_types": ["order.paid"]}))
        .await;
    let webhook = hook["endpoint"]["id"].as_i64().unwrap();
    a.post(&format!("/api/v1/webhooks/{webhook}/test"), &Value::Null).await;
    let delivery = a.get(&format!("/api/v1/webhooks/{webhook}/deliveries")).await["deliveries"][0]["id"]
        .as_i64()
        .unwrap();
    let wording = json!({"subject": "Hi {{ buyer.name }}", "body": "A's own words"});
    let worded = format!("/api/v1/events/{event}/message-templates/order_confirmation/en");
    assert_eq!(a.send(reqwest::Method::PUT, &worded, &wording).await.0, 200);
    let (_, schedule) = a
        .post(
            &format!("/api/v1/events/{event}/report-schedules"),
            &json!({"report": "sales", "time": "08:00", "roles": ["owner"]}),
        )
        .await;
    Objects {
        schedule: schedule["id"].as_i64().unwrap(),
        webhook,
        delivery,
        plan: plan["id"].as_i64().unwrap(),
        event,
        device: i64::from(desk.device().0),
        lease: lease["id"].as_i64().unwrap(),
        token: token["id"].as_i64().unwrap(),
        member: member["user_id"].as_i64().unwrap(),
        order: placed["code"].as_str().unwrap().to_owned(),
        guest: guest["id"].as_str().unwrap().to_owned(),
        voucher: voucher["code"].as_str().unwrap().to_owned(),
        rule: rule["id"].as_i64().unwrap(),
    }
}

/// A body that passes validation for each operation taking one, so that only the object's
/// owner decides the answer.
fn valid_body(method: &str, path: &str) -> Value {
    let later = sync_core::ids::Timestamp::now().0 + 3_600_000;
    match (method, path) {
        ("POST", "/api/v1/events/{id}/status") => json!({"status": "cancelled"}),
        ("POST", "/api/v1/events/{id}/leases") => json!({"device_id": 1, "ticket_type": 1, "quantity": 1}),
        ("POST", "/api/v1/leases/{id}/extend") => json!({"expires_at": later}),
        ("PATCH", "/api/v1/members/{user_id}") => json!({"role": "admin"}),
        ("POST", "/api/v1/orders/{code}/refunds" | "/api/v1/orders/{code}/revocations") => {
            json!({"reason": "test"})
        }
        ("POST", "/api/v1/events/{id}/guests") | ("PUT", "/api/v1/events/{id}/guests/{guest}") => {
            json!({"name": "Mallory"})
        }
        ("PATCH", "/api/v1/events/{id}") => json!({"name": "Mallory's"}),
        ("PATCH", "/api/v1/webhooks/{id}") => json!({"url": "https://mallory.example/"}),
        ("PUT", "/api/v1/events/{id}/message-templates/{kind}/{lang}") => {
            json!({"subject": "Mallory's", "body": "Mallory's words"})
        }
        ("POST", "/api/v1/webhooks/{id}/replay") => json!({"since": 0}),
        ("POST", "/api/v1/events/{id}/report-schedules") => {
            json!({"report": "sales", "time": "08:00", "roles": ["owner"]})
        }
        ("PATCH", "/api/v1/report-schedules/{id}") => json!({"roles": ["owner", "viewer"], "time": "09:00"}),
        ("PATCH", "/api/v1/devices/{id}") => json!({"name": "Mallory's", "pin": "1234"}),
        ("PATCH", "/api/v1/events/{id}/ticket-types/{number}") => json!({"capacity": 1000}),
        ("POST", "/api/v1/events/{id}/gates") => json!({"name": "Back door"}),
        ("POST", "/api/v1/events/{id}/vouchers") => {
            json!({"terms": {"price": {"mode": "percent", "percent": 50}, "max_uses": 100}})
        }
        ("POST", "/api/v1/events/{id}/voucher-batches") => {
            json!({"count": 5, "terms": {"price": {"mode": "unlock"}}})
        }
        ("PATCH", "/api/v1/events/{id}/vouchers/{code}") => json!({"blocked": true}),
        ("POST", "/api/v1/events/{id}/vouchers/{code}/leases") => json!({"device_id": 1, "uses": 1}),
        ("POST", "/api/v1/events/{id}/discounts") => {
            json!({"name": "Cheap", "effect": {"mode": "set", "price_minor": 0}})
        }
        ("POST" | "PUT", "/api/v1/seat-plans" | "/api/v1/seat-plans/{id}") => small_plan(),
        ("PUT", "/api/v1/events/{id}/seating") => json!({"plan": 1, "categories": {"stalls": 1}}),
        ("POST", "/api/v1/events/{id}/seats/block") => json!({"seats": ["A-1"], "reason": "press"}),
        ("POST", "/api/v1/events/{id}/seats/unblock") => json!({"seats": ["A-1"]}),
        ("POST", "/api/v1/events/{id}/ticket-types") => {
            json!({"name": "X", "price_minor": 0, "currency": "EUR", "capacity": 1, "entry_policy": "single_entry"})
        }
        _ => Value::Null,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_404_for_another_organizations_objects() {
    for backend in common::BACKENDS {
        let hub = TestHub::start(backend).await;
        let a = Organizer::create(&hub, "org-a").await;
        let b = Organizer::create(&hub, "org-b").await;
        let objects = objects_of(&hub, &a).await;
        let document = cloud::openapi::document();
        let mut tried = Vec::new();
        for (path, item) in &document.paths.paths {
            if !path.starts_with("/api/v1/") || path.starts_with("/api/v1/public/") || !path.contains('{') {
                continue; // public routes are reached by secret, not by organization
            }
            let id = match path.split('/').nth(3) {
                Some("events") => objects.event.to_string(),
                Some("devices") => objects.device.to_string(),
                Some("leases") => objects.lease.to_string(),
                Some("tokens") => objects.token.to_string(),
                Some("members") => objects.member.to_string(),
                Some("orders") => objects.order.clone(),
                Some("seat-plans") => objects.plan.to_string(),
                Some("webhooks") => objects.webhook.to_string(),
                Some("report-schedules") => objects.schedule.to_string(),
                // The caller's own organization's wording: no object of another's in the path.
                Some("message-templates") => continue,
                other => panic!("{path}: which object is {other:?}? add it to this test"),
            };
            let code = if path.contains("/vouchers/") { objects.voucher.clone() } else { id.clone() };
            let url = path
                .replace("{rule}", &objects.rule.to_string())
                .replace("{id}", &id)
                .replace("{user_id}", &id)
                .replace("{code}", &code)
                .replace("{name}", "sales")
                .replace("{guest}", &objects.guest)
                .replace("{number}", "1")
                .replace("{delivery}", &objects.delivery.to_string())
                .replace("{kind}", "order_confirmation")
                .replace("{lang}", "en");
            for (method, op) in [
                ("GET", &item.get),
                ("POST", &item.post),
                ("PUT", &item.put),
                ("PATCH", &item.patch),
                ("DELETE", &item.delete),
            ] {
                if op.is_none() {
                    continue;
                }
                let (status, body) = b.send(method.parse().unwrap(), &url, &valid_body(method, path)).await;
                assert_eq!(status, 404, "{backend:?}: B {method} {url} → {status} {body}");
                tried.push(format!("{method} {path}"));
            }
        }
        assert!(tried.len() >= 17, "{tried:?}");
        // And nothing of A's changed.
        let event = a.get(&format!("/api/v1/events/{}", objects.event)).await;
        assert_eq!(event["status"], "on_sale");
        let words = a.get(&format!("/api/v1/message-templates?event={}", objects.event)).await;
        let mine = words["templates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["kind"] == "order_confirmation" && t["lang"] == "en");
        assert_eq!(mine.map(|t| t["body"].clone()), Some(json!("A's own words")), "{words}");
        assert_eq!(a.get(&format!("/api/v1/orders/{}", objects.order)).await["refunded_minor"], 0);
        let guests = a.get(&format!("/api/v1/events/{}/guests", objects.event)).await;
        assert_eq!(guests["guests"].as_array().map(Vec::len), Some(1), "{guests}");
        assert_eq!(guests["guests"][0]["name"], "Ada");
        let leases = a.get(&format!("/api/v1/events/{}/leases", objects.event)).await;
        assert_eq!(leases["leases"][0]["status"], "active");
        let devices = a.get("/api/v1/devices").await;
        assert_eq!(devices["devices"][0]["revoked"], false);
        let members = a.get("/api/v1/members").await;
        assert!(members["members"].as_array().unwrap().iter().any(|m| m["role"] == "viewer"));
        let vouchers = a.get(&format!("/api/v1/events/{}/vouchers", objects.event)).await;
        assert_eq!(vouchers["vouchers"].as_array().map(Vec::len), Some(1), "{vouchers}");
        assert_eq!(vouchers["vouchers"][0]["blocked_at"], Value::Null);
        assert_eq!(vouchers["vouchers"][0]["leased"], 0);
        let rules = a.get(&format!("/api/v1/events/{}/discounts", objects.event)).await;
        assert_eq!(rules["discounts"].as_array().map(Vec::len), Some(1), "{rules}");
        let schedule = a.get(&format!("/api/v1/report-schedules/{}", objects.schedule)).await;
        assert_eq!((&schedule["time"], &schedule["runs"]), (&json!("08:00"), &json!([])), "{schedule}");
    }
}

#[tokio::test]
async fn each_role_may_do_what_its_job_needs_and_no_more() {
    use reqwest::Method;
    let hub = TestHub::start(Backend::Sqlite).await;
    let owner = Organizer::create(&hub, "festival").await;
    let event = common::event_on_sale(&owner, 100, 1000).await;
    let (_, placed) = common::checkout(&hub, event, 2, None).await;
    common::press_pay(&hub, &common::start_payment(&hub, &placed).await).await;
    let code = placed["code"].as_str().unwrap();
    let mut people = Vec::new();
    for role in ["admin", "box_office", "gate_staff", "viewer"] {
        let email = format!("{role}@festival.example");
        let body = json!({"email": email, "name": role, "role": role, "initial_password": common::PASSWORD});
        assert_eq!(owner.post("/api/v1/members", &body).await.0, 201);
        people.push((role, Organizer::login(&hub, &email).await));
    }
    // (method, path, body, [admin, box_office, gate_staff, viewer] may?)
    let cases: Vec<(Method, String, Value, [bool; 4])> = vec![
        (Method::GET, "/api/v1/events".into(), Value::Null, [true, true, true, true]),
        (Method::POST, "/api/v1/events".into(), festival(), [true, false, false, false]),
        (Method::GET, format!("/api/v1/events/{event}/orders"), Value::Null, [true, true, false, true]),
        (Method::GET, format!("/api/v1/orders/{code}"), Value::Null, [true, true, false, true]),
        (
            Method::GET,
            format!("/api/v1/events/{event}/reports/sales"),
            Value::Null,
            [true, true, false, true],
        ),
        (
            Method::GET,
            format!("/api/v1/events/{event}/reports/revenue"),
            Value::Null,
            [true, false, false, true],
        ),
        (
            Method::GET,
            format!("/api/v1/events/{event}/reports/checkins"),
            Value::Null,
            [true, true, true, true],
        ),
        (Method::POST, "/api/v1/tokens".into(), json!({"name": "x"}), [true, false, false, false]),
        (Method::GET, "/api/v1/audit".into(), Value::Null, [true, false, false, false]),
        (Method::GET, "/api/v1/message-templates".into(), Value::Null, [true, false, false, false]),
        (
            Method::PUT,
            "/api/v1/message-templates/refund_notice/en".into(),
            json!({"subject": "Refund {{ order.code }}", "body": "Money back."}),
            [true, false, false, false],
        ),
        (
            Method::POST,
            format!("/api/v1/events/{event}/report-schedules"),
            json!({"report": "checkins", "time": "08:00", "roles": ["gate_staff"]}),
            [true, false, false, false],
        ),
        (
            Method::GET,
            format!("/api/v1/events/{event}/report-schedules"),
            Value::Null,
            [true, false, false, false],
        ),
        (Method::GET, "/api/v1/devices".into(), Value::Null, [true, true, true, true]),
        (Method::POST, format!("/api/v1/events/{event}/keys"), Value::Null, [true, false, false, false]),
        (
            Method::POST,
            "/api/v1/devices/enrollment-codes".into(),
            json!({"name": "d", "role": "gate", "events": [event]}),
            [true, false, false, false],
        ),
        (
            Method::POST,
            "/api/v1/members".into(),
            json!({"email": "n@x.example", "name": "N", "role": "viewer", "initial_password": common::PASSWORD}),
            [true, false, false, false],
        ),
    ];
    for (method, path, body, allowed) in cases {
        for ((role, who), may) in people.iter().zip(allowed) {
            let (status, answer) = who.send(method.clone(), &path, &body).await;
            if may {
                assert!(status < 300, "{role} {method} {path} should be allowed: {status} {answer}");
            } else {
                assert_eq!(status, 403, "{role} {method} {path} should be refused: {answer}");
            }
        }
    }
    // Refunds: admins and the box office, each a ticket of their own; gate staff and viewers never.
    let refunds = format!("/api/v1/orders/{code}/refunds");
    for (role, who) in &people {
        let serial = if *role == "admin" { 1 } else { 2 };
        let (status, answer) = who.post(&refunds, &json!({"serials": [serial], "reason": "matrix"})).await;
        let expected = if matches!(*role, "admin" | "box_office") { 201 } else { 403 };
        assert_eq!(status, expected, "{role} refunding: {answer}");
    }
}
