-- Box-office leases: n rights of one ticket type, the serials first_serial..=last_serial, and
-- the event key's delegation for them, granted to one box-office device (brief §3, §7).
-- `ticket_types.leased` counts the rights not yet sold or returned, so online sales and door
-- sales draw on one capacity.
CREATE TABLE leases (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id          BIGINT NOT NULL REFERENCES organizations (id),
    event_id        BIGINT NOT NULL REFERENCES events (id),
    device_id       BIGINT NOT NULL REFERENCES devices (id),
    ticket_type_id  BIGINT NOT NULL REFERENCES ticket_types (id),
    first_serial    BIGINT NOT NULL,
    last_serial     BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('active', 'returned', 'revoked')),
    sold            BIGINT NOT NULL DEFAULT 0,
    returned_from   BIGINT,
    created_by      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    CHECK (last_serial >= first_serial AND sold >= 0 AND sold <= last_serial - first_serial + 1)
);
CREATE INDEX leases_event ON leases (event_id);

ALTER TABLE leases ENABLE ROW LEVEL SECURITY;
ALTER TABLE leases FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON leases USING (voelgoed_may_see(org_id)) WITH CHECK (voelgoed_may_see(org_id));
