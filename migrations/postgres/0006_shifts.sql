-- Cashier shifts closed at box offices, as their closing journal entries report them: who,
-- when, sales and voids, and the cash count. One row per shift (device, opening entry).
CREATE TABLE shifts (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id              BIGINT NOT NULL REFERENCES organizations (id),
    event_id            BIGINT NOT NULL REFERENCES events (id),
    device_id           BIGINT NOT NULL,
    opened_seq          BIGINT NOT NULL,
    cashier             TEXT NOT NULL,
    currency            TEXT NOT NULL,
    opened_at           BIGINT NOT NULL,
    closed_at           BIGINT NOT NULL,
    receipts            BIGINT NOT NULL,
    voided_receipts     BIGINT NOT NULL,
    sold_minor          BIGINT NOT NULL,
    voided_minor        BIGINT NOT NULL,
    float_minor         BIGINT NOT NULL,
    expected_cash_minor BIGINT NOT NULL,
    counted_cash_minor  BIGINT NOT NULL,
    report              TEXT NOT NULL,
    UNIQUE (org_id, device_id, opened_seq)
);
CREATE INDEX shifts_event ON shifts (event_id);

ALTER TABLE shifts ENABLE ROW LEVEL SECURITY;
ALTER TABLE shifts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON shifts USING (voelgoed_may_see(org_id)) WITH CHECK (voelgoed_may_see(org_id));
