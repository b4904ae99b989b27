"""Local SMTP capture with a viewer: every email the app sends under `make run` lands here.

    python -m devtools.smtp_capture --port 8025 --viewer-port 8026   # what `make run` starts
    python -m devtools.smtp_capture --port P --viewer-port V --store X   # tests: free ports

SMTP (aiosmtpd) on --port accepts any message, without authentication or TLS,
and keeps it in memory and as one JSON line in --store (default
instance/smtp-capture.jsonl), so a restart still shows what came before. The
viewer on --viewer-port:

- GET /              the messages as a page, newest first (read security codes here)
- GET /messages      the same as JSON; ?to=ADDRESS keeps those sent to ADDRESS
- DELETE /messages   forget every message (memory and file)

--reject-domain DOMAIN (repeatable) answers RCPT TO for that domain with 550, so
the app's permanent-failure path can be tried without a real mail server.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import html
import json
import logging
from collections import deque
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

from aiohttp import web
from aiosmtpd.smtp import SMTP, Envelope, Session

logger = logging.getLogger("smtp_capture")

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_STORE = ROOT / "instance" / "smtp-capture.jsonl"
DEFAULT_PORT, DEFAULT_VIEWER_PORT = 8025, 8026
# Enough for a long demo session; older messages stay in the file only.
KEEP_IN_MEMORY = 1000


class Mailbox:
    """The received messages, newest last, mirrored to a JSON-lines file."""

    def __init__(self, store: Path, reject_domains: frozenset[str] = frozenset()) -> None:
        self.store = store
        self.reject_domains = reject_domains
        self.messages: deque[dict[str, Any]] = deque(maxlen=KEEP_IN_MEMORY)
        self.next_id = 1
        self.store.parent.mkdir(parents=True, exist_ok=True)
        if self.store.exists():
            with self.store.open(encoding="utf-8") as f:
                for line in f:
                    try:
                        self.messages.append(json.loads(line))
                    except ValueError:  # a line cut short by a crash: skip it
                        continue
            if self.messages:
                self.next_id = max(int(m.get("id", 0)) for m in self.messages) + 1

    def add(self, envelope: Envelope, peer: Any) -> dict[str, Any]:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        parsed = BytesParser(policy=default_policy).parsebytes(raw)
        part = parsed.get_body(preferencelist=("plain", "html"))
        record = {
            "id": self.next_id,
            "received_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "peer": str(peer[0]) if isinstance(peer, tuple) else str(peer),
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "from": str(parsed.get("From", "")),
            "to": str(parsed.get("To", "")),
            "subject": str(parsed.get("Subject", "")),
            "date": str(parsed.get("Date", "")),
            "message_id": str(parsed.get("Message-ID", "")),
            # Line endings as the sender wrote them, not SMTP's CRLF.
            "body": (part.get_content() if part is not None else "").replace("\r\n", "\n"),
            # The HTML alternative of a multipart/alternative email ("" when text only).
            "content_type": parsed.get_content_type(),
            "html": _html_part(parsed),
            # Attached files (an invoice PDF), so tests can read them back.
            "attachments": [
                {
                    "filename": attachment.get_filename(),
                    "content_type": attachment.get_content_type(),
                    "content_base64": base64.b64encode(
                        attachment.get_payload(decode=True) or b""
                    ).decode("ascii"),
                }
                for attachment in parsed.iter_attachments()
            ],
            "size": len(raw),
        }
        self.next_id += 1
        self.messages.append(record)
        with self.store.open("a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        return record

    def clear(self) -> None:
        self.messages.clear()
        self.store.write_text("", encoding="utf-8")

    def listing(self, to: str | None = None) -> list[dict[str, Any]]:
        found = reversed(self.messages)
        if to:
            wanted = to.strip().lower()
            found = (m for m in found if wanted in (r.lower() for r in m["rcpt_tos"]))
        return list(found)


def _html_part(parsed) -> str:
    part = parsed.get_body(preferencelist=("html",))
    return part.get_content().replace("\r\n", "\n") if part is not None else ""


class CaptureHandler:
    """aiosmtpd handler: accept every recipient (bar rejected domains) and keep the message."""

    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options
    ) -> str:
        domain = address.rpartition("@")[2].lower()
        if domain in self.mailbox.reject_domains:
            return "550 5.1.1 Mailbox unavailable (rejected by --reject-domain)"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        record = self.mailbox.add(envelope, session.peer)
        logger.info(
            "received #%s %r for %s", record["id"], record["subject"], ", ".join(record["rcpt_tos"])
        )
        return "250 Message accepted for delivery"


# --- the viewer ---------------------------------------------------------------------------------

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>SMTP capture</title>
<meta http-equiv="refresh" content="5">
<style>
body {{ font-family: sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ border-bottom: 1px solid #ccc; padding: .5em; text-align: left; vertical-align: top; }}
pre {{ white-space: pre-wrap; margin: 0; }}
</style></head>
<body><h1>Email sent by the app ({count})</h1>
<p>SMTP on port {smtp_port}. Newest first; this page reloads every 5 seconds.
JSON: <a href="/messages">/messages</a>.</p>
<table><thead><tr><th>Received (UTC)</th><th>To</th><th>Subject</th><th>Body</th></tr></thead>
<tbody>{rows}</tbody></table></body></html>
"""


async def index(request: web.Request) -> web.Response:
    mailbox: Mailbox = request.app["mailbox"]
    rows = (
        "".join(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td><pre>{}</pre></td></tr>".format(
                html.escape(m["received_at"]),
                html.escape(", ".join(m["rcpt_tos"])),
                html.escape(m["subject"]),
                html.escape(m["body"]),
            )
            for m in mailbox.listing()
        )
        or '<tr><td colspan="4">Nothing yet.</td></tr>'
    )
    page = PAGE.format(count=len(mailbox.messages), smtp_port=request.app["smtp_port"], rows=rows)
    return web.Response(text=page, content_type="text/html")


async def list_messages(request: web.Request) -> web.Response:
    mailbox: Mailbox = request.app["mailbox"]
    return web.json_response(mailbox.listing(request.query.get("to")))


async def clear_messages(request: web.Request) -> web.Response:
    request.app["mailbox"].clear()
    return web.json_response({"deleted": True})


def build_app(mailbox: Mailbox, *, host: str, smtp_port: int) -> web.Application:
    """The viewer app; it also starts and stops the SMTP server on the same event loop."""
    app = web.Application()
    app["mailbox"] = mailbox
    app["smtp_port"] = smtp_port

    async def start_smtp(app: web.Application) -> None:
        loop = asyncio.get_running_loop()
        handler = CaptureHandler(mailbox)
        # hostname given, so aiosmtpd does not look up this machine's FQDN.
        app["smtp_server"] = await loop.create_server(
            lambda: SMTP(handler, hostname="smtp-capture.local", loop=loop), host, smtp_port
        )
        logger.info("SMTP on %s:%s, messages kept in %s", host, smtp_port, mailbox.store)

    async def stop_smtp(app: web.Application) -> None:
        server = app.get("smtp_server")
        if server is not None:
            server.close()
            await server.wait_closed()

    app.on_startup.append(start_smtp)
    app.on_cleanup.append(stop_smtp)
    app.router.add_get("/", index)
    app.router.add_get("/messages", list_messages)
    app.router.add_delete("/messages", clear_messages)
    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.smtp_capture", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="SMTP port")
    parser.add_argument("--viewer-port", type=int, help="HTTP viewer port (default: SMTP port + 1)")
    parser.add_argument("--store", type=Path, default=DEFAULT_STORE, help="JSON-lines file")
    parser.add_argument(
        "--reject-domain",
        action="append",
        default=[],
        help="answer 550 to recipients in this domain (repeatable)",
    )
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="smtp-capture %(levelname)s %(message)s")
    # aiosmtpd logs every SMTP command at INFO; our one line per message is enough.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    viewer_port = args.viewer_port if args.viewer_port is not None else args.port + 1
    mailbox = Mailbox(args.store, frozenset(d.lower() for d in args.reject_domain))
    app = build_app(mailbox, host=args.host, smtp_port=args.port)
    logger.info("viewer on http://%s:%s/", args.host, viewer_port)
    web.run_app(app, host=args.host, port=viewer_port, access_log=None, print=None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
