"""Browser fixtures: the real app served on 127.0.0.1 and Debian's Chromium driven by Playwright.

Chromium comes from apt (`make test` installs it); Playwright never downloads
a browser of its own here. The flags stop Chromium reaching for Google's
services on this machine's closed network.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from shared.app import create_app
from tests.conftest import make_config

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def live_server(database_url):
    app = create_app(make_config(database_url))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


class PageProblems:
    """Console errors, uncaught exceptions and CSP violations seen while a page was open."""

    def __init__(self, page):
        self.messages: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.messages.append(m.text))
        page.on("pageerror", lambda e: self.messages.append(str(e)))


@pytest.fixture
def page_factory(browser):
    contexts = []

    def make(*, javascript: bool = True):
        context = browser.new_context(java_script_enabled=javascript)
        contexts.append(context)
        page = context.new_page()
        return page, PageProblems(page)

    yield make
    for context in contexts:
        context.close()


def axe_violations(page) -> list[str]:
    """Run axe-core (bundled in axe-playwright-python) in the page; describe each violation."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes: "
        f"{', '.join(n['target'][0] if n['target'] else '?' for n in v['nodes'][:3])})"
        for v in results.response["violations"]
    ]


@pytest.fixture
def live_payments(live_server, gateway, base_url):
    """The live app paying through the local Stripe stand-in, whose webhooks reach the app.

    The stand-in signs webhooks with the gateway's secret, which is what the
    app's /webhooks/stripe checks them against.
    """
    import requests

    from tests.stripe_fixtures import WEBHOOK_SECRET

    app, base = live_server
    app.extensions["payment_gateway"] = gateway
    requests.post(
        f"{base_url}/_config/webhooks/app",
        data={"url": f"{base}/webhooks/stripe", "secret": WEBHOOK_SECRET},
        timeout=5,
    ).raise_for_status()
    return app, base
