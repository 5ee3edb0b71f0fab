//! Logging in, sessions, CSRF, API tokens, rate limiting — on both backends.

mod common;

use cloud::tenancy::{NewOrganization, create_organization};
use common::{BACKENDS, TestHub};
use serde_json::{Value, json};

async fn setup(hub: &TestHub) {
    let new = NewOrganization {
        name: "Festival".into(),
        slug: "festival".into(),
        owner_email: "owner@example.org".into(),
        owner_name: "Owner".into(),
        owner_password: "correct horse battery".into(),
    };
    create_organization(&hub.db, &new).await.unwrap();
}

async fn login(hub: &TestHub, password: &str) -> reqwest::Response {
    hub.post("/api/v1/login")
        .json(&json!({"email": "OWNER@example.org", "password": password}))
        .send()
        .await
        .unwrap()
}

fn session_cookie(r: &reqwest::Response) -> String {
    let set = r.headers().get("set-cookie").unwrap().to_str().unwrap().to_owned();
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax"), "{set}");
    set.split(';').next().unwrap().to_owned()
}

#[tokio::test]
async fn a_session_needs_its_csrf_token_to_change_anything() {
    for backend in BACKENDS {
        let hub = TestHub::start(backend).await;
        setup(&hub).await;
        let wrong = login(&hub, "nope").await;
        assert_eq!(wrong.status(), 401);
        assert_eq!(wrong.headers()["content-type"], "application/problem+json");
        assert_eq!(wrong.json::<Value>().await.unwrap()["code"], "unauthorized");

        let ok = login(&hub, "correct horse battery").await;
        assert_eq!(ok.status(), 200, "{backend:?}");
        let cookie = session_cookie(&ok);
        let body: Value = ok.json().await.unwrap();
        assert_eq!(body["role"], "owner");
        let csrf = body["csrf_token"].as_str().unwrap().to_owned();

        let me = hub.get("/api/v1/me").header("cookie", &cookie).send().await.unwrap();
        assert_eq!(me.status(), 200);
        let no_csrf = hub
            .post("/api/v1/tokens")
            .header("cookie", &cookie)
            .json(&json!({"name": "ci"}))
            .send()
            .await
            .unwrap();
        assert_eq!(no_csrf.status(), 403, "a form without the CSRF token is refused");
        let created = hub
            .post("/api/v1/tokens")
            .header("cookie", &cookie)
            .header("x-csrf-token", &csrf)
            .json(&json!({"name": "ci"}))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
        let token = created.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned();

        // The API token works without cookie or CSRF; revoked, it stops working.
        let via_token = hub.get("/api/v1/me").bearer_auth(&token).send().await.unwrap();
        assert_eq!(via_token.json::<Value>().await.unwrap()["role"], "owner");
        let id = 1;
        let revoked = hub
            .client
            .delete(format!("{}/api/v1/tokens/{id}", hub.url))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(revoked.status(), 204);
        assert_eq!(hub.get("/api/v1/me").bearer_auth(&token).send().await.unwrap().status(), 401);

        // A second login gets a new session; logging out ends only that one.
        let again = login(&hub, "correct horse battery").await;
        let second = session_cookie(&again);
        assert_ne!(second, cookie, "sessions rotate at login");
        let csrf2 = again.json::<Value>().await.unwrap()["csrf_token"].as_str().unwrap().to_owned();
        let out = hub
            .post("/api/v1/logout")
            .header("cookie", &second)
            .header("x-csrf-token", &csrf2)
            .send()
            .await
            .unwrap();
        assert_eq!(out.status(), 204);
        assert_eq!(hub.get("/api/v1/me").header("cookie", &second).send().await.unwrap().status(), 401);
        assert_eq!(hub.get("/api/v1/me").header("cookie", &cookie).send().await.unwrap().status(), 200);
    }
}

#[tokio::test]
async fn sessions_end_when_idle_too_old_or_replaced_by_a_new_login() {
    use cloud::auth::{ABSOLUTE_TIMEOUT_MS, IDLE_TIMEOUT_MS, end_expired_sessions};
    for backend in BACKENDS {
        // The hub's own clock, moved by the test: hours pass in a step.
        let clock = cloud::clock::Clock::manual(sync_core::Timestamp::now().0);
        let hub = TestHub::start_configured(backend, clock, |_| {}).await;
        setup(&hub).await;
        let me = |cookie: String| {
            let request = hub.get("/api/v1/me").header("cookie", cookie);
            async move { request.send().await.unwrap().status().as_u16() }
        };

        // Logging in again from the same browser ends the session it held.
        let first = session_cookie(&login(&hub, "correct horse battery").await);
        let again = hub
            .post("/api/v1/login")
            .header("cookie", &first)
            .json(&json!({"email": "owner@example.org", "password": "correct horse battery"}))
            .send()
            .await
            .unwrap();
        let second = session_cookie(&again);
        assert_ne!(first, second);
        assert_eq!((me(first).await, me(second.clone()).await), (401, 200), "{backend:?}");
        assert_eq!(hub.number("SELECT COUNT(*) FROM sessions").await, 1);

        // Idle for longer than the idle timeout: refused, and the session is gone.
        hub.clock.advance(IDLE_TIMEOUT_MS - 60_000);
        assert_eq!(me(second.clone()).await, 200, "{backend:?}: not idle long enough yet");
        hub.clock.advance(IDLE_TIMEOUT_MS + 60_001);
        assert_eq!(me(second).await, 401, "{backend:?}: idle session");
        assert_eq!(hub.number("SELECT COUNT(*) FROM sessions").await, 0);

        // In use all along (every hour) but older than the absolute lifetime: refused too.
        let busy = session_cookie(&login(&hub, "correct horse battery").await);
        let mut used = 0;
        while used + 3_600_000 < ABSOLUTE_TIMEOUT_MS {
            hub.clock.advance(3_600_000);
            used += 3_600_000;
            assert_eq!(me(busy.clone()).await, 200, "{backend:?}: in use after {used} ms");
        }
        hub.clock.advance(ABSOLUTE_TIMEOUT_MS - used + 1_000);
        assert_eq!(me(busy).await, 401, "{backend:?}: session past its lifetime");

        // Sessions nobody presents again are swept by the maintenance task.
        let stale = session_cookie(&login(&hub, "correct horse battery").await);
        hub.clock.advance(IDLE_TIMEOUT_MS + 60_000);
        let fresh = session_cookie(&login(&hub, "correct horse battery").await);
        let swept = end_expired_sessions(&hub.db).await.unwrap();
        assert_eq!(swept, 1, "{backend:?}");
        assert_eq!((me(stale).await, me(fresh).await), (401, 200));
    }
}

#[tokio::test]
async fn bad_bodies_get_problem_details_not_500s() {
    let hub = TestHub::start(cloud::db::Backend::Sqlite).await;
    setup(&hub).await;
    let cases = [
        ("{not json", "not valid JSON"),
        (r#"{"email": "a@b.c", "password": "x", "extra": 1}"#, "unknown field `extra`"),
        (r#"{"email": 5, "password": "x"}"#, "invalid type"),
    ];
    for (body, expected) in cases {
        let r = hub
            .post("/api/v1/login")
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422, "{body}");
        let problem: Value = r.json().await.unwrap();
        assert_eq!(
            (problem["code"].as_str(), problem["field"].as_str()),
            (Some("invalid_field"), Some("body"))
        );
        assert!(problem["detail"].as_str().unwrap().contains(expected), "{problem}");
    }
    // Not sent as JSON: 415, as a problem document.
    let plain = hub.post("/api/v1/login").body("email=a").send().await.unwrap();
    assert_eq!(plain.status(), 415);
    assert_eq!(plain.headers()["content-type"], "application/problem+json");
    assert_eq!(plain.json::<Value>().await.unwrap()["code"], "unsupported_media_type");
    // Larger than any body the hub takes: 413, not "invalid field".
    let huge = format!(r#"{{"email": "{}", "password": "x"}}"#, "a".repeat(3 * 1024 * 1024));
    let r =
        hub.post("/api/v1/login").header("content-type", "application/json").body(huge).send().await.unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "payload_too_large");
}

#[tokio::test]
async fn guessing_passwords_is_rate_limited() {
    let hub = TestHub::start(cloud::db::Backend::Sqlite).await;
    setup(&hub).await;
    let mut statuses = Vec::new();
    for _ in 0..7 {
        let r = login(&hub, "guess").await;
        statuses.push(r.status().as_u16());
        if r.status() == 429 {
            let retry: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
            assert!((1..=12).contains(&retry));
        }
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429, 429]);
}
