-- Issue 21: vouchers at the door. A box office redeems a code offline only with uses the hub
-- leased to it: `vouchers.leased` counts uses out on devices, taken by a conditional UPDATE
-- like every other use, so online and door redemptions together never pass `max_uses` (the
-- trigger says it again, as SQLite cannot add a CHECK to a table).
ALTER TABLE vouchers ADD COLUMN leased BIGINT NOT NULL DEFAULT 0;
CREATE TRIGGER vouchers_leased BEFORE UPDATE OF leased, redeemed, held, reserved ON vouchers
WHEN NEW.leased < 0 OR NEW.redeemed + NEW.held + NEW.reserved + NEW.leased > NEW.max_uses
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: vouchers leased');
END;

-- One lease of a voucher's uses to a box office. `used` counts what the device's door sales
-- redeemed (from its journal); a return gives `uses - used` back to the voucher. Uses are
-- never taken back by the hub alone: the device may have redeemed them offline.
CREATE TABLE voucher_leases (
    id              INTEGER PRIMARY KEY,
    org_id          BIGINT NOT NULL REFERENCES organizations (id),
    event_id        BIGINT NOT NULL REFERENCES events (id),
    voucher_id      BIGINT NOT NULL REFERENCES vouchers (id),
    device_id       BIGINT NOT NULL REFERENCES devices (id),
    uses            BIGINT NOT NULL CHECK (uses >= 1),
    used            BIGINT NOT NULL DEFAULT 0,
    expires_at      BIGINT NOT NULL,
    returned_at     BIGINT,
    created_by      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    CHECK (used >= 0 AND used <= uses)
);
CREATE INDEX voucher_leases_voucher ON voucher_leases (voucher_id);
