-- Events and their ticketing, keys, devices and the hub's side of the sync engine.

CREATE TABLE venues (
    id          INTEGER PRIMARY KEY,
    org_id      BIGINT NOT NULL REFERENCES organizations (id),
    name        TEXT NOT NULL,
    address     TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE events (
    id                          INTEGER PRIMARY KEY,
    org_id                      BIGINT NOT NULL REFERENCES organizations (id),
    venue_id                    BIGINT REFERENCES venues (id),
    name                        TEXT NOT NULL,
    time_zone                   TEXT NOT NULL,
    starts_at                   BIGINT NOT NULL,
    ends_at                     BIGINT NOT NULL,
    status                      TEXT NOT NULL CHECK (status IN ('draft', 'on_sale', 'live', 'ended', 'cancelled')),
    clock_skew_tolerance_secs   BIGINT NOT NULL,
    next_serial                 BIGINT NOT NULL,   -- serials are dense per event
    created_at                  BIGINT NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX events_org ON events (org_id);

-- `number` is the gate's id inside tickets and manifests (1, 2, 3 … per event).
CREATE TABLE gates (
    id        INTEGER PRIMARY KEY,
    org_id    BIGINT NOT NULL REFERENCES organizations (id),
    event_id  BIGINT NOT NULL REFERENCES events (id),
    number    BIGINT NOT NULL,
    name      TEXT NOT NULL,
    serves    TEXT NOT NULL CHECK (serves IN ('both', 'entry_only', 'exit_only')),
    UNIQUE (event_id, number)
);

-- Capacity is never exceeded: sold + held + leased <= capacity is checked by the database, and
-- every sale is one conditional UPDATE of these counters.
CREATE TABLE ticket_types (
    id            INTEGER PRIMARY KEY,
    org_id        BIGINT NOT NULL REFERENCES organizations (id),
    event_id      BIGINT NOT NULL REFERENCES events (id),
    number        BIGINT NOT NULL,              -- the type's id inside tickets
    name          TEXT NOT NULL,
    price_minor   BIGINT NOT NULL CHECK (price_minor >= 0),
    currency      TEXT NOT NULL,
    capacity      BIGINT NOT NULL CHECK (capacity >= 0),
    sold          BIGINT NOT NULL DEFAULT 0,
    held          BIGINT NOT NULL DEFAULT 0,
    leased        BIGINT NOT NULL DEFAULT 0,
    sales_start   BIGINT,
    sales_end     BIGINT,
    entry_policy  TEXT NOT NULL CHECK (entry_policy IN ('single_entry', 'multi_entry', 'exit_reentry')),
    allowed_gates TEXT NOT NULL,                -- gate numbers, comma-separated; '' = every gate
    UNIQUE (event_id, number),
    CHECK (sold >= 0 AND held >= 0 AND leased >= 0 AND sold + held + leased <= capacity)
);

-- Event signing keys; the secret sealed with the master key (XChaCha20-Poly1305).
CREATE TABLE event_keys (
    id             INTEGER PRIMARY KEY,
    org_id         BIGINT NOT NULL REFERENCES organizations (id),
    event_id       BIGINT NOT NULL REFERENCES events (id),
    key_id         BIGINT NOT NULL,
    public_key     BLOB NOT NULL,
    sealed_secret  BLOB NOT NULL,
    created_at     BIGINT NOT NULL,
    retired_at     BIGINT,
    UNIQUE (event_id, key_id)
);

-- The hub's own key (signs sync responses; devices learn it at enrollment).
CREATE TABLE hub_identity (
    singleton      BIGINT PRIMARY KEY CHECK (singleton = 1),
    public_key     BLOB NOT NULL,
    sealed_secret  BLOB NOT NULL
);

-- Devices have global ids (they are journal origins); 0 is each organization's hub log.
CREATE TABLE devices (
    id               INTEGER PRIMARY KEY CHECK (id > 0),
    org_id           BIGINT NOT NULL REFERENCES organizations (id),
    name             TEXT NOT NULL,
    role             TEXT NOT NULL CHECK (role IN ('gate', 'box_office')),
    public_key       BLOB NOT NULL UNIQUE,
    app_version      TEXT NOT NULL,
    enrolled_at      BIGINT NOT NULL,
    last_seen_at     BIGINT,
    pending_entries  BIGINT NOT NULL DEFAULT 0,
    revoked_at       BIGINT
);

CREATE TABLE device_events (
    device_id  BIGINT NOT NULL REFERENCES devices (id),
    event_id   BIGINT NOT NULL REFERENCES events (id),
    org_id     BIGINT NOT NULL REFERENCES organizations (id),
    PRIMARY KEY (device_id, event_id)
);

-- Single-use, expiring codes; only the SHA-256 of the code is stored.
CREATE TABLE enrollment_codes (
    code_hash   TEXT PRIMARY KEY,
    org_id      BIGINT NOT NULL REFERENCES organizations (id),
    role        TEXT NOT NULL CHECK (role IN ('gate', 'box_office')),
    name        TEXT NOT NULL,
    events      TEXT NOT NULL,       -- event ids, comma-separated
    created_by  BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT,
    device_id   BIGINT
);

-- The journal, per organization: every entry the hub holds, from every origin.
CREATE TABLE journal (
    org_id    BIGINT NOT NULL,
    origin    BIGINT NOT NULL,
    seq       BIGINT NOT NULL,
    hlc       BIGINT NOT NULL,
    event_id  BIGINT NOT NULL,
    payload   BLOB NOT NULL,
    PRIMARY KEY (org_id, origin, seq)
);

-- Head of each organization's hub log: one row per organization serialises hub appends
-- across hub instances (sequence numbers without gaps, clocks strictly increasing).
CREATE TABLE hub_log (
    org_id  BIGINT PRIMARY KEY REFERENCES organizations (id),
    seq     BIGINT NOT NULL,
    hlc     BIGINT NOT NULL
);

CREATE TABLE doc_chunks (
    org_id  BIGINT NOT NULL,
    doc     TEXT NOT NULL,
    chunk   BIGINT NOT NULL,
    data    BLOB NOT NULL,
    PRIMARY KEY (org_id, doc, chunk)
);

CREATE TABLE peer_acks (
    org_id  BIGINT NOT NULL,
    peer    BIGINT NOT NULL,
    have    BLOB NOT NULL,
    PRIMARY KEY (org_id, peer)
);

-- Scans materialised from the journal (one row per scan entry, so replays change nothing).
CREATE TABLE checkins (
    org_id       BIGINT NOT NULL,
    origin       BIGINT NOT NULL,
    seq          BIGINT NOT NULL,
    event_id     BIGINT NOT NULL,
    serial       BIGINT,
    ticket_type  BIGINT,
    direction    TEXT NOT NULL,
    gate         BIGINT NOT NULL,
    verdict      TEXT NOT NULL,
    at           BIGINT NOT NULL,
    PRIMARY KEY (org_id, origin, seq)
);
CREATE INDEX checkins_event_at ON checkins (event_id, at);
