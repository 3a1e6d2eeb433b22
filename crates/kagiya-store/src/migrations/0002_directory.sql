-- The directory: customers (tenants), their users and each user's two credentials. These tables
-- are the fold of the directory events in `events`, kept up to date in the same transaction as
-- each event (see directory.rs); they can be rebuilt from the log and compared.
CREATE TABLE tenants (
    id                  INTEGER PRIMARY KEY,
    contract_no         TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    name                TEXT    NOT NULL,
    services            TEXT    NOT NULL,  -- JSON array of service codes
    preset              TEXT    NOT NULL,
    login_policy        TEXT    NOT NULL,  -- JSON CredentialPolicy
    confirmation_policy TEXT    NOT NULL,
    created_at          INTEGER NOT NULL
) STRICT;

CREATE TABLE users (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id),
    login_id    TEXT    NOT NULL,
    login_key   TEXT    NOT NULL UNIQUE,   -- lower case: unique across the system
    name        TEXT    NOT NULL,
    name_key    TEXT    NOT NULL,          -- lower case, for prefix search
    role        TEXT    NOT NULL CHECK (role IN ('master', 'admin', 'general')),
    status      TEXT    NOT NULL CHECK (status IN ('active', 'suspended', 'deleted')),
    email       TEXT,
    email_key   TEXT,
    mfa         INTEGER NOT NULL CHECK (mfa IN (0, 1)),
    created_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX users_tenant ON users (tenant_id, login_key);
CREATE INDEX users_name ON users (name_key);
CREATE INDEX users_email ON users (email_key);

CREATE TABLE credentials (
    user_id           INTEGER NOT NULL REFERENCES users (id),
    kind              TEXT    NOT NULL CHECK (kind IN ('login', 'confirmation')),
    hash              TEXT    NOT NULL CHECK (hash = '' OR hash LIKE '$argon2id$%'),
    set_at            INTEGER NOT NULL,
    expires_at        INTEGER,
    must_change       INTEGER NOT NULL CHECK (must_change IN (0, 1)),
    temporary         INTEGER NOT NULL CHECK (temporary IN (0, 1)),
    initial_hash      TEXT,
    history           TEXT    NOT NULL,    -- JSON array of earlier hashes, newest first
    failures          INTEGER NOT NULL CHECK (failures >= 0),
    first_failure_at  INTEGER,
    last_failure_at   INTEGER,
    locked_until      INTEGER,
    temp_locks        INTEGER NOT NULL CHECK (temp_locks >= 0),
    permanent_at      INTEGER,
    admin_unlocked_at INTEGER,
    PRIMARY KEY (user_id, kind)
) STRICT, WITHOUT ROWID;
CREATE INDEX credentials_locked ON credentials (locked_until) WHERE locked_until IS NOT NULL;
CREATE INDEX credentials_stopped ON credentials (permanent_at) WHERE permanent_at IS NOT NULL;
CREATE INDEX credentials_expiry ON credentials (expires_at) WHERE expires_at IS NOT NULL;

-- Initialization requests (seed 004's paper form) and their approval state.
CREATE TABLE init_requests (
    request_no  TEXT PRIMARY KEY COLLATE NOCASE,
    contract_no TEXT NOT NULL,
    state       TEXT NOT NULL,
    body        TEXT NOT NULL               -- JSON InitRequest
) STRICT;
