"""Housekeeping jobs the `rq cron` scheduler enqueues (see shared/jobs/cron_config.py).

`heartbeat` runs every minute. It is enqueued by the scheduler and executed by a
worker, so a recent `scheduler_last_seen` means both the scheduler and at least one
worker are alive and talking to the same Redis.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from redis import Redis
from rq import get_current_job

from shared.clock import utcnow
from shared.jobs.queues import redis_connection

HEARTBEAT_KEY = "recovery:scheduler:heartbeat"
# Outlives a few missed beats, then disappears: a missing key means "not seen lately".
HEARTBEAT_TTL_SECONDS = 10 * 60


def _connection() -> Redis:
    """The Redis the running job came from; outside a worker, REDIS_URL (or its default)."""
    job = get_current_job()
    if job is not None:
        return job.connection
    from shared.config import SETTINGS, validate_redis_url

    default = next(s.default for s in SETTINGS if s.name == "REDIS_URL")
    return redis_connection(validate_redis_url(os.environ.get("REDIS_URL", default)))


def heartbeat(redis: Redis | None = None) -> str:
    """Record now (UTC, ISO 8601) under HEARTBEAT_KEY with a TTL; returns what was written."""
    connection = redis if redis is not None else _connection()
    stamp = utcnow().replace(tzinfo=UTC).isoformat()
    connection.set(HEARTBEAT_KEY, stamp, ex=HEARTBEAT_TTL_SECONDS)
    return stamp


def scheduler_last_seen(redis: Redis) -> datetime | None:
    """When the last heartbeat ran (aware UTC datetime), or None if none in the last TTL."""
    raw = redis.get(HEARTBEAT_KEY)
    if raw is None:
        return None
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    try:
        seen = datetime.fromisoformat(raw)
    except ValueError:
        return None
    if seen.tzinfo is None:
        seen = seen.replace(tzinfo=UTC)
    return seen.astimezone(UTC)
