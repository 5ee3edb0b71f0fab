-- Issue 24, a 500,000-ticket event with 1,000,000 check-ins: the organizer's reads within a
-- second. Measured on such an event (docs/benchmarks.md, `voelgoed-sim big-event`), each read
-- went through every check-in or every order of the event: on SQLite the live dashboard took
-- 3-5 s, the reports 1-3 s (the devices report 135 s: it counted each device's scans among all
-- of them), an order page 0.5 s.
--
-- Only additions (expand-then-contract, 0023): the previous release runs on this schema, and
-- the two tables below are kept by triggers on checkins, so whichever release's instance stores
-- a scan, they count it; a replayed scan is not inserted again and is not counted again.

-- A ticket's scans (an order page; the double-admission check a webhook partner's event makes
-- at every scan); an event's orders newest first (the orders search stops at its page); the few
-- order lines with a discount or a voucher (the revenue and discounts reports).
CREATE INDEX checkins_serial ON checkins (event_id, serial);
CREATE INDEX orders_event_id ON orders (event_id, id);
CREATE INDEX order_lines_discounted ON order_lines (org_id, order_id) WHERE discount_minor > 0 OR voucher_id IS NOT NULL;

-- Scans counted by quarter hour (at / 900000), gate, device and verdict: the check-ins and
-- devices reports and the dashboard's admissions read a few thousand rows, not every scan.
CREATE TABLE checkin_counts (
    org_id    BIGINT NOT NULL,
    event_id  BIGINT NOT NULL,
    bucket    BIGINT NOT NULL,
    gate      BIGINT NOT NULL,
    origin    BIGINT NOT NULL,
    verdict   TEXT NOT NULL,
    scans     BIGINT NOT NULL,
    PRIMARY KEY (event_id, bucket, gate, origin, verdict)
);

-- Each scanned ticket: how often it was admitted, and its latest movement (admitted, re_entry
-- or exit_recorded) as every device orders them — by the scan's hybrid logical clock, then
-- origin and sequence number — and whether that was an entry. The inside report, the
-- dashboard's inside count and the double admissions read this instead of every scan.
CREATE TABLE presence (
    org_id       BIGINT NOT NULL,
    event_id     BIGINT NOT NULL,
    serial       BIGINT NOT NULL,
    ticket_type  BIGINT NOT NULL,
    admissions   BIGINT NOT NULL,
    hlc          BIGINT NOT NULL,
    origin       BIGINT NOT NULL,
    seq          BIGINT NOT NULL,
    inside       BIGINT NOT NULL,
    PRIMARY KEY (event_id, serial)
);
CREATE INDEX presence_doubles ON presence (event_id, serial) WHERE admissions > 1;
-- Who is inside, counted from the index alone.
CREATE INDEX presence_inside ON presence (event_id, org_id, inside, ticket_type);

-- What the scans stored so far come to.
INSERT INTO checkin_counts (org_id, event_id, bucket, gate, origin, verdict, scans)
SELECT org_id, event_id, at / 900000, gate, origin, verdict, COUNT(*) FROM checkins
GROUP BY org_id, event_id, at / 900000, gate, origin, verdict;
INSERT INTO presence (org_id, event_id, serial, ticket_type, admissions, hlc, origin, seq, inside)
SELECT org_id, event_id, serial, ticket_type, admissions, hlc, origin, seq, inside FROM (
    SELECT org_id, event_id, serial, COALESCE(ticket_type, 0) AS ticket_type, hlc, origin, seq,
           CASE WHEN verdict = 'exit_recorded' THEN 0 ELSE 1 END AS inside,
           SUM(CASE WHEN verdict = 'admitted' THEN 1 ELSE 0 END) OVER (PARTITION BY event_id, serial) AS admissions,
           ROW_NUMBER() OVER (PARTITION BY event_id, serial ORDER BY hlc DESC, origin DESC, seq DESC) AS n
    FROM checkins WHERE serial IS NOT NULL AND verdict IN ('admitted', 're_entry', 'exit_recorded')
) latest WHERE n = 1;

ALTER TABLE checkin_counts ENABLE ROW LEVEL SECURITY;
ALTER TABLE checkin_counts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON checkin_counts USING (voelgoed_may_see(org_id)) WITH CHECK (voelgoed_may_see(org_id));
ALTER TABLE presence ENABLE ROW LEVEL SECURITY;
ALTER TABLE presence FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON presence USING (voelgoed_may_see(org_id)) WITH CHECK (voelgoed_may_see(org_id));

-- Kept with every statement that stores scans, in its transaction: once per statement (the
-- hub stores a sync request's scans 128 to a statement), from the rows it inserted. Rows in
-- key order, so two transactions take the rows they share in the same order.
CREATE FUNCTION voelgoed_count_checkins() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO checkin_counts (org_id, event_id, bucket, gate, origin, verdict, scans)
    SELECT org_id, event_id, at / 900000, gate, origin, verdict, COUNT(*) FROM new_checkins
    GROUP BY org_id, event_id, at / 900000, gate, origin, verdict
    ORDER BY event_id, at / 900000, gate, origin, verdict
    ON CONFLICT (event_id, bucket, gate, origin, verdict) DO UPDATE SET scans = checkin_counts.scans + excluded.scans;
    INSERT INTO presence (org_id, event_id, serial, ticket_type, admissions, hlc, origin, seq, inside)
    SELECT org_id, event_id, serial, ticket_type, admissions, hlc, origin, seq, inside FROM (
        SELECT org_id, event_id, serial, COALESCE(ticket_type, 0) AS ticket_type, hlc, origin, seq,
               CASE WHEN verdict = 'exit_recorded' THEN 0 ELSE 1 END AS inside,
               SUM(CASE WHEN verdict = 'admitted' THEN 1 ELSE 0 END) OVER (PARTITION BY event_id, serial) AS admissions,
               ROW_NUMBER() OVER (PARTITION BY event_id, serial ORDER BY hlc DESC, origin DESC, seq DESC) AS n
        FROM new_checkins WHERE serial IS NOT NULL AND verdict IN ('admitted', 're_entry', 'exit_recorded')
    ) latest WHERE n = 1
    ORDER BY event_id, serial
    ON CONFLICT (event_id, serial) DO UPDATE SET
        admissions = presence.admissions + excluded.admissions,
        inside = CASE WHEN (excluded.hlc, excluded.origin, excluded.seq) > (presence.hlc, presence.origin, presence.seq)
                      THEN excluded.inside ELSE presence.inside END,
        seq = CASE WHEN (excluded.hlc, excluded.origin, excluded.seq) > (presence.hlc, presence.origin, presence.seq)
                   THEN excluded.seq ELSE presence.seq END,
        origin = CASE WHEN (excluded.hlc, excluded.origin, excluded.seq) > (presence.hlc, presence.origin, presence.seq)
                      THEN excluded.origin ELSE presence.origin END,
        hlc = CASE WHEN (excluded.hlc, excluded.origin, excluded.seq) > (presence.hlc, presence.origin, presence.seq)
                   THEN excluded.hlc ELSE presence.hlc END;
    RETURN NULL;
END
$$;
CREATE TRIGGER checkins_counted AFTER INSERT ON checkins REFERENCING NEW TABLE AS new_checkins
    FOR EACH STATEMENT EXECUTE FUNCTION voelgoed_count_checkins();
