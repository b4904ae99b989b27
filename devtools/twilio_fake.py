"""A local fake of Twilio's Messages API, for `make run` and the tests.

    python -m devtools.twilio_fake --port 8430 --viewer-port 8431   # what `make run` starts
    python -m devtools.twilio_fake --port P --opted-out +447700900666  # tests: a free port

The app's real Twilio SDK reaches it because TWILIO_API_BASE points here. It
answers like Twilio, so the SDK behaves as it would in production:

- POST /2010-04-01/Accounts/{AccountSid}/Messages.json (form-encoded To, From, Body,
  optional StatusCallback; HTTP basic auth with the account SID and auth token):
  201 and a Twilio-shaped message (sid SM..., status "queued"). Errors come in
  Twilio's JSON shape, so the SDK raises TwilioRestException with .code:
  20003 bad credentials (401), 21211 malformed To, 21610 recipient opted out
  (--opted-out), 21602 no body, 21603 no From, 21617 body over 1600 characters.
- GET /2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json: fetch one.
- With StatusCallback, posts "sent" then "delivered" to it, signed with
  X-Twilio-Signature exactly as Twilio does (twilio.request_validator).
- GET / (page) and GET /messages (JSON, newest first, ?to=NUMBER), DELETE /messages;
  also on --viewer-port when given.
- POST /_config/fail-next?count=N: the next N sends answer 503 (Twilio error 20500),
  to try the app's retry path.
- --latency SECONDS: every send waits this long before answering, like the real API
  over the internet (bench/bench_sms_throughput.py uses 0.02).

Messages are kept in memory only: restarting the fake forgets them.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import html
import logging
import os
import re
import secrets
import socket
from collections import deque
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import aiohttp
from aiohttp import web
from twilio.request_validator import RequestValidator

from shared.config import SETTINGS
from shared.domain.sms import sms_segments

logger = logging.getLogger("twilio_fake")

API_VERSION = "2010-04-01"
DEFAULT_PORT = 8430
KEEP_IN_MEMORY = 1000
MAX_BODY = 1600
E164 = re.compile(r"^\+[1-9]\d{7,14}$")


def twilio_error(status: int, code: int, message: str) -> web.Response:
    """Twilio's legacy error body: the SDK turns it into TwilioRestException(code=...)."""
    return web.json_response(
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
        status=status,
    )


def _now() -> str:
    return format_datetime(datetime.now(UTC))


class FakeTwilio:
    """The fake's state: credentials, opted-out numbers and the messages sent."""

    def __init__(self, account_sid: str, auth_token: str, opted_out: set[str]) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.opted_out = opted_out
        self.messages: deque[dict[str, Any]] = deque(maxlen=KEEP_IN_MEMORY)
        self.fail_next = 0
        self.callback_delay = 0.5
        self.latency = 0.0
        self.tasks: set[asyncio.Task] = set()

    def authorised(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return (
            secrets.compare_digest(user, self.account_sid)
            and secrets.compare_digest(password, self.auth_token)
            and request.match_info["account_sid"] == self.account_sid
        )

    def find(self, sid: str) -> dict[str, Any] | None:
        return next((m for m in self.messages if m["sid"] == sid), None)


def _resource(state: FakeTwilio, message: dict[str, Any]) -> dict[str, Any]:
    uri = f"/{API_VERSION}/Accounts/{state.account_sid}/Messages/{message['sid']}"
    return {
        "account_sid": state.account_sid,
        "api_version": API_VERSION,
        "body": message["body"],
        "date_created": message["date_created"],
        "date_sent": message["date_sent"],
        "date_updated": message["date_updated"],
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": message["from"],
        "messaging_service_sid": None,
        "num_media": "0",
        "num_segments": str(message["num_segments"]),
        "price": None,
        "price_unit": "GBP",
        "sid": message["sid"],
        "status": message["status"],
        "subresource_uris": {"media": f"{uri}/Media.json"},
        "to": message["to"],
        "uri": f"{uri}.json",
    }


async def create_message(request: web.Request) -> web.Response:
    state: FakeTwilio = request.app["state"]
    if state.latency:
        await asyncio.sleep(state.latency)
    if not state.authorised(request):
        return twilio_error(401, 20003, "Authenticate")
    if state.fail_next > 0:
        state.fail_next -= 1
        return twilio_error(503, 20500, "Service unavailable (POST /_config/fail-next)")
    form = await request.post()
    to = str(form.get("To", "")).strip()
    sender = str(form.get("From", "")).strip()
    body = str(form.get("Body", ""))
    if not to or not E164.match(to):
        return twilio_error(400, 21211, f"Invalid 'To' Phone Number: {to}")
    if not sender:
        return twilio_error(400, 21603, "A 'From' phone number is required.")
    if not body:
        return twilio_error(400, 21602, "Message body is required.")
    if len(body) > MAX_BODY:
        return twilio_error(
            400, 21617, "The concatenated message body exceeds the 1600 character limit."
        )
    if to in state.opted_out:
        return twilio_error(400, 21610, "Attempt to send to unsubscribed recipient")
    now = _now()
    message = {
        "sid": "SM" + secrets.token_hex(16),
        "to": to,
        "from": sender,
        "body": body,
        "status": "queued",
        "num_segments": sms_segments(body),
        "date_created": now,
        "date_updated": now,
        "date_sent": None,
        "status_callback": str(form.get("StatusCallback", "")) or None,
        "callbacks": [],
    }
    state.messages.append(message)
    logger.info("queued %s to %s: %r", message["sid"], to, body)
    if message["status_callback"]:
        task = asyncio.create_task(_report_progress(request.app, message))
        state.tasks.add(task)
        task.add_done_callback(state.tasks.discard)
    return web.json_response(_resource(state, message), status=201)


async def fetch_message(request: web.Request) -> web.Response:
    state: FakeTwilio = request.app["state"]
    if not state.authorised(request):
        return twilio_error(401, 20003, "Authenticate")
    message = state.find(request.match_info["sid"])
    if message is None:
        return twilio_error(404, 20404, "The requested resource was not found")
    return web.json_response(_resource(state, message))


async def _report_progress(app: web.Application, message: dict[str, Any]) -> None:
    """Move the message to sent, then delivered, telling StatusCallback each time, signed."""
    state: FakeTwilio = app["state"]
    validator = RequestValidator(state.auth_token)
    url = message["status_callback"]
    for status in ("sent", "delivered"):
        await asyncio.sleep(state.callback_delay)
        message["status"] = status
        message["date_updated"] = _now()
        if status == "sent":
            message["date_sent"] = message["date_updated"]
        params = {
            "AccountSid": state.account_sid,
            "ApiVersion": API_VERSION,
            "From": message["from"],
            "MessageSid": message["sid"],
            "MessageStatus": status,
            "SmsSid": message["sid"],
            "SmsStatus": status,
            "To": message["to"],
        }
        headers = {"X-Twilio-Signature": validator.compute_signature(url, params)}
        try:
            async with app["http"].post(url, data=params, headers=headers) as response:
                outcome = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            outcome = f"{type(exc).__name__}: {exc}"
        message["callbacks"].append({"status": status, "result": outcome})
        logger.info("status callback %s %s -> %s", message["sid"], status, outcome)


async def fail_next(request: web.Request) -> web.Response:
    state: FakeTwilio = request.app["state"]
    state.fail_next = int(request.query.get("count", "1"))
    return web.json_response({"fail_next": state.fail_next})


# --- the viewer ---------------------------------------------------------------------------------

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Fake Twilio</title>
<meta http-equiv="refresh" content="5">
<style>
body {{ font-family: sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ border-bottom: 1px solid #ccc; padding: .5em; text-align: left; vertical-align: top; }}
pre {{ white-space: pre-wrap; margin: 0; }}
</style></head>
<body><h1>Text messages sent by the app ({count})</h1>
<p>Newest first; this page reloads every 5 seconds. JSON: <a href="/messages">/messages</a>.
Opted-out numbers (answer error 21610): {opted_out}.</p>
<table><thead><tr><th>Created</th><th>To</th><th>Status</th><th>Segments</th><th>Body</th>
</tr></thead><tbody>{rows}</tbody></table></body></html>
"""


def _listing(state: FakeTwilio, to: str | None) -> list[dict[str, Any]]:
    found = reversed(state.messages)
    if to:
        found = (m for m in found if m["to"] == to.strip())
    return list(found)


async def index(request: web.Request) -> web.Response:
    state: FakeTwilio = request.app["state"]
    rows = (
        "".join(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><pre>{}</pre></td></tr>".format(
                html.escape(m["date_created"]),
                html.escape(m["to"]),
                html.escape(m["status"]),
                m["num_segments"],
                html.escape(m["body"]),
            )
            for m in _listing(state, None)
        )
        or '<tr><td colspan="5">Nothing yet.</td></tr>'
    )
    page = PAGE.format(
        count=len(state.messages),
        opted_out=html.escape(", ".join(sorted(state.opted_out)) or "none"),
        rows=rows,
    )
    return web.Response(text=page, content_type="text/html")


async def list_messages(request: web.Request) -> web.Response:
    state: FakeTwilio = request.app["state"]
    return web.json_response(_listing(state, request.query.get("to")))


async def clear_messages(request: web.Request) -> web.Response:
    state: FakeTwilio = request.app["state"]
    state.messages.clear()
    state.fail_next = 0
    return web.json_response({"deleted": True})


def build_app(state: FakeTwilio) -> web.Application:
    app = web.Application()
    app["state"] = state

    async def open_http(app: web.Application) -> None:
        app["http"] = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))

    async def close_http(app: web.Application) -> None:
        for task in list(state.tasks):
            task.cancel()
        await app["http"].close()

    app.on_startup.append(open_http)
    app.on_cleanup.append(close_http)
    accounts = f"/{API_VERSION}/Accounts/{{account_sid}}"
    app.router.add_post(f"{accounts}/Messages.json", create_message)
    app.router.add_get(f"{accounts}/Messages/{{sid}}.json", fetch_message)
    app.router.add_post("/_config/fail-next", fail_next)
    app.router.add_get("/", index)
    app.router.add_get("/messages", list_messages)
    app.router.add_delete("/messages", clear_messages)
    return app


def _listen(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


def main(argv: list[str] | None = None) -> int:
    defaults = {s.name: s.default for s in SETTINGS}
    parser = argparse.ArgumentParser(
        prog="python -m devtools.twilio_fake", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="API port")
    parser.add_argument("--viewer-port", type=int, help="also serve the viewer on this port")
    parser.add_argument(
        "--account-sid",
        default=os.environ.get("TWILIO_ACCOUNT_SID") or defaults["TWILIO_ACCOUNT_SID"],
    )
    parser.add_argument(
        "--auth-token",
        default=os.environ.get("TWILIO_AUTH_TOKEN") or defaults["TWILIO_AUTH_TOKEN"],
    )
    parser.add_argument(
        "--opted-out",
        action="append",
        default=[],
        help="a number that replied STOP: sends to it fail with 21610 (repeatable)",
    )
    parser.add_argument(
        "--callback-delay", type=float, default=0.5, help="seconds between status callbacks"
    )
    parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds each send waits before answering"
    )
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="twilio-fake %(levelname)s %(message)s")
    state = FakeTwilio(args.account_sid, args.auth_token, set(args.opted_out))
    state.callback_delay = args.callback_delay
    state.latency = args.latency
    sockets = [_listen(args.host, args.port)]
    if args.viewer_port:
        sockets.append(_listen(args.host, args.viewer_port))
    for sock in sockets:
        logger.info("listening on http://%s:%s/", args.host, sock.getsockname()[1])
    web.run_app(build_app(state), sock=sockets, access_log=None, print=None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
