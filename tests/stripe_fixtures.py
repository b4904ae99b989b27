"""The local Stripe stand-in as pytest fixtures (registered in tests/conftest.py).

Each xdist worker starts its own stand-in process on a free port with its own
state file (--state-file), so workers never share localstripe's pickle; the
state is wiped (DELETE /_config/data) before every test that asks for
`base_url` or `gateway`. Webhooks go to a small HTTP receiver in a thread of
the test process; tests that want them at the app instead register the app.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from bs4 import BeautifulSoup

from shared.config import load_config
from shared.integrations.payments import PaymentGateway

ROOT = Path(__file__).resolve().parents[1]
SECRET_KEY = "sk_test_standin"
WEBHOOK_SECRET = "whsec_standin_tests"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class WebhookReceiver(ThreadingHTTPServer):
    """Records every webhook POST; answers 500 to the next `fail_next` of them."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ReceiverHandler)
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.fail_next = 0
        self.changed = threading.Condition()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/webhook"

    def clear(self) -> None:
        with self.changed:
            self.received.clear()
            self.fail_next = 0

    def types(self) -> list[str]:
        with self.changed:
            return [json.loads(body)["type"] for _headers, body in self.received]

    def wait_for(self, event_type: str, count: int = 1, timeout: float = 10) -> list:
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                found = [
                    (headers, body)
                    for headers, body in self.received
                    if json.loads(body)["type"] == event_type
                ]
                if len(found) >= count or time.monotonic() > deadline:
                    return found
                self.changed.wait(0.1)


class _ReceiverHandler(BaseHTTPRequestHandler):
    server: WebhookReceiver

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with self.server.changed:
            failing = self.server.fail_next > 0
            if failing:
                self.server.fail_next -= 1
            else:
                self.server.received.append((dict(self.headers), body))
            self.server.changed.notify_all()
        self.send_response(500 if failing else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="session")
def receiver():
    server = WebhookReceiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def standin(tmp_path_factory, receiver):
    """One stand-in process for this worker, with the receiver registered for webhooks."""
    tmp = tmp_path_factory.mktemp("stripe-standin")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(tmp / "standin.log", "w+b")  # noqa: SIM115 - closed after the process
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "devtools.stripe_standin",
            "--port",
            str(port),
            "--state-file",
            str(tmp / "state.pickle"),
            "--from-scratch",
            "--async-delay",
            "0.3",
            "--webhook-timeout",
            "3",
            "--webhook-retry-delays",
            "0.2,0.2,0.2",
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                requests.get(f"{base}/_config/deliveries", timeout=1).raise_for_status()
                break
            except requests.RequestException:
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    pytest.fail(f"the stand-in did not start:\n{log.read().decode()}")
                time.sleep(0.1)
        requests.post(
            f"{base}/_config/webhooks/tests",
            data={"url": receiver.url, "secret": WEBHOOK_SECRET},
            timeout=5,
        ).raise_for_status()
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture
def base_url(standin, receiver) -> str:
    requests.delete(f"{standin}/_config/data", timeout=5).raise_for_status()
    receiver.clear()
    return standin


@pytest.fixture
def gateway(base_url) -> PaymentGateway:
    config = load_config(
        environ={
            "STRIPE_SECRET_KEY": SECRET_KEY,
            "STRIPE_API_BASE": base_url,
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        }
    )
    return PaymentGateway.from_config(config)


def press(page_url: str, button: str) -> requests.Response:
    """Open the hosted page and submit the form holding `button`, as a browser would."""
    page = requests.get(page_url, timeout=10)
    assert page.status_code == 200, page.text
    soup = BeautifulSoup(page.text, "html.parser")
    form = soup.find("button", attrs={"value": button}).find_parent("form")
    parts = urlsplit(page_url)
    action = f"{parts.scheme}://{parts.netloc}{form['action']}"
    return requests.post(action, data={"action": button}, allow_redirects=False, timeout=20)
