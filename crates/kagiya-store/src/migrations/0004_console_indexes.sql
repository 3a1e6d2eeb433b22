-- Indexes for the desktop's users table and dashboard with 100,000 users per branch (figures in
-- crates/kagiya-console/benches/desk.rs):
-- * "must change" and "suspended" become index lookups instead of table scans;
-- * the table's two sort orders get covering indexes that also hold the search columns and the
--   status, so that a page (and a dense prefix search) is read from the index alone;
--   users_name is replaced by users_list_name, which serves its prefix ranges too.
CREATE INDEX credentials_must_change ON credentials (user_id) WHERE must_change = 1;
CREATE INDEX users_suspended ON users (login_key) WHERE status = 'suspended';
CREATE INDEX users_list_login ON users (login_key, status, name_key, email_key);
CREATE INDEX users_list_name ON users (name_key, login_key, status, email_key);
DROP INDEX users_name;
-- Whether a customer needs an initialization request looks at its masters and admins only.
CREATE INDEX users_managers ON users (tenant_id) WHERE role IN ('master', 'admin');
