-- Issue 22: reserved seating. A seat plan is an organization's drawing of a hall
-- (sync-core's `seating::Plan`, kept as its native JSON, checked before it is stored); events
-- reuse it.
CREATE TABLE seat_plans (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id          BIGINT NOT NULL REFERENCES organizations (id),
    name            TEXT NOT NULL,
    plan            TEXT NOT NULL,
    seats           BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX seat_plans_org ON seat_plans (org_id);

-- An event sold by seat: a copy of the plan as it was when assigned (editing the plan later
-- never moves a sold seat) and which ticket type each category sells as (JSON: category →
-- ticket type number).
CREATE TABLE event_seating (
    event_id        BIGINT PRIMARY KEY REFERENCES events (id),
    org_id          BIGINT NOT NULL REFERENCES organizations (id),
    plan_id         BIGINT NOT NULL REFERENCES seat_plans (id),
    plan            TEXT NOT NULL,
    categories      TEXT NOT NULL,
    assigned_at     BIGINT NOT NULL
);

-- Every seat of a seated event, and who has it. A seat is taken only by a conditional
-- `UPDATE … SET state = 'held' WHERE state = 'free'` in the order's transaction, so it is in
-- at most one live hold or order; the CHECK says again that a held or sold seat names its
-- order and no other seat does. `number` is the seat's compact id within the event (plan
-- order, from 0); `row_key` and `pos` say which seats stand side by side (best available).
CREATE TABLE seats (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
    state           TEXT NOT NULL DEFAULT 'free' CHECK (state IN ('free', 'held', 'sold', 'blocked')),
    order_id        BIGINT REFERENCES orders (id),
    blocked_reason  TEXT,
    UNIQUE (event_id, seat_key),
    UNIQUE (event_id, number),
    CHECK ((state IN ('held', 'sold')) = (order_id IS NOT NULL)),
    CHECK ((state = 'blocked') = (blocked_reason IS NOT NULL))
);
CREATE INDEX seats_type_state ON seats (ticket_type_id, state);
CREATE INDEX seats_order ON seats (order_id);

-- The seats an order chose, kept after its hold lapses (paid late, it asks for them again)
-- and after a refund (what it had).
CREATE TABLE order_seats (
    order_id        BIGINT NOT NULL REFERENCES orders (id),
    org_id          BIGINT NOT NULL,
    seat_id         BIGINT NOT NULL REFERENCES seats (id),
    ticket_type_id  BIGINT NOT NULL REFERENCES ticket_types (id),
    PRIMARY KEY (order_id, seat_id)
);

-- The seat a ticket is for.
ALTER TABLE tickets ADD COLUMN seat_id BIGINT REFERENCES seats (id);

ALTER TABLE seat_plans ENABLE ROW LEVEL SECURITY;
ALTER TABLE seat_plans FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON seat_plans USING (voelgoed_may_see(org_id)) WITH CHECK (voelgoed_may_see(org_id));
ALTER TABLE event_seating ENABLE ROW LEVEL SECURITY;
ALTER TABLE event_seating FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON event_seating USING (voelgoed_may_see(org_id)) WITH CHECK (voelgoed_may_see(org_id));
ALTER TABLE seats ENABLE ROW LEVEL SECURITY;
ALTER TABLE seats FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON seats USING (voelgoed_may_see(org_id)) WITH CHECK (voelgoed_may_see(org_id));
ALTER TABLE order_seats ENABLE ROW LEVEL SECURITY;
ALTER TABLE order_seats FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON order_seats USING (voelgoed_may_see(org_id)) WITH CHECK (voelgoed_may_see(org_id));
