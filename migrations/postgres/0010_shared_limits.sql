-- What hub instances behind one load balancer must share to behave as one (issue 18).
--
-- Rate limits (login, enrollment, API-token quotas): one row per bucket, its "theoretical
-- arrival time" (GCRA, see cloud/src/limits.rs). A burst split over two instances meets one
-- limit. Rows whose time has passed are equivalent to no row and are pruned.
CREATE TABLE rate_limits (
    bucket  TEXT PRIMARY KEY,
    tat     BIGINT NOT NULL
);

-- Nonces of accepted device-signed requests, within the freshness window: a request accepted
-- by one instance is refused as a replay by every other. `at` is the request's own timestamp;
-- rows older than the window are pruned (their requests are refused as stale anyway).
CREATE TABLE request_nonces (
    device_id  BIGINT NOT NULL,
    nonce      TEXT NOT NULL,
    at         BIGINT NOT NULL,
    PRIMARY KEY (device_id, nonce)
);
CREATE INDEX request_nonces_at ON request_nonces (at);
