-- Mail to customers, written in the transaction that decides to send it and delivered by
-- every instance's maintenance (claimed first, so one message is not sent twice at once).
CREATE TABLE outbox (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id      BIGINT NOT NULL REFERENCES organizations (id),
    recipient   TEXT NOT NULL,
    subject     TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    claimed_at  BIGINT,
    sent_at     BIGINT,
    attempts    BIGINT NOT NULL DEFAULT 0,
    last_error  TEXT
);
CREATE INDEX outbox_pending ON outbox (sent_at, id);

ALTER TABLE outbox ENABLE ROW LEVEL SECURITY;
ALTER TABLE outbox FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON outbox USING (voelgoed_may_see(org_id)) WITH CHECK (voelgoed_may_see(org_id));
