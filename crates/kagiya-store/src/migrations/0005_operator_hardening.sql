-- Issue 12: branch staff under the same care as customers' users. An operator's locks grow (the
-- tally of temporary locks since the last success); supervisors can disable an operator; the
-- login password has the time it was set (for the branch's expiry) and can be set to change at
-- the next sign-in. And the audit log only grows at its head: a row that does not continue the
-- chain (its seq the next one, its prev_hash the last hash) is refused by the database itself,
-- so INSERT OR REPLACE cannot overwrite an entry and nothing can be slipped in between.
ALTER TABLE operators ADD COLUMN temp_locks INTEGER NOT NULL DEFAULT 0 CHECK (temp_locks >= 0);
ALTER TABLE operators ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1));
ALTER TABLE operators ADD COLUMN password_set_at INTEGER;
ALTER TABLE operators ADD COLUMN must_change INTEGER NOT NULL DEFAULT 0 CHECK (must_change IN (0, 1));
UPDATE operators SET password_set_at = created_at WHERE password_set_at IS NULL;

CREATE TRIGGER events_only_at_the_head BEFORE INSERT ON events
WHEN NEW.seq IS NOT (SELECT coalesce(max(seq), 0) + 1 FROM events)
  OR NEW.prev_hash IS NOT coalesce(
       (SELECT hash FROM events ORDER BY seq DESC LIMIT 1),
       '0000000000000000000000000000000000000000000000000000000000000000')
BEGIN SELECT RAISE(ABORT, 'the audit log only grows at its head'); END;
