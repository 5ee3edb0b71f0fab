//! How big the hub's database is: in all, and per table with its indexes apart (the largest
//! first), on either backend.

use cloud::db::{Backend, Db};
use serde_json::{Value, json};

/// Tables and indexes listed (the largest).
const LISTED: usize = 14;

/// The size of the database at `db`, in MB: `{"total_mb", "tables": [{"name", "table_mb",
/// "indexes_mb"}], "indexes": [{"name", "table", "mb"}]}`.
pub async fn of(db: &Db) -> anyhow::Result<Value> {
    let (total, objects): (i64, Vec<Object>) = match db.backend() {
        Backend::Postgres => (
            sqlx::query_scalar("SELECT pg_database_size(current_database())").fetch_one(db.pool()).await?,
            sqlx::query_as(
                "SELECT c.relname::text, COALESCE(t.relname, c.relname)::text, CAST(CASE WHEN c.relkind = 'i' THEN 1 ELSE 0 END AS BIGINT), \
                 pg_relation_size(c.oid) + COALESCE(pg_relation_size(c.reltoastrelid), 0) \
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 LEFT JOIN pg_index x ON x.indexrelid = c.oid LEFT JOIN pg_class t ON t.oid = x.indrelid \
                 WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'i')",
            )
            .fetch_all(db.pool())
            .await?,
        ),
        Backend::Sqlite => (
            sqlx::query_scalar("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()")
                .fetch_one(db.pool())
                .await?,
            // dbstat: every page of every table and index (SQLite's bundled build has it).
            sqlx::query_as(
                "SELECT s.name, COALESCE(m.tbl_name, s.name), COALESCE(m.type = 'index', 0), SUM(s.pgsize) \
                 FROM dbstat s LEFT JOIN sqlite_master m ON m.name = s.name GROUP BY s.name",
            )
            .fetch_all(db.pool())
            .await?,
        ),
    };
    Ok(summarize(total, &objects))
}

#[allow(clippy::cast_precision_loss)] // sizes far below 2^52 bytes
fn mb(bytes: i64) -> f64 {
    (bytes as f64 / 1e4).round() / 100.0
}

/// A table or an index: its name, its table, 1 if it is an index, its bytes.
type Object = (String, String, i64, i64);

fn summarize(total: i64, objects: &[Object]) -> Value {
    let mut tables: std::collections::BTreeMap<&str, (i64, i64)> = std::collections::BTreeMap::new();
    for (_, table, index, bytes) in objects {
        let t = tables.entry(table.as_str()).or_default();
        if *index == 1 {
            t.1 += bytes;
        } else {
            t.0 += bytes;
        }
    }
    let mut tables: Vec<(&str, (i64, i64))> = tables.into_iter().collect();
    tables.sort_by_key(|(_, (t, i))| std::cmp::Reverse(t + i));
    let mut indexes: Vec<&Object> = objects.iter().filter(|o| o.2 == 1).collect();
    indexes.sort_by_key(|o| std::cmp::Reverse(o.3));
    json!({
        "total_mb": mb(total),
        "tables": tables.iter().take(LISTED).map(|(name, (t, i))| json!({"name": name, "table_mb": mb(*t), "indexes_mb": mb(*i)})).collect::<Vec<_>>(),
        "indexes": indexes.iter().take(LISTED).map(|(name, table, _, bytes)| json!({"name": name, "table": table, "mb": mb(*bytes)})).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn tables_are_listed_largest_first_with_their_indexes_apart() {
        let objects = vec![
            ("orders".to_owned(), "orders".to_owned(), 0, 2_000_000),
            ("orders_event".to_owned(), "orders".to_owned(), 1, 500_000),
            ("checkins".to_owned(), "checkins".to_owned(), 0, 3_000_000),
        ];
        let v = super::summarize(6_000_000, &objects);
        assert_eq!(v["total_mb"], 6.0);
        assert_eq!(v["tables"][0]["name"], "checkins");
        assert_eq!(v["tables"][1]["indexes_mb"], 0.5);
        assert_eq!(v["indexes"][0]["name"], "orders_event");
    }
}
