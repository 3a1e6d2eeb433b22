-- What the sign-in API needs: a session knows how far its sign-in went (the one-time code still
-- owed, a password that must change first, or complete) and when it was last used; the
-- country table of the IP rules; prefix search over names and addresses.

ALTER TABLE sessions
    ADD COLUMN stage        text   NOT NULL DEFAULT 'full'
        CHECK (stage IN ('code', 'change', 'full')),
    ADD COLUMN last_seen_ms bigint NOT NULL DEFAULT 0,
    ADD COLUMN channel      text   NOT NULL DEFAULT 'web';

CREATE TABLE country_table (
    id     boolean PRIMARY KEY DEFAULT true CHECK (id),
    csv    text NOT NULL,
    sha256 text NOT NULL
);

CREATE INDEX users_by_name ON users ((lower(doc->>'name')) text_pattern_ops);
CREATE INDEX users_by_email ON users ((lower(doc->>'email')) text_pattern_ops);
CREATE INDEX users_by_login ON users (login_key text_pattern_ops);
CREATE INDEX sessions_expiry ON sessions (expires_ms);
