//! The hub runs, on both backends: health, organizations, the command line.

mod common;

use cloud::tenancy::{NewOrganization, create_organization};
use common::{BACKENDS, TestHub};

fn org(slug: &str) -> NewOrganization {
    NewOrganization {
        name: "Festival GmbH".into(),
        slug: slug.into(),
        owner_email: "Owner@Example.org".into(),
        owner_name: "Olga Owner".into(),
        owner_password: "a long enough password".into(),
    }
}

#[tokio::test]
async fn health_answers_on_both_backends() {
    for backend in BACKENDS {
        let hub = TestHub::start(backend).await;
        let response = hub.get("/health").send().await.unwrap();
        assert_eq!(response.status(), 200, "{backend:?}");
        assert_eq!(response.text().await.unwrap(), "ok");
    }
}

#[tokio::test]
async fn organizations_are_created_once_with_their_owner() {
    for backend in BACKENDS {
        let hub = TestHub::start(backend).await;
        let created = create_organization(&hub.db, &org("festival")).await.unwrap();
        let again = create_organization(&hub.db, &org("festival")).await.unwrap_err();
        assert_eq!(again.code(), "slug_taken", "{backend:?}");
        // The same person owning a second organization is the same user.
        let second = create_organization(&hub.db, &org("festival-two")).await.unwrap();
        assert_eq!(second.user_id, created.user_id, "{backend:?}");
        let bad = NewOrganization { slug: "Not A Slug".into(), ..org("x") };
        let err = create_organization(&hub.db, &bad).await.unwrap_err();
        assert_eq!(err.to_string(), "slug: 2–40 characters of a–z, 0–9 and '-'");
        let weak = NewOrganization { owner_password: "short".into(), ..org("weak") };
        assert_eq!(create_organization(&hub.db, &weak).await.unwrap_err().code(), "invalid_field");
    }
}

#[test]
fn the_command_line_migrates_and_creates_an_organization() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_cloud"))
            .args(args)
            .env("VOELGOED_DATA_DIR", dir.path())
            .env("VOELGOED_OWNER_PASSWORD", "a long enough password")
            .output()
            .unwrap()
    };
    let migrate = run(&["migrate"]);
    assert!(migrate.status.success(), "{migrate:?}");
    assert!(dir.path().join("hub.db").exists());
    let args =
        ["create-org", "--name", "X", "--slug", "x-events", "--owner-email", "a@b.c", "--owner-name", "A"];
    let created = run(&args);
    assert!(created.status.success(), "{created:?}");
    assert!(String::from_utf8_lossy(&created.stdout).contains("organization 1 created"));
    let again = run(&args);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("slug \"x-events\" is taken"));
    let bad_config = std::process::Command::new(env!("CARGO_BIN_EXE_cloud"))
        .args(["migrate"])
        .env("VOELGOED_LISTEN", "nowhere")
        .output()
        .unwrap();
    assert_eq!(bad_config.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad_config.stderr).contains("listen"));
}

/// Starts `cloud serve --demo` on a free port in `dir`; returns the process and what it printed
/// up to the enrollment code.
fn start_demo(dir: &std::path::Path) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cloud"))
        .args(["serve", "--demo", "--listen", "127.0.0.1:0"])
        .env("VOELGOED_DATA_DIR", dir)
        .env("VOELGOED_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        printed.push_str(&line);
        printed.push('\n');
        if line.contains("enrollment code:") {
            break;
        }
    }
    // Keep draining so the hub never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    (child, printed)
}

fn field<'a>(printed: &'a str, label: &str) -> &'a str {
    let line = printed
        .lines()
        .find(|l| l.trim_start().starts_with(label))
        .unwrap_or_else(|| panic!("{label} in {printed}"));
    line.split_once(':').unwrap().1.split_whitespace().next().unwrap()
}

#[tokio::test]
async fn serve_demo_prints_a_login_and_a_code_that_enrolls_a_scanner() {
    let dir = tempfile::tempdir().unwrap();
    let (mut hub, printed) = start_demo(dir.path());
    let url = field(&printed, "console").trim_end_matches('/').to_owned();
    assert!(url.starts_with("http://127.0.0.1:") && !url.ends_with(":0"), "{printed}");
    let code = field(&printed, "enrollment code").to_owned();
    let client = sync_core::sync::http::http_client().unwrap();

    let login = client
        .post(format!("{url}/api/v1/login"))
        .json(&serde_json::json!({"email": cloud::demo::DEMO_EMAIL, "password": cloud::demo::DEMO_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200, "{printed}");
    let key = sync_core::keys::DeviceKey::generate().unwrap();
    let enrolled = client
        .post(format!("{url}/api/v1/devices/enroll"))
        .json(&serde_json::json!({"code": code, "public_key": hex::encode(key.public_key()), "app_version": "t"}))
        .send()
        .await
        .unwrap();
    assert_eq!(enrolled.status(), 201);
    let event = client
        .post(format!("{url}/api/v1/public/events/1/orders"))
        .json(
            &serde_json::json!({"lines": [{"ticket_type": 1, "quantity": 2}], "email": "a@b.c", "name": "A"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(event.status(), 201, "the demo festival is on sale");

    // The festival has a past a newcomer can look at: paid and refunded orders, entries at
    // every gate over the last hours, a double admission, a closed box-office shift.
    let cookie = login.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let get = |path: String| {
        let request = client.get(format!("{url}{path}")).header("cookie", &cookie);
        async move { request.send().await.unwrap().json::<serde_json::Value>().await.unwrap() }
    };
    let orders = get("/api/v1/events/1/orders".into()).await;
    let orders = orders["orders"].as_array().unwrap();
    assert!(orders.len() >= 24, "the demo's orders: {}", orders.len());
    assert!(orders.iter().filter(|o| o["refunded_minor"].as_i64() > Some(0)).count() >= 2, "two refunded");
    let checkins = get("/api/v1/events/1/reports/checkins".into()).await;
    let gate = checkins["columns"].as_array().unwrap().iter().position(|c| c == "gate").unwrap();
    let gates: std::collections::BTreeSet<String> =
        checkins["rows"].as_array().unwrap().iter().map(|r| r[gate].to_string()).collect();
    assert_eq!(gates.len(), 3, "entries and exits at each gate: {gates:?}");
    let doubles = get("/api/v1/events/1/reports/double-admissions".into()).await;
    assert_eq!(doubles["rows"].as_array().unwrap().len(), 1, "one double admission: {doubles}");
    let shifts = get("/api/v1/events/1/reports/shifts".into()).await;
    assert!(shifts.to_string().contains("Sam"), "a box-office shift: {shifts}");

    // SIGTERM: a graceful stop. Started again, it is the same organization with a new code.
    std::process::Command::new("kill").arg(hub.id().to_string()).status().unwrap();
    assert!(hub.wait().unwrap().success());
    let (mut again, printed_again) = start_demo(dir.path());
    assert!(printed_again.contains("demo organization 1"), "{printed_again}");
    assert_ne!(field(&printed_again, "enrollment code"), code);
    again.kill().unwrap();
    again.wait().unwrap();
}

#[tokio::test]
async fn the_served_api_document_is_the_committed_one() {
    let hub = TestHub::start(cloud::db::Backend::Sqlite).await;
    let served: serde_json::Value = hub.get("/api/openapi.json").send().await.unwrap().json().await.unwrap();
    let committed: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.json")).unwrap(),
    )
    .unwrap();
    assert!(
        served == committed,
        "docs/openapi.json is out of date: run `cargo run -p voelgoed-cloud -- openapi > docs/openapi.json`"
    );
    assert_eq!(served["openapi"], "3.1.0");
}

/// Whether `schema` (in `document`) says what a body holds: a `$ref` to a schema that is not a
/// bare object, or a schema of its own with a type, properties, items or alternatives.
fn says_what(schema: &serde_json::Value, document: &serde_json::Value) -> bool {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.trim_start_matches("#/components/schemas/");
        return says_what(&document["components"]["schemas"][name], document);
    }
    let bare_object = schema["type"] == "object"
        && schema.get("properties").is_none()
        && schema.get("additionalProperties").is_none_or(|a| a == &serde_json::json!(true));
    let described = ["type", "allOf", "oneOf", "anyOf", "items"].iter().any(|k| schema.get(*k).is_some());
    described && !bare_object
}

#[test]
fn every_json_answer_of_every_operation_has_a_real_schema() {
    let document = serde_json::to_value(cloud::openapi::document()).unwrap();
    let mut vague = Vec::new();
    let mut answers = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            assert!(!responses.is_empty(), "{method} {path} documents no answer");
            for (status, response) in responses {
                for (content_type, content) in response["content"].as_object().into_iter().flatten() {
                    if content_type.contains("json") {
                        answers += 1;
                        if !says_what(&content["schema"], &document) {
                            vague.push(format!(
                                "{method} {path} {status} {content_type}: {}",
                                content["schema"]
                            ));
                        }
                    }
                }
            }
        }
    }
    assert!(vague.is_empty(), "answers described only as \"JSON\":\n{}", vague.join("\n"));
    assert!(answers > 100, "only {answers} JSON answers documented");
}

#[tokio::test]
async fn every_documented_json_body_refuses_bad_input_with_problem_details() {
    let hub = TestHub::start(cloud::db::Backend::Sqlite).await;
    let owner = common::Organizer::create(&hub, "festival").await;
    let (_, event) = owner.post("/api/v1/events", &common::festival()).await;
    assert!(event["id"].is_i64());
    let document = cloud::openapi::document();
    let mut checked = 0;
    for (path, item) in &document.paths.paths {
        for (method, op) in [("POST", &item.post), ("PATCH", &item.patch)] {
            let Some(op) = op else { continue };
            let Some(body) = &op.request_body else { continue };
            if !body.content.contains_key("application/json") {
                continue;
            }
            let url = path
                .replace("{id}", "1")
                .replace("{user_id}", "1")
                .replace("{code}", "NOPE")
                .replace("{secret}", "x")
                .replace("{number}", "1")
                .replace("{guest}", "x");
            for bad in
                ["{", "[]", "{\"surely_not_a_field\": 1}", "\"text\"", "{\"name\": 12345678901234567890123}"]
            {
                let request =
                    owner.authorize(hub.client.request(method.parse().unwrap(), format!("{}{url}", hub.url)));
                let response =
                    request.header("content-type", "application/json").body(bad).send().await.unwrap();
                let status = response.status();
                assert!(status.is_client_error(), "{method} {path} with {bad}: {status}");
                if status != 401 {
                    assert_eq!(
                        response.headers()["content-type"],
                        "application/problem+json",
                        "{method} {path}"
                    );
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 13, "only {checked} bodies checked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_id_in_the_path_is_a_problem_details_404() {
    let hub = TestHub::start(cloud::db::Backend::Sqlite).await;
    let owner = common::Organizer::create(&hub, "festival").await;
    for (method, path) in [
        (reqwest::Method::GET, "/api/v1/events/abc"),
        (reqwest::Method::POST, "/api/v1/leases/abc/extend"),
        (reqwest::Method::PATCH, "/api/v1/events/1/ticket-types/x"),
        (reqwest::Method::GET, "/api/v1/events/99999999999999999999/guests"),
    ] {
        let request = owner.authorize(hub.client.request(method.clone(), format!("{}{path}", hub.url)));
        let response = request.json(&serde_json::json!({})).send().await.unwrap();
        assert_eq!(response.status(), 404, "{method} {path}");
        assert_eq!(response.headers()["content-type"], "application/problem+json", "{method} {path}");
    }
}
