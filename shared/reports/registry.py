"""Every management report, by key: the page, the exports, the command line and the
monthly pack all find reports here. Each report module registers its reports when
imported; `all_reports()` imports them all (lazily, so importing the registry is cheap
and circular imports cannot happen)."""

from __future__ import annotations

import importlib

from shared.reports.base import Report

# In the order the reports index lists them.
_MODULES = (
    "shared.reports.aged_debt",
    "shared.reports.collection",
    "shared.reports.arrangements",
    "shared.reports.direct_debit",
    "shared.reports.write_offs",
    "shared.reports.reconciliation_report",
    "shared.reports.officer_activity",
)

_REPORTS: dict[str, Report] = {}
_loaded = False


def register(report: Report) -> Report:
    existing = _REPORTS.get(report.key)
    if existing is not None and existing.build is not report.build:
        raise ValueError(f"two reports share the key {report.key!r}")
    _REPORTS[report.key] = report
    return report


def _load() -> None:
    global _loaded
    if not _loaded:
        for name in _MODULES:
            importlib.import_module(name)
        _loaded = True


def all_reports() -> list[Report]:
    _load()
    order = {name: i for i, name in enumerate(_MODULES)}
    return sorted(
        _REPORTS.values(),
        key=lambda r: (order.get(r.build.__module__, len(order)), r.key),
    )


def get_report(key: str) -> Report | None:
    _load()
    return _REPORTS.get(key)
