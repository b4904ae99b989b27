"""Paging for the case page's long sections (ledger, timeline): one row more than a
page is fetched to know whether there is a next one, so an account with thousands
of entries costs what a small one does."""

from __future__ import annotations

from dataclasses import dataclass

PAGE_SIZE = 50


@dataclass(frozen=True)
class Page:
    number: int
    has_previous: bool
    has_next: bool


def page_of(number: int, rows: list, size: int = PAGE_SIZE) -> tuple[list, Page]:
    """The rows to show of `size + 1` fetched, and where this page sits."""
    return rows[:size], Page(number, number > 1, len(rows) > size)
