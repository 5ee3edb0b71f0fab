-- Issue 23: outgoing webhooks (Standard Webhooks). An endpoint is a partner's URL with the
-- event types it wants; a message is one event, written in the transaction of the change that
-- caused it (so none is lost and none is sent for a change that rolled back); a delivery is
-- one message to one endpoint, claimed by one instance at a time and retried with backoff; an
-- attempt is one POST, kept for the delivery log.
CREATE TABLE webhook_endpoints (
    id               INTEGER PRIMARY KEY,
    org_id           BIGINT NOT NULL REFERENCES organizations (id),
    url              TEXT NOT NULL,
    description      TEXT NOT NULL DEFAULT '',
    -- The event types it wants, as ",order.paid,ticket.checked_in," (a LIKE finds one).
    event_types      TEXT NOT NULL,
    -- 1: messages are delivered one at a time, oldest first (a failing one holds the rest).
    ordered          BIGINT NOT NULL DEFAULT 0,
    -- The signing secret, sealed with the master key; the one it replaced, until
    -- previous_until, while the partner switches (both signatures are sent).
    sealed_secret    BLOB NOT NULL,
    sealed_previous  BLOB,
    previous_until   BIGINT,
    disabled_at      BIGINT,
    disabled_reason  TEXT NOT NULL DEFAULT '',
    deleted_at       BIGINT,
    created_by       TEXT NOT NULL,
    created_at       BIGINT NOT NULL
);
CREATE INDEX webhook_endpoints_org ON webhook_endpoints (org_id);

CREATE TABLE webhook_messages (
    id           INTEGER PRIMARY KEY,
    org_id       BIGINT NOT NULL REFERENCES organizations (id),
    -- The webhook-id header: the partner's key for "seen this one already". 128 random bits,
    -- so not indexed as unique: an index per message costs every checkout batch.
    msg_id       TEXT NOT NULL,
    event_type   TEXT NOT NULL,
    -- The JSON body, exactly as signed and sent.
    payload      TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX webhook_messages_org ON webhook_messages (org_id, created_at);

CREATE TABLE webhook_deliveries (
    id            INTEGER PRIMARY KEY,
    org_id        BIGINT NOT NULL REFERENCES organizations (id),
    endpoint_id   BIGINT NOT NULL REFERENCES webhook_endpoints (id),
    message_id    BIGINT NOT NULL REFERENCES webhook_messages (id),
    -- 'pending' (due at next_at), 'delivered', 'failed' (attempts used up or endpoint gone).
    state         TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts      BIGINT NOT NULL DEFAULT 0,
    next_at       BIGINT NOT NULL,
    -- Set while one instance attempts it; a claim older than a minute is from one that died.
    claimed_at    BIGINT,
    last_status   BIGINT,
    last_answer   TEXT NOT NULL DEFAULT '',
    last_at       BIGINT,
    UNIQUE (endpoint_id, message_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_at) WHERE state = 'pending';

CREATE TABLE webhook_attempts (
    id            INTEGER PRIMARY KEY,
    org_id        BIGINT NOT NULL REFERENCES organizations (id),
    delivery_id   BIGINT NOT NULL REFERENCES webhook_deliveries (id),
    at            BIGINT NOT NULL,
    status        BIGINT,
    answer        TEXT NOT NULL,
    millis        BIGINT NOT NULL
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id);
