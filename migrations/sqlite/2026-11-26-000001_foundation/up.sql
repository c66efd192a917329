CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    scope TEXT NOT NULL CHECK (scope IN ('read', 'write', 'admin')),
    key_hash TEXT NOT NULL,
    key_prefix TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE UNIQUE INDEX api_keys_key_hash ON api_keys (key_hash);

-- One row per (API key, Idempotency-Key); response_status is NULL while the first request runs.
CREATE TABLE idempotency_records (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    owner TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response_status INTEGER,
    response_headers TEXT,
    response_body BLOB,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX idempotency_records_owner_key ON idempotency_records (owner, idempotency_key);
CREATE INDEX idempotency_records_expires_at ON idempotency_records (expires_at);

-- Number series (CT000001, SEG00001, ...): a counter row bumped in the transaction that uses it.
CREATE TABLE number_series (
    code TEXT PRIMARY KEY,
    prefix TEXT NOT NULL,
    width INTEGER NOT NULL,
    last_no BIGINT NOT NULL
);
INSERT INTO number_series (code, prefix, width, last_no) VALUES
    ('contact', 'CT', 6, 0),
    ('segment', 'SEG', 5, 0),
    ('logged_segment', 'LSEG', 5, 0);
