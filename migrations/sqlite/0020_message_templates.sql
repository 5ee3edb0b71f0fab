-- Issue 23: what the hub says, in the organization's own words. A template rewords one kind
-- of message (the order confirmation, the refund notice, …) in one language, for the whole
-- organization (event_id 0) or for one event; what is not reworded is said in the hub's own
-- default text. A template is checked when it is saved, so what is stored always renders.
CREATE TABLE message_templates (
    org_id      BIGINT NOT NULL REFERENCES organizations (id),
    -- 0: the organization's wording; else the event's, which comes first for its messages.
    event_id    BIGINT NOT NULL DEFAULT 0,
    kind        TEXT NOT NULL,
    lang        TEXT NOT NULL,
    subject     TEXT NOT NULL,
    body        TEXT NOT NULL,
    updated_by  TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (org_id, event_id, kind, lang)
);

-- The language of what the hub writes to the organization's members (invitations, notices);
-- a buyer is written to in the event's language.
ALTER TABLE organizations ADD COLUMN language TEXT NOT NULL DEFAULT 'en';
