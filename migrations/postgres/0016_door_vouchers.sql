-- Issue 21: vouchers at the door. A box office redeems a code offline only with uses the hub
-- leased to it: `vouchers.leased` counts uses out on devices, taken by a conditional UPDATE
-- like every other use, so online and door redemptions together never pass `max_uses`.
ALTER TABLE vouchers ADD COLUMN leased BIGINT NOT NULL DEFAULT 0;
ALTER TABLE vouchers ADD CONSTRAINT vouchers_leased
    CHECK (leased >= 0 AND redeemed + held + reserved + leased <= max_uses);

-- One lease of a voucher's uses to a box office. `used` counts what the device's door sales
-- redeemed (from its journal); a return gives `uses - used` back to the voucher. Uses are
-- never taken back by the hub alone: the device may have redeemed them offline.
CREATE TABLE voucher_leases (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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

ALTER TABLE voucher_leases ENABLE ROW LEVEL SECURITY;
ALTER TABLE voucher_leases FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON voucher_leases USING (voelgoed_may_see(org_id)) WITH CHECK (voelgoed_may_see(org_id));
