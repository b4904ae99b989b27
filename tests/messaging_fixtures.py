"""The local SMTP capture and fake Twilio as pytest fixtures (registered in tests/conftest.py).

Each xdist worker starts one of each (devtools/smtp_capture.py,
devtools/twilio_fake.py) on free ports, waits until they answer, and empties
them before every test that asks for `mailbox` or `sms_fake`.

`outbox_app` is an app wired to both and to a Redis database of this worker's
own (emptied around each test), so outbox jobs enqueued by one worker's tests
are never run against another worker's database. `run_outbox_jobs(app)` runs
what is queued with a real RQ worker in this process, inside the test's app
context, so jobs read the test database.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests

from tests.stripe_fixtures import free_port

ROOT = Path(__file__).resolve().parents[1]
TWILIO_ACCOUNT_SID = "ACtest0000000000000000000000000000"
TWILIO_AUTH_TOKEN = "test-twilio-auth-token"
TWILIO_FROM_NUMBER = "+447700900000"
OPTED_OUT_NUMBER = "+447700900666"
REJECTED_DOMAIN = "rejected.example"
# Redis databases 8-15 hold outbox jobs, one per xdist worker; the rest of the
# suite uses database 0 of the same server.
FIRST_OUTBOX_REDIS_DB = 8


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _start(args: list[str], log_path: Path, ready) -> subprocess.Popen:
    log = open(log_path, "w+b")  # noqa: SIM115 - closed by _stop
    process = subprocess.Popen(
        [sys.executable, "-m", *args], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
    )
    process.log = log  # type: ignore[attr-defined]
    deadline = time.monotonic() + 20
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            _stop(process)
            pytest.fail(f"{args[0]} did not start:\n{log_path.read_text()}")
        time.sleep(0.1)
    return process


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    process.log.close()  # type: ignore[attr-defined]


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False


class SmtpCapture:
    def __init__(self, smtp_port: int, viewer_url: str) -> None:
        self.smtp_port = smtp_port
        self.viewer_url = viewer_url

    def messages(self, to: str | None = None) -> list[dict]:
        params = {"to": to} if to else {}
        response = requests.get(f"{self.viewer_url}/messages", params=params, timeout=5)
        response.raise_for_status()
        return response.json()

    def clear(self) -> None:
        requests.delete(f"{self.viewer_url}/messages", timeout=5).raise_for_status()


class TwilioFake:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def messages(self, to: str | None = None) -> list[dict]:
        params = {"to": to} if to else {}
        response = requests.get(f"{self.base_url}/messages", params=params, timeout=5)
        response.raise_for_status()
        return response.json()

    def clear(self) -> None:
        requests.delete(f"{self.base_url}/messages", timeout=5).raise_for_status()

    def fail_next(self, count: int = 1) -> None:
        requests.post(
            f"{self.base_url}/_config/fail-next", params={"count": count}, timeout=5
        ).raise_for_status()


@pytest.fixture(scope="session")
def smtp_capture(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("smtp-capture")
    smtp_port, viewer_port = free_port(), free_port()
    viewer_url = f"http://127.0.0.1:{viewer_port}"
    process = _start(
        [
            "devtools.smtp_capture",
            "--port",
            str(smtp_port),
            "--viewer-port",
            str(viewer_port),
            "--store",
            str(tmp / "messages.jsonl"),
            "--reject-domain",
            REJECTED_DOMAIN,
        ],
        tmp / "smtp-capture.log",
        lambda: _answers(f"{viewer_url}/messages") and _port_open(smtp_port),
    )
    try:
        yield SmtpCapture(smtp_port, viewer_url)
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def twilio_fake(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("twilio-fake")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    process = _start(
        [
            "devtools.twilio_fake",
            "--port",
            str(port),
            "--account-sid",
            TWILIO_ACCOUNT_SID,
            "--auth-token",
            TWILIO_AUTH_TOKEN,
            "--opted-out",
            OPTED_OUT_NUMBER,
            "--callback-delay",
            "0.05",
        ],
        tmp / "twilio-fake.log",
        lambda: _answers(f"{base_url}/messages"),
    )
    try:
        yield TwilioFake(base_url)
    finally:
        _stop(process)


@pytest.fixture
def mailbox(smtp_capture) -> SmtpCapture:
    """The SMTP capture, emptied."""
    smtp_capture.clear()
    return smtp_capture


@pytest.fixture
def sms_fake(twilio_fake) -> TwilioFake:
    """The fake Twilio API, emptied."""
    twilio_fake.clear()
    return twilio_fake


@pytest.fixture
def outbox_redis_url(redis_url, worker_id_str) -> str:
    """A Redis database of this xdist worker's own, empty before and after the test."""
    from shared.jobs.queues import redis_connection

    number = int(worker_id_str[2:]) if worker_id_str.startswith("gw") else 0
    parts = urlsplit(redis_url)
    url = urlunsplit(parts._replace(path=f"/{FIRST_OUTBOX_REDIS_DB + number % 8}"))
    connection = redis_connection(url)
    connection.flushdb()
    yield url
    connection.flushdb()
    connection.close()


def messaging_config(database_url: str, redis_url: str, mailbox, sms_fake, **overrides):
    """tests.conftest.make_config, but with this Redis and the local SMTP and Twilio."""
    from shared.config import load_config

    settings = {
        "APP_ENV": "test",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "REDIS_URL": redis_url,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(mailbox.smtp_port),
        "MAIL_FROM": "Borsetshire Income Recovery <no-reply@borsetshire.example>",
        "TWILIO_API_BASE": sms_fake.base_url,
        "TWILIO_ACCOUNT_SID": TWILIO_ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": TWILIO_AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": TWILIO_FROM_NUMBER,
    }
    settings.update(overrides)
    return load_config(environ={}, **settings)


@pytest.fixture
def outbox_app(database_url, outbox_redis_url, mailbox, sms_fake):
    """An app that sends email to the capture and SMS to the fake, queueing on
    this worker's own Redis database."""
    from shared.app import create_app
    from shared.extensions import db

    app = create_app(messaging_config(database_url, outbox_redis_url, mailbox, sms_fake))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def run_outbox_jobs(app) -> None:
    """Run every job queued for the outbox with a real RQ worker, in this process: the
    single-row jobs and the batches a big commit is sent in (shared/jobs/outbox_batch.py)."""
    from rq import Queue, SimpleWorker

    from shared.jobs.outbox import OUTBOX_QUEUE
    from shared.jobs.outbox_batch import BATCH_QUEUE
    from shared.jobs.queues import redis_connection

    connection = redis_connection(str(app.config["REDIS_URL"]))
    try:
        queues = [Queue(name, connection=connection) for name in (OUTBOX_QUEUE, BATCH_QUEUE)]
        worker = SimpleWorker(queues, connection=connection)
        worker.work(burst=True, logging_level="WARNING")
    finally:
        connection.close()
