#!/usr/bin/env bash
# Installs everything Kagiya needs on Debian 12 / Ubuntu 22.04+: system packages, the npm packages
# of the UI and the E2E suite, and tauri-driver. Safe and quick to re-run: each step checks first.
#   scripts/install.sh          # what building and running the app needs
#   scripts/install.sh --test   # also what the tests need (WebKitWebDriver, Xvfb, tauri-driver, actionlint)
source "$(dirname "$0")/lib.sh"

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

# --- system packages ----------------------------------------------------------------------------
# Tauri 2 on Linux: WebKitGTK 4.1 and friends (https://v2.tauri.app/start/prerequisites/).
APT_APP=(build-essential pkg-config file libwebkit2gtk-4.1-dev libxdo-dev libssl-dev librsvg2-dev
  libdbus-1-dev fonts-noto-cjk)
# Tests: the WebDriver for WebKitGTK, a virtual display, a D-Bus session for WebKitGTK and for
# GNOME Keyring (the real Secret Service the database key is kept in), ImageMagick for screenshots
# of the real window, openssl as the S/MIME peer that makes the test certificates and signed mails,
# and Chromium with poppler-utils to print the slips to PDF and read the pages back (WebKitWebDriver
# has no print command; Chromium is WebView2's engine, which prints on Windows); Chromium's own
# WebDriver (chromium-driver, from the same suite) drives the customers' pages of kagiya-server.
# PostgreSQL (Debian's package; the tests make private clusters with initdb/pg_ctl, see
# scripts/with-postgres.sh) for the central server.
# python3-venv holds schemathesis (from PyPI), which checks the server against its OpenAPI document.
APT_TEST=(webkit2gtk-driver xvfb xauth dbus dbus-x11 gnome-keyring imagemagick openssl chromium chromium-driver poppler-utils
  postgresql python3-venv)

pkgs=("${APT_APP[@]}")
[ $want_test = 1 ] && pkgs+=("${APT_TEST[@]}")
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null || die "apt-get not found: install these packages by hand: ${missing[*]}"
  say "Installing system packages: ${missing[*]}"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  say "System packages are installed"
fi

# --- toolchains -----------------------------------------------------------------------------------
command -v cargo >/dev/null || die "Rust is missing: install it with rustup (https://rustup.rs), then re-run."
command -v node >/dev/null || die "Node.js is missing: install Node.js 20.19 or newer, then re-run."
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
  || die "Node.js $(node --version) is too old: Vite 8 needs 20.19 or newer."

# --- npm packages (exact versions, as locked) -------------------------------------------------------
npm_install() {
  local dir="$1" stamp="$1/node_modules/.kagiya-lock"
  if [ -f "$stamp" ] && cmp -s "$dir/package-lock.json" "$stamp"; then
    say "npm packages in ${dir#"$ROOT"/} are up to date"
    return
  fi
  say "Installing npm packages in ${dir#"$ROOT"/}"
  # `npm ci`: exactly the locked versions, and the lock file is never rewritten (a set-up must
  # leave the checkout as it found it). The lock lists every platform's optional packages (the
  # Tauri CLI's per-OS binaries), so the same file serves Linux, macOS and Windows.
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$dir/package-lock.json" "$stamp"
}
npm_install "$ROOT/ui"
[ $want_test = 1 ] && npm_install "$ROOT/tests/e2e"

# --- test tools -----------------------------------------------------------------------------------
if [ $want_test = 1 ]; then
  TAURI_DRIVER_VERSION=2.1.0
  if ! tauri-driver --help >/dev/null 2>&1 || [ ! -f "${CARGO_HOME:-$HOME/.cargo}/.kagiya-tauri-driver-$TAURI_DRIVER_VERSION" ]; then
    say "Installing tauri-driver $TAURI_DRIVER_VERSION"
    cargo install tauri-driver --locked --version "$TAURI_DRIVER_VERSION"
    touch "${CARGO_HOME:-$HOME/.cargo}/.kagiya-tauri-driver-$TAURI_DRIVER_VERSION"
  else
    say "tauri-driver $TAURI_DRIVER_VERSION is installed"
  fi
  # cargo-fuzz builds the libFuzzer targets in fuzz/ (on the stable toolchain, without sanitizers).
  CARGO_FUZZ_VERSION=0.13.2
  if ! cargo fuzz --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
    say "Installing cargo-fuzz $CARGO_FUZZ_VERSION"
    cargo install cargo-fuzz --locked --version "$CARGO_FUZZ_VERSION"
  else
    say "cargo-fuzz $CARGO_FUZZ_VERSION is installed"
  fi
  # schemathesis in a virtual environment of its own, outside the checkout.
  SCHEMATHESIS_VERSION=4.32.5
  st_venv="$(schemathesis_venv "$SCHEMATHESIS_VERSION")"
  if ! "$st_venv/bin/st" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
    say "Installing schemathesis $SCHEMATHESIS_VERSION"
    rm -rf "$st_venv"
    python3 -m venv "$st_venv"
    "$st_venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
  else
    say "schemathesis $SCHEMATHESIS_VERSION is installed"
  fi
  # aiosmtpd, the SMTP server the mail tests send to (scripts/with-smtp.sh), the same way: PyPI,
  # pinned, a virtual environment of its own. Not Debian's python3-aiosmtpd: Debian 12 has 1.4.3,
  # and the STARTTLS/implicit-TLS/AUTH behaviour the tests rely on was checked against 1.4.6.
  smtp_venv="$(aiosmtpd_venv)"
  if ! "$smtp_venv/bin/python" -c "import aiosmtpd, sys; sys.exit(aiosmtpd.__version__ != '$AIOSMTPD_VERSION')" 2>/dev/null; then
    say "Installing aiosmtpd $AIOSMTPD_VERSION"
    rm -rf "$smtp_venv"
    python3 -m venv "$smtp_venv"
    "$smtp_venv/bin/pip" install --quiet --disable-pip-version-check "aiosmtpd==$AIOSMTPD_VERSION"
  else
    say "aiosmtpd $AIOSMTPD_VERSION is installed"
  fi
fi
say "Everything is installed"
