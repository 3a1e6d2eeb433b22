# Shared helpers for Kagiya's set-up scripts (sourced, not run).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
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
