"""What every management report is made of, so one page template, one exporter (CSV and
XLSX), one command line and the monthly PDF pack can show any of them.

A report's `build(filters)` runs set-based SQL and returns a `ReportResult`: headline
figures, charts (rendered as SVG by shared/reports/charts.py) and tables. Nothing here
touches the database or Flask; the filters are parsed from a URL's query string (or the
command line's options) by `parse_filters`, which says what is wrong with each bad one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Literal

from shared.domain.dates import parse_day
from shared.domain.permissions import Permission
from shared.domain.reporting import financial_year_of, financial_year_start

# How a column's values read: money is integer pence, a percent is basis points (9512 is
# 95.12%), a count an integer, a date a `date`; text as it is.
ValueKind = Literal["text", "money", "count", "percent", "date"]


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: ValueKind = "text"
    # A cell of this column is a link when its row holds f"{key}__link": the keyword
    # arguments of url_for(link, ...). A drill-down to another report is
    # link="backoffice.report_page" with {"key": "aged-debt-accounts", **query}; a case
    # is link="backoffice.case" (or whichever endpoint shows it) with its arguments.
    link: str | None = None


@dataclass(frozen=True)
class ReportTable:
    key: str  # unique within the report: the XLSX sheet and `--table` name
    caption: str
    columns: tuple[Column, ...]
    rows: list[dict[str, Any]]
    totals: dict[str, Any] | None = None  # the last row, "Total"
    # Shown under the table: what a figure means, or that the list was cut short.
    note: str | None = None
    # A drill-down list cut at a page: the row values to continue after (the page's
    # "Next page" link passes them back as the `after` parameter).
    next_after: str | None = None


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[int, ...]  # one per category, in the chart's value kind


@dataclass(frozen=True)
class Chart:
    title: str
    categories: tuple[str, ...]
    series: tuple[Series, ...]
    value_kind: ValueKind = "money"
    kind: Literal["bar", "stacked", "line"] = "bar"
    # A horizontal reference line (a target) in the chart's value kind, with its label.
    target: int | None = None
    target_label: str | None = None
    # The text alternative, read before the chart; written from the data if None.
    summary: str | None = None


@dataclass(frozen=True)
class Figure:
    """A headline number: "Collected this month £12,345 (up 8% on last month)"."""

    label: str
    value: int
    kind: ValueKind = "money"
    previous: int | None = None  # the same figure a period before, for the trend
    previous_label: str | None = None  # "last month"
    href_report: str | None = None  # a report with the detail behind it


@dataclass(frozen=True)
class ReportResult:
    title: str
    description: str  # one or two sentences: what it shows and from what
    figures: list[Figure] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    tables: list[ReportTable] = field(default_factory=list)
    # The period or date the figures are for, in words ("as at 31 March 2026").
    scope: str = ""


# The query parameters every report understands. Report-specific ones (a drill-down's
# bucket or stage) are in `ReportFilters.params`, checked by the report.
FILTER_NAMES = ("as_at", "from", "to", "department", "year")


@dataclass(frozen=True)
class ReportFilters:
    today: date
    as_at: date  # point-in-time reports (aged debt): default today
    date_from: date  # period reports (collection, write-offs): default start of the
    date_to: date  # financial year to today
    financial_year: int  # month-by-month reports: 2026 is April 2026 to March 2027
    department_code: str | None = None  # None: every department
    params: Mapping[str, str] = field(default_factory=dict)
    # Set by the page for someone who may see only their own activity.
    only_staff_id: int | None = None

    def with_params(self, **params: str) -> ReportFilters:
        return replace(self, params={**self.params, **params})

    def query(self) -> dict[str, str]:
        """As URL query parameters, so a link or bookmark gives the same view."""
        q = {
            "as_at": self.as_at.isoformat(),
            "from": self.date_from.isoformat(),
            "to": self.date_to.isoformat(),
            "year": str(self.financial_year),
        }
        if self.department_code:
            q["department"] = self.department_code
        q.update(self.params)
        return q


class FilterErrors(dict):
    """Field name -> a sentence saying what is wrong and how to put it right."""


def parse_filters(
    args: Mapping[str, str], *, today: date, department_codes: Callable[[], set[str]]
) -> tuple[ReportFilters, FilterErrors]:
    """The filters a query string asks for, each defaulted when absent; a bad value is
    an error naming the field (and the report is not run)."""
    errors = FilterErrors()

    def day(name: str, label: str, default: date) -> date:
        text = (args.get(name) or "").strip()
        if not text:
            return default
        try:
            value = parse_day(text)
        except ValueError:
            errors[name] = f"{label} must be a real date, like 31/3/2026"
            return default
        if value > today:
            errors[name] = f"{label} must be today or in the past"
            return default
        return value

    as_at = day("as_at", "The date the figures are as at", today)
    date_from = day(
        "from", "The start of the period", financial_year_start(financial_year_of(today))
    )
    date_to = day("to", "The end of the period", today)
    if "from" not in errors and "to" not in errors and date_from > date_to:
        errors["to"] = "The end of the period must be on or after its start"

    year = financial_year_of(today)
    year_text = (args.get("year") or "").strip()
    if year_text:
        if not year_text.isdigit() or not 2000 <= int(year_text) <= financial_year_of(today):
            errors["year"] = (
                f"The financial year must be a year from 2000 to {financial_year_of(today)}, "
                "like 2026 for April 2026 to March 2027"
            )
        else:
            year = int(year_text)

    department = (args.get("department") or "").strip().upper() or None
    if department is not None and department not in department_codes():
        errors["department"] = f"There is no department with the code {department}"
        department = None

    params = {k: v for k, v in args.items() if k not in FILTER_NAMES and k != "csrf_token"}
    filters = ReportFilters(
        today=today,
        as_at=as_at,
        date_from=date_from,
        date_to=date_to,
        financial_year=year,
        department_code=department,
        params=params,
    )
    return filters, errors


@dataclass(frozen=True)
class Report:
    key: str  # the URL and command-line name: "aged-debt"
    title: str
    description: str
    build: Callable[[ReportFilters], ReportResult]
    permission: Permission = Permission.VIEW_REPORTS
    # Which of FILTER_NAMES the page offers (and the command line accepts).
    uses: frozenset[str] = frozenset({"department"})
    # In each department's monthly PDF pack (built with the department and the month).
    in_pack: bool = False
    # Listed on the reports index (a drill-down is reached from its parent's cells).
    listed: bool = True
    # Pages linked from the report for those allowed: (words, endpoint, permission).
    related: tuple[tuple[str, str, Permission], ...] = ()


class ReportRefused(Exception):
    """A report-specific parameter is wrong: the message says which and why (shown as
    a field error, or by the command line; nothing is run)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
