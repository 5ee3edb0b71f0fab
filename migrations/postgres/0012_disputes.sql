-- Issue 20: a chargeback. The buyer's bank disputed the payment (Stripe's
-- `charge.dispute.created`): the order is flagged for the organizer, who decides whether its
-- tickets are cancelled. The money is the dispute's business, not a refund's.
CREATE TABLE disputes (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id        BIGINT NOT NULL,
    order_id      BIGINT NOT NULL REFERENCES orders (id),
    payment_id    BIGINT NOT NULL REFERENCES payments (id),
    provider_ref  TEXT NOT NULL UNIQUE,   -- the provider's dispute id
    amount_minor  BIGINT NOT NULL,
    currency      TEXT NOT NULL,
    reason        TEXT NOT NULL,          -- the provider's word: fraudulent, product_not_received, …
    created_at    BIGINT NOT NULL
);
CREATE INDEX disputes_order ON disputes (order_id);

ALTER TABLE disputes ENABLE ROW LEVEL SECURITY;
ALTER TABLE disputes FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON disputes USING (voelgoed_may_see(org_id)) WITH CHECK (voelgoed_may_see(org_id));
