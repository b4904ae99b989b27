"""Text messages per second through the outbox: N SMS rows delivered by two RQ worker
processes to the local Twilio fake answering after 20 ms, beside a yardstick.

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:54329/recovery_bench \\
        .venv/bin/python bench/bench_sms_throughput.py
    BENCH_SMS=1000 .venv/bin/python bench/bench_sms_throughput.py   # smaller

What runs, as in production: N pending SMS rows (one per debtor account, each
with a timeline) are written, the Twilio fake (devtools/twilio_fake.py) starts on
a free port with --latency 0.02, two `rq worker -w shared.jobs.worker.AppWorker
high default low` processes (the Procfile's) start on a real Redis
(BENCH_REDIS_URL, default the test services' redis on 127.0.0.1:63799, database
6, emptied first) and wait; the clock starts when the rows' ids are enqueued as
after a commit (enqueue_messages(new_rows=True): batch jobs of 100 ids on
"default", shared/jobs/outbox_batch.py) and stops when the database shows every
row sent. Each job forks, sends its rows 8 at a time (BATCH_THREADS), each row
claimed, sent to Twilio through the real SDK, and its result, timeline and audit
rows recorded.

The yardstick, in the same run: the same N sends to the same fake through the
same SmsClient from 2 x BATCH_THREADS plain threads (as many as the two workers
send from), with no database, no queue and no fork: the fastest those senders
could go. The ratio says what the outbox costs on top. Target: at least 100
messages per second. Never asserts on time.

The database is wiped (TRUNCATE on PostgreSQL, a new file on SQLite): point it
at a database of its own; it refuses one holding debtors unless --reset is given.
Two workers writing at once need PostgreSQL (SQLite would serialise them).
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_plans_monitor import _reset  # noqa: E402 - the same wipe and migrate

LATENCY_SECONDS = 0.02
WORKERS = 2
DEFAULT_REDIS = "redis://127.0.0.1:63799/6"
MOBILE_BASE = 447700900000  # Ofcom's drama range: +447700900000-+447700900999


def _environment(database_url: str, redis_url: str, twilio_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "TWILIO_API_BASE": twilio_url,
        "PYTHONPATH": str(ROOT),
    }


def _app(env: dict[str, str]):
    from shared.app import create_app
    from shared.config import load_config

    keys = ("DATABASE_URL", "REDIS_URL", "TWILIO_API_BASE")
    return create_app(load_config(environ={k: env[k] for k in keys}))


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_fake(port: int, log: Path) -> subprocess.Popen:
    import requests

    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "devtools.twilio_fake",
            "--port",
            str(port),
            "--latency",
            str(LATENCY_SECONDS),
            "--callback-delay",
            "0.5",
        ],
        cwd=ROOT,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/messages", timeout=1).ok:
                return process
        except requests.RequestException:
            time.sleep(0.1)
    process.kill()
    sys.exit(f"the Twilio fake did not start: see {log}")


def _seed(app, n: int) -> None:
    """n debtors who prefer texts, and one pending SMS row each (Core inserts)."""
    import sqlalchemy as sa

    from shared.clock import utcnow
    from shared.extensions import db
    from shared.models import DebtorAccount, OutboxMessage

    now = utcnow() - timedelta(minutes=5)
    with app.app_context():
        for start in range(0, n, 5000):
            size = min(5000, n - start)
            db.session.execute(
                sa.insert(DebtorAccount),
                [
                    {
                        "reference": f"S{start + i:08d}",
                        "kind": "person",
                        "forename": "Sam",
                        "surname": f"Texter{start + i}",
                        "mobile_phone": f"+{MOBILE_BASE + (start + i) % 1000}",
                        "preferred_channel": "sms",
                        "consent_sms": True,
                        "created_at": now,
                    }
                    for i in range(size)
                ],
            )
            ids = db.session.scalars(
                sa.select(DebtorAccount.id).order_by(DebtorAccount.id).offset(start).limit(size)
            ).all()
            db.session.execute(
                sa.insert(OutboxMessage),
                [
                    {
                        "account_id": account_id,
                        "channel": "sms",
                        "template": "bench_reminder",
                        "recipient": f"+{MOBILE_BASE + (start + i) % 1000}",
                        "body": "Your payment of £25.00 is due on 1 July. Pay at "
                        "https://pay.example/ (ref S00000001).",
                        "status": "pending",
                        "purpose": "collection",
                        "attempts": 0,
                        "created_at": now,
                    }
                    for i, account_id in enumerate(ids)
                ],
            )
            db.session.commit()
        db.engine.dispose()


def _sent(app) -> tuple[int, int]:
    import sqlalchemy as sa

    from shared.extensions import db
    from shared.models import OutboxMessage, OutboxStatus

    with app.app_context():
        rows = dict(
            db.session.execute(
                sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status)
            ).all()
        )
        db.session.remove()
    done = rows.get(OutboxStatus.SENT, 0) + rows.get(OutboxStatus.DELIVERED, 0)
    return done, rows.get(OutboxStatus.FAILED, 0)


def _through_workers(app, env: dict[str, str], n: int, tmp: Path) -> float:
    """Seconds from enqueueing the n rows until the database shows them all sent."""
    import sqlalchemy as sa
    from rq import Worker

    from shared.extensions import db
    from shared.jobs.outbox import enqueue_messages
    from shared.jobs.queues import QUEUE_NAMES, redis_connection
    from shared.models import OutboxMessage

    redis = redis_connection(env["REDIS_URL"])
    redis.flushdb()
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "rq.cli",
                "worker",
                "-w",
                os.environ.get("BENCH_WORKER_CLASS", "shared.jobs.worker.AppWorker"),
                "--url",
                env["REDIS_URL"],
                "--name",
                f"bench-sms-{i}",
                "--logging_level",
                "WARNING",
                *QUEUE_NAMES,
            ],
            cwd=ROOT,
            env=env,
            stdout=(tmp / f"worker-{i}.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        for i in range(WORKERS)
    ]
    try:
        deadline = time.monotonic() + 60
        while len(Worker.all(connection=redis)) < WORKERS:
            if time.monotonic() > deadline or any(w.poll() is not None for w in workers):
                sys.exit(f"the workers did not start: see {tmp}/worker-*.log")
            time.sleep(0.2)
        with app.app_context():
            ids = list(db.session.scalars(sa.select(OutboxMessage.id).order_by(OutboxMessage.id)))
            db.session.remove()
            started = time.perf_counter()
            queued = enqueue_messages(ids, app=app, new_rows=True)
        if queued != n:
            sys.exit(f"only {queued} of {n} jobs were queued")
        while True:
            done, failed = _sent(app)
            if done + failed >= n:
                break
            if any(w.poll() is not None for w in workers):
                sys.exit(f"a worker stopped: see {tmp}/worker-*.log")
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        if failed:
            print(f"  {failed} rows failed (see the database's last_error)")
        return elapsed
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
        redis.flushdb()
        redis.close()


def _yardstick(env: dict[str, str], n: int, threads_count: int) -> float:
    """Seconds for the same n sends from `threads_count` plain threads, each with its
    own client: no database, no queue."""
    from shared.config import load_config
    from shared.integrations.sms import SmsClient, twilio_status_url

    config = load_config(environ={"TWILIO_API_BASE": env["TWILIO_API_BASE"]})
    errors: list[Exception] = []

    def send(share: range) -> None:
        client = SmsClient.from_config(config)
        try:
            for i in share:
                client.send(
                    f"+{MOBILE_BASE + i % 1000}",
                    "Your payment of £25.00 is due on 1 July.",
                    status_callback=twilio_status_url(config),
                )
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=send, args=(range(i, n, threads_count),))
        for i in range(threads_count)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        sys.exit(f"the yardstick failed: {errors[0]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=int(os.environ.get("BENCH_SMS", 10_000)))
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS))
    parser.add_argument("--reset", action="store_true", help="wipe a database that has debtors")
    args = parser.parse_args()
    if not args.database_url:
        sys.exit("give --database-url or BENCH_DATABASE_URL (PostgreSQL: two workers write)")
    logging.getLogger("shared.jobs.outbox").setLevel(logging.ERROR)

    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix="bench-sms-"))
    port = _free_port()
    env = _environment(args.database_url, args.redis_url, f"http://127.0.0.1:{port}")
    n = args.messages
    from shared.jobs.outbox_batch import BATCH_SIZE, BATCH_THREADS

    yard_threads = WORKERS * BATCH_THREADS
    print(
        f"{n} SMS, {WORKERS} RQ workers, Twilio fake answering after "
        f"{LATENCY_SECONDS * 1000:.0f} ms; batches of {BATCH_SIZE}, {BATCH_THREADS} "
        f"threads a job; logs in {tmp}"
    )
    fake = _start_fake(port, tmp / "twilio-fake.log")
    try:
        _reset(args.database_url, args.reset)
        app = _app(env)
        seeded = time.perf_counter()
        _seed(app, n)
        print(f"  seeded {n} debtors and pending SMS rows in {time.perf_counter() - seeded:.1f} s")
        outbox_seconds = _through_workers(app, env, n, tmp)
        yard_seconds = _yardstick(env, n, yard_threads)
    finally:
        fake.terminate()
        fake.wait(timeout=10)
    outbox_rate, yard_rate = n / outbox_seconds, n / yard_seconds
    print(f"  outbox, {WORKERS} RQ workers:    {outbox_seconds:7.1f} s  {outbox_rate:7.1f} msg/s")
    print(f"  yardstick, {yard_threads} threads:   {yard_seconds:7.1f} s  {yard_rate:7.1f} msg/s")
    print(f"  ratio (outbox / yardstick): {outbox_rate / yard_rate:.2f}   target: >= 100 msg/s")


if __name__ == "__main__":
    main()
