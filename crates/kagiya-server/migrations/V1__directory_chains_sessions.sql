-- The central store's first schema. The directory is kept as the core folds it: one JSON document
-- per customer, user, request and rule set, written by the same fold functions as the branch's
-- tables, so both sides decide from the same state. Every row belongs to one customer
-- (contract_key) and every hot-path statement names it: the customer is the distribution column
-- when the tables are spread over several nodes (docs/server.md).

CREATE TABLE tenants (
    contract_key text PRIMARY KEY,          -- the contract number, folded
    doc          jsonb NOT NULL
);

CREATE TABLE users (
    login_key    text PRIMARY KEY,          -- the login ID, folded (unique across customers)
    contract_key text NOT NULL REFERENCES tenants,
    doc          jsonb NOT NULL,
    addresses    jsonb NOT NULL DEFAULT '[]'::jsonb
);
CREATE INDEX users_by_tenant ON users (contract_key, login_key);

CREATE TABLE init_requests (
    request_key  text PRIMARY KEY,
    contract_key text NOT NULL REFERENCES tenants,
    doc          jsonb NOT NULL
);

CREATE TABLE ip_rules (
    contract_key text NOT NULL REFERENCES tenants,
    service      text NOT NULL,
    doc          jsonb NOT NULL,
    PRIMARY KEY (contract_key, service)
);

CREATE TABLE ip_releases (
    contract_key text PRIMARY KEY REFERENCES tenants,
    until_ms     bigint NOT NULL
);

CREATE TABLE trusted_roots (
    sha256     text PRIMARY KEY,
    subject    text NOT NULL,
    der_base64 text NOT NULL
);

-- The audit log: one hash chain per customer ('' is the server's own), so that customers never
-- wait on one another's head. `chains` holds each head; an entry is accepted only at its chain's
-- head (seq = head + 1, prev_hash = head hash), which advances the head in the same statement.
CREATE TABLE chains (
    chain text PRIMARY KEY,
    seq   bigint NOT NULL CHECK (seq >= 0),
    hash  text NOT NULL
);

CREATE TABLE events (
    chain     text NOT NULL REFERENCES chains,
    seq       bigint NOT NULL,
    at_ms     bigint NOT NULL,
    actor     text,
    kind      text NOT NULL,
    body      text NOT NULL,                -- exactly the text the hash covers
    prev_hash text NOT NULL,
    hash      text NOT NULL,
    PRIMARY KEY (chain, seq)
);
CREATE INDEX events_by_kind ON events (chain, kind, at_ms);

CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END $$;
CREATE TRIGGER events_no_update_or_delete BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_append_only();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_append_only();

CREATE FUNCTION events_at_the_head() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    head chains%ROWTYPE;
BEGIN
    INSERT INTO chains (chain, seq, hash) VALUES (NEW.chain, 0, repeat('0', 64))
        ON CONFLICT (chain) DO NOTHING;
    SELECT * INTO head FROM chains WHERE chain = NEW.chain FOR UPDATE;
    IF NEW.seq <> head.seq + 1 OR NEW.prev_hash <> head.hash THEN
        RAISE EXCEPTION 'the audit log only grows at its head (chain %, head %, got %)',
            NEW.chain, head.seq, NEW.seq;
    END IF;
    UPDATE chains SET seq = NEW.seq, hash = NEW.hash WHERE chain = NEW.chain;
    RETURN NEW;
END $$;
CREATE TRIGGER events_only_at_the_head BEFORE INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION events_at_the_head();

-- Sign-in sessions: only a hash of the opaque token is kept.
CREATE TABLE sessions (
    token_hash   text PRIMARY KEY,
    login_key    text NOT NULL REFERENCES users ON DELETE CASCADE,
    contract_key text NOT NULL,
    created_ms   bigint NOT NULL,
    expires_ms   bigint NOT NULL,
    revoked_ms   bigint
);
CREATE INDEX sessions_by_user ON sessions (login_key);

CREATE TABLE settings (
    key   text PRIMARY KEY,
    value text NOT NULL
);
