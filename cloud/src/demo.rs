//! `serve --demo`: a demo organization to explore, created once.

use crate::config::Config;
use crate::db::Db;
use crate::tenancy::{NewOrganization, create_organization};
use sqlx::Row;

/// The demo owner's login.
pub const DEMO_EMAIL: &str = "owner@demo.voelgoed.invalid";
/// The demo owner's password (a demo: it is printed).
pub const DEMO_PASSWORD: &str = "voelgoed-demo";

/// Creates the demo organization unless it exists, and prints how to use it.
pub async fn seed(db: &Db, config: &Config) -> anyhow::Result<()> {
    let mut lookup = db.lookup().await?;
    let exists =
        sqlx::query("SELECT id FROM organizations WHERE slug = 'demo'").fetch_optional(&mut *lookup).await?;
    lookup.commit().await?;
    let org_id: i64 = if let Some(row) = exists {
        row.get(0)
    } else {
        let new = NewOrganization {
            name: "Voelgoed Demo".into(),
            slug: "demo".into(),
            owner_email: DEMO_EMAIL.into(),
            owner_name: "Demo Owner".into(),
            owner_password: DEMO_PASSWORD.into(),
        };
        create_organization(db, &new).await.map_err(|e| anyhow::anyhow!("{e}"))?.org_id
    };
    println!("Voelgoed hub (demo organization {org_id})");
    println!("  console:  {}/", config.public_url);
    println!("  login:    {DEMO_EMAIL} / {DEMO_PASSWORD}");
    Ok(())
}
