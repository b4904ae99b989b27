"""Collection: what was raised and what was collected in a period, by department and by
payment channel, the collection rate against each department's target, and the
financial year month by month.

Every figure is a sum of ledger entries by their effective date, so the report for a
past period stays what it was, whatever was posted later with a later date:
- raised: invoice entries, less credit notes (net of reversed credit notes);
- collected: payment entries, less reversals of payments (returned Direct Debits,
  chargebacks), each reversal in the period it was posted to; refunds are paid out
  of collected money and shown beside it, never netted off;
- a payment counts for the department whose invoices it paid (its allocations, as
  they stand now; a reversal takes back from the departments it took back from);
  what is not allocated to an invoice has a row of its own, so the departments and
  that row add up to the ledger's movements exactly.

The SQL is in shared/reports/collection_ledger.py; this module lays its sums out.
"""

from __future__ import annotations

from datetime import date

from shared.domain.permissions import Permission
from shared.domain.reporting import (
    CHANNEL_LABELS,
    CHANNELS,
    financial_year_label,
    financial_year_of,
    month_end,
    months_of_financial_year,
    rate_basis_points,
)
from shared.formatting import long_date
from shared.reports.base import (
    Chart,
    Column,
    Figure,
    Report,
    ReportFilters,
    ReportResult,
    ReportTable,
    Series,
)
from shared.reports.collection_ledger import Ledger, Slices, Sums, targets_for
from shared.reports.collection_ledger import departments as all_departments
from shared.reports.registry import register
from shared.reports.values import format_value

KEY = "collection"
TITLE = "Collection"
DESCRIPTION = (
    "What was raised and what was collected, by department and payment channel, and "
    "the collection rate against each department's target. Raised is invoices less "
    "credit notes; collected is payments less reversed payments (returned Direct Debits, "
    "chargebacks); refunds are shown beside it. The collection rate is collected divided "
    "by raised in the same period: payments in a period can settle invoices raised "
    "earlier, so it can be over 100%. A payment counts for the department whose invoices "
    "it paid. Administrators set the targets on the Collection targets page."
)
UNALLOCATED = "Not yet allocated to an invoice"


def _blended_target(
    targets: dict[tuple[int, int], int], year: int, raised: dict[int | None, Sums]
) -> int | None:
    """The departments' targets weighted by what each raised (those with a target)."""
    weighted = weight = 0
    for dept_id, sums in raised.items():
        bp = targets.get((dept_id, year)) if dept_id is not None else None
        if bp is not None and sums.raised > 0:
            weighted += bp * sums.raised
            weight += sums.raised
    return (weighted * 2 + weight) // (weight * 2) if weight else None


def _versus(rate: int | None, target: int | None) -> int | None:
    return None if rate is None or target is None else rate - target


def build(filters: ReportFilters) -> ReportResult:
    departments = all_departments()
    chosen = next((d for d in departments if d.code == filters.department_code), None)
    department_id = chosen.id if chosen else None

    first, last = filters.date_from, filters.date_to
    year = filters.financial_year
    period_year = financial_year_of(last)
    months = [m for m in months_of_financial_year(year) if m <= filters.today]
    year_last = min(month_end(months[-1]), filters.today) if months else last
    ranges = [(first, last)] + [(m, min(month_end(m), year_last)) for m in months]
    ledger = Ledger(Slices.cut(ranges), department_id)
    targets = targets_for({period_year, year})

    period = ledger.departments(first, last)
    scope = f"{long_date(first)} to {long_date(last)}"
    if chosen:
        scope += f", {chosen.name}"

    # -- by department, for the period
    dept_rows, rate_cats, rate_values, target_values = [], [], [], []
    for d in departments:
        if department_id is not None and d.id != department_id:
            continue
        sums = period.get(d.id, Sums())
        rate = rate_basis_points(sums.collected, sums.raised)
        target = targets.get((d.id, period_year))
        dept_rows.append(
            {
                "department": d.name,
                "department__link": {"key": KEY, **filters.query(), "department": d.code},
                "invoiced": sums.invoiced,
                "credited": sums.credited,
                "raised": sums.raised,
                "collected": sums.collected,
                "rate": rate,
                "target": target,
                "versus": _versus(rate, target),
            }
        )
        if sums.raised > 0 or sums.collected:
            rate_cats.append(d.name)
            rate_values.append(rate or 0)
            target_values.append(target or 0)
    total = ledger.total(first, last)
    if department_id is None:
        rest = period.get(None, Sums())
        dept_rows.append({"department": UNALLOCATED, "collected": rest.collected, "invoiced": None})
        total_target = _blended_target(targets, period_year, period)
    else:
        total_target = targets.get((department_id, period_year))
    total_rate = rate_basis_points(total.collected, total.raised)
    period_label = financial_year_label(period_year)
    departments_table = ReportTable(
        key="departments",
        caption=f"Raised and collected by department, {scope}",
        columns=(
            Column("department", "Department", link="backoffice.report_page"),
            Column("invoiced", "Invoices raised", "money"),
            Column("credited", "Less credit notes", "money"),
            Column("raised", "Raised (invoices less credit notes)", "money"),
            Column("collected", "Collected (payments less reversed payments)", "money"),
            Column("rate", "Collection rate (collected ÷ raised)", "percent"),
            Column("target", f"Target for {period_label}", "percent"),
            Column("versus", "Above (+) or below (-) target, percentage points", "percent"),
        ),
        rows=dept_rows,
        totals={
            "department": "Total",
            "invoiced": total.invoiced,
            "credited": total.credited,
            "raised": total.raised,
            "collected": total.collected,
            "rate": total_rate,
            "target": total_target,
            "versus": _versus(total_rate, total_target),
        },
        note=(
            "A payment counts for the department whose invoices it paid, as allocated "
            "now. The total's target is the departments' targets weighted by what each "
            "raised."
            if department_id is None
            else "The department's share of payments is what was allocated to its invoices."
        ),
    )

    # -- by channel, for the period
    channel_sums = ledger.channels(first, last)
    refunds_known = department_id is None
    channel_rows = [
        {
            "channel": CHANNEL_LABELS[key],
            "paid": s.paid,
            "reversed": s.reversed,
            "collected": s.collected,
            "refunded": s.refunded if refunds_known else None,
            "net": s.collected - s.refunded if refunds_known else None,
        }
        for key, s in channel_sums.items()
    ]
    all_channels = Sums()
    for s in channel_sums.values():
        all_channels.add(s)
    channels_table = ReportTable(
        key="channels",
        caption=f"Collected by payment channel, {scope}",
        columns=(
            Column("channel", "Channel"),
            Column("paid", "Payments received", "money"),
            Column("reversed", "Less payments reversed", "money"),
            Column("collected", "Collected", "money"),
            Column("refunded", "Refunds paid out", "money"),
            Column("net", "Collected less refunds", "money"),
        ),
        rows=channel_rows,
        totals={
            "channel": "Total",
            "paid": all_channels.paid,
            "reversed": all_channels.reversed,
            "collected": all_channels.collected,
            "refunded": all_channels.refunded if refunds_known else None,
            "net": all_channels.collected - all_channels.refunded if refunds_known else None,
        },
        note=(
            "Reversed payments are returned Direct Debits and card chargebacks, counted "
            "when they were posted. Refunds net of any that came back unpaid."
            if refunds_known
            else "Refunds are paid from credit not allocated to any invoice, so they belong "
            "to no department: see the report for all departments."
        ),
    )

    # -- month by month, for the financial year
    year_target = (
        targets.get((department_id, year))
        if department_id is not None
        else _blended_target(targets, year, ledger.departments(months[0], year_last))
        if months
        else None
    )
    month_rows, per_channel = [], {key: [] for key, _ in CHANNELS}
    raised_series, collected_series, cumulative_series, labels = [], [], [], []
    cum_raised = cum_collected = 0
    for m in months:
        end = min(month_end(m), year_last)
        total_m = ledger.total(m, end)
        by_channel = ledger.channels(m, end)
        cum_raised += total_m.raised
        cum_collected += total_m.collected
        cum_rate = rate_basis_points(cum_collected, cum_raised)
        label = f"{m:%B %Y}"
        labels.append(f"{m:%b}")
        row = {"month": label, "raised": total_m.raised}
        for key, _ in CHANNELS:
            row[key] = by_channel[key].collected
            per_channel[key].append(by_channel[key].collected)
        row.update(
            collected=total_m.collected,
            cum_raised=cum_raised,
            cum_collected=cum_collected,
            cum_rate=cum_rate,
            target=year_target,
        )
        month_rows.append(row)
        raised_series.append(total_m.raised)
        collected_series.append(total_m.collected)
        cumulative_series.append(cum_rate or 0)
    year_label = financial_year_label(year)
    months_table = ReportTable(
        key="months",
        caption=f"Month by month, {year_label}" + (f", {chosen.name}" if chosen else ""),
        columns=(
            Column("month", "Month"),
            Column("raised", "Raised", "money"),
            *(Column(key, f"Collected: {label}", "money") for key, label in CHANNELS),
            Column("collected", "Collected", "money"),
            Column("cum_raised", "Raised in the year so far", "money"),
            Column("cum_collected", "Collected in the year so far", "money"),
            Column("cum_rate", "Collection rate in the year so far", "percent"),
            Column("target", f"Target for {year_label}", "percent"),
        ),
        rows=month_rows,
        totals={
            "month": "Year so far" if year_last < date(year + 1, 3, 31) else "Year",
            "raised": cum_raised,
            **{key: sum(v) for key, v in per_channel.items()},
            "collected": cum_collected,
            "cum_raised": cum_raised,
            "cum_collected": cum_collected,
            "cum_rate": rate_basis_points(cum_collected, cum_raised),
            "target": year_target,
        },
    )

    charts = [
        Chart(
            title=f"Collected each month by channel, {year_label}",
            categories=tuple(labels),
            series=tuple(
                Series(CHANNEL_LABELS[key], tuple(values))
                for key, values in per_channel.items()
                if any(values)
            )
            or (Series("Collected", tuple(collected_series)),),
            kind="stacked",
        ),
        Chart(
            title=f"Raised and collected each month, {year_label}",
            categories=tuple(labels),
            series=(
                Series("Raised", tuple(raised_series)),
                Series("Collected", tuple(collected_series)),
            ),
        ),
        Chart(
            title=f"Collection rate in the year so far, {year_label}",
            categories=tuple(labels),
            series=(Series("Collection rate", tuple(cumulative_series)),),
            value_kind="percent",
            kind="line",
            target=year_target,
            target_label="Target",
        ),
    ]
    if department_id is None and rate_cats:
        charts.append(
            Chart(
                title=f"Collection rate by department against its target, {scope}",
                categories=tuple(rate_cats),
                series=(
                    Series("Collection rate", tuple(rate_values)),
                    Series(f"Target for {period_label}", tuple(target_values)),
                ),
                value_kind="percent",
                summary=_rate_summary(rate_cats, rate_values, target_values),
            )
        )

    figures = [
        Figure("Raised (invoices less credit notes)", total.raised),
        Figure("Collected (payments less reversed payments)", total.collected),
        Figure("Collection rate (collected ÷ raised)", total_rate or 0, "percent"),
    ]
    if total_target is not None:
        figures.append(Figure(f"Target for {period_label}", total_target, "percent"))
    return ReportResult(
        title=TITLE,
        description=DESCRIPTION,
        figures=figures,
        charts=charts,
        tables=[departments_table, channels_table, months_table],
        scope=scope,
    )


def _rate_summary(names: list[str], rates: list[int], targets: list[int]) -> str:
    """Each department's rate beside its target, in words."""
    parts = []
    for name, rate, target in zip(names, rates, targets, strict=True):
        words = f"{name} {format_value(rate, 'percent')}"
        if target:
            words += f" against {format_value(target, 'percent')}"
        else:
            words += " (no target set)"
        parts.append(words)
    return "Collection rate by department: " + "; ".join(parts) + "."


register(
    Report(
        key=KEY,
        title=TITLE,
        description=DESCRIPTION,
        build=build,
        uses=frozenset({"from", "to", "department", "year"}),
        in_pack=True,
        related=(
            (
                "Set each department's collection target",
                "backoffice.collection_targets",
                Permission.SET_COLLECTION_TARGETS,
            ),
        ),
    )
)
