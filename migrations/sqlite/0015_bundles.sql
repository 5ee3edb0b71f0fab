-- Issue 21: bundles — a ticket type that contains others. Buying one takes, besides its own
-- capacity, `quantity` of each part's ticket type; a part with `ticket` = 1 is issued as a
-- ticket of its own (a VIP package's parking ticket, its drinks voucher: separate admissions at
-- the gate), one with `ticket` = 0 only takes capacity (a weekend pass: one ticket admitted at
-- both days' gates, counted against each day's capacity). Parts are not bundles themselves.
CREATE TABLE bundle_parts (
    org_id          BIGINT NOT NULL REFERENCES organizations (id),
    bundle_type_id  BIGINT NOT NULL REFERENCES ticket_types (id),
    part_type_id    BIGINT NOT NULL REFERENCES ticket_types (id),
    quantity        BIGINT NOT NULL CHECK (quantity BETWEEN 1 AND 10),
    ticket          BIGINT NOT NULL CHECK (ticket IN (0, 1)),
    PRIMARY KEY (bundle_type_id, part_type_id),
    CHECK (bundle_type_id <> part_type_id)
);

-- What an order's bundles took, fixed when it was placed (the bundle may change later; its
-- hold, its sale and its refunds must give back exactly what it took): `quantity` in all, for
-- every bundle of the line.
CREATE TABLE order_parts (
    order_id        BIGINT NOT NULL REFERENCES orders (id),
    org_id          BIGINT NOT NULL,
    bundle_type_id  BIGINT NOT NULL REFERENCES ticket_types (id),
    part_type_id    BIGINT NOT NULL REFERENCES ticket_types (id),
    quantity        BIGINT NOT NULL CHECK (quantity >= 1),
    ticket          BIGINT NOT NULL CHECK (ticket IN (0, 1)),
    PRIMARY KEY (order_id, bundle_type_id, part_type_id)
);

-- A ticket issued as a part of a bundle: the bundle ticket's serial (refunded with it).
ALTER TABLE tickets ADD COLUMN part_of BIGINT;

