#!/usr/bin/env bash
# Checks kagiya-server against its own OpenAPI document with schemathesis (issue 13, bad input):
# every answer must be no 5xx, a documented status, the documented content type and the documented
# schema. Run under scripts/with-postgres.sh (the test command does): a fresh database gets the
# demo customers, the debug server serves on a free port, and schemathesis drives every route —
# with a signed-in master's session for the routes that need one — for a bounded number of cases.
# Mail is configured against scripts/with-smtp.sh's server, so the mail routes answer as they do
# in service (without mail they answer 503 by design).
#   scripts/with-postgres.sh scripts/with-smtp.sh scripts/schemathesis.sh   # ST_EXAMPLES=30, ST_SEED fixed
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
[ -n "${KAGIYA_TEST_DATABASE_URL:-}" ] || die "run under scripts/with-postgres.sh"
[ -n "${KAGIYA_TEST_SMTP_STARTTLS_PORT:-}" ] || die "run under scripts/with-smtp.sh"
st="$(schemathesis_venv 4.32.5)/bin/st"
[ -x "$st" ] || die "schemathesis is missing: run scripts/install.sh --test"

cargo build --locked -q -p kagiya-server
bin="$ROOT/target/debug/kagiya-server"
work="$(mktemp -d)"
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

db="kagiya_schemathesis_$$"
"$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)/psql" "$KAGIYA_TEST_DATABASE_URL" -qc "CREATE DATABASE $db"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
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
listen = "127.0.0.1:$port"
[throttle]
per_source_per_minute = 1000000
per_login_id_per_minute = 1000000
[mail]
from = "鍵屋 <noreply+schemathesis@bank.example>"
link_base = "https://kagiya.test"
smtp_host = "$KAGIYA_TEST_SMTP_HOST"
smtp_port = $KAGIYA_TEST_SMTP_STARTTLS_PORT
smtp_security = "starttls"
smtp_user = "$KAGIYA_TEST_SMTP_USER"
smtp_password_file = "$work/smtp.pass"
smtp_ca_file = "$KAGIYA_TEST_SMTP_CA"
signing_cert = "$KAGIYA_TEST_SMIME_DIR/signer.pem"
signing_key = "$KAGIYA_TEST_SMIME_DIR/signer.key"
outbox_key_file = "$work/outbox.key"
TOML
"$bin" --config "$work/server.toml" migrate >/dev/null
"$bin" --config "$work/server.toml" demo >/dev/null
"$bin" --config "$work/server.toml" serve >"$work/server.log" 2>&1 &
server_pid=$!
# Ready, then a master's session (python3's standard library: no curl needed).
token="$(python3 - "$port" <<'PY'
import json, sys, time, urllib.request
base = f"http://127.0.0.1:{sys.argv[1]}"
for _ in range(100):
    try:
        urllib.request.urlopen(base + "/readyz", timeout=2)
        break
    except Exception:
        time.sleep(0.1)
req = urllib.request.Request(base + "/v1/sign-in", method="POST",
    data=json.dumps({"login_id": "minato-master", "password": "Minato2026kA"}).encode(),
    headers={"Content-Type": "application/json"})
print(json.load(urllib.request.urlopen(req, timeout=10))["token"])
PY
)"
[ -n "$token" ] || die "the demo master could not sign in"

say "schemathesis: every route of /openapi.json, ${ST_EXAMPLES:-30} cases each"
# Sign-out would end the session the other routes use: it is left to the Rust tests. Run from the
# temporary directory: schemathesis keeps a cache where it runs, which must not be the checkout.
(cd "$work" && "$st" run "http://127.0.0.1:$port/openapi.json" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  -H "Authorization: Bearer $token" \
  --exclude-path /v1/sign-out \
  --max-examples "${ST_EXAMPLES:-30}" --seed "${ST_SEED:-20261130}" --workers 2 \
  --report-dir "$work/report" </dev/null)
say "schemathesis: no server error, every answer as documented"
