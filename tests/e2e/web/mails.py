#!/usr/bin/env python3
"""Prints, as JSON, the mails scripts/with-smtp.sh captured from one sender: recipients, subject
and the decoded text part (standard library only; a multipart/signed mail's text is inside)."""
import email
import email.policy
import json
import pathlib
import sys

maildir, sender = pathlib.Path(sys.argv[1]), sys.argv[2]
out = []
for meta_path in sorted(maildir.glob("*.json")):
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, ValueError):
        continue
    if meta.get("mail_from") != sender:
        continue
    raw = meta_path.with_suffix(".eml").read_bytes()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    part = msg.get_body(preferencelist=("plain",))
    out.append({
        "to": meta.get("rcpt_tos", []),
        "subject": str(msg.get("Subject", "")),
        "text": part.get_content() if part is not None else "",
    })
json.dump(out, sys.stdout, ensure_ascii=False)
