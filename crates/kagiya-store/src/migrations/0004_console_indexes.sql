-- Indexes for the desktop's users table filters and dashboard counts (100,000 users per branch):
-- "must change" and "suspended" become index lookups instead of table scans.
CREATE INDEX credentials_must_change ON credentials (user_id) WHERE must_change = 1;
CREATE INDEX users_suspended ON users (login_key) WHERE status = 'suspended';
CREATE INDEX events_seq_actor ON events (actor, seq);
