"""One use case, one transaction."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from shared.extensions import db

P = ParamSpec("P")
R = TypeVar("R")


def use_case(fn: Callable[P, R]) -> Callable[P, R]:
    """Roll back whatever the use case started if it raises.

    The use case commits itself on success. On a refusal (or any error) the
    transaction, and any row lock it took, ends here, so the caller's session
    is clean and nothing half-done can be committed later by someone else.
    """

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except BaseException:
            db.session.rollback()
            raise

    return wrapper


def read_only(fn: Callable[P, R]) -> Callable[P, R]:
    """Run a page that only reads in one READ ONLY transaction, ended by COMMIT.

    Why COMMIT: psycopg forgets every prepared statement (and sends DEALLOCATE
    ALL) whenever a ROLLBACK goes past, and closing a request's session ends its
    transaction with a ROLLBACK. So every signed-in page parsed and planned
    each of its queries afresh on every request. Committing keeps them
    prepared, which halved the account page's database time (4.4 ms to 2.2 ms
    in process, bench/bench_portal_account.py). READ ONLY is what makes the
    commit safe: PostgreSQL refuses any write inside such a transaction, so a
    page that one day tries to write fails loudly instead of committing
    half-done work. (SQLite ignores the option; the commit is as harmless.)

    A session that already has a transaction or unsaved objects (a test sharing
    its session with the client, say) is left exactly as it was.
    """

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        session = db.session()  # the request's Session behind the scoped proxy
        if session.in_transaction() or session.new or session.dirty or session.deleted:
            return fn(*args, **kwargs)
        session.connection(execution_options={"postgresql_readonly": True})
        result = fn(*args, **kwargs)
        # On an exception the request's teardown rolls back as usual.
        session.commit()
        return result

    return wrapper


# SQLite's "database is locked" (its one writer is busy, or a read snapshot went
# stale); PostgreSQL's serialization failure and deadlock (SQLSTATE 40001, 40P01).
_TRANSIENT_MESSAGES = ("database is locked", "database table is locked")
_TRANSIENT_SQLSTATES = frozenset({"40001", "40P01"})


def is_database_busy(exc: BaseException) -> bool:
    """Whether a database error means "busy, try again", not "wrong"."""
    from sqlalchemy.exc import OperationalError

    if not isinstance(exc, OperationalError):
        return False
    if getattr(exc.orig, "sqlstate", None) in _TRANSIENT_SQLSTATES:
        return True
    return any(text in str(exc.orig).lower() for text in _TRANSIENT_MESSAGES)


def is_concurrency_conflict(exc: BaseException) -> bool:
    """A busy database, or a unique constraint another transaction just won:
    either way, running the use case again sees that transaction's work."""
    from sqlalchemy.exc import IntegrityError

    return isinstance(exc, IntegrityError) or is_database_busy(exc)
