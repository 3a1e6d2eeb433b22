-- Sync with kagiya-server (issue 14, docs/sync.md). The PC, once enrolled, keeps: its device
-- identity (the key itself is derived from the database key, which is in the OS keyring), the
-- customers its branch serves, every directory event of theirs recorded here as a draft op until
-- the server decides it (sealed — numbered, chained, signed — before its first send, so that a
-- retry sends the very same op), the server's chains of those customers as pulled (the mirror,
-- checked link by link), the outcomes to review, and the last sync's figures.

CREATE TABLE sync_device (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    device_id   TEXT    NOT NULL,
    branch      TEXT    NOT NULL,
    server_url  TEXT    NOT NULL,
    ca_file     TEXT,
    key_generation INTEGER NOT NULL,
    enrolled_at INTEGER NOT NULL,
    last_seq    INTEGER NOT NULL DEFAULT 0,
    last_hash   TEXT    NOT NULL
) STRICT;

CREATE TABLE sync_customers (
    contract_key TEXT PRIMARY KEY
) STRICT;

-- Customers whose rows must be made again from the mirror and the waiting ops (set in the
-- transaction that changed either, cleared in the one that refolds: a crash in between only
-- delays the refold to the next sync).
CREATE TABLE sync_dirty (
    customer TEXT PRIMARY KEY
) STRICT;

CREATE TABLE sync_outbox (
    id         INTEGER PRIMARY KEY,
    event_seq  INTEGER NOT NULL REFERENCES events (seq),
    customer   TEXT    NOT NULL,
    draft      TEXT    NOT NULL,            -- JSON OpDraft
    device_seq INTEGER UNIQUE,              -- set when sealed
    op         TEXT                         -- JSON Op, when sealed
) STRICT;

CREATE TABLE sync_mirror (
    customer  TEXT    NOT NULL,
    seq       INTEGER NOT NULL,
    at        INTEGER NOT NULL,
    actor     TEXT,
    kind      TEXT    NOT NULL,
    body      TEXT    NOT NULL,
    prev_hash TEXT    NOT NULL,
    hash      TEXT    NOT NULL,
    PRIMARY KEY (customer, seq)
) STRICT, WITHOUT ROWID;

CREATE TABLE sync_review (
    device_seq INTEGER PRIMARY KEY,
    op         TEXT    NOT NULL,
    outcome    TEXT    NOT NULL,
    reason     TEXT,
    decided_at INTEGER NOT NULL,
    done       INTEGER NOT NULL DEFAULT 0 CHECK (done IN (0, 1))
) STRICT;

CREATE TABLE sync_status (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    last_sync_at INTEGER,
    last_error   TEXT,
    pushed       INTEGER NOT NULL DEFAULT 0,
    pulled       INTEGER NOT NULL DEFAULT 0
) STRICT;
