-- Online sales and payments: orders with holds, their lines, issued tickets, payments, refunds,
-- a double-entry ledger, and the payment provider's webhook events (replay protection).

-- An order. Online: `pending` (capacity held until hold_expires_at) → `paid`, or `rejected`
-- (sold out; kept so an idempotent retry gets the same answer) or `expired` (hold lapsed
-- unpaid) or `cancelled`. `code` is what the customer and staff see; `secret` is the
-- customer's access to it (the link in their confirmation).
CREATE TABLE orders (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id           BIGINT NOT NULL REFERENCES organizations (id),
    event_id         BIGINT NOT NULL REFERENCES events (id),
    code             TEXT NOT NULL UNIQUE,
    secret           TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'paid', 'rejected', 'expired', 'cancelled')),
    channel          TEXT NOT NULL CHECK (channel IN ('online', 'box_office')),
    device_id        BIGINT,
    email            TEXT NOT NULL,
    name             TEXT NOT NULL,
    currency         TEXT NOT NULL,
    total_minor      BIGINT NOT NULL CHECK (total_minor >= 0),
    refunded_minor   BIGINT NOT NULL DEFAULT 0,
    hold_expires_at  BIGINT,
    idempotency_key  TEXT,
    request_hash     TEXT,
    created_at       BIGINT NOT NULL,
    paid_at          BIGINT,
    UNIQUE (event_id, idempotency_key),
    CHECK (refunded_minor >= 0 AND refunded_minor <= total_minor)
);
CREATE INDEX orders_event ON orders (event_id, created_at);
CREATE INDEX orders_holds ON orders (hold_expires_at) WHERE status = 'pending';

CREATE TABLE order_lines (
    order_id          BIGINT NOT NULL REFERENCES orders (id),
    org_id            BIGINT NOT NULL,
    ticket_type_id    BIGINT NOT NULL REFERENCES ticket_types (id),
    quantity          BIGINT NOT NULL CHECK (quantity > 0),
    unit_price_minor  BIGINT NOT NULL CHECK (unit_price_minor >= 0),
    PRIMARY KEY (order_id, ticket_type_id)
);

-- Issued tickets: the signed text is kept (it is what the customer holds) with its status.
CREATE TABLE tickets (
    org_id          BIGINT NOT NULL,
    event_id        BIGINT NOT NULL REFERENCES events (id),
    serial          BIGINT NOT NULL,
    order_id        BIGINT NOT NULL REFERENCES orders (id),
    ticket_type_id  BIGINT NOT NULL REFERENCES ticket_types (id),
    price_minor     BIGINT NOT NULL,
    text            TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('valid', 'revoked')),
    issued_at       BIGINT NOT NULL,
    revoked_at      BIGINT,
    PRIMARY KEY (event_id, serial)
);
CREATE INDEX tickets_order ON tickets (order_id);

-- A payment attempt. Online ones go through the provider (`provider_ref` is its id).
CREATE TABLE payments (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id           BIGINT NOT NULL,
    order_id         BIGINT NOT NULL REFERENCES orders (id),
    method           TEXT NOT NULL CHECK (method IN ('online', 'cash', 'card_present', 'comp')),
    status           TEXT NOT NULL CHECK (status IN ('created', 'pending', 'succeeded', 'failed')),
    amount_minor     BIGINT NOT NULL CHECK (amount_minor >= 0),
    currency         TEXT NOT NULL,
    provider_ref     TEXT UNIQUE,
    checkout_url     TEXT,
    idempotency_key  TEXT,
    created_at       BIGINT NOT NULL,
    settled_at       BIGINT,
    UNIQUE (order_id, idempotency_key)
);

CREATE TABLE refunds (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id           BIGINT NOT NULL,
    order_id         BIGINT NOT NULL REFERENCES orders (id),
    payment_id       BIGINT REFERENCES payments (id),
    amount_minor     BIGINT NOT NULL CHECK (amount_minor >= 0),
    currency         TEXT NOT NULL,
    serials          TEXT NOT NULL,   -- comma-separated serials revoked by this refund
    reason           TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    provider_ref     TEXT,
    idempotency_key  TEXT,
    created_by       TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    UNIQUE (order_id, idempotency_key)
);

-- Double-entry ledger: every transaction's entries sum to zero per currency (checked when
-- written, and by the reports). Debits positive, credits negative.
CREATE TABLE ledger_transactions (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id      BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    order_id    BIGINT REFERENCES orders (id),
    payment_id  BIGINT REFERENCES payments (id),
    refund_id   BIGINT REFERENCES refunds (id),
    at          BIGINT NOT NULL
);
CREATE TABLE ledger_entries (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id          BIGINT NOT NULL,
    transaction_id  BIGINT NOT NULL REFERENCES ledger_transactions (id),
    account         TEXT NOT NULL,
    amount_minor    BIGINT NOT NULL,
    currency        TEXT NOT NULL
);
CREATE INDEX ledger_entries_account ON ledger_entries (org_id, account);

-- Webhook events already processed (the provider's event ids): a replay changes nothing.
CREATE TABLE psp_events (
    id           TEXT PRIMARY KEY,
    received_at  BIGINT NOT NULL
);
