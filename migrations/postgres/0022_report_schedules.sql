-- Issue 23: scheduled reports. A schedule sends one of an event's reports (or the
-- organization's reconciliation) by e-mail, as CSV and PDF, at a time of day on the event's
-- clock, to the members whose roles it names. A run is one slot of one schedule: its row is
-- the claim (unique per schedule and slot, so two instances cannot both run it) and is written
-- in the transaction that queues the mail, with its files beside each message.
CREATE TABLE report_schedules (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id       BIGINT NOT NULL REFERENCES organizations (id),
    event_id     BIGINT NOT NULL REFERENCES events (id),
    -- sales, revenue, checkins, inside, double-admissions, devices, shifts, discounts, seats,
    -- reconciliation.
    report       TEXT NOT NULL,
    -- Minutes after local midnight (0–1439), on the event's clock.
    minute       BIGINT NOT NULL,
    -- The weekdays it runs on, as "mon,tue,…" (every day: all seven).
    days         TEXT NOT NULL,
    -- The roles whose members get it, as "owner,admin".
    roles        TEXT NOT NULL,
    -- 1: paused (its slots pass unsent, and are not caught up when it is enabled again).
    paused       BIGINT NOT NULL DEFAULT 0,
    -- Slots after this (Unix ms) are due: when it was made, changed or enabled, or its last run.
    since        BIGINT NOT NULL,
    -- Its next slot (Unix ms): maintenance looks for schedules whose next_at has passed (or,
    -- after a failed run, when it tries again).
    next_at      BIGINT NOT NULL,
    -- Runs failed in a row (the report could not be made), and why the last did: the wait
    -- before the next try doubles with each; a run that succeeds clears both.
    failures     BIGINT NOT NULL DEFAULT 0,
    last_error   TEXT NOT NULL DEFAULT '',
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX report_schedules_due ON report_schedules (next_at);
CREATE INDEX report_schedules_event ON report_schedules (org_id, event_id);

CREATE TABLE report_runs (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id       BIGINT NOT NULL REFERENCES organizations (id),
    schedule_id  BIGINT NOT NULL REFERENCES report_schedules (id) ON DELETE CASCADE,
    -- The slot (Unix ms): when it was due.
    slot_at      BIGINT NOT NULL,
    ran_at       BIGINT NOT NULL,
    -- sent: this run's mail went to `recipients` members; caught_up: a slot missed in an outage,
    -- whose report went with the run `covered_by` (the latest missed slot's); nobody: no member
    -- has the schedule's roles.
    outcome      TEXT NOT NULL,
    recipients   BIGINT NOT NULL DEFAULT 0,
    covered_by   BIGINT,
    UNIQUE (schedule_id, slot_at)
);

-- Files that go with a queued message, made when it was queued (a report as it stood at its
-- slot), one row per file and message.
CREATE TABLE outbox_attachments (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id        BIGINT NOT NULL REFERENCES organizations (id),
    outbox_id     BIGINT NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    body          BYTEA NOT NULL
);
CREATE INDEX outbox_attachments_message ON outbox_attachments (outbox_id);

ALTER TABLE report_schedules ENABLE ROW LEVEL SECURITY;
ALTER TABLE report_schedules FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON report_schedules USING (voelgoed_may_see(org_id)) WITH CHECK (voelgoed_may_see(org_id));
ALTER TABLE report_runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE report_runs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON report_runs USING (voelgoed_may_see(org_id)) WITH CHECK (voelgoed_may_see(org_id));
ALTER TABLE outbox_attachments ENABLE ROW LEVEL SECURITY;
ALTER TABLE outbox_attachments FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON outbox_attachments USING (voelgoed_may_see(org_id)) WITH CHECK (voelgoed_may_see(org_id));
