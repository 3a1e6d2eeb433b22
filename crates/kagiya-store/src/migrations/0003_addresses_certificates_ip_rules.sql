-- E-mail addresses with their certificates (a JSON list per user), IP access rules per customer and
-- service, forced releases, trusted roots, the country table, and the durable outbox of mails the
-- events imply (sent by a later component; nothing a user is owed is forgotten).
CREATE TABLE user_addresses (
    user_id INTEGER PRIMARY KEY REFERENCES users (id),
    body    TEXT    NOT NULL                   -- JSON array of addresses
) STRICT;

CREATE TABLE ip_rules (
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    service   TEXT    NOT NULL,
    body      TEXT    NOT NULL,                -- JSON RuleSet
    PRIMARY KEY (tenant_id, service)
) STRICT;

CREATE TABLE ip_releases (
    tenant_id INTEGER PRIMARY KEY REFERENCES tenants (id),
    until     INTEGER NOT NULL
) STRICT;

CREATE TABLE trusted_roots (
    sha256  TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    der     TEXT NOT NULL                      -- base64
) STRICT;

CREATE TABLE country_table (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    csv    TEXT NOT NULL,
    sha256 TEXT NOT NULL
) STRICT;

CREATE TABLE outbox (
    id         INTEGER PRIMARY KEY,
    created_at INTEGER NOT NULL,
    event_seq  INTEGER NOT NULL REFERENCES events (seq),
    kind       TEXT    NOT NULL,
    recipient  TEXT    NOT NULL,
    login_id   TEXT    NOT NULL,
    body       TEXT    NOT NULL,               -- JSON
    sent_at    INTEGER,
    attempts   INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL;
