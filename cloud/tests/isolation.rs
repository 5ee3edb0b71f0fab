//! Organizations cannot see each other: row-level security on PostgreSQL as the second wall,
//! checked from the catalog and by queries that forget to name their organization.

mod common;

use cloud::db::Backend;
use common::{Organizer, TestHub, festival};

/// Tables that belong to no organization.
const GLOBAL_TABLES: &[&str] = &["_sqlx_migrations", "hub_identity", "psp_events", "users"];

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
            let mut tx = match org {
                Some(org) => db.tenant(org).await.unwrap(),
                None => db.begin().await.unwrap(),
            };
            sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut *tx).await.unwrap()
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
