-- Mail (issue 15, docs/mail.md): the durable outbox. A row is written in the same transaction as
-- the event that owes the mail (or the engine's order that carries a code), so a change is never
-- kept while its mail is lost. The delivery worker moves each row through its states here:
--   queued  → waiting for its next try (`next_ms`); a try in progress leases the row by moving
--             `next_ms` forward, so a worker that dies leaves it to be tried again after the lease;
--   sent    → handed to the mail server (its 250 reply to DATA); the secret is erased;
--   held    → not sent in clear: the address encrypts and its certificate cannot be used;
--   dead    → refused for good (5xx) or out of tries; operators see it, the branch after sync;
--   expired → what it carried (a code, a link) ran out before it could be sent.
-- The Message-ID comes from the row (`<id>.<created_ms>.kagiya@domain`): a mail sent twice — a
-- worker killed between the server's 250 and this table's `sent` — carries the same ID and the
-- same content (the same sealed secret), so the receiving side can tell it is one mail.
CREATE TABLE mail_outbox (
    id            bigserial PRIMARY KEY,
    created_ms    bigint NOT NULL,
    kind          text NOT NULL,
    login_id      text NOT NULL,
    recipient     text NOT NULL,
    lang          text NOT NULL CHECK (lang IN ('ja', 'en')),
    -- The entry that owed it (none for a mail only the engine's order owes, e.g. a reply).
    event_chain   text,
    event_seq     bigint,
    -- The code or link secret, AES-256-GCM sealed with the server's outbox key (never in clear;
    -- erased once the mail is handed over or given up).
    secret_sealed bytea,
    -- The SHA-256 of a link's secret: finds the row a link belongs to (login ID and address),
    -- while the engine decides whether the secret is still good against its argon2id hash.
    link_sha256   text UNIQUE,
    expires_ms    bigint,
    detail        text,
    -- The certificate (DER, base64; empty when it had none) of a recipient that encrypted when
    -- the mail was owed but may be gone from the directory when it is sent (a deleted address).
    encrypt_cert  text,
    state         text NOT NULL DEFAULT 'queued'
                  CHECK (state IN ('queued', 'sent', 'held', 'dead', 'expired')),
    attempts      integer NOT NULL DEFAULT 0,
    next_ms       bigint NOT NULL,
    last_error    text,
    sent_ms       bigint,
    -- Set when the branch has been told (a `mail_undelivered` entry recorded).
    reported      boolean NOT NULL DEFAULT false
);

CREATE INDEX mail_outbox_due ON mail_outbox (next_ms) WHERE state = 'queued';
CREATE INDEX mail_outbox_login ON mail_outbox (lower(login_id), created_ms);
