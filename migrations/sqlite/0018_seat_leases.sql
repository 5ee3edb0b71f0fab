-- no-transaction
-- Issue 22: seats leased to a box office. A leased seat belongs to one lease (`lease_id`) and
-- to no online order: only a conditional `UPDATE … SET state = 'leased' WHERE state = 'free'`
-- takes it, and holds take only free seats. Sold at the door, it keeps the lease it came from.
--
-- SQLite cannot change a CHECK: the table is rebuilt as SQLite's documentation says ("Making
-- Other Kinds Of Table Schema Changes"), with foreign keys off while `seats` is replaced: the
-- references from `order_seats` and `tickets` name it, and every row is copied with its id.
-- The pragma cannot change inside a transaction, hence none around this file: it has its own.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE seats_new (
    id              INTEGER PRIMARY KEY,
    org_id          BIGINT NOT NULL REFERENCES organizations (id),
    event_id        BIGINT NOT NULL REFERENCES events (id),
    number          BIGINT NOT NULL,
    seat_key        TEXT NOT NULL,
    ticket_type_id  BIGINT NOT NULL REFERENCES ticket_types (id),
    category        TEXT NOT NULL,
    section         TEXT NOT NULL,
    row_label       TEXT NOT NULL,
    label           TEXT NOT NULL,
    row_key         BIGINT NOT NULL,
    pos             BIGINT NOT NULL,
    x               BIGINT NOT NULL,
    y               BIGINT NOT NULL,
    flags           TEXT NOT NULL DEFAULT '',
    state           TEXT NOT NULL DEFAULT 'free' CHECK (state IN ('free', 'held', 'sold', 'blocked', 'leased')),
    order_id        BIGINT REFERENCES orders (id),
    blocked_reason  TEXT,
    lease_id        BIGINT REFERENCES leases (id),
    UNIQUE (event_id, seat_key),
    UNIQUE (event_id, number),
    CHECK ((state IN ('held', 'sold')) = (order_id IS NOT NULL)),
    CHECK ((state = 'blocked') = (blocked_reason IS NOT NULL)),
    CHECK (state <> 'leased' OR lease_id IS NOT NULL)
);
INSERT INTO seats_new (id, org_id, event_id, number, seat_key, ticket_type_id, category, section, row_label,
                       label, row_key, pos, x, y, flags, state, order_id, blocked_reason)
    SELECT id, org_id, event_id, number, seat_key, ticket_type_id, category, section, row_label,
           label, row_key, pos, x, y, flags, state, order_id, blocked_reason FROM seats;
DROP TABLE seats;
ALTER TABLE seats_new RENAME TO seats;
CREATE INDEX seats_type_state ON seats (ticket_type_id, state);
CREATE INDEX seats_order ON seats (order_id);
CREATE INDEX seats_lease ON seats (lease_id);
COMMIT;
PRAGMA foreign_keys = ON;
