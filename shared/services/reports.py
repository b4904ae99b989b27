"""Running a management report for a person: the filters from a query string, the
report's own refusals as field errors, and every export recorded on the audit log
(an export can carry debtors' names and balances out of the system)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import sqlalchemy as sa

from shared.domain.permissions import Permission, role_has
from shared.extensions import db
from shared.models import ServiceDepartment
from shared.reports.base import (
    FilterErrors,
    Report,
    ReportFilters,
    ReportRefused,
    ReportResult,
    parse_filters,
)
from shared.reports.registry import all_reports, get_report
from shared.services.actors import Actor
from shared.services.history import record_audit
from shared.services.unit_of_work import read_only, use_case

__all__ = ["RunOutcome", "department_options", "reports_for", "run_report", "record_export"]


def department_options() -> list[tuple[str, str]]:
    """(code, name) of every department, by name: the filter's choices."""
    rows = db.session.execute(
        sa.select(ServiceDepartment.code, ServiceDepartment.name).order_by(ServiceDepartment.name)
    ).all()
    return [(r.code, r.name) for r in rows]


def _department_codes() -> set[str]:
    return {code.upper() for code, _ in department_options()}


def reports_for(role: str) -> list[Report]:
    """The listed reports `role` may open, in the index's order."""
    return [r for r in all_reports() if r.listed and role_has(role, r.permission)]


@dataclass(frozen=True)
class RunOutcome:
    report: Report
    filters: ReportFilters
    errors: FilterErrors
    result: ReportResult | None  # None when a filter was refused: nothing was run


def may_open(report: Report, role: str) -> bool:
    return role_has(role, report.permission)


@read_only
def run_report(
    key: str, args: Mapping[str, str], *, today, role: str, staff_id: int | None
) -> RunOutcome | None:
    """The report `key` for these query parameters (None: no such report). The caller
    checks may_open() first. Someone who may see only their own activity gets it
    limited to themselves whatever the URL says."""
    report = get_report(key)
    if report is None:
        return None
    filters, errors = parse_filters(args, today=today, department_codes=_department_codes)
    if not role_has(role, Permission.VIEW_REPORTS):
        filters = replace(filters, only_staff_id=staff_id)
    result = None
    if not errors:
        try:
            result = report.build(filters)
        except ReportRefused as exc:
            errors[exc.field] = str(exc)
    return RunOutcome(report, filters, errors, result)


@use_case
def record_export(report: Report, filters: ReportFilters, fmt: str, actor: Actor) -> None:
    record_audit(
        actor,
        "report.exported",
        "report",
        report.key,
        after={"format": fmt, "filters": filters.query(), "only_staff_id": filters.only_staff_id},
    )
    db.session.commit()
