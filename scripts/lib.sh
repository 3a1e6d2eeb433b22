# Shared helpers for Kagiya's set-up scripts (sourced, not run).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

say() { printf '\033[1;34m==>\033[0m [%s] %s\n' "$(date +%T)" "$*"; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

# Runs a command as root (directly when already root, else through sudo).
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# The virtual environment that holds schemathesis VERSION (outside the checkout).
schemathesis_venv() { printf '%s/kagiya/schemathesis-%s' "${XDG_CACHE_HOME:-$HOME/.cache}" "$1"; }
# aiosmtpd's, for the mail tests' SMTP server (install.sh makes it, with-smtp.sh runs it).
AIOSMTPD_VERSION=1.4.6
aiosmtpd_venv() { printf '%s/kagiya/aiosmtpd-%s' "${XDG_CACHE_HOME:-$HOME/.cache}" "$AIOSMTPD_VERSION"; }

# A free TCP port on loopback.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Starts the debug kagiya-server on a fresh database of scripts/with-postgres.sh's cluster, with
# the demo customers and mail through scripts/with-smtp.sh's server, sending as SENDER, its links
# pointing at itself; waits until it is ready. Sets SERVER_PORT and SERVER_PID; WORK (a temporary
# directory the caller removes) holds its files and server.log. The binary is KAGIYA_SERVER when
# set (test.sh names the one its Rust tests built, so that it is not built again with other
# features), otherwise the debug build, built here.
#   start_demo_server WORK SENDER
start_demo_server() {
  local work="$1" sender="$2"
  [ -n "${KAGIYA_TEST_DATABASE_URL:-}" ] || die "run under scripts/with-postgres.sh"
  [ -n "${KAGIYA_TEST_SMTP_STARTTLS_PORT:-}" ] || die "run under scripts/with-smtp.sh"
  local bin="${KAGIYA_SERVER:-}" db="kagiya_demo_$$_$RANDOM" url
  if [ -z "$bin" ]; then
    cargo build --locked -q -p kagiya-server
    bin="$ROOT/target/debug/kagiya-server"
  fi
  [ -x "$bin" ] || die "no kagiya-server at $bin"
  "$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)/psql" "$KAGIYA_TEST_DATABASE_URL" -qc "CREATE DATABASE $db"
  SERVER_PORT="$(free_port)"
  url="$(python3 - "$KAGIYA_TEST_DATABASE_URL" "$db" <<'PY'
import sys, re
url, db = sys.argv[1], sys.argv[2]
# Either a URI or key=value pairs: replace the database name.
print(re.sub(r"dbname=\S+", "dbname=" + db, url) if "dbname=" in url else re.sub(r"/[^/?]*(\?|$)", "/" + db + r"\1", url, count=1))
PY
)"
  "$bin" mail new-key "$work/outbox.key" 2>/dev/null
  printf '%s' "$KAGIYA_TEST_SMTP_PASSWORD" >"$work/smtp.pass"
  cat >"$work/server.toml" <<TOML
database_url = "$url"
listen = "127.0.0.1:$SERVER_PORT"
[throttle]
per_source_per_minute = 1000000
per_login_id_per_minute = 1000000
[mail]
from = "鍵屋 <$sender>"
link_base = "http://127.0.0.1:$SERVER_PORT"
smtp_host = "$KAGIYA_TEST_SMTP_HOST"
smtp_port = $KAGIYA_TEST_SMTP_STARTTLS_PORT
smtp_security = "starttls"
smtp_user = "$KAGIYA_TEST_SMTP_USER"
smtp_password_file = "$work/smtp.pass"
smtp_ca_file = "$KAGIYA_TEST_SMTP_CA"
signing_cert = "$KAGIYA_TEST_SMIME_DIR/signer.pem"
signing_key = "$KAGIYA_TEST_SMIME_DIR/signer.key"
outbox_key_file = "$work/outbox.key"
poll_ms = 100
TOML
  "$bin" --config "$work/server.toml" migrate >/dev/null
  "$bin" --config "$work/server.toml" demo >/dev/null
  "$bin" --config "$work/server.toml" serve >"$work/server.log" 2>&1 &
  SERVER_PID=$!
  python3 - "$SERVER_PORT" <<'PY' || die "kagiya-server did not become ready (log: $work/server.log)"
import sys, time, urllib.request
for _ in range(150):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/readyz", timeout=2)
        sys.exit(0)
    except Exception:
        time.sleep(0.1)
sys.exit(1)
PY
}
