-- Organizations, people and their access. Times are Unix milliseconds (BIGINT) and flags are
-- integers, the same in both backends.

CREATE TABLE organizations (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    slug        TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL
);

-- People are global: one person may belong to several organizations.
CREATE TABLE users (
    id             INTEGER PRIMARY KEY,
    email          TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    password_hash  TEXT NOT NULL,   -- argon2id PHC string
    created_at     BIGINT NOT NULL
);

CREATE TABLE memberships (
    org_id      BIGINT NOT NULL REFERENCES organizations (id),
    user_id     BIGINT NOT NULL REFERENCES users (id),
    role        TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'box_office', 'gate_staff', 'viewer')),
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (org_id, user_id)
);

-- Console sessions. The cookie holds a random token; only its SHA-256 is stored.
CREATE TABLE sessions (
    token_hash    TEXT PRIMARY KEY,
    user_id       BIGINT NOT NULL REFERENCES users (id),
    org_id        BIGINT NOT NULL REFERENCES organizations (id),
    csrf_token    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL
);

-- REST API tokens, per organization; only the SHA-256 of the token is stored.
CREATE TABLE api_tokens (
    id            INTEGER PRIMARY KEY,
    org_id        BIGINT NOT NULL REFERENCES organizations (id),
    user_id       BIGINT NOT NULL REFERENCES users (id),
    name          TEXT NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,
    created_at    BIGINT NOT NULL,
    revoked_at    BIGINT
);

-- Who changed what.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    org_id      BIGINT NOT NULL REFERENCES organizations (id),
    actor       TEXT NOT NULL,      -- 'user:12', 'device:7', 'system'
    action      TEXT NOT NULL,      -- 'event.create', 'order.refund', …
    object      TEXT NOT NULL,      -- 'event:3'
    detail      TEXT NOT NULL,      -- JSON
    at          BIGINT NOT NULL
);
CREATE INDEX audit_log_org_at ON audit_log (org_id, at);
