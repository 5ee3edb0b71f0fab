-- Mail to customers, written in the transaction that decides to send it and delivered by
-- every instance's maintenance (claimed first, so one message is not sent twice at once).
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY,
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
