"""A small fixed-window rate limiter on Redis (one counter per window: INCR + expiry).

It guards the public pages where someone could guess their way in, such as
finding a bill by reference and postcode. It fails open: if Redis cannot be
reached the attempt is allowed and a warning logged, because a Redis outage
must never stop people paying what they owe.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from flask import Flask
from redis import Redis, RedisError

logger = logging.getLogger(__name__)

DEFAULT_PREFIX = "ratelimit:"
# A limiter that makes a page wait for an unreachable Redis is worse than none.
_REDIS_TIMEOUT_SECONDS = 0.5
_EXTENSION = "rate_limiter"


@dataclass(frozen=True)
class Limit:
    """At most `count` attempts per `window_seconds` for each key, counted under `name`."""

    name: str
    count: int
    window_seconds: int


class RateLimiter:
    def __init__(self, redis: Redis, *, prefix: str = DEFAULT_PREFIX) -> None:
        self.redis = redis
        self.prefix = prefix

    @classmethod
    def from_url(cls, url: str, *, prefix: str = DEFAULT_PREFIX) -> RateLimiter:
        redis = Redis.from_url(
            url,
            socket_connect_timeout=_REDIS_TIMEOUT_SECONDS,
            socket_timeout=_REDIS_TIMEOUT_SECONDS,
        )
        return cls(redis, prefix=prefix)

    def _key(self, limit: Limit, key: str) -> str:
        # Hashed: the key may be something a person typed (of any length), or an IP address.
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
        return f"{self.prefix}{limit.name}:{digest}"

    def hit(self, limit: Limit, key: str) -> bool:
        """Count one attempt; False if it goes over the limit (True if Redis is down)."""
        redis_key = self._key(limit, key)
        try:
            pipe = self.redis.pipeline(transaction=True)
            # SET NX EX starts the window on the first attempt only, in the same
            # transaction as the INCR, so a counter can never be left without expiry.
            pipe.set(redis_key, 0, ex=limit.window_seconds, nx=True)
            pipe.incr(redis_key)
            _, count = pipe.execute()
        except RedisError as exc:
            logger.warning("rate limit %s not checked, Redis unavailable: %s", limit.name, exc)
            return True
        return int(count) <= limit.count

    def exceeded(self, limit: Limit, key: str) -> bool:
        """Whether `key` has used all its attempts, without counting one (no if Redis is down)."""
        try:
            count = self.redis.get(self._key(limit, key))
        except RedisError as exc:
            logger.warning("rate limit %s not checked, Redis unavailable: %s", limit.name, exc)
            return False
        return count is not None and int(count) >= limit.count

    def reset(self, limit: Limit, key: str) -> None:
        """Forget `key`'s attempts under `limit` (say, after it got something right)."""
        try:
            self.redis.delete(self._key(limit, key))
        except RedisError as exc:
            logger.warning("rate limit %s not reset, Redis unavailable: %s", limit.name, exc)


@dataclass(frozen=True)
class GuessLimits:
    """Limits on guessing the secret half of a lookup (a postcode) from its public half
    (a reference), counting wrong guesses only.

    Counted per address and per address-and-reference, never per reference alone: a
    stranger's wrong postcodes must not lock the real payer out from their own address,
    and one address cannot walk through references either.
    """

    per_address: Limit
    per_address_and_reference: Limit

    @staticmethod
    def _pair(address: str, reference: str) -> str:
        return f"{address}\n{reference}"

    def refused(self, limiter: RateLimiter, address: str, reference: str) -> bool:
        """Whether this address has used up its wrong guesses, in all or at this reference."""
        return limiter.exceeded(self.per_address, address) or limiter.exceeded(
            self.per_address_and_reference, self._pair(address, reference)
        )

    def failed(self, limiter: RateLimiter, address: str, reference: str) -> None:
        """Count one wrong guess."""
        limiter.hit(self.per_address, address)
        limiter.hit(self.per_address_and_reference, self._pair(address, reference))


def limiter_for(app: Flask) -> RateLimiter:
    """The app's limiter: one set in app.extensions (tests do), else one on REDIS_URL."""
    limiter = app.extensions.get(_EXTENSION)
    if limiter is None:
        limiter = RateLimiter.from_url(str(app.config["REDIS_URL"]))
        app.extensions[_EXTENSION] = limiter
    return limiter


def use_limiter(app: Flask, limiter: RateLimiter) -> None:
    """Make `app` use `limiter` (tests give each run its own key prefix)."""
    app.extensions[_EXTENSION] = limiter
