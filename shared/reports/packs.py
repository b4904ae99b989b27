"""A department's monthly report pack: every registered report marked `in_pack`, built for
that department and month, laid out as one PDF (A4, page numbers, table headers repeated
on each page a table runs onto) with a cover page.

Each report is built with the filters a person would choose on its page for the month:
the department, "as at" the month's last day, the period from its first day to its
last, and the financial year the month is in. `today` is the month's last day too, so
a year-to-date figure stops at the month reported and a pack built again later (after
a failed attempt) shows the same month, not a longer one.

Only reports that can be limited to one department go in: a council-wide report (one
whose `uses` lacks "department") would show every other department's figures in this
department's pack, so it is listed on the cover as left out instead. Any report that
fails to build fails the whole pack (PackBuildError names it): a pack with a report
quietly missing would be read as complete.

The SQL is the reports' own; this module only arranges their results. The service that
stores and sends packs is shared/services/report_packs.py.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from flask import current_app, render_template

from shared import clock
from shared.domain.reporting import financial_year_label, financial_year_of, month_end
from shared.reports.base import Report, ReportFilters, ReportResult
from shared.reports.charts import render_chart
from shared.reports.registry import all_reports
from shared.reports.values import format_value

__all__ = [
    "BuiltPack",
    "PackBuildError",
    "PackDepartment",
    "build_pack",
    "month_words",
    "pack_filters",
    "pack_reports",
    "parse_month",
    "render_pack",
]


class PackBuildError(Exception):
    """A report in the pack could not be built; the message names it and says why."""


@dataclass(frozen=True)
class PackDepartment:
    """What the pack needs of a department (a ServiceDepartment row will do)."""

    id: int
    code: str
    name: str


@dataclass(frozen=True)
class BuiltPack:
    pdf: bytes
    page_count: int
    reports: tuple[str, ...]  # the keys of the reports in it, in order
    titles: tuple[str, ...] = ()  # their titles as built ("Aged debt as at 31 May 2026")

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.pdf).hexdigest()


def month_words(month: date) -> str:
    return f"{month:%B %Y}"


def parse_month(text: str) -> date:
    """The first day of the month "YYYY-MM" names; ValueError for anything else."""
    text = (text or "").strip()
    year, dash, month = text.partition("-")
    if not (dash and len(year) == 4 and year.isdigit() and len(month) == 2 and month.isdigit()):
        raise ValueError(f"a month is written YYYY-MM, like 2026-05, not {text!r}")
    return date(int(year), int(month), 1)  # ValueError for month 13


def pack_filters(department_code: str, month: date) -> ReportFilters:
    """The filters every report in the pack is built with for `month`."""
    first = month.replace(day=1)
    last = month_end(first)
    return ReportFilters(
        today=last,
        as_at=last,
        date_from=first,
        date_to=last,
        financial_year=financial_year_of(first),
        department_code=department_code,
    )


def pack_reports() -> tuple[list[Report], list[Report]]:
    """(the reports that go in a department's pack, those marked in_pack but left out
    because they cannot be limited to one department)."""
    wanted = [r for r in all_reports() if r.in_pack]
    return (
        [r for r in wanted if "department" in r.uses],
        [r for r in wanted if "department" not in r.uses],
    )


@dataclass(frozen=True)
class _Section:
    key: str
    result: ReportResult
    charts: list  # rendered SVG (Markup), in the result's order


def _build(report: Report, filters: ReportFilters) -> _Section:
    try:
        result = report.build(filters)
    except Exception as exc:  # any failure fails the pack, naming the report
        raise PackBuildError(f"{report.title}: {type(exc).__name__}: {exc}") from exc
    return _Section(report.key, result, [render_chart(chart) for chart in result.charts])


def render_pack(department: PackDepartment, month: date) -> BuiltPack:
    """The pack for `department` and `month` (any day in it): PDF bytes and page count."""
    # Imported here: WeasyPrint loads Pango at import, which most processes never need.
    from weasyprint import HTML

    from shared.pdf import _no_fetching

    first = month.replace(day=1)
    filters = pack_filters(department.code, first)
    included, left_out = pack_reports()
    sections = [_build(report, filters) for report in included]
    config = current_app.config
    html = render_template(
        "pdf/report_pack.html",
        council={"name": config["COUNCIL_NAME"], "email": config["COUNCIL_EMAIL"]},
        department=department,
        month=first,
        month_label=month_words(first),
        month_last=month_end(first),
        year_label=financial_year_label(financial_year_of(first)),
        produced=clock.today(),
        sections=sections,
        left_out=left_out,
        fmt=format_value,
    )
    document = HTML(string=html, url_fetcher=_no_fetching).render()
    return BuiltPack(
        pdf=document.write_pdf(),
        page_count=len(document.pages),
        reports=tuple(s.key for s in sections),
        titles=tuple(s.result.title for s in sections),
    )


def build_pack(department: PackDepartment, month: date) -> bytes:
    """The pack's PDF for `department` and `month`."""
    return render_pack(department, month).pdf
