#!/usr/bin/env bash
# Runs the central server on this machine for trying it out: installs Debian's postgresql if it
# is missing, keeps a PostgreSQL cluster of its own in a data directory (initdb/pg_ctl as the
# postgres user when run as root; no system service), creates the `kagiya` database, writes a
# config on first use, builds kagiya-server and serves on http://127.0.0.1:8443 (schema brought up
# to date at start). Ctrl-C stops the server and the cluster; the data stays for the next run.
#   bash scripts/server.sh
#   KAGIYA_SERVER_DATA=/srv/kagiya KAGIYA_PG_PORT=55433 bash scripts/server.sh
# The first run loads the demo customers (`kagiya-server demo`, printed with their passwords).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  command -v apt-get >/dev/null || die "PostgreSQL is missing: install it (Debian: apt-get install postgresql)"
  say "Installing PostgreSQL (Debian's package)"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql
fi
pgbin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"

if [ "$(id -u)" = 0 ]; then
  data="${KAGIYA_SERVER_DATA:-/var/lib/kagiya-server}"
  as_pg() { runuser -u postgres -- "$@"; }
else
  data="${KAGIYA_SERVER_DATA:-$HOME/.local/share/kagiya-server}"
  as_pg() { "$@"; }
fi
port="${KAGIYA_PG_PORT:-55432}"
pg="$data/pg"
mkdir -p "$pg"
[ "$(id -u)" = 0 ] && chown postgres: "$pg"

if [ ! -f "$pg/data/PG_VERSION" ]; then
  say "Creating a PostgreSQL cluster in $pg/data"
  as_pg "$pgbin/initdb" -D "$pg/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
fi
if ! as_pg "$pgbin/pg_ctl" -D "$pg/data" status >/dev/null 2>&1; then
  say "Starting PostgreSQL on 127.0.0.1:$port"
  as_pg "$pgbin/pg_ctl" -D "$pg/data" -l "$pg/postgres.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $pg" start >/dev/null \
    || die "PostgreSQL did not start; see $pg/postgres.log"
fi
stop_pg() { as_pg "$pgbin/pg_ctl" -D "$pg/data" -m fast -w stop >/dev/null 2>&1 || true; }
trap stop_pg EXIT

if ! "$pgbin/psql" -h "$pg" -p "$port" -U postgres -Atc "SELECT 1 FROM pg_database WHERE datname = 'kagiya'" | grep -q 1; then
  "$pgbin/createdb" -h "$pg" -p "$port" -U postgres kagiya
fi

config="$data/server.toml"
if [ ! -f "$config" ]; then
  cat >"$config" <<TOML
# kagiya-server's configuration (docs/server.md); KAGIYA_SERVER_* variables override it.
listen = "127.0.0.1:8443"
database_url = "host=$pg port=$port user=postgres dbname=kagiya"
pool_size = 16
migrate_on_start = true
# Mail (docs/mail.md) is off here: mails wait in the outbox, and a sign-in that needs a mailed
# code is refused with mail.unavailable. Add a [mail] section to deliver them.
TOML
  say "Wrote $config"
fi

say "Building kagiya-server"
cargo build --release --locked -p kagiya-server
bin="$ROOT/target/release/kagiya-server"
"$bin" --config "$config" migrate
if [ ! -f "$data/.demo-loaded" ]; then
  "$bin" --config "$config" demo && touch "$data/.demo-loaded"
fi
say "Serving on http://127.0.0.1:8443 (/v1/…, /openapi.json, /healthz, /readyz, /metrics); Ctrl-C stops"
"$bin" --config "$config" serve
