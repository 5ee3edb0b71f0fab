-- Issue 21: selling as organizers sell — vouchers (discount codes), automatic discounts, and
-- each order line's list price, discount and reason.

-- A voucher: a code the buyer enters. `mode` is what it does to the price of each ticket it
-- covers: `set` (pay `value` minor units), `subtract` (`value` minor units off), `percent`
-- (`value` percent off) or `unlock` (the price stays; it only opens hidden ticket types or its
-- reserved capacity). `scope` is the ticket type numbers it covers, comma-separated ('' =
-- all). Each covered ticket is one use: `redeemed` counts uses in paid orders, `held` uses in
-- pending ones, and a conditional UPDATE in the order's transaction keeps
-- `redeemed + held <= max_uses` (the CHECK says it again). A voucher that `reserves` holds
-- `reserved` tickets of its one ticket type out of general sale (`ticket_types.reserved`): the
-- uses it has left, so its holders get in even when the event sells out.
CREATE TABLE vouchers (
    id              INTEGER PRIMARY KEY,
    org_id          BIGINT NOT NULL REFERENCES organizations (id),
    event_id        BIGINT NOT NULL REFERENCES events (id),
    code            TEXT NOT NULL,
    mode            TEXT NOT NULL CHECK (mode IN ('set', 'subtract', 'percent', 'unlock')),
    value           BIGINT NOT NULL CHECK (value >= 0),
    scope           TEXT NOT NULL,
    max_uses        BIGINT NOT NULL CHECK (max_uses >= 1),
    max_per_order   BIGINT,
    redeemed        BIGINT NOT NULL DEFAULT 0,
    held            BIGINT NOT NULL DEFAULT 0,
    reserves        BIGINT NOT NULL DEFAULT 0 CHECK (reserves IN (0, 1)),
    reserved        BIGINT NOT NULL DEFAULT 0,
    unlocks_hidden  BIGINT NOT NULL DEFAULT 0 CHECK (unlocks_hidden IN (0, 1)),
    valid_from      BIGINT,
    valid_until     BIGINT,
    tag             TEXT NOT NULL DEFAULT '',
    note            TEXT NOT NULL DEFAULT '',
    blocked_at      BIGINT,
    created_by      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    UNIQUE (event_id, code),
    CHECK (redeemed >= 0 AND held >= 0 AND reserved >= 0 AND redeemed + held + reserved <= max_uses)
);
CREATE INDEX vouchers_tag ON vouchers (event_id, tag);

-- Discounts without a code, on the event: a `set`/`subtract`/`percent` price (as vouchers) or
-- `buy_get` (`value` = the tickets paid for, `free` = the ones given with them) for tickets of
-- `scope` bought while the rule is valid (early bird: `valid_until`) in orders with at least
-- `min_quantity` of them; with `first_tickets`, only the first that many of each type sold
-- (a price tier).
CREATE TABLE discount_rules (
    id            INTEGER PRIMARY KEY,
    org_id        BIGINT NOT NULL REFERENCES organizations (id),
    event_id      BIGINT NOT NULL REFERENCES events (id),
    name          TEXT NOT NULL,
    mode          TEXT NOT NULL CHECK (mode IN ('set', 'subtract', 'percent', 'buy_get')),
    value         BIGINT NOT NULL CHECK (value >= 0),
    free          BIGINT NOT NULL DEFAULT 0,
    scope         TEXT NOT NULL,
    min_quantity  BIGINT NOT NULL DEFAULT 1,
    valid_from    BIGINT,
    valid_until   BIGINT,
    first_tickets BIGINT CHECK (first_tickets >= 1),
    created_at    BIGINT NOT NULL
);
CREATE INDEX discount_rules_event ON discount_rules (event_id);

-- Ticket types sold only with a voucher that unlocks them, add-ons; capacity set aside for
-- vouchers.
-- (SQLite cannot change the table's CHECK: every conditional UPDATE of the counters names
-- `reserved`, and the trigger below says the invariant again.)
ALTER TABLE ticket_types ADD COLUMN hidden BIGINT NOT NULL DEFAULT 0 CHECK (hidden IN (0, 1));
-- An add-on (parking, merchandise): its own capacity and ticket, sold only with a ticket.
ALTER TABLE ticket_types ADD COLUMN addon BIGINT NOT NULL DEFAULT 0 CHECK (addon IN (0, 1));
ALTER TABLE ticket_types ADD COLUMN reserved BIGINT NOT NULL DEFAULT 0;
CREATE TRIGGER ticket_types_reserved BEFORE UPDATE OF reserved, sold, held, leased, capacity ON ticket_types
WHEN NEW.reserved < 0 OR NEW.sold + NEW.held + NEW.leased + NEW.reserved > NEW.capacity
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: ticket_types capacity');
END;

-- Each line keeps its list price (`unit_price_minor`), its discount in minor units for the
-- whole line and why, and the voucher uses it took (given back when its hold lapses).
ALTER TABLE order_lines ADD COLUMN discount_minor BIGINT NOT NULL DEFAULT 0;
ALTER TABLE order_lines ADD COLUMN discount_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE order_lines ADD COLUMN voucher_id BIGINT REFERENCES vouchers (id);
ALTER TABLE order_lines ADD COLUMN voucher_uses BIGINT NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN voucher_id BIGINT REFERENCES vouchers (id);
-- Why an order was refused (`sold_out`, `voucher_used_up`): a retry with its key hears the same.
ALTER TABLE orders ADD COLUMN rejected_reason TEXT;
CREATE INDEX orders_voucher ON orders (voucher_id) WHERE voucher_id IS NOT NULL;
