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
