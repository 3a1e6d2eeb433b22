#!/usr/bin/env bash
# The customers' pages in a real browser (issue 16): Debian's Chromium driven through its own
# chromedriver (WebDriver, from WebdriverIO) against the debug kagiya-server on a fresh database
# with the demo customers, mailing through scripts/with-smtp.sh's server (the one-time passwords
# and links are read from what it captured). Screenshots of every page in both languages and the
# axe-core reports go to tests/artifacts/web/.
#   scripts/with-postgres.sh scripts/with-smtp.sh scripts/web-test.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
command -v chromedriver >/dev/null || die "chromedriver is missing: run scripts/install.sh --test"

work="$(mktemp -d)"
SERVER_PID=
driver_pid=
cleanup() {
  [ -n "$driver_pid" ] && kill "$driver_pid" 2>/dev/null && { wait "$driver_pid" 2>/dev/null || true; }
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && { wait "$SERVER_PID" 2>/dev/null || true; }
  rm -rf "$work"
}
trap cleanup EXIT
sender="noreply+web-$$@bank.example"
start_demo_server "$work" "$sender"

artifacts="$ROOT/tests/artifacts/web"
rm -rf "$artifacts"
mkdir -p "$artifacts"
driver_port="$(free_port)"
chromedriver --port="$driver_port" >"$artifacts/chromedriver.log" 2>&1 &
driver_pid=$!

say "Customer pages: Chromium $(chromium --version 2>/dev/null | awk '{print $2}') through chromedriver"
set +e
(cd tests/e2e && KAGIYA_WEB_BASE="http://127.0.0.1:$SERVER_PORT" KAGIYA_CHROMEDRIVER_PORT="$driver_port" \
  KAGIYA_WEB_SENDER="$sender" KAGIYA_WEB_ARTIFACTS="$artifacts" npm run --silent web </dev/null)
rc=$?
set -e
cp "$work/server.log" "$artifacts/server.log"
[ "$rc" = 0 ] || die "the customer pages' browser suite failed (exit $rc); artifacts: tests/artifacts/web/"
say "Screenshots and accessibility reports: tests/artifacts/web/"
