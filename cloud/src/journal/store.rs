//! The queries of the journal: entries, heads, the hub log, document chunks, peer acks.

use crate::db::Tenant;

/// A stored entry.
#[derive(sqlx::FromRow)]
pub struct EntryRow {
    /// Its origin.
    pub origin: i64,
    /// Its sequence number.
    pub seq: i64,
    /// Its hybrid logical clock.
    pub hlc: i64,
    /// Its event.
    pub event_id: i64,
    /// The payload, postcard.
    pub payload: Vec<u8>,
}

/// A document chunk.
#[derive(sqlx::FromRow)]
pub struct Chunk {
    /// Its number within the document.
    pub chunk: i64,
    /// Automerge bytes.
    pub data: Vec<u8>,
}

/// Each origin's latest sequence number (the hub's version vector).
pub async fn heads(tx: &mut Tenant) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    sqlx::query_as("SELECT origin, seq FROM journal_heads WHERE org_id = $1")
        .bind(tx.org())
        .fetch_all(&mut **tx)
        .await
}

/// Takes the next sequence number and clock of the organization's hub log: the row serialises
/// appends across instances (no gaps, clocks strictly increasing). `now` is the hub's clock as
/// an HLC value.
pub async fn next_hub_seq(tx: &mut Tenant, now: i64) -> Result<(i64, i64), sqlx::Error> {
    sqlx::query("INSERT INTO hub_log (org_id, seq, hlc) VALUES ($1, 0, 0) ON CONFLICT (org_id) DO NOTHING")
        .bind(tx.org())
        .execute(&mut **tx)
        .await?;
    sqlx::query_as(
        "UPDATE hub_log SET seq = seq + 1, hlc = CASE WHEN hlc + 1 > $2 THEN hlc + 1 ELSE $2 END \
         WHERE org_id = $1 RETURNING seq, hlc",
    )
    .bind(tx.org())
    .bind(now)
    .fetch_one(&mut **tx)
    .await
}

/// Rows one multi-row statement inserts (6 parameters each; with anonymous placeholders on
/// SQLite, see [`crate::db::Backend::placeholders`]).
const ROWS_PER_STATEMENT: usize = 256;

/// A journal row to store: `(origin, seq, hlc, event, payload)`.
pub type NewEntry = (i64, i64, i64, i64, Vec<u8>);

/// Stores entries (of origins whose logs they continue, in order) and advances each origin's
/// head: a statement per 500 entries and one per origin, instead of two per entry — a device
/// pushing 100 scans after a partition used to hold the one writer for 300 statements.
pub async fn insert_entries(tx: &mut Tenant, entries: &[NewEntry]) -> Result<(), sqlx::Error> {
    for part in entries.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO journal (org_id, origin, seq, hlc, event_id, payload) VALUES {}",
            crate::db::repeated(part.len(), "(?, ?, ?, ?, ?, ?)")
        );
        let mut insert = sqlx::query(sqlx::AssertSqlSafe(tx.backend().placeholders(&sql)));
        for (origin, seq, hlc, event, payload) in part {
            insert = insert
                .bind(tx.org())
                .bind(*origin)
                .bind(*seq)
                .bind(*hlc)
                .bind(*event)
                .bind(payload.as_slice());
        }
        insert.execute(&mut **tx).await?;
    }
    let mut heads: std::collections::BTreeMap<i64, i64> = std::collections::BTreeMap::new();
    for &(origin, seq, ..) in entries {
        let head = heads.entry(origin).or_insert(seq);
        *head = (*head).max(seq);
    }
    for (origin, seq) in heads {
        advance_head(tx, origin, seq).await?;
    }
    Ok(())
}

/// Stores an entry and advances its origin's head.
pub async fn insert_entry(
    tx: &mut Tenant,
    origin: i64,
    seq: i64,
    hlc: i64,
    event: i64,
    payload: &[u8],
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO journal (org_id, origin, seq, hlc, event_id, payload) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(tx.org())
    .bind(origin)
    .bind(seq)
    .bind(hlc)
    .bind(event)
    .bind(payload)
    .execute(&mut **tx)
    .await?;
    advance_head(tx, origin, seq).await
}

/// Makes `seq` the head of `origin`'s log. Entries of an origin arrive in order (the engine
/// refuses gaps), so the latest stored is the head.
async fn advance_head(tx: &mut Tenant, origin: i64, seq: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO journal_heads (org_id, origin, seq) VALUES ($1, $2, $3) \
         ON CONFLICT (org_id, origin) DO UPDATE SET seq = excluded.seq WHERE excluded.seq > journal_heads.seq",
    )
    .bind(tx.org())
    .bind(origin)
    .bind(seq)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Up to `limit` entries of `origin` after `after`, in order.
pub async fn entries_after(
    tx: &mut Tenant,
    origin: i64,
    after: i64,
    limit: i64,
) -> Result<Vec<EntryRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT origin, seq, hlc, event_id, payload FROM journal WHERE org_id = $1 AND origin = $2 AND seq > $3 ORDER BY seq LIMIT $4",
    )
    .bind(tx.org())
    .bind(origin)
    .bind(after)
    .bind(limit)
    .fetch_all(&mut **tx)
    .await
}

/// The most runs one statement reads (SQLite allows 500 parts in a compound `SELECT`).
pub const RUNS_PER_STATEMENT: usize = 100;

/// The entries of each run `(origin, first, last)` (inclusive), ordered by origin and sequence
/// number: one statement, a `UNION ALL` of one index range scan per run, instead of a round
/// trip per origin (a sync answer to a device that lacks 99 gates' entries used to be 200
/// queries). At most [`RUNS_PER_STATEMENT`] runs.
pub async fn entries_in(tx: &mut Tenant, runs: &[(i64, i64, i64)]) -> Result<Vec<EntryRow>, sqlx::Error> {
    debug_assert!(runs.len() <= RUNS_PER_STATEMENT);
    if runs.is_empty() {
        return Ok(Vec::new());
    }
    // The SQL's shape depends on the number of runs alone.
    let branch = "SELECT origin, seq, hlc, event_id, payload FROM journal \
                  WHERE org_id = ? AND origin = ? AND seq BETWEEN ? AND ?";
    let sql = vec![branch; runs.len()].join(" UNION ALL ") + " ORDER BY origin, seq";
    let mut query = sqlx::query_as(sqlx::AssertSqlSafe(tx.backend().placeholders(&sql)));
    for &(origin, first, last) in runs {
        query = query.bind(tx.org()).bind(origin).bind(first).bind(last);
    }
    query.fetch_all(&mut **tx).await
}

/// Whether the organization has event `id`.
pub async fn has_event(tx: &mut Tenant, id: i64) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query("SELECT 1 FROM events WHERE id = $1 AND org_id = $2")
        .bind(id)
        .bind(tx.org())
        .fetch_optional(&mut **tx)
        .await?
        .is_some())
}

/// The chunks of `doc` after number `after`, in order.
pub async fn chunks_after(tx: &mut Tenant, doc: &str, after: i64) -> Result<Vec<Chunk>, sqlx::Error> {
    sqlx::query_as(
        "SELECT chunk, data FROM doc_chunks WHERE org_id = $1 AND doc = $2 AND chunk > $3 ORDER BY chunk",
    )
    .bind(tx.org())
    .bind(doc)
    .bind(after)
    .fetch_all(&mut **tx)
    .await
}

/// Saves `data` as the document's next chunk; its number.
pub async fn insert_chunk(tx: &mut Tenant, doc: &str, data: &[u8]) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO doc_chunks (org_id, doc, chunk, data) \
         SELECT $1, $2, COALESCE(MAX(chunk), -1) + 1, $3 FROM doc_chunks WHERE org_id = $1 AND doc = $2 \
         RETURNING chunk",
    )
    .bind(tx.org())
    .bind(doc)
    .bind(data)
    .fetch_one(&mut **tx)
    .await
}

/// The organization's documents.
pub async fn doc_ids(tx: &mut Tenant) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT DISTINCT doc FROM doc_chunks WHERE org_id = $1")
        .bind(tx.org())
        .fetch_all(&mut **tx)
        .await
}

/// What a peer last acknowledged having (postcard version vector).
pub async fn peer_have(tx: &mut Tenant, peer: i64) -> Result<Option<Vec<u8>>, sqlx::Error> {
    sqlx::query_scalar("SELECT have FROM peer_acks WHERE org_id = $1 AND peer = $2")
        .bind(tx.org())
        .bind(peer)
        .fetch_optional(&mut **tx)
        .await
}

/// Records what a peer acknowledged having.
pub async fn set_peer_have(tx: &mut Tenant, peer: i64, have: &[u8]) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO peer_acks (org_id, peer, have) VALUES ($1, $2, $3) \
         ON CONFLICT (org_id, peer) DO UPDATE SET have = excluded.have",
    )
    .bind(tx.org())
    .bind(peer)
    .bind(have)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
