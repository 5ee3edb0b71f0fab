//! Upgrades without downtime: releases roll one instance at a time over one database, so the
//! previous release runs on every schema this one migrates to. Held here: from 0023 on, a
//! migration only expands — or raises `schema_compatibility.oldest_reader` in the same file,
//! saying which releases it leaves behind — both backends take the same migrations, and a hub
//! starts on a newer schema only while that schema still says it may.

mod common;

use cloud::db::schema::{Schema, newest_known};
use cloud::db::{Backend, Db, DbError};
use common::{BACKENDS, TestHub};
use std::collections::BTreeMap;
use std::path::Path;

/// The first migration written under the rule (every one before it shipped before the rule).
const FIRST_UNDER_THE_RULE: i64 = 23;
/// The newest migration of the release before the rule: `oldest_reader` never goes below it.
const PREVIOUS_RELEASE: i64 = 22;

/// A backend's migrations: version → SQL.
fn migrations(backend: &str) -> BTreeMap<i64, (String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations").join(backend);
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let version: i64 = name.split('_').next().unwrap().parse().unwrap();
        out.insert(version, (name, std::fs::read_to_string(&path).unwrap()));
    }
    out
}

/// `sql` as words to match: comments and string literals blanked, upper case, one space
/// between words.
fn normalized(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '-' if chars.peek() == Some(&'-') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
                out.push(' ');
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut last = ' ';
                for c in chars.by_ref() {
                    if last == '*' && c == '/' {
                        break;
                    }
                    last = c;
                }
                out.push(' ');
            }
            '\'' => {
                // '' inside a literal is a quote: the literal goes on after it.
                while let Some(c) = chars.next() {
                    if c == '\'' && chars.peek() != Some(&'\'') {
                        break;
                    }
                    if c == '\'' {
                        chars.next();
                    }
                }
                out.push_str("''");
            }
            c => out.extend(c.to_uppercase()),
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `text` split at the commas outside parentheses (an ALTER TABLE's actions).
fn actions(text: &str) -> Vec<&str> {
    let (mut depth, mut from, mut out) = (0i32, 0, Vec::new());
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(text[from..i].trim());
                from = i + 1;
            }
            _ => {}
        }
    }
    out.push(text[from..].trim());
    out
}

/// Why one action of an ALTER TABLE would break the previous release, if it would.
fn breaks(action: &str) -> Option<&'static str> {
    let words: Vec<&str> = action.split(' ').collect();
    match words.as_slice() {
        ["DROP", "CONSTRAINT" | "DEFAULT" | "NOT", ..] => None,
        ["DROP", ..] => Some("drops a column"),
        ["RENAME", ..] => Some("renames"),
        ["ADD", "CONSTRAINT" | "CHECK" | "UNIQUE" | "PRIMARY" | "FOREIGN" | "EXCLUDE", ..] => {
            Some("adds a constraint the previous release's writes may break")
        }
        ["ADD", ..]
            if action.contains("NOT NULL")
                && !action.contains("DEFAULT")
                && !action.contains("GENERATED") =>
        {
            Some("adds a required column without a default (the previous release's inserts do not name it)")
        }
        ["ALTER", "COLUMN", _, change @ ..] | ["ALTER", _, change @ ..] => match change {
            ["TYPE", ..] | ["SET", "DATA", "TYPE", ..] => Some("changes a column's type"),
            ["SET", "NOT", "NULL", ..] => Some("makes a column required"),
            _ => None,
        },
        _ => None,
    }
}

/// The statements of `sql` that would break a hub of the previous release running on the
/// schema (it reads or writes what they remove, rename, retype or tighten), and the
/// `oldest_reader` the migration sets, if it does.
fn contractions(sql: &str) -> (Vec<String>, Option<i64>) {
    let mut breaking = Vec::new();
    let mut raised = None;
    for statement in normalized(sql).split(';').map(str::trim) {
        if let Some(rest) = statement.strip_prefix("UPDATE SCHEMA_COMPATIBILITY SET OLDEST_READER = ") {
            raised = rest.split_whitespace().next().and_then(|n| n.parse().ok());
            continue;
        }
        let mut why = Vec::new();
        for (start, reason) in [
            ("DROP TABLE", "drops a table"),
            ("DROP VIEW", "drops a view"),
            ("DROP FUNCTION", "drops a function"),
            ("DROP TYPE", "drops a type"),
            ("DROP TRIGGER", "drops a trigger"),
            ("DROP SEQUENCE", "drops a sequence"),
            ("CREATE UNIQUE INDEX", "adds a uniqueness the previous release's writes may break"),
            ("TRUNCATE", "empties a table"),
        ] {
            if statement.starts_with(start) {
                why.push(reason);
            }
        }
        if statement.starts_with("ALTER TABLE") {
            // ALTER TABLE [IF EXISTS] [ONLY] name action, action, …
            let rest = statement.trim_start_matches("ALTER TABLE ");
            let rest = rest.trim_start_matches("IF EXISTS ").trim_start_matches("ONLY ");
            let body = rest.split_once(' ').map_or("", |(_, body)| body);
            why.extend(actions(body).into_iter().filter_map(breaks));
        }
        if !why.is_empty() {
            breaking.push(format!("{statement} ({})", why.join(", ")));
        }
    }
    (breaking, raised)
}

#[test]
fn the_rule_catches_what_would_break_the_previous_release() {
    for sql in [
        "ALTER TABLE orders DROP COLUMN note;",
        "ALTER TABLE orders RENAME COLUMN note TO remark;",
        "-- a comment\nALTER TABLE orders ALTER COLUMN total TYPE TEXT;",
        "ALTER TABLE orders ALTER COLUMN note SET NOT NULL;",
        "ALTER TABLE orders ADD COLUMN channel TEXT NOT NULL;",
        "DROP TABLE leases;",
        "CREATE UNIQUE INDEX one_per_buyer ON orders (buyer_id);",
        "ALTER TABLE orders DROP note;",
        "ALTER TABLE orders ADD price NUMERIC(10,2) NOT NULL;",
        "ALTER TABLE orders ALTER total TYPE TEXT;",
        "ALTER TABLE orders ADD CHECK (total > 0);",
        "ALTER TABLE orders ADD COLUMN a TEXT, DROP COLUMN b;",
        "/* a note */ DROP TYPE status;",
    ] {
        assert!(!contractions(sql).0.is_empty(), "not caught: {sql}");
    }
    for sql in [
        "ALTER TABLE orders ADD COLUMN channel TEXT NOT NULL DEFAULT 'web';",
        "ALTER TABLE orders ADD COLUMN note TEXT;",
        "CREATE TABLE tags (id BIGINT PRIMARY KEY, type TEXT NOT NULL, renamed_at BIGINT);",
        "CREATE INDEX orders_by_channel ON orders (channel); -- DROP TABLE in a comment",
        "INSERT INTO message_templates (body) VALUES ('Please drop table 4; we rename it');",
        "ALTER TABLE orders ALTER COLUMN note DROP NOT NULL, DROP CONSTRAINT one_note;",
        "ALTER TABLE orders ADD COLUMN price NUMERIC(10,2) NOT NULL DEFAULT 0;",
        "/* DROP TABLE orders; */ CREATE TABLE notes (id BIGINT);",
        "ALTER TABLE tickets ALTER COLUMN type SET DEFAULT 'day';",
    ] {
        assert!(contractions(sql).0.is_empty(), "an expansion taken for a contraction: {sql}");
    }
    let (_, raised) =
        contractions("ALTER TABLE o DROP COLUMN n;\nUPDATE schema_compatibility SET oldest_reader = 24;");
    assert_eq!(raised, Some(24));
}

#[test]
fn every_migration_from_0023_expands_or_says_which_releases_it_leaves_behind() {
    let mut problems = Vec::new();
    for backend in ["postgres", "sqlite"] {
        let mut oldest_reader = PREVIOUS_RELEASE;
        for (version, (name, sql)) in migrations(backend).range(FIRST_UNDER_THE_RULE..) {
            let (breaking, raised) = contractions(sql);
            match raised {
                // Its own version: no earlier release may run on it (a release that takes
                // downtime, said so).
                Some(n) if n <= oldest_reader || n > *version => problems.push(format!(
                    "{backend}/{name}: oldest_reader must rise (from {oldest_reader}) and not pass \
                     the migration's own version; it sets {n}"
                )),
                Some(n) => oldest_reader = n,
                None if !breaking.is_empty() => problems.push(format!(
                    "{backend}/{name} contracts without raising schema_compatibility.oldest_reader: \
                     {breaking:?}. Ship the expansion first, stop reading the old shape in that \
                     release, and contract in a later one that sets oldest_reader"
                )),
                None => {}
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn both_backends_take_the_same_migrations_from_0023_on() {
    let names = |backend| {
        migrations(backend)
            .range(FIRST_UNDER_THE_RULE..)
            .map(|(_, (name, _))| name.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(names("postgres"), names("sqlite"));
    assert_eq!(newest_known(Backend::Postgres), newest_known(Backend::Sqlite));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_runs_on_a_newer_schema_while_it_says_so_and_refuses_it_after() {
    for backend in BACKENDS {
        let hub = TestHub::start(backend).await;
        let known = newest_known(backend);
        // A newer release migrated the database: one more migration, still readable by this one.
        let owner = Db::connect(hub.db.url()).await.unwrap();
        let newer = known + 1;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES ({newer}, 'a newer release', TRUE, $1, 0)"
        )))
        .bind(vec![0u8; 48])
        .execute(owner.pool())
        .await
        .unwrap();
        assert_eq!(
            owner.migrate().await.unwrap(),
            Schema::NewerCompatible { database: newer },
            "{backend:?}"
        );
        let reopened = Db::open(hub.db.url()).await;
        assert!(reopened.is_ok(), "{backend:?}: a hub starts on the newer schema: {:?}", reopened.err());

        // The newer release contracted: this one no longer may.
        sqlx::query(sqlx::AssertSqlSafe(format!("UPDATE schema_compatibility SET oldest_reader = {newer}")))
            .execute(owner.pool())
            .await
            .unwrap();
        let refused = Db::open(hub.db.url()).await;
        let Err(e @ DbError::SchemaTooNew { .. }) = refused else {
            panic!("{backend:?}: the hub must refuse the incompatible schema: {:?}", refused.map(|_| ()));
        };
        let said = e.to_string();
        assert!(
            said.contains(&format!("migration {newer}")) && said.contains(&format!("migration {known})")),
            "{backend:?}: the refusal names both versions: {said}"
        );
        // Refusing changed nothing.
        let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
            .fetch_one(owner.pool())
            .await
            .unwrap();
        assert_eq!(applied, i64::try_from(cloud_migrations(backend)).unwrap() + 1, "{backend:?}");
    }
}

/// How many migrations this release has on `backend`.
fn cloud_migrations(backend: Backend) -> usize {
    migrations(match backend {
        Backend::Postgres => "postgres",
        Backend::Sqlite => "sqlite",
    })
    .len()
}
