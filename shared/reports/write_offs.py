"""The write-off schedule: write-offs, credit notes and refunds effective in a period,
one row per ledger entry, with who asked for each and the second person who approved
it; what a council's finance team signs off each month.

Every figure is a ledger movement: a write-off or credit note is the credit it took off
the debtor's account, a refund the money paid back. A reversal made in the period is a
row of its own, straight after what it reverses (when that is in the period too), with
the amount the other way, so a write-off reversed in the same period nets to nil and a
total is always the net movement of the period. Who asked for and who approved an
entry come from its approval request (shared/models/approvals.py): one posted within
the requester's own delegated limit has no second person, and says so. The department
is the invoice's; a refund belongs to no department unless it paid back a credit
note's credit (then it is that invoice's).

Set-based, on SQLite and PostgreSQL: the period's entries and reversals (one UNION ALL)
are listed by one query (every kind, each cut at ROW_LIMIT by a window) and summed by
one grouped query (period, kind, reason, department, approver) whose few groups every
total and figure rolls up; two passes over the ledger in all.
"""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from shared import clock
from shared.domain import approvals as approval_rules
from shared.domain.names import display_name
from shared.extensions import db
from shared.models import (
    ApprovalRequest,
    CreditNote,
    DebtorAccount,
    EntryKind,
    Invoice,
    LedgerEntry,
    ServiceDepartment,
    StaffUser,
)
from shared.money import format_gbp
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
from shared.reports.registry import register

KEY = "write-offs"
WRITE_OFF, CREDIT_NOTE, REFUND = EntryKind.WRITE_OFF, EntryKind.CREDIT_NOTE, EntryKind.REFUND
KINDS = (WRITE_OFF, CREDIT_NOTE, REFUND)
KIND_WORDS = {WRITE_OFF: "write-off", CREDIT_NOTE: "credit note", REFUND: "refund"}
# A detail table lists at most this many rows (its totals are always of every row).
ROW_LIMIT = 10_000

WITHIN_LIMIT = "Within the requester's delegated limit"
NO_APPROVAL = "No approval recorded"
NOT_RECORDED = "Not recorded"
NO_DEPARTMENT = "No department"

_o = aliased(LedgerEntry, name="o")  # the write-off, credit note or refund itself
_src = aliased(LedgerEntry, name="src")  # the credit a refund paid back
_rev = aliased(LedgerEntry, name="rev")  # the reversal of an entry, by the period's end
_requester = aliased(StaffUser, name="requester")
_approver = aliased(StaffUser, name="approver")
_maker = aliased(StaffUser, name="maker")


def _lines(date_from: date, date_to: date, kinds=KINDS):
    """The period's lines: each entry of the kinds effective in it, and each reversal of
    one effective in it. `amount` is what was taken off (written off, credited) or paid
    back (refunded): positive for the entry, negative for its reversal."""
    entry = aliased(LedgerEntry, name="entry")
    line = aliased(LedgerEntry, name="line")
    sign = sa.case((entry.kind == REFUND, 1), else_=-1)
    originals = sa.select(
        entry.id.label("entry_id"),
        entry.id.label("original_id"),
        entry.effective_date.label("effective_date"),
        (entry.amount_pence * sign).label("amount"),
        sa.literal(0).label("is_reversal"),
        entry.created_by_staff_id.label("made_by"),
        entry.reason.label("entry_reason"),
    ).where(
        # Written out, so PostgreSQL sees the partial index's own predicate
        # (ix_ledger_entries_write_off_kinds_effective_date) and reads the period from it.
        sa.text(f"entry.kind IN ({', '.join(repr(k.value) for k in kinds)})"),
        entry.effective_date.between(date_from, date_to),
    )
    reversals = (
        sa.select(
            line.id,
            entry.id,
            line.effective_date,
            line.amount_pence * sign,
            sa.literal(1),
            line.created_by_staff_id,
            line.reason,
        )
        .join(entry, entry.id == line.reverses_entry_id)
        .where(
            line.reverses_entry_id.is_not(None),
            entry.kind.in_(kinds),
            line.effective_date.between(date_from, date_to),
        )
    )
    return sa.union_all(originals, reversals).subquery("lines")


def _joined(lines, department_code: str | None):
    """What every query over the lines joins: the entry, its invoice, department and
    approval request. The invoice of a refund is that of the credit note it paid back."""
    invoice_id = sa.func.coalesce(_o.invoice_id, _src.invoice_id)
    joins = (
        sa.select()
        .select_from(lines)
        .join(_o, _o.id == lines.c.original_id)
        .outerjoin(_src, _src.id == _o.source_entry_id)
        .outerjoin(Invoice, Invoice.id == invoice_id)
        .outerjoin(ServiceDepartment, ServiceDepartment.id == Invoice.department_id)
        .outerjoin(ApprovalRequest, ApprovalRequest.ledger_entry_id == _o.id)
        .outerjoin(_approver, _approver.id == ApprovalRequest.decided_by_staff_id)
    )
    if department_code:
        joins = joins.where(ServiceDepartment.code == department_code)
    return joins


def _approver_name():
    return sa.case(
        (ApprovalRequest.id.is_(None), NO_APPROVAL),
        (ApprovalRequest.decided_by_staff_id.is_(None), WITHIN_LIMIT),
        else_=_approver.full_name,
    )


def _day(stamp) -> date | None:
    return None if stamp is None else clock.london_day(stamp)


def _reason_words(kind, code: str | None) -> str:
    if kind == WRITE_OFF:
        return approval_rules.WRITE_OFF_REASONS.get(code or "", NOT_RECORDED)
    if kind == REFUND:
        return approval_rules.REFUND_ROUTES.get(code or "", NOT_RECORDED)
    return NOT_RECORDED


def _details(filters: ReportFilters) -> dict[EntryKind, tuple[list[dict], bool]]:
    """One row per entry (and per reversal of one) in the period, by kind, in date order
    with each reversal after what it reverses; True with a kind's rows when they were
    cut at ROW_LIMIT. One query for the three kinds."""
    lines = _lines(filters.date_from, filters.date_to)
    order_day = sa.case(
        (_o.effective_date >= filters.date_from, _o.effective_date),
        else_=lines.c.effective_date,
    )
    inner = (
        _joined(lines, filters.department_code)
        .add_columns(
            sa.func.row_number()
            .over(partition_by=_o.kind, order_by=(order_day, _o.id, lines.c.is_reversal))
            .label("n"),
            lines.c.effective_date,
            lines.c.amount,
            lines.c.is_reversal,
            lines.c.entry_reason,
            _o.kind.label("kind"),
            _o.effective_date.label("original_date"),
            DebtorAccount.reference,
            DebtorAccount.kind.label("debtor_kind"),
            DebtorAccount.title,
            DebtorAccount.forename,
            DebtorAccount.surname,
            DebtorAccount.organisation_name,
            Invoice.number.label("invoice"),
            ServiceDepartment.name.label("department"),
            ApprovalRequest.id.label("request_id"),
            ApprovalRequest.reason_code,
            ApprovalRequest.reason.label("request_reason"),
            ApprovalRequest.decided_at,
            _requester.full_name.label("requester"),
            _approver_name().label("approver"),
            _maker.full_name.label("maker"),
            _rev.effective_date.label("reversed_on"),
            CreditNote.number.label("credit_note"),
            CreditNote.reason.label("note_reason"),
        )
        .join(DebtorAccount, DebtorAccount.id == _o.account_id)
        .outerjoin(_requester, _requester.id == ApprovalRequest.requested_by_staff_id)
        .outerjoin(_maker, _maker.id == lines.c.made_by)
        .outerjoin(
            _rev,
            sa.and_(_rev.reverses_entry_id == _o.id, _rev.effective_date <= filters.date_to),
        )
        .outerjoin(CreditNote, CreditNote.ledger_entry_id == _o.id)
        .subquery("detail")
    )
    query = sa.select(inner).where(inner.c.n <= ROW_LIMIT + 1).order_by(inner.c.kind, inner.c.n)
    out: dict[EntryKind, tuple[list[dict], bool]] = {kind: ([], False) for kind in KINDS}
    for r in db.session.execute(query):
        kind = EntryKind(r.kind)
        rows, _ = out[kind]
        if len(rows) == ROW_LIMIT:
            out[kind] = (rows, True)
            continue
        rows.append(_row(kind, r))
    return out


def _row(kind: EntryKind, r) -> dict:
    reversal = bool(r.is_reversal)
    row = {
        "date": r.effective_date,
        "account": r.reference,
        "account__link": {"reference": r.reference},
        "debtor": display_name(r.debtor_kind, r.title, r.forename, r.surname, r.organisation_name),
        "invoice": r.invoice or "",
        "credit_note": r.credit_note or "",
        "department": r.department or "",
        "amount": int(r.amount),
        "reason": _reason_words(kind, r.reason_code),
    }
    # A credit note's reason is the officer's own words (it has no reason codes).
    if kind == CREDIT_NOTE:
        row["reason"] = (
            r.request_reason or r.note_reason or ("" if reversal else r.entry_reason)
        ) or NOT_RECORDED
    if reversal:
        row.update(
            details=f"Reversed: {r.entry_reason or ''}".strip(),
            requested_by=r.maker or "System",
            approved_by="",
            approved_on=None,
            status=f"Reverses the {KIND_WORDS[kind]} of {r.original_date:%-d %b %Y}",
        )
    else:
        requested = r.requester if r.request_id is not None else (r.maker or "System")
        row.update(
            details="" if kind == CREDIT_NOTE else r.request_reason or r.entry_reason or "",
            requested_by=requested or "",
            approved_by=r.approver,
            approved_on=_day(r.decided_at),
            status=f"Reversed on {r.reversed_on:%-d %b %Y}" if r.reversed_on else "",
        )
    return row


_ZERO = {"n": 0, "made": 0, "reversed": 0, "net": 0}


def _groups(filters: ReportFilters, prev_from: date) -> list[dict]:
    """The lines from `prev_from` to the period's end summed in one grouped query by
    whether they are in the period, kind, reason code, department and approver: entries
    (not reversals) counted, what they took off (or paid back), what reversals put back,
    and the net. Every table's totals and the figures are roll-ups of these few groups."""
    lines = _lines(prev_from, filters.date_to)
    original = lines.c.is_reversal == 0
    in_period = sa.case((lines.c.effective_date >= filters.date_from, 1), else_=0)
    keys = (
        in_period.label("current"),
        _o.kind.label("kind"),
        ApprovalRequest.reason_code,
        sa.func.coalesce(ServiceDepartment.name, NO_DEPARTMENT).label("department"),
        _approver_name().label("approver"),
        _approver.id.label("approver_id"),
    )
    query = (
        _joined(lines, filters.department_code)
        .add_columns(
            *keys,
            sa.func.count(sa.case((original, 1))).label("n"),
            sa.func.sum(sa.case((original, lines.c.amount), else_=0)).label("made"),
            sa.func.sum(sa.case((original, 0), else_=lines.c.amount)).label("reversed"),
            sa.func.sum(lines.c.amount).label("net"),
        )
        .group_by(*keys)
    )
    return [
        {
            **row._asdict(),
            "kind": EntryKind(row.kind),
            **{k: int(getattr(row, k) or 0) for k in _ZERO},
        }
        for row in db.session.execute(query)
    ]


def _roll(groups: list[dict], key, current: bool = True) -> dict:
    """The groups of the period (or the one before) added up by `key(group)`."""
    out: dict = {}
    for g in groups:
        if bool(g["current"]) != current:
            continue
        sums = out.setdefault(key(g), dict(_ZERO))
        for k in _ZERO:
            sums[k] += g[k]
    return out


def _by_kind(groups: list[dict], current: bool = True) -> dict[EntryKind, dict[str, int]]:
    rolled = _roll(groups, lambda g: g["kind"], current)
    return {kind: rolled.get(kind, dict(_ZERO)) for kind in KINDS}


DETAIL_COLUMNS = (
    Column("date", "Date", "date"),
    Column("account", "Account", link="backoffice.case_view"),
    Column("debtor", "Debtor"),
    Column("invoice", "Invoice"),
    Column("department", "Department"),
    Column("amount", "Amount", "money"),
    Column("reason", "Reason"),
    Column("details", "Details"),
    Column("requested_by", "Requested by"),
    Column("approved_by", "Approved by"),
    Column("approved_on", "Approved on", "date"),
    Column("status", "Reversal"),
)


def _detail_table(
    kind: EntryKind, detail: tuple[list[dict], bool], caption: str, totals: dict[str, int]
) -> ReportTable:
    rows, cut = detail
    columns = DETAIL_COLUMNS
    if kind == CREDIT_NOTE:
        columns = (*columns[:4], Column("credit_note", "Credit note"), *columns[4:])
    note = (
        f"{totals['n']:,} {KIND_WORDS[kind]}{'' if totals['n'] == 1 else 's'} of "
        f"{format_gbp(totals['made'])}, less {format_gbp(-totals['reversed'])} reversed "
        f"in the period: {format_gbp(totals['net'])} net. A reversal is listed after what "
        "it reverses (or by its own date when that was before the period)."
    )
    if cut:
        note += f" Only the first {ROW_LIMIT:,} rows are listed: choose a shorter period."
    return ReportTable(
        key=f"{kind.value}s",
        caption=caption,
        columns=columns,
        rows=rows,
        totals={"amount": totals["net"]},
        note=note,
    )


def build(filters: ReportFilters) -> ReportResult:
    days = (filters.date_to - filters.date_from).days + 1
    prev_to = filters.date_from - timedelta(days=1)
    prev_from = prev_to - timedelta(days=days - 1)
    prev_label = f"{prev_from:%-d %b %Y} to {prev_to:%-d %b %Y}"
    groups = _groups(filters, prev_from)
    totals, previous = _by_kind(groups), _by_kind(groups, current=False)
    details = _details(filters)

    reasons = _roll(
        [g for g in groups if g["kind"] == WRITE_OFF],
        lambda g: _reason_words(WRITE_OFF, g["reason_code"]),
    )
    reason_rows = sorted(
        (
            {
                "reason": reason,
                "count": sums["n"],
                "written_off": sums["made"],
                "reversed": sums["reversed"],
                "net": sums["net"],
            }
            for reason, sums in reasons.items()
        ),
        key=lambda row: (-row["net"], row["reason"]),
    )

    def by_kind_of(key, label: str) -> list[dict]:
        """One row per `key` with each kind's net (and the write-offs counted)."""
        rolled = _roll(groups, lambda g: (key(g), g["kind"]))
        rows: dict = {}
        for (group, kind), sums in rolled.items():
            row = rows.setdefault(
                group, {label: group[0], "write_offs_count": 0} | {f"{k.value}s": 0 for k in KINDS}
            )
            row[f"{kind.value}s"] = sums["net"]
            if kind == WRITE_OFF:
                row["write_offs_count"] = sums["n"]
        return sorted(rows.values(), key=lambda row: row[label])

    dept_rows = by_kind_of(lambda g: (g["department"],), "department")
    approver_rows = by_kind_of(lambda g: (g["approver"], g["approver_id"]), "approver")
    kind_totals = {f"{k.value}s": totals[k]["net"] for k in KINDS}

    money_cols = (
        Column("write_offs", "Written off", "money"),
        Column("credit_notes", "Credit notes", "money"),
        Column("refunds", "Refunds", "money"),
    )
    tables = [
        _detail_table(WRITE_OFF, details[WRITE_OFF], "Write-off schedule", totals[WRITE_OFF]),
        ReportTable(
            key="write_offs_by_reason",
            caption="Write-offs by reason",
            columns=(
                Column("reason", "Reason"),
                Column("count", "Write-offs", "count"),
                Column("written_off", "Written off", "money"),
                Column("reversed", "Reversed", "money"),
                Column("net", "Net", "money"),
            ),
            rows=reason_rows,
            totals={
                "reason": "Total",
                "count": totals[WRITE_OFF]["n"],
                "written_off": totals[WRITE_OFF]["made"],
                "reversed": totals[WRITE_OFF]["reversed"],
                "net": totals[WRITE_OFF]["net"],
            },
        ),
        ReportTable(
            key="by_department",
            caption="Write-offs, credit notes and refunds by department",
            columns=(
                Column("department", "Department"),
                Column("write_offs_count", "Write-offs", "count"),
                *money_cols,
            ),
            rows=dept_rows,
            totals={
                "department": "Total",
                "write_offs_count": totals[WRITE_OFF]["n"],
                **kind_totals,
            },
            note=(
                "Net of reversals. A refund is of a department only when it paid back a "
                "credit note's credit; other refunds are under No department."
            ),
        ),
        ReportTable(
            key="by_approver",
            caption="By approver",
            columns=(Column("approver", "Approved by"), *money_cols),
            rows=approver_rows,
            totals={"approver": "Total", **kind_totals},
            note=(
                f"{WITHIN_LIMIT}: posted without a second person, within the delegated "
                f"limit of the officer who asked. {NO_APPROVAL}: posted directly to the "
                "ledger, not through a request."
            ),
        ),
        _detail_table(CREDIT_NOTE, details[CREDIT_NOTE], "Credit notes", totals[CREDIT_NOTE]),
        _detail_table(REFUND, details[REFUND], "Refunds", totals[REFUND]),
    ]
    charts = [
        Chart(
            title="Written off by reason",
            categories=tuple(r["reason"] for r in reason_rows),
            series=(Series("Written off, net", tuple(r["net"] for r in reason_rows)),),
        ),
        Chart(
            title="Write-offs, credit notes and refunds by department",
            categories=tuple(r["department"] for r in dept_rows),
            series=tuple(
                Series(label, tuple(r[f"{k.value}s"] for r in dept_rows))
                for k, label in (
                    (WRITE_OFF, "Written off"),
                    (CREDIT_NOTE, "Credit notes"),
                    (REFUND, "Refunds"),
                )
            ),
        ),
    ]
    figures = [
        Figure(label, totals[kind][part], value_kind, previous[kind][part], prev_label)
        for label, kind, part, value_kind in (
            ("Written off", WRITE_OFF, "net", "money"),
            ("Write-offs", WRITE_OFF, "n", "count"),
            ("Credit notes", CREDIT_NOTE, "net", "money"),
            ("Refunds", REFUND, "net", "money"),
        )
    ]
    scope = f"{filters.date_from:%-d %B %Y} to {filters.date_to:%-d %B %Y}"
    if filters.department_code:
        scope += f", department {filters.department_code}"
    return ReportResult(
        title="Write-offs, credit notes and refunds",
        description=(
            "Every write-off, credit note and refund effective in the period, with who asked "
            "for it and who approved it, from the ledger; reversals in the period are shown "
            "against what they reverse, so totals are net."
        ),
        figures=figures,
        charts=charts,
        tables=tables,
        scope=scope,
    )


REPORT = register(
    Report(
        key=KEY,
        title="Write-offs, credit notes and refunds",
        description=(
            "The write-off schedule for sign-off: each write-off, credit note and refund "
            "in a period by reason, department and approver."
        ),
        build=build,
        uses=frozenset({"from", "to", "department"}),
        in_pack=True,
    )
)
