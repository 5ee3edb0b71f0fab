-- Issue 23: texts (SMS, WhatsApp) beside mail. A buyer may give a phone number at checkout;
-- once the order is paid, the link to its tickets is queued here, in the transaction that
-- issues them, and sent by every instance's text worker (claimed like mail), within the
-- per-phone and per-organization limits.
ALTER TABLE orders ADD COLUMN phone TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN text_via TEXT NOT NULL DEFAULT 'sms';

CREATE TABLE text_messages (
    id           INTEGER PRIMARY KEY,
    org_id       BIGINT NOT NULL REFERENCES organizations (id),
    -- E.164.
    recipient    TEXT NOT NULL,
    -- sms or whatsapp.
    via          TEXT NOT NULL,
    body         TEXT NOT NULL,
    -- The order it is about (staff see its texts there).
    order_id     BIGINT,
    -- Queued at most once per key (ticket-link:<order>).
    dedupe_key   TEXT UNIQUE,
    -- pending → sent; suppressed (over the per-phone limit, never sent); failed (refused for
    -- good, or out of attempts).
    state        TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    attempts     BIGINT NOT NULL DEFAULT 0,
    -- Claimed by an instance (or dated back to wait out a retry or the organization's limit).
    claimed_at   BIGINT,
    sent_at      BIGINT,
    finished_at  BIGINT,
    provider_id  TEXT,
    last_error   TEXT
);
CREATE INDEX text_messages_due ON text_messages (state, id);
CREATE INDEX text_messages_order ON text_messages (order_id);
