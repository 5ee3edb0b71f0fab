-- Row-level security: the second wall around each organization's data (brief §8). The first
-- is that every query names its organization; this one holds if a query forgets to.
--
-- The hub's queries run as voelgoed_app (see Db::open): not a superuser, not the owner of the
-- tables, no BYPASSRLS, so the policies apply to it — FORCE makes them apply to the owner too.
-- A transaction sees organization N's rows when it set voelgoed.org_id = N (Db::tenant), or
-- every organization's when it declared itself a system lookup (Db::system: finding the
-- organization of an event, an order code, a payment, a device or a session).

DO $$
BEGIN
    CREATE ROLE voelgoed_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT;
EXCEPTION
    -- Roles are shared by the databases of a server: another database made it already.
    WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;
GRANT voelgoed_app TO CURRENT_USER;

GRANT USAGE ON SCHEMA public TO voelgoed_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO voelgoed_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO voelgoed_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO voelgoed_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO voelgoed_app;
REVOKE ALL ON _sqlx_migrations FROM voelgoed_app;

CREATE FUNCTION voelgoed_may_see(org BIGINT) RETURNS BOOLEAN
LANGUAGE sql STABLE AS $$
    SELECT org = NULLIF(current_setting('voelgoed.org_id', true), '')::BIGINT
        OR COALESCE(current_setting('voelgoed.system', true), '') = 'on'
$$;

DO $$
DECLARE
    t TEXT;
BEGIN
    FOREACH t IN ARRAY ARRAY[
        'api_tokens', 'audit_log', 'checkins', 'device_events', 'devices', 'doc_chunks',
        'enrollment_codes', 'event_keys', 'events', 'gates', 'hub_log', 'journal',
        'ledger_entries', 'ledger_transactions', 'memberships', 'order_lines', 'orders',
        'payments', 'peer_acks', 'refunds', 'sessions', 'ticket_types', 'tickets', 'venues'
    ] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant ON %I USING (voelgoed_may_see(org_id)) WITH CHECK (voelgoed_may_see(org_id))', t);
    END LOOP;
END
$$;

-- An organization's own row: its id is the tenant.
ALTER TABLE organizations ENABLE ROW LEVEL SECURITY;
ALTER TABLE organizations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON organizations USING (voelgoed_may_see(id)) WITH CHECK (voelgoed_may_see(id));
