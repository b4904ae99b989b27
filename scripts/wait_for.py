#!/usr/bin/env python3
"""Wait until a service answers, then exit 0; exit 1 with one clear line on timeout.

    python scripts/wait_for.py redis://127.0.0.1:6390/0      # Redis answers PING
    python scripts/wait_for.py tcp://127.0.0.1:5432          # a TCP port accepts connections
    python scripts/wait_for.py http://127.0.0.1:5000/healthz # an HTTP server answers (any status)
    python scripts/wait_for.py 127.0.0.1:5432 --timeout 60

The worker and scheduler processes run it before `rq`, so they do not crash (and take
the whole `honcho` group down) while Redis is still starting.
"""

from __future__ import annotations

import argparse
import socket
import sys
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


def redis_ready(url: str) -> tuple[bool, str]:
    from redis import Redis

    try:
        Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping()
        return True, ""
    except Exception as exc:  # connection refused, loading dataset, auth...
        return False, f"{type(exc).__name__}: {exc}"


def tcp_ready(host: str, port: int) -> tuple[bool, str]:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True, ""
    except OSError as exc:
        return False, str(exc)


def http_ready(url: str) -> tuple[bool, str]:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True, ""
    except urllib.error.HTTPError:
        return True, ""  # it answered; the status is the caller's business
    except (urllib.error.URLError, OSError) as exc:
        return False, str(exc)


def probe_for(target: str):
    if target.startswith(("redis://", "rediss://", "unix://")):
        return lambda: redis_ready(target)
    if target.startswith(("http://", "https://")):
        return lambda: http_ready(target)
    if target.startswith("tcp://"):
        target = target[len("tcp://") :]
    host, sep, port = target.rpartition(":")
    if not sep or not port.isdigit():
        raise SystemExit(
            f"wait_for: cannot understand {target!r}: "
            "expected redis://..., http://..., tcp://host:port or host:port"
        )
    return lambda: tcp_ready(host or "127.0.0.1", int(port))


def wait_for(target: str, timeout: float, interval: float = 0.2, quiet: bool = False) -> bool:
    probe = probe_for(target)
    deadline = time.monotonic() + timeout
    announced = False
    reason = ""
    while True:
        ok, reason = probe()
        if ok:
            if announced and not quiet:
                print(f"wait_for: {_redact(target)} is up", flush=True)
            return True
        if time.monotonic() >= deadline:
            break
        if not announced and not quiet:
            print(f"wait_for: waiting up to {timeout:g}s for {_redact(target)} ...", flush=True)
            announced = True
        time.sleep(interval)
    print(
        f"wait_for: {_redact(target)} did not answer within {timeout:g}s ({reason})",
        file=sys.stderr,
        flush=True,
    )
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", help="redis://..., http://..., tcp://host:port or host:port")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait (default 30)")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    return 0 if wait_for(args.target, args.timeout, quiet=args.quiet) else 1


if __name__ == "__main__":
    sys.exit(main())
