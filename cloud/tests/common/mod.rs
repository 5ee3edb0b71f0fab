//! Test harness: the real hub on 127.0.0.1:0, on an SQLite file or a fresh PostgreSQL
//! database (on the local server at 127.0.0.1:5432, or `VOELGOED_TEST_POSTGRES`).
#![allow(dead_code, unreachable_pub)]

use cloud::db::{Backend, Db};
use cloud::server::{AppState, serve};
use std::sync::atomic::{AtomicU32, Ordering};
use tokio::sync::oneshot;

/// Both backends, for tests that must hold on each.
pub const BACKENDS: [Backend; 2] = [Backend::Sqlite, Backend::Postgres];

fn postgres_admin_url() -> String {
    std::env::var("VOELGOED_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A running hub and its database.
pub struct TestHub {
    pub url: String,
    pub db: Db,
    pub backend: Backend,
    pub client: reqwest::Client,
    _dir: tempfile::TempDir,
    pg_database: Option<String>,
    stop: Option<oneshot::Sender<()>>,
}

impl TestHub {
    pub async fn start(backend: Backend) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let dir = tempfile::tempdir().unwrap();
        let (url, pg_database) = match backend {
            Backend::Sqlite => (format!("sqlite://{}?mode=rwc", dir.path().join("hub.db").display()), None),
            Backend::Postgres => {
                let name =
                    format!("voelgoed_test_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::SeqCst));
                let admin = Db::connect(&postgres_admin_url())
                    .await
                    .expect("PostgreSQL on 127.0.0.1:5432 (scripts/test starts it)");
                sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name}")))
                    .execute(admin.pool())
                    .await
                    .unwrap();
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(admin.pool())
                    .await
                    .unwrap();
                let base = postgres_admin_url();
                let url = format!("{}/{name}", &base[..base.rfind('/').unwrap()]);
                (url, Some(name))
            }
        };
        let db = Db::connect(&url).await.unwrap();
        db.migrate().await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel();
        let state = AppState::new(db.clone(), &base);
        tokio::spawn(serve(listener, state, async {
            let _ = stopped.await;
        }));
        let client = sync_core::sync::http::http_client().unwrap();
        Self { url: base, db, backend, client, _dir: dir, pg_database, stop: Some(stop) }
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.get(format!("{}{path}", self.url))
    }

    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.post(format!("{}{path}", self.url))
    }
}

impl Drop for TestHub {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(name) = self.pg_database.take() {
            // The names are made here (pid and counter), never from input: safe to format.
            // Dropping the database needs a connection of its own, outside the test's runtime.
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                runtime.block_on(async {
                    if let Ok(admin) = Db::connect(&postgres_admin_url()).await {
                        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                        )))
                        .execute(admin.pool())
                        .await;
                    }
                });
            })
            .join()
            .ok();
        }
    }
}
