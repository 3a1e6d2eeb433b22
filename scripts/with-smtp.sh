#!/usr/bin/env bash
# Runs a command with a real SMTP server for the mail tests (scripts/smtp-test-server.py: aiosmtpd
# 1.4.6 from the virtual environment scripts/install.sh --test makes) on two free loopback ports,
# with TLS and AUTH, and with a set of S/MIME test certificates. Certificates, mails and knobs live
# in a temporary directory; the server is stopped and the directory removed afterwards, and the
# command's exit code is this script's. Inside another with-smtp.sh it just runs the command (the
# outer server serves).
#   scripts/with-smtp.sh cargo test -p kagiya-server
#
# What the command gets:
#   KAGIYA_TEST_SMTP_HOST           localhost: the name in the server certificate (it listens on
#                                   127.0.0.1; TlsParameters must be given this name)
#   KAGIYA_TEST_SMTP_STARTTLS_PORT  STARTTLS required before anything else (lettre:
#                                   starttls_relay, Tls::Required)
#   KAGIYA_TEST_SMTP_TLS_PORT       implicit TLS (lettre: relay, Tls::Wrapper)
#   KAGIYA_TEST_SMTP_CA             PEM of the CA that issued the server certificate: trust only it
#   KAGIYA_TEST_SMTP_USER           the one login AUTH (PLAIN or LOGIN) accepts; both ports demand
#   KAGIYA_TEST_SMTP_PASSWORD       AUTH before MAIL (random for each run)
#   KAGIYA_TEST_SMTP_MAILDIR        accepted mails: NNNNNN-xxxxxxxx.eml (the bytes as sent) and
#                                   .json beside it (envelope, login, mode "starttls" or "tls")
#   KAGIYA_TEST_SMTP_CONTROL        fault knobs, read at each command: files refuse (a reply for
#                                   DATA), refuse_rcpt (a reply for RCPT), delay_ms; attempts.log
#   KAGIYA_TEST_SMTP_LOG            the server's stderr (scripts/smtp-test-server.py --debug: all)
#   KAGIYA_TEST_SMIME_DIR           S/MIME certificates, below
#   KAGIYA_TEST_SMIME_P12_PASSWORD  the password of signer.p12
# The formats of the maildir and the knobs are described at the top of scripts/smtp-test-server.py.
#
# $KAGIYA_TEST_SMIME_DIR (RSA 2048 keys, SHA-256 signatures; keys are unencrypted PKCS#8 PEM). The
# user and service certificates have keyUsage=critical,digitalSignature,keyEncipherment,
# extendedKeyUsage=emailProtection and the address as subjectAltName=email:… (what `openssl cms
# -verify` asks of a signer):
#   ca.pem, ca.key                  "Kagiya Test S/MIME CA" (CA:TRUE): the CA the bank trusts
#   signer.pem, signer.key          the service's signing certificate, email:noreply@bank.example
#   signer.p12                      signer.pem + signer.key + ca.pem as PKCS#12 (OpenSSL 3
#                                   defaults: AES-256-CBC, PBKDF2, SHA-256 MAC)
#   signer.p12.pass                 its password (= $KAGIYA_TEST_SMIME_P12_PASSWORD, no newline)
#   taro.pem, taro.key              email:taro@example.co.jp from ca.pem, valid (from 1 day ago
#                                   for 365 days)
#   hanako.pem, hanako.key          email:hanako@example.co.jp from ca.pem, EXPIRED (valid from 60
#                                   days ago to 1 day ago: "certificate has expired")
#   taro-old.pem, taro-old.key      email:taro@example.co.jp from ca.pem, valid, ending before
#                                   taro.pem (an older certificate of the same address)
#   jiro.pem, jiro.key              email:jiro@example.co.jp from ca.pem, valid but REVOKED
#   ca.crl                          ca.pem's revocation list (PEM), naming jiro.pem
#   foreign-ca.pem, foreign-ca.key  "Foreign Test S/MIME CA": a CA the bank does not trust
#   foreign-taro.pem, foreign-taro.key  email:taro@example.co.jp from foreign-ca.pem, valid: a
#                                   stranger signing as taro
source "$(dirname "$0")/lib.sh"
[ $# -gt 0 ] || die "usage: scripts/with-smtp.sh COMMAND [ARGS...]"
if [ -n "${KAGIYA_TEST_SMTP_STARTTLS_PORT:-}" ]; then
  exec "$@"
fi
# aiosmtpd comes from PyPI, pinned, in a virtual environment of its own (see scripts/install.sh).
py="$(aiosmtpd_venv)/bin/python"
[ -x "$py" ] || die "aiosmtpd is missing: run scripts/install.sh --test"
command -v openssl >/dev/null || die "openssl is missing: run scripts/install.sh --test"

dir="$(mktemp -d /tmp/kagiya-smtp.XXXXXX)"
server_pid=
stop_server() {
  [ -n "$server_pid" ] || return 0
  kill "$server_pid" 2>/dev/null || true
  # It stops on SIGTERM within a second; a hung one is killed after 5 s rather than waited for.
  for _ in $(seq 50); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=
}
cleanup() {
  stop_server
  rm -rf "$dir"
}
trap cleanup EXIT
# Interrupted: exit (through the EXIT trap above) with the usual codes.
trap 'exit 130' INT
trap 'exit 143' TERM

# openssl says a lot on success; show it only when a step fails.
ossl() {
  openssl "$@" >"$dir/openssl.log" 2>&1 || { cat "$dir/openssl.log" >&2; die "openssl $1 failed"; }
}
# openssl ca takes dates as YYMMDDHHMMSSZ.
ago() { date -u -d "$1 ago" +%y%m%d%H%M%SZ; }
from_now() { date -u -d "+$1" +%y%m%d%H%M%SZ; }

# --- TLS: a small CA and the server's leaf --------------------------------------------------------
# Not one self-signed certificate: `openssl req -x509` makes CA:TRUE certificates, and rustls/webpki
# rejects a CA certificate presented as the server's (CaUsedAsEndEntity). P-256 keys: quick to make.
tls="$dir/tls"
mkdir -p "$tls"
cat >"$dir/openssl.cnf" <<'EOF'
[req]
distinguished_name = dn
[dn]
[tls_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[tls_leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[smime_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[smime_user]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = emailProtection
subjectAltName = email:$ENV::SMIME_EMAIL
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
cnf="$dir/openssl.cnf"
# $ENV::SMIME_EMAIL must be defined whenever the file is read, not only for user certificates.
export SMIME_EMAIL=unused@example.invalid
ossl req -x509 -new -config "$cnf" -extensions tls_ca -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc \
  -keyout "$tls/ca.key" -out "$tls/ca.pem" -days 30 -subj "/O=Kagiya Test/CN=Kagiya Test SMTP CA"
ossl req -new -config "$cnf" -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc \
  -keyout "$tls/server.key" -out "$tls/server.csr" -subj "/O=Kagiya Test/CN=localhost"
ossl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" \
  -CAcreateserial -CAserial "$tls/ca.srl" -days 30 -extfile "$cnf" -extensions tls_leaf -out "$tls/server.pem"

# --- S/MIME: the bank's CA, the service's signer, two users, and a foreign CA ---------------------
# `openssl ca` rather than `openssl x509 -req`: OpenSSL 3.0's x509 has no -not_before/-not_after
# (3.4 added them), and the expired certificate needs dates in the past (-startdate/-enddate).
smime="$dir/smime"
mkdir -p "$smime"
# A CA's bookkeeping (index, serial, copies of what it issued) stays outside $smime.
new_ca() { # NAME "CN"
  local work="$dir/ca-$1"
  mkdir -p "$work/new"
  : >"$work/index.txt"
  openssl rand -hex 16 >"$work/serial"
  cat >"$work/ca.cnf" <<EOF
[ca]
default_ca = this_ca
[this_ca]
database = $work/index.txt
new_certs_dir = $work/new
serial = $work/serial
default_md = sha256
policy = any_name
unique_subject = no
email_in_dn = no
copy_extensions = none
[any_name]
organizationName = optional
commonName = supplied
EOF
  cat "$cnf" >>"$work/ca.cnf"
  ossl req -new -config "$cnf" -newkey rsa:2048 -noenc -keyout "$smime/$1.key" -out "$work/$1.csr" \
    -subj "/O=Kagiya Test/CN=${2//\//\\/}"  # a "/" in a name is written "\/"
  # Back-dated, so that the expired user certificate lies inside its CA's validity.
  ossl ca -batch -notext -selfsign -config "$work/ca.cnf" -keyfile "$smime/$1.key" -in "$work/$1.csr" \
    -startdate "$(ago '90 days')" -enddate "$(from_now '3650 days')" -extensions smime_ca -out "$smime/$1.pem"
}
new_user() { # CA NAME EMAIL "CN" STARTDATE ENDDATE
  local work="$dir/ca-$1"
  ossl req -new -config "$cnf" -newkey rsa:2048 -noenc -keyout "$smime/$2.key" -out "$work/$2.csr" \
    -subj "/O=Kagiya Test/CN=${4//\//\\/}"
  SMIME_EMAIL="$3" ossl ca -batch -notext -config "$work/ca.cnf" -cert "$smime/$1.pem" -keyfile "$smime/$1.key" \
    -in "$work/$2.csr" -startdate "$5" -enddate "$6" -extensions smime_user -out "$smime/$2.pem"
}
new_ca ca "Kagiya Test S/MIME CA"
new_user ca signer noreply@bank.example "Kagiya Bank Notifications" "$(ago '1 day')" "$(from_now '365 days')"
new_user ca taro taro@example.co.jp "Taro Test" "$(ago '1 day')" "$(from_now '365 days')"
new_user ca hanako hanako@example.co.jp "Hanako Test" "$(ago '60 days')" "$(ago '1 day')"
# An older certificate of taro's (it ends before taro.pem does).
new_user ca taro-old taro@example.co.jp "Taro Test" "$(ago '30 days')" "$(from_now '100 days')"
new_user ca jiro jiro@example.co.jp "Jiro Test" "$(ago '1 day')" "$(from_now '365 days')"
# jiro's certificate is revoked, and ca.crl (the CA's list, valid 30 days) says so.
ossl ca -batch -config "$dir/ca-ca/ca.cnf" -cert "$smime/ca.pem" -keyfile "$smime/ca.key" -revoke "$smime/jiro.pem"
ossl ca -batch -gencrl -crldays 30 -config "$dir/ca-ca/ca.cnf" -cert "$smime/ca.pem" -keyfile "$smime/ca.key" \
  -out "$smime/ca.crl"
new_ca foreign-ca "Foreign Test S/MIME CA"
new_user foreign-ca foreign-taro taro@example.co.jp "Taro Test" "$(ago '1 day')" "$(from_now '365 days')"
p12_password="$(openssl rand -hex 12)"
printf '%s' "$p12_password" >"$smime/signer.p12.pass"
ossl pkcs12 -export -in "$smime/signer.pem" -inkey "$smime/signer.key" -certfile "$smime/ca.pem" \
  -name "Kagiya Bank Notifications" -passout "file:$smime/signer.p12.pass" -out "$smime/signer.p12"
unset SMIME_EMAIL

# --- the server ----------------------------------------------------------------------------------
user=kagiya-mailer
password="$(openssl rand -hex 16)"
mkdir -p "$dir/maildir" "$dir/control"
: >"$dir/server.log"
# Two free ports at once (both sockets bound together, so they differ). Another process may take
# one before the server binds it: the server then says "port taken" at once and new ports are tried.
started=0
for _ in 1 2 3; do
  read -r starttls_port tls_port <<<"$("$py" -c '
import socket
a, b = socket.socket(), socket.socket()
a.bind(("127.0.0.1", 0)); b.bind(("127.0.0.1", 0))
print(a.getsockname()[1], b.getsockname()[1])')"
  : >"$dir/server.out"
  KAGIYA_TEST_SMTP_PASSWORD="$password" "$py" "$ROOT/scripts/smtp-test-server.py" \
    --starttls-port "$starttls_port" --tls-port "$tls_port" --cert "$tls/server.pem" --key "$tls/server.key" \
    --maildir "$dir/maildir" --control "$dir/control" --user "$user" \
    </dev/null >"$dir/server.out" 2>>"$dir/server.log" &
  server_pid=$!
  deadline=$((SECONDS + 20))
  while ! grep -q '^ready ' "$dir/server.out" && kill -0 "$server_pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
    sleep 0.1
  done
  if grep -q '^ready ' "$dir/server.out"; then
    started=1
    break
  fi
  stop_server
  grep -q 'port taken' "$dir/server.log" || break
done
if [ "$started" != 1 ]; then
  cat "$dir/server.log" >&2
  die "the SMTP test server did not start (within 20 s)"
fi

export KAGIYA_TEST_SMTP_HOST=localhost
export KAGIYA_TEST_SMTP_STARTTLS_PORT="$starttls_port"
export KAGIYA_TEST_SMTP_TLS_PORT="$tls_port"
export KAGIYA_TEST_SMTP_CA="$tls/ca.pem"
export KAGIYA_TEST_SMTP_USER="$user"
export KAGIYA_TEST_SMTP_PASSWORD="$password"
export KAGIYA_TEST_SMTP_MAILDIR="$dir/maildir"
export KAGIYA_TEST_SMTP_CONTROL="$dir/control"
export KAGIYA_TEST_SMTP_LOG="$dir/server.log"
export KAGIYA_TEST_SMIME_DIR="$smime"
export KAGIYA_TEST_SMIME_P12_PASSWORD="$p12_password"
set +e
"$@"
rc=$?
set -e
exit $rc
