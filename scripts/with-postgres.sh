#!/usr/bin/env bash
# Runs a command with a private PostgreSQL cluster (Debian's postgresql package: initdb + pg_ctl in
# a temporary directory, on a free loopback port, its socket in that directory; no system service)
# and names it in KAGIYA_TEST_DATABASE_URL. The cluster is stopped and removed afterwards.
#   scripts/with-postgres.sh cargo test -p kagiya-server
source "$(dirname "$0")/lib.sh"
pgbin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[ -x "$pgbin/initdb" ] || die "PostgreSQL is not installed: run scripts/install.sh --test"
dir="$(mktemp -d /tmp/kagiya-pg.XXXXXX)"
# initdb refuses to run as root: the cluster then belongs to the postgres user.
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres: "$dir"
stop() {
  as_pg "$pgbin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
as_pg "$pgbin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log"; die "initdb failed"; }
# Test settings only: durability is not what these tests measure.
as_pg "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/pg.log" -w -t 30 \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
  start >/dev/null || { cat "$dir/pg.log"; die "PostgreSQL did not start"; }
export KAGIYA_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
set +e
"$@"
rc=$?
set -e
exit $rc
