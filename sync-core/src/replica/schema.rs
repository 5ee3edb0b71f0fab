//! The replica's schema, as ordered migrations (rusqlite_migration tracks the applied ones in
//! SQLite's `user_version`). Add a migration; never edit one that has shipped.

use rusqlite_migration::{M, Migrations};

/// Every migration, oldest first.
pub(super) fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(
            r"
        -- Who this device is. One row.
        CREATE TABLE identity (
            singleton  INTEGER PRIMARY KEY CHECK (singleton = 1),
            device     INTEGER NOT NULL,
            secret_key BLOB NOT NULL,    -- Ed25519 seed; never leaves the device
            actor      BLOB NOT NULL     -- automerge actor id, unique per replica
        );

        -- The latest manifest received per event (JSON as the hub sent it).
        CREATE TABLE manifests (
            event INTEGER PRIMARY KEY,
            json  TEXT NOT NULL
        );

        -- Every journal entry held, from every origin. (origin, seq) is the entry's identity;
        -- seq runs without gaps per origin, so MAX(seq) per origin is the version vector.
        CREATE TABLE journal (
            origin  INTEGER NOT NULL,
            seq     INTEGER NOT NULL,
            hlc     INTEGER NOT NULL,
            event   INTEGER NOT NULL,
            payload BLOB NOT NULL,      -- postcard-encoded journal::Payload
            PRIMARY KEY (origin, seq)
        ) WITHOUT ROWID;

        -- Automerge documents as a full save followed by incremental saves.
        CREATE TABLE doc_chunks (
            doc   TEXT NOT NULL,
            chunk INTEGER NOT NULL,
            data  BLOB NOT NULL,
            PRIMARY KEY (doc, chunk)
        ) WITHOUT ROWID;

        -- What each peer acknowledged at the last exchange. My entries beyond the hub's row are
        -- my outbox.
        CREATE TABLE peers (
            peer      INTEGER PRIMARY KEY,
            have      BLOB NOT NULL,     -- postcard-encoded VersionVector
            synced_at INTEGER NOT NULL   -- Unix ms
        );
        ",
        ),
        M::up(
            r"
        -- Keys trusted before any manifest arrives: the hub's, given at enrollment, so the first
        -- sync response can be verified.
        CREATE TABLE trusted_keys (
            device     INTEGER PRIMARY KEY,
            public_key BLOB NOT NULL
        );
        ",
        ),
    ])
}

#[cfg(test)]
mod tests {
    #[test]
    fn migrations_are_valid() {
        super::migrations().validate().unwrap();
    }
}
