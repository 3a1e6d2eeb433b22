-- Sync with the branches (issue 14, docs/sync.md): the branches and the customers each serves,
-- one-time enrolment codes (only their SHA-256), the enrolled devices with their ed25519 public
-- keys and the head of each device's op chain, and every pushed op with the outcome decided for
-- it, so that a retry returns the stored outcome and nothing is decided twice.

-- The device whose op an entry records (from its origin), so that the entries a device had not
-- seen are found without reading its own.
ALTER TABLE events ADD COLUMN device text;

CREATE TABLE branches (
    branch       text PRIMARY KEY,
    -- The branch's own audit log head, as its last push reported it (the external anchor).
    anchor_seq   bigint,
    anchor_hash  text,
    anchor_ms    bigint
);

CREATE TABLE branch_customers (
    branch       text NOT NULL REFERENCES branches,
    contract_key text NOT NULL,
    PRIMARY KEY (branch, contract_key)
);

CREATE TABLE enrolment_codes (
    code_hash  text PRIMARY KEY,
    branch     text NOT NULL REFERENCES branches,
    expires_ms bigint NOT NULL,
    used_ms    bigint
);

CREATE TABLE devices (
    device_id   text PRIMARY KEY,
    branch      text NOT NULL REFERENCES branches,
    public_key  text NOT NULL UNIQUE,
    enrolled_ms bigint NOT NULL,
    revoked_ms  bigint,
    last_seq    bigint NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
    last_hash   text NOT NULL
);

-- The furthest each device was sent of each customer's chain: an op's base_seq is never taken as
-- further than that (a device cannot claim to have seen what it was never sent).
CREATE TABLE device_pulled (
    device_id    text NOT NULL REFERENCES devices,
    contract_key text NOT NULL,
    seq          bigint NOT NULL,
    PRIMARY KEY (device_id, contract_key)
);

CREATE TABLE sync_ops (
    device_id  text NOT NULL REFERENCES devices,
    device_seq bigint NOT NULL,
    op_id      text NOT NULL,
    hash       text NOT NULL,
    contract_key text NOT NULL,
    base_seq   bigint NOT NULL,
    outcome    text NOT NULL CHECK (outcome IN ('applied', 'superseded', 'rejected', 'quarantined')),
    reason     jsonb,
    chain_seq  bigint,
    op         jsonb NOT NULL,              -- the op as pushed: what review and quarantine keep
    decided_ms bigint NOT NULL,
    PRIMARY KEY (device_id, device_seq)
);
CREATE INDEX sync_ops_to_review ON sync_ops (contract_key, decided_ms) WHERE outcome <> 'applied';
