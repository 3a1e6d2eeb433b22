#!/usr/bin/env python3
"""The SMTP server the mail tests send to: aiosmtpd 1.4.6 with TLS and AUTH, keeping every mail
byte for byte. scripts/with-smtp.sh starts it (with the Python of the virtual environment that
scripts/install.sh --test makes) and tells the tests where it is; run it by hand only to debug:

    ~/.cache/kagiya/aiosmtpd-1.4.6/bin/python scripts/smtp-test-server.py \
        --starttls-port 2587 --tls-port 2465 --cert leaf.pem --key leaf.key \
        --maildir ./maildir --control ./control --user kagiya-mailer   # password: see below

Two listeners in one process, both on 127.0.0.1 and both demanding AUTH (LOGIN or PLAIN) with the
one user/password given:
  * STARTTLS port (lettre's `starttls_relay`, port 587 style): plaintext until STARTTLS; before it
    MAIL gets "530 Must issue a STARTTLS command first" and EHLO offers no AUTH.
  * implicit-TLS port (lettre's `relay`, port 465 style): TLS from the first byte. Here
    auth_require_tls must be False: aiosmtpd only counts STARTTLS as TLS for AUTH and would never
    offer AUTH on an implicit-TLS connection otherwise (aio-libs/aiosmtpd#281). The connection is
    TLS all the same.

Every accepted mail is kept in the maildir as
    <maildir>/<NNNNNN>-<random>.eml    the DATA exactly as received (CRLF line ends, dot-unstuffed:
                                       aiosmtpd's envelope.original_content; never re-parsed, which
                                       would change the bytes and break S/MIME signatures)
    <maildir>/<NNNNNN>-<random>.json   {"file", "mode": "starttls"|"tls", "peer", "login",
                                        "mail_from", "mail_options", "rcpt_tos", "rcpt_options",
                                        "size", "received_at"}
NNNNNN counts up from 000001 in the order the mails were accepted, so names sort in that order.
Both files are written under <maildir>/.tmp and renamed into place, the .json first: once an .eml
is there, it is complete and so is its .json.

Fault knobs: files in the control directory, read at each command, so a test flips them while the
server runs (write them atomically, e.g. to a temporary name and rename, or accept a race):
    <control>/refuse       one SMTP reply, e.g. "451 4.3.0 try later" or "554 5.6.0 rejected":
                           DATA is answered with it and the mail is not kept
    <control>/refuse_rcpt  one SMTP reply, e.g. "550 5.1.1 no such user": every RCPT TO is
                           answered with it
    <control>/delay_ms     a whole number: DATA waits that long before answering (a slow server)
Each knob may also be set for one envelope sender only, in <control>/<sender>/ (e.g.
<control>/noreply+t1@bank.example/refuse): tests that share this server and send from their own
addresses then never see each other's faults. A sender's own knob wins over the shared one.
A knob that cannot be read as such is answered with "554 5.3.0 smtp-test-server: bad knob ...",
so a test that wrote it wrongly fails loudly. Each DATA also appends one line to
<control>/attempts.log: "<mode> <reply code> <rcpt,rcpt,...>", so a test can count tries
(refused ones included).

The password comes from the environment (KAGIYA_TEST_SMTP_PASSWORD), not the command line, so it
does not show in the process list. Once both listeners answer, the server prints
"ready <starttls_port> <tls_port>" on stdout; SIGTERM or SIGINT stops it (exit 0).
"""
import argparse
import asyncio
import datetime
import hmac
import json
import logging
import os
import re
import secrets
import signal
import socket
import ssl
import sys
import threading
import warnings
from pathlib import Path

try:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword
except ImportError:
    sys.exit("smtp-test-server: aiosmtpd is missing: run scripts/install.sh --test and start this "
             "with ~/.cache/kagiya/aiosmtpd-1.4.6/bin/python (scripts/with-smtp.sh does)")

# One SMTP reply line: a 2xx-5xx code, then a space (or nothing) and text.
REPLY = re.compile(r"^[2-5][0-9][0-9]( [\x20-\x7e]*)?$")


class Store:
    """What both listeners share: the maildir, the control directory and the mail counter (each
    listener runs its own event loop in its own thread, hence the lock)."""

    def __init__(self, maildir: Path, control: Path):
        self.maildir = maildir
        self.control = control
        self.tmp = maildir / ".tmp"
        self.tmp.mkdir(parents=True, exist_ok=True)
        control.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._count = 0

    def next_name(self) -> str:
        with self._lock:
            self._count += 1
            n = self._count
        return f"{n:06d}-{secrets.token_hex(4)}"

    def knob(self, name: str, sender: str = ""):
        """The knob's first line (the sender's own first), or None when neither file exists."""
        places = [self.control / name]
        if sender and "/" not in sender and sender not in (".", ".."):
            places.insert(0, self.control / sender / name)
        for place in places:
            try:
                text = place.read_text(encoding="utf-8", errors="replace")
            except (FileNotFoundError, NotADirectoryError):
                continue
            lines = text.splitlines()
            return lines[0].strip() if lines else ""
        return None

    def reply_knob(self, name: str, sender: str = ""):
        value = self.knob(name, sender)
        if value is None:
            return None
        if not REPLY.match(value):
            return f"554 5.3.0 smtp-test-server: bad knob {name}: {value[:60]!r}"
        return value

    def log_attempt(self, line: str) -> None:
        with self._lock, open(self.control / "attempts.log", "a", encoding="utf-8") as f:
            f.write(line + "\n")

    def write(self, name: str, content: bytes, meta: dict) -> None:
        # Temporary name, then rename (atomic within one file system): a reader polling the
        # maildir never sees half a file. The .json goes first so that it is there with the .eml.
        for ext, data in ((".json", json.dumps(meta, ensure_ascii=False, indent=2).encode() + b"\n"),
                          (".eml", content)):
            tmp = self.tmp / (name + ext)
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, self.maildir / (name + ext))


class Handler:
    def __init__(self, store: Store, mode: str):
        self.store = store
        self.mode = mode

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        refuse = self.store.reply_knob("refuse_rcpt", envelope.mail_from or "")
        if refuse is not None:
            return refuse
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        rcpts = ",".join(envelope.rcpt_tos)
        sender = envelope.mail_from or ""
        delay = self.store.knob("delay_ms", sender)
        if delay is not None:
            if not delay.isdigit():
                reply = f"554 5.3.0 smtp-test-server: bad knob delay_ms: {delay[:60]!r}"
                self.store.log_attempt(f"{self.mode} {reply[:3]} {rcpts}")
                return reply
            await asyncio.sleep(int(delay) / 1000)
        refuse = self.store.reply_knob("refuse", sender)
        if refuse is not None:
            self.store.log_attempt(f"{self.mode} {refuse[:3]} {rcpts}")
            return refuse
        content = envelope.original_content  # bytes exactly as sent (decode_data is False)
        login = getattr(session.auth_data, "login", None)
        name = self.store.next_name()
        meta = {
            "file": name + ".eml",
            "mode": self.mode,
            "peer": list(session.peer) if session.peer else None,
            "login": login.decode("utf-8", "surrogateescape") if isinstance(login, bytes) else login,
            "mail_from": envelope.mail_from,
            "mail_options": envelope.mail_options,
            "rcpt_tos": envelope.rcpt_tos,
            "rcpt_options": envelope.rcpt_options,
            "size": len(content),
            "received_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds"),
        }
        self.store.write(name, content, meta)
        self.store.log_attempt(f"{self.mode} 250 {rcpts}")
        return f"250 2.0.0 OK {name}"


def authenticator(user: bytes, password: bytes):
    def check(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword)
              and hmac.compare_digest(auth_data.login, user)
              and hmac.compare_digest(auth_data.password, password))
        # auth_data becomes session.auth_data: handle_DATA reads the login from it.
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)
    return check


def check_free(host: str, port: int) -> None:
    """Fails at once when a port is taken (aiosmtpd would only say so after ready_timeout), so
    that scripts/with-smtp.sh can pick other ports quickly. SO_REUSEADDR as asyncio binds."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as e:
            sys.exit(f"smtp-test-server: cannot listen on {host}:{port}: {e.strerror} (port taken)")


def main() -> int:
    p = argparse.ArgumentParser(description="aiosmtpd test server with STARTTLS, implicit TLS and AUTH")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--starttls-port", type=int, required=True)
    p.add_argument("--tls-port", type=int, required=True)
    p.add_argument("--cert", required=True, help="server certificate (PEM; the leaf, CA:FALSE)")
    p.add_argument("--key", required=True, help="its private key (PEM)")
    p.add_argument("--maildir", required=True, type=Path)
    p.add_argument("--control", required=True, type=Path)
    p.add_argument("--user", required=True)
    p.add_argument("--server-name", default="localhost", help="the name in the banner and EHLO reply")
    p.add_argument("--debug", action="store_true", help="log every SMTP line to stderr")
    a = p.parse_args()
    password = os.environ.get("KAGIYA_TEST_SMTP_PASSWORD")
    if not password:
        p.error("KAGIYA_TEST_SMTP_PASSWORD is not set")
    logging.basicConfig(level=logging.DEBUG if a.debug else logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # Two warnings that say nothing here: auth_required without auth_require_tls (on the
    # implicit-TLS port the connection is TLS from the first byte; aio-libs/aiosmtpd#281), and
    # aiosmtpd's own use of its deprecated Session.login_data at every successful AUTH.
    warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")
    logging.getLogger("mail.log").addFilter(
        lambda r: not any(m in r.getMessage() for m in ("auth_require_tls == False", "login_data is deprecated")))

    # A server context: no client certificates asked for (CERT_NONE), TLS 1.2 at least.
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(a.cert, a.key)
    store = Store(a.maildir, a.control)
    auth = authenticator(a.user.encode(), password.encode())
    common = dict(hostname=a.host, server_hostname=a.server_name, authenticator=auth,
                  auth_required=True, ready_timeout=10)
    starttls = Controller(Handler(store, "starttls"), port=a.starttls_port, tls_context=ctx,
                          require_starttls=True, auth_require_tls=True, **common)
    # auth_require_tls=False: see the module comment (aio-libs/aiosmtpd#281).
    implicit = Controller(Handler(store, "tls"), port=a.tls_port, ssl_context=ctx,
                          auth_require_tls=False, **common)

    for port in (a.starttls_port, a.tls_port):
        check_free(a.host, port)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    started = []
    try:
        for c in (starttls, implicit):
            c.start()  # returns once the listener has answered a first connection
            started.append(c)
        print(f"ready {a.starttls_port} {a.tls_port}", flush=True)
        while not stop.wait(1):
            pass
    finally:
        for c in reversed(started):
            c.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
