"""Only shared/clock.py reads the system clock for the product.

A view on the machine's `date.today()` and a service on `utcnow().date()` disagree
between midnight and 1 a.m. in summer about what day it is. So the product's source
(shared/, portal/, backoffice/) must ask shared.clock: `clock.today()` for a business
date, `clock.utcnow()` for a stored timestamp, `clock.london_day(stamp)` for the day a
timestamp fell on. This scans the source (as Python, so a docstring that mentions
`date.today()` is fine) and names every file and line that reads the clock itself.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from shared.config import PROJECT_ROOT

SCANNED = ("shared", "portal", "backoffice")
THE_CLOCK = Path("shared/clock.py")

# (the class, the method) pairs that read the system clock.
_CLOCK_READS = {
    ("date", "today"),
    ("datetime", "today"),
    ("datetime", "now"),
    ("datetime", "utcnow"),
}


def _dotted(node: ast.expr) -> str | None:
    """`datetime.datetime.now` -> "datetime.datetime.now"; None if not plain names."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def clock_reads(source: str) -> list[tuple[int, str]]:
    """(line, what) for every direct reading of the clock in `source`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func)
        if name is not None:
            parts = tuple(name.split(".")[-2:])
            if parts in _CLOCK_READS:
                found.append((node.lineno, f"{name}()"))
                continue
        # utcnow().date(): a UTC date where the business day (England's) is meant.
        func = node.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr == "date"
            and isinstance(func.value, ast.Call)
            and (_dotted(func.value.func) or "").split(".")[-1] == "utcnow"
        ):
            found.append((node.lineno, "utcnow().date()"))
    return sorted(found)


def test_the_scan_finds_every_way_of_reading_the_clock_it_looks_for():
    source = "\n".join(
        [
            "from datetime import date, datetime",
            "import datetime as dt",
            "a = date.today()",
            "b = datetime.now()",
            "c = datetime.utcnow()",
            "d = dt.datetime.now(dt.UTC)",
            "e = utcnow().date()",
            "f = clock.utcnow().date()",
            "g = datetime.today()",
            "h = clock.today()",  # the one clock: fine
            "i = clock.london_day(stamp)",
            "'''date.today() in a docstring is fine'''",
        ]
    )
    assert clock_reads(source) == [
        (3, "date.today()"),
        (4, "datetime.now()"),
        (5, "datetime.utcnow()"),
        (6, "dt.datetime.now()"),
        (7, "utcnow().date()"),
        (8, "utcnow().date()"),
        (9, "datetime.today()"),
    ]


def test_only_shared_clock_reads_the_system_clock():
    offenders = []
    for package in SCANNED:
        for path in sorted((PROJECT_ROOT / package).rglob("*.py")):
            relative = path.relative_to(PROJECT_ROOT)
            if relative == THE_CLOCK:
                continue
            for line, what in clock_reads(path.read_text(encoding="utf-8")):
                offenders.append(f"{relative}:{line}: {what}")
    assert offenders == [], (
        "Read the day from shared.clock (clock.today(), clock.utcnow(), "
        "clock.london_day(stamp)), not the system clock:\n" + "\n".join(offenders)
    )


# A stored timestamp printed with its own strftime, or cut to its own date, is UTC:
# 23:30 the day before for something done at 00:30 on a summer night. (Its
# isoformat() as a sort key is fine: UTC orders the same.)
_RAW_TIMESTAMP = re.compile(r"\b\w+_at\s*\.\s*(strftime|date)\s*\(")


def test_templates_show_stored_timestamps_through_the_london_filters():
    offenders = []
    for path in sorted((PROJECT_ROOT / "templates").rglob("*.html")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if _RAW_TIMESTAMP.search(line):
                offenders.append(f"{path.relative_to(PROJECT_ROOT)}:{number}: {line.strip()}")
    assert offenders == [], (
        "Show a stored timestamp with `|london_time` (or `long_date(stamp|london_day)`):\n"
        + "\n".join(offenders)
    )
