"""Keyset paging for the back office's long queues (unallocated payments, payment plans).

A page is the rows that come after the last one shown, in an order that never ties
(a sort key, then the row's id), read one row over the page size to know whether
another page follows. Unlike OFFSET, page 200 costs what page 1 does, and a row
that leaves the queue between two clicks (allocated, decided, reviewed) moves
nothing else: no row is skipped or shown twice. The cursor is the last row's key
and id as text, "<ISO date or datetime>.<id>", so "Next page" is a plain link.

The statements are built once, with the page size and the cursor as bind
parameters, so each page runs the same statement text (prepared once per
connection on PostgreSQL).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

import sqlalchemy as sa

from shared.extensions import db

T = TypeVar("T")
K = TypeVar("K", date, datetime)

# An ISO date or a naive datetime (no offset: the columns hold naive UTC), then the id.
# Eighteen digits at most, so the id always fits a BIGINT and the database never
# refuses the parameter (a 500 for a mistyped link).
_CURSOR = re.compile(r"^([\d:T-]+(?:\.\d{1,6})?)\.(\d{1,18})$")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a queue."""

    items: list[T]
    count: int  # rows in the whole queue
    next_after: str | None  # the cursor of the next page; None on the last
    is_first: bool


def cursor(key: date, row_id: int) -> str:
    """The cursor of the page that starts after the row (key, row_id)."""
    return f"{key.isoformat()}.{row_id}"


def parse_cursor(text: str | None, key_type: type[K]) -> tuple[K, int] | None:
    """The (key, id) a page starts after; None (the first page) for anything that is
    not a cursor `cursor` made from a key of `key_type`."""
    match = _CURSOR.match(text or "")
    if match is None:
        return None
    try:
        # date.fromisoformat refuses a time, so a date cursor must be a plain date.
        return key_type.fromisoformat(match[1]), int(match[2])
    except ValueError:
        return None


def after_cursor(key: sa.ColumnElement, row_id: sa.ColumnElement) -> sa.ColumnElement[bool]:
    """Rows after the bound cursor (after_key, after_id) in (key, id) order. The key
    must never be NULL: a NULL row compares as neither before nor after, and is lost."""
    after_key = sa.bindparam("after_key", type_=key.type)
    # The plain `key >= after_key` changes nothing but lets an index that starts with
    # the key (after an equality, like (status, created_at)) seek to the page instead
    # of reading the queue from its start: few planners match a row comparison to it.
    return sa.and_(
        key >= after_key,
        sa.tuple_(key, row_id) > sa.tuple_(after_key, sa.bindparam("after_id", type_=sa.Integer)),
    )


def statements(
    query: sa.Select, key: sa.ColumnElement, row_id: sa.ColumnElement
) -> tuple[sa.Select, sa.Select]:
    """The first page's statement and every later page's: `query` in (key, id) order,
    at most the bound `limit` rows, the later one after the bound cursor."""
    first = query.order_by(key, row_id).limit(sa.bindparam("limit", type_=sa.Integer))
    return first, first.where(after_cursor(key, row_id))


def cursor_params(after: tuple[date, int] | None) -> dict[str, Any]:
    """The bind parameters of `after_cursor` (none for the first page)."""
    return {} if after is None else {"after_key": after[0], "after_id": after[1]}


def fetch(
    first: sa.Select,
    later: sa.Select,
    after: tuple[date, int] | None,
    size: int,
    params: Mapping[str, Any] | None = None,
) -> tuple[list[sa.Row], bool]:
    """A page's rows (at most `size`) from `statements`' pair, and whether more follow."""
    rows = db.session.execute(
        first if after is None else later,
        {"limit": size + 1, **cursor_params(after), **(params or {})},
    ).all()
    return rows[:size], len(rows) > size
