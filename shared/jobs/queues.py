"""Queue names and the Redis connection the web, workers and scheduler share."""

from __future__ import annotations

from redis import Redis

# Named queues so slow letter rendering never delays a password-reset email.
QUEUE_NAMES = ("high", "default", "low")


def redis_connection(url: str, **kwargs) -> Redis:
    kwargs.setdefault("socket_connect_timeout", 2)
    return Redis.from_url(url, **kwargs)
