-- Branch operators. Lock state is derived from failures / first_failure_at / locked_until.
CREATE TABLE operators (
    id               INTEGER PRIMARY KEY,
    operator_id      TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    name             TEXT    NOT NULL,
    role             TEXT    NOT NULL CHECK (role IN ('operator', 'supervisor')),
    login_hash       TEXT    NOT NULL CHECK (login_hash LIKE '$argon2id$%'),
    confirm_hash     TEXT    NOT NULL CHECK (confirm_hash LIKE '$argon2id$%'),
    created_at       INTEGER NOT NULL,
    failures         INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0),
    first_failure_at INTEGER,
    locked_until     INTEGER,
    last_sign_in_at  INTEGER
) STRICT;

-- The append-only, hash-chained audit log.
CREATE TABLE events (
    seq       INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    actor     TEXT,
    kind      TEXT    NOT NULL,
    body      TEXT    NOT NULL,
    prev_hash TEXT    NOT NULL,
    hash      TEXT    NOT NULL UNIQUE
) STRICT;
CREATE INDEX events_at ON events (at);
CREATE INDEX events_kind ON events (kind, at);

CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

-- Console settings (language, idle lock) as key/value text.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
