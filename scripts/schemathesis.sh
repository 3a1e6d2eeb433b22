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
st="$(schemathesis_venv 4.32.5)/bin/st"
[ -x "$st" ] || die "schemathesis is missing: run scripts/install.sh --test"

work="$(mktemp -d)"
SERVER_PID=
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && { wait "$SERVER_PID" 2>/dev/null || true; }
  rm -rf "$work"
}
trap cleanup EXIT
start_demo_server "$work" "noreply+schemathesis@bank.example"
port="$SERVER_PORT"
# A master's session (python3's standard library: no curl needed).
token="$(python3 - "$port" <<'PY'
import json, sys, urllib.request
base = f"http://127.0.0.1:{sys.argv[1]}"
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
