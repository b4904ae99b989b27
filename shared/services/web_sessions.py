"""Server-side records of signed-in sessions: sign-out, idle and lifetime end them for good.

The browser's signed cookie holds a random token (and, as before, who is signed
in); the record, found by the token's hash, says whether that sign-in still
stands. A copy of the cookie is therefore worth nothing once the record has
ended, whatever the copy says about itself.

- `start` makes a record when a sign-in completes and returns the new token: a
  fresh one every time, so nobody can plant a session id before sign-in.
- `check` runs on every signed-in page: one indexed read in the page's own
  transaction. It writes only when the record's last use is a minute or more
  old, or when the record has just run past the idle or lifetime limit, and
  then in a short transaction of its own on another connection: a portal page
  reads inside one READ ONLY transaction (unit_of_work.read_only), which must
  not write. Either write is a refinement: the refusal never depends on it.
- `end` (this browser) and `end_all` (every session of a person) are called by
  the sign-out, sign-out-everywhere and new-password use cases inside their
  own transactions, so the record ends in the same commit as the audit row.
- `delete_old` removes records that ended (or lapsed) long ago.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from shared.domain import web_sessions as rules
from shared.extensions import db
from shared.models import WebSession, WebSessionEnd, WebSessionKind
from shared.models.base import utcnow
from shared.services import reads
from shared.services.unit_of_work import use_case

# app.extensions key for a clock (a callable returning naive UTC) that replaces
# the system's; tests install one they can move, as with the email or SMS client.
CLOCK_EXTENSION = "web_session_clock"
TOKEN_BYTES = 32
USER_AGENT_LENGTH = 200
# Ended (or lapsed) records are kept this long for "where was I signed in", then deleted.
KEEP_DAYS = 30

_TABLE = WebSession.__table__
_USER_COLUMN = {
    WebSessionKind.STAFF: _TABLE.c.staff_user_id,
    WebSessionKind.PORTAL: _TABLE.c.portal_user_id,
}
_MAX_HOURS_SETTING = {
    WebSessionKind.STAFF: "STAFF_SESSION_MAX_HOURS",
    WebSessionKind.PORTAL: "PORTAL_SESSION_MAX_HOURS",
}


def now() -> datetime:
    """The time the session rules use: the system clock unless an app installed another."""
    clock: Callable[[], datetime] | None = current_app.extensions.get(CLOCK_EXTENSION)
    return clock() if clock is not None else utcnow()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def limits(kind: WebSessionKind) -> rules.Limits:
    config = current_app.config
    return rules.Limits(
        idle=timedelta(minutes=int(config["SESSION_IDLE_MINUTES"])),
        lifetime=timedelta(hours=int(config[_MAX_HOURS_SETTING[kind]])),
    )


# --- starting ----------------------------------------------------------------------


@use_case
def start(
    kind: WebSessionKind,
    user_id: int,
    *,
    user_agent: str | None = None,
    source_ip: str | None = None,
) -> str:
    """Record a completed sign-in and return its new token, for the session cookie only."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    at = now()
    db.session.add(
        WebSession(
            token_hash=_hash(token),
            kind=kind,
            staff_user_id=user_id if kind == WebSessionKind.STAFF else None,
            portal_user_id=user_id if kind == WebSessionKind.PORTAL else None,
            created_at=at,
            last_seen_at=at,
            user_agent=(user_agent or None) and user_agent[:USER_AGENT_LENGTH],
            source_ip=source_ip,
        )
    )
    db.session.commit()
    return token


# --- checking, on every signed-in page ---------------------------------------------


@dataclass(frozen=True)
class SessionCheck:
    """Whether the browser's sign-in still stands, and if not, why (when known)."""

    live: bool
    # Why the record ended (now or earlier); None when live or there is no record.
    ended: WebSessionEnd | None = None


_NO_SESSION = SessionCheck(False)
_LIVE = SessionCheck(True)


def _lookup(kind: WebSessionKind) -> sa.Select:
    return sa.select(
        _TABLE.c.id,
        _TABLE.c.created_at,
        _TABLE.c.last_seen_at,
        _TABLE.c.ended_at,
        _TABLE.c.end_reason,
    ).where(
        _TABLE.c.token_hash == sa.bindparam("token_hash"),
        _TABLE.c.kind == kind.value,
        _USER_COLUMN[kind] == sa.bindparam("user_id"),
    )


_LOOKUPS = {kind: _lookup(kind) for kind in WebSessionKind}

_TOUCH = (
    sa.update(_TABLE)
    .where(_TABLE.c.id == sa.bindparam("session_id"), _TABLE.c.ended_at.is_(None))
    .values(last_seen_at=sa.bindparam("at"))
)
_LAPSE = (
    sa.update(_TABLE)
    .where(_TABLE.c.id == sa.bindparam("session_id"), _TABLE.c.ended_at.is_(None))
    .values(ended_at=sa.bindparam("at"), end_reason=sa.bindparam("reason"))
)


def _write_apart(statement: sa.Executable, params: dict) -> None:
    """Run one write in a short transaction of its own, on another pooled connection."""
    try:
        with db.engine.begin() as connection:
            connection.execute(statement, params)
    except sa.exc.OperationalError:
        # The answer to the request never depends on this write (a missed touch
        # only makes the idle limit stricter; a missed end is found again next
        # time), so a busy database costs a log line, not the page.
        current_app.logger.warning("web session %s not updated", params.get("session_id"))


def check(kind: WebSessionKind, token: object, user_id: int) -> SessionCheck:
    """Whether `token` is a live session of `kind` for `user_id`, ending it if its time is up.

    One indexed read in the caller's transaction; a write (on its own) only
    when last use is a minute or more old, or the idle or lifetime limit has
    just been passed.
    """
    if not isinstance(token, str) or not token:
        return _NO_SESSION
    row = reads.rows(_LOOKUPS[kind], {"token_hash": _hash(token), "user_id": user_id}).first()
    if row is None:
        return _NO_SESSION
    if row.ended_at is not None:
        return SessionCheck(False, WebSessionEnd(row.end_reason))
    at = now()
    expiry = rules.expiry(row.created_at, row.last_seen_at, at, limits(kind))
    if expiry is not None:
        reason = WebSessionEnd(expiry.value)
        _write_apart(_LAPSE, {"session_id": row.id, "at": at, "reason": reason.value})
        return SessionCheck(False, reason)
    if rules.needs_touch(row.last_seen_at, at):
        _write_apart(_TOUCH, {"session_id": row.id, "at": at})
    return _LIVE


# --- ending ------------------------------------------------------------------------


def end(kind: WebSessionKind, token: object, reason: WebSessionEnd) -> None:
    """End this browser's session, inside the caller's transaction (no commit)."""
    if not isinstance(token, str) or not token:
        return
    db.session.execute(
        sa.update(_TABLE)
        .where(
            _TABLE.c.token_hash == _hash(token),
            _TABLE.c.kind == kind.value,
            _TABLE.c.ended_at.is_(None),
        )
        .values(ended_at=now(), end_reason=reason.value)
    )


def end_all(kind: WebSessionKind, user_id: int, reason: WebSessionEnd) -> int:
    """End every live session of one person, inside the caller's transaction (no commit).
    Returns how many ended."""
    result = db.session.execute(
        sa.update(_TABLE)
        .where(
            _TABLE.c.kind == kind.value,
            _USER_COLUMN[kind] == user_id,
            _TABLE.c.ended_at.is_(None),
        )
        .values(ended_at=now(), end_reason=reason.value)
    )
    return result.rowcount


# --- reading, for the person's own list ----------------------------------------------


@dataclass(frozen=True)
class SessionSummary:
    started_at: datetime
    last_seen_at: datetime
    user_agent: str | None
    source_ip: str | None


def live_sessions(kind: WebSessionKind, user_id: int) -> list[SessionSummary]:
    """Where this person is signed in now (records not ended and within both limits)."""
    at, limit = now(), limits(kind)
    rows = db.session.execute(
        sa.select(
            _TABLE.c.created_at, _TABLE.c.last_seen_at, _TABLE.c.user_agent, _TABLE.c.source_ip
        )
        .where(
            _TABLE.c.kind == kind.value,
            _USER_COLUMN[kind] == user_id,
            _TABLE.c.ended_at.is_(None),
        )
        .order_by(_TABLE.c.last_seen_at.desc())
    ).all()
    return [
        SessionSummary(row.created_at, row.last_seen_at, row.user_agent, row.source_ip)
        for row in rows
        if rules.expiry(row.created_at, row.last_seen_at, at, limit) is None
    ]


# --- tidying up --------------------------------------------------------------------


@use_case
def delete_old(keep_days: int = KEEP_DAYS) -> int:
    """Delete records that ended, or were last used, more than `keep_days` ago.

    A record last used that long ago is past every idle limit, so it can never
    be live again. Returns how many were deleted.
    """
    cutoff = now() - timedelta(days=keep_days)
    result = db.session.execute(
        sa.delete(_TABLE).where(sa.or_(_TABLE.c.ended_at < cutoff, _TABLE.c.last_seen_at < cutoff))
    )
    db.session.commit()
    return result.rowcount
