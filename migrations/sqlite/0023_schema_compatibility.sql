-- Issue 24, upgrades without downtime. Releases roll one instance at a time, so for a while
-- the previous release runs on the schema this one migrated to. Migrations from here on are
-- written expand-then-contract: a migration only adds (tables, nullable columns or columns
-- with a default, indexes), and what the previous release still reads or writes is removed
-- or tightened only by a later release, after no instance of the old one runs.
--
-- A migration that does contract (drops, renames, retypes, tightens) raises oldest_reader
-- here, in the same migration: the newest migration the oldest hub that can still run on the
-- schema knows. A hub meeting a schema newer than itself starts on it when its own newest
-- migration is at least oldest_reader, and refuses, saying which release it needs, when not
-- (cloud/src/db/schema.rs). cloud/tests/migrations.rs holds every migration to this rule.
CREATE TABLE schema_compatibility (
    -- One row.
    id            BIGINT PRIMARY KEY CHECK (id = 1),
    oldest_reader BIGINT NOT NULL
);
-- 0022 is the previous release's newest migration: it runs on this schema (only added to).
INSERT INTO schema_compatibility (id, oldest_reader) VALUES (1, 22);
