"""Pay.UK's modulus checking tables, read and checked line by line.

Two text files, as Pay.UK (formerly VocaLink) publishes them:

- valacdos.txt, the weight table: one row per sort-code range and check, as
  ``start end method w1 .. w14 [exception]`` separated by spaces. A sort code has
  one or two rows; their order is the order of the checks.
- scsubtab.txt, the sort codes exception 5 substitutes: ``original substitute``.

Every line is checked before anything uses the tables, so a bad refresh is refused
with the line that is wrong (`TableError`) instead of turning into wrong answers.
Pure: reads text, or files from a folder, and nothing else.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from pathlib import Path

DATA_DIR = Path(__file__).with_name("data")
WEIGHTS_FILE = "valacdos.txt"
SUBSTITUTIONS_FILE = "scsubtab.txt"
VERSION_FILE = "VERSION"

METHODS = ("MOD10", "MOD11", "DBLAL")
EXCEPTIONS = range(1, 15)
_SORT_CODE = re.compile(r"[0-9]{6}")
# Weights in v8.50 run from -1 to 128; three digits and a sign leave room for growth.
_WEIGHT = re.compile(r"-?[0-9]{1,3}")
_EXCEPTION = re.compile(r"[0-9]{1,2}")
# A sort code has at most two checks: a third row would be silently ignored.
MAX_ROWS_PER_SORT_CODE = 2


class TableError(ValueError):
    """Tables that cannot be used (a line that is not what Pay.UK publishes, a file that
    cannot be read or written); the message names the file, and the line if it is one."""


@dataclass(frozen=True)
class WeightRow:
    """One row of the weight table: a check to run on sort codes start..end."""

    start: str
    end: str
    method: str
    weights: tuple[int, ...]
    exception: int | None

    def covers(self, sort_code: str) -> bool:
        return self.start <= sort_code <= self.end


@dataclass(frozen=True)
class Tables:
    """The weight rows (in file order) and the exception 5 substitutions."""

    rows: tuple[WeightRow, ...]
    substitutions: dict[str, str]
    version: str = "unknown"

    def __post_init__(self) -> None:
        # Rows sorted by the start of their range (stable, so a sort code's checks keep
        # their published order) let rows_for look only at ranges that start in time.
        ordered = tuple(sorted(self.rows, key=lambda row: row.start))
        object.__setattr__(self, "_ordered", ordered)
        object.__setattr__(self, "_starts", [row.start for row in ordered])

    def rows_for(self, sort_code: str) -> tuple[WeightRow, ...]:
        """The checks for `sort_code`, first check first; empty if the tables lack it."""
        ordered: tuple[WeightRow, ...] = self._ordered  # type: ignore[attr-defined]
        upto = bisect.bisect_right(self._starts, sort_code)  # type: ignore[attr-defined]
        return tuple(row for row in ordered[:upto] if row.end >= sort_code)


def _lines(text: str) -> list[tuple[int, list[str]]]:
    """(line number, columns) of each line that is not blank."""
    return [(n, line.split()) for n, line in enumerate(text.splitlines(), 1) if line.strip()]


def parse_weights(text: str, *, name: str = WEIGHTS_FILE) -> tuple[WeightRow, ...]:
    """Every row of a weight table, or TableError naming the first bad line."""
    rows: list[WeightRow] = []
    for n, columns in _lines(text):
        where = f"{name} line {n}"
        if len(columns) not in (17, 18):
            raise TableError(
                f"{where}: expected 17 or 18 columns (start, end, method, 14 weights, "
                f"optional exception), found {len(columns)}"
            )
        start, end, method = columns[:3]
        for label, value in (("start", start), ("end", end)):
            if not _SORT_CODE.fullmatch(value):
                raise TableError(f"{where}: {label} sort code {value!r} is not 6 digits")
        if start > end:
            raise TableError(f"{where}: the range starts ({start}) after it ends ({end})")
        if method not in METHODS:
            raise TableError(f"{where}: method {method!r} is not one of {', '.join(METHODS)}")
        for position, weight in enumerate(columns[3:17], 1):
            if not _WEIGHT.fullmatch(weight):
                raise TableError(f"{where}: weight {position} {weight!r} is not a whole number")
        exception = None
        if len(columns) == 18:
            if not _EXCEPTION.fullmatch(columns[17]) or int(columns[17]) not in EXCEPTIONS:
                raise TableError(f"{where}: exception {columns[17]!r} is not 1 to 14")
            exception = int(columns[17])
        weights = tuple(int(weight) for weight in columns[3:17])
        rows.append(WeightRow(start, end, method, weights, exception))
    if not rows:
        raise TableError(f"{name}: the weight table has no rows")
    _check_at_most_two_rows(rows, name)
    return tuple(rows)


def _check_at_most_two_rows(rows: list[WeightRow], name: str) -> None:
    # Sweep the range boundaries: where more than two ranges are open at once, some
    # sort code has three checks, which the specification never gives.
    events = sorted(
        [(int(row.start), 1, row.start) for row in rows]
        + [(int(row.end) + 1, -1, row.end) for row in rows]
    )
    open_ranges = 0
    for at, change, _ in events:
        open_ranges += change
        if open_ranges > MAX_ROWS_PER_SORT_CODE:
            raise TableError(
                f"{name}: sort code {at:06d} has more than {MAX_ROWS_PER_SORT_CODE} rows"
            )


def parse_substitutions(text: str, *, name: str = SUBSTITUTIONS_FILE) -> dict[str, str]:
    """The exception 5 substitutions (original -> substitute), or TableError."""
    substitutions: dict[str, str] = {}
    for n, columns in _lines(text):
        where = f"{name} line {n}"
        if len(columns) != 2:
            raise TableError(f"{where}: expected 2 sort codes, found {len(columns)} columns")
        for value in columns:
            if not _SORT_CODE.fullmatch(value):
                raise TableError(f"{where}: sort code {value!r} is not 6 digits")
        original, substitute = columns
        if original in substitutions:
            raise TableError(f"{where}: sort code {original} is substituted twice")
        substitutions[original] = substitute
    return substitutions


def decode(data: bytes, *, name: str) -> str:
    """The table's text: Pay.UK publishes plain ASCII, so anything else is refused."""
    try:
        return data.decode("ascii")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise TableError(f"{name} line {line}: not plain ASCII text") from None


def parse_version(text: str) -> dict[str, str]:
    """The ``key: value`` lines of a VERSION file (``#`` lines are comments)."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#") and ":" in line:
            key, value = line.split(":", 1)
            fields[key.strip()] = value.strip()
    return fields


def describe_version(fields: dict[str, str]) -> str:
    """One line naming the tables: "valacdos v8.50, scsubtab as shipped in ..."."""
    valacdos = fields.get("valacdos", "unknown")
    scsubtab = fields.get("scsubtab", "unknown")
    return f"valacdos {valacdos}, scsubtab {scsubtab}"


def load(directory: Path = DATA_DIR) -> Tables:
    """The tables in `directory` (valacdos.txt, scsubtab.txt, VERSION), checked."""
    weights = parse_weights(decode((directory / WEIGHTS_FILE).read_bytes(), name=WEIGHTS_FILE))
    substitutions = parse_substitutions(
        decode((directory / SUBSTITUTIONS_FILE).read_bytes(), name=SUBSTITUTIONS_FILE)
    )
    version_path = directory / VERSION_FILE
    fields = parse_version(version_path.read_text("utf-8")) if version_path.exists() else {}
    return Tables(weights, substitutions, describe_version(fields))
