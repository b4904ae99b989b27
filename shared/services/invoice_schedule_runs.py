"""The daily run of periodic invoices: raise every period due and not yet raised.

Once per period, even when the job runs twice or two runs overlap: each period is
raised in its own transaction that locks the schedule row, checks the period is the
next one still to raise, and records it in invoice_schedule_runs, UNIQUE per
(schedule, period date). A run that loses the race raises nothing. Raising one
period numbers the invoice (numbering.next_invoice_number), posts it
(ledger.post_invoice) and sends the debtor the same copy an officer-issued invoice
gets (shared/services/invoices/issuing.py), all in one commit. Schedules are set up
and cancelled in shared/services/invoice_schedules.py.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import date

import sqlalchemy as sa

from shared import clock
from shared.domain import periodic
from shared.extensions import db
from shared.models import (
    DebtorAccount,
    Invoice,
    InvoiceSchedule,
    InvoiceScheduleRun,
    ScheduleStatus,
    ServiceDepartment,
)
from shared.money import format_gbp
from shared.services import ledger, numbering
from shared.services.actors import SYSTEM
from shared.services.history import record_audit, record_timeline
from shared.services.invoice_schedules import (
    AUDIT_OBJECT,
    cancel_locked,
    lock_schedule,
    move,
    terms_of,
)
from shared.services.invoices import issuing
from shared.services.notifications import notify_debtor
from shared.services.unit_of_work import is_concurrency_conflict

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
BREATHING_SPACE_NOTE = (
    " Raised during Breathing Space: a new charge, which the space does not cover"
    " (the debtor keeps paying ongoing liabilities)."
)
DECEASED_REASON = "The account holder has died: no further invoices are raised"


@dataclass
class RaiseCounts:
    """What one run did (the CLI prints it; the RQ job returns it)."""

    schedules: int = 0  # schedules with a period due
    raised: int = 0  # invoices raised
    already_raised: int = 0  # periods another run had raised first
    ended: int = 0  # schedules finished (count or end date reached)
    cancelled_deceased: int = 0
    failed: int = 0  # periods that could not be raised (logged; tried again next run)
    invoice_numbers: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def _issue(schedule: InvoiceSchedule, account: DebtorAccount, day: date, period) -> Invoice:
    """Number, post and send one period's invoice, in the caller's transaction: the
    debtor's copy is the same as an officer-issued invoice's (email with the PDF, or a
    letter; never a text)."""
    department = db.session.get(ServiceDepartment, schedule.department_id)
    invoice = ledger.post_invoice(
        account_id=account.id,
        department_id=schedule.department_id,
        number=numbering.next_invoice_number(),
        issue_date=day,
        due_date=periodic.payment_due(day, department.payment_terms_days),
        description=schedule.description,
        lines=[
            ledger.LineInput(line.description, line.quantity, line.unit_price_pence, line.vat_rate)
            for line in schedule.lines
        ],
        actor=SYSTEM,
        income_code_id=schedule.income_code_id,
        purchase_order=schedule.purchase_order,
        raised_by_staff_id=schedule.created_by_staff_id,
    )
    notify_debtor(
        account,
        issuing.invoice_notice(invoice, department),
        dedupe_key=issuing.dedupe_key(invoice.id),
    )
    return invoice


def _raise_one(schedule_id: int, period: periodic.Period, day: date, counts: RaiseCounts) -> bool:
    """Raise one period of one schedule in its own transaction; False when the schedule
    should not be tried again in this run (done by another run, over, or failed)."""
    try:
        schedule = lock_schedule(schedule_id)
        if (
            schedule is None
            or schedule.status != ScheduleStatus.ACTIVE
            or schedule.raised_count + 1 != period.sequence
        ):
            db.session.rollback()
            counts.already_raised += 1
            return False
        account = ledger.lock_account(schedule.account_id)
        if account.deceased:
            cancel_locked(schedule, DECEASED_REASON, SYSTEM)
            db.session.commit()
            counts.cancelled_deceased += 1
            return False
        invoice = _issue(schedule, account, day, period)
        db.session.add(
            InvoiceScheduleRun(
                schedule_id=schedule.id,
                sequence=period.sequence,
                period_date=period.day,
                invoice_id=invoice.id,
            )
        )
        schedule.raised_count = period.sequence
        following = periodic.next_period(terms_of(schedule), period.sequence)
        of = f" of {schedule.occurrences}" if schedule.occurrences else ""
        record_timeline(
            account.id,
            SYSTEM,
            f"Periodic invoice {invoice.number} raised for {format_gbp(invoice.total_pence)}",
            detail=(
                f"{schedule.description}: invoice {period.sequence}{of}, "
                f"for {period.day:%-d %B %Y}."
                + (BREATHING_SPACE_NOTE if account.in_breathing_space(day) else "")
            ),
        )
        record_audit(
            SYSTEM,
            "invoice_schedule.raised",
            AUDIT_OBJECT,
            schedule.id,
            account_id=account.id,
            after={
                "invoice_id": invoice.id,
                "number": invoice.number,
                "sequence": period.sequence,
                "period_date": period.day.isoformat(),
            },
        )
        if following is None:
            move(schedule, ScheduleStatus.ENDED)
            schedule.ended_at = clock.utcnow()
            record_timeline(
                account.id,
                SYSTEM,
                f"Periodic invoice finished: {schedule.description}",
                detail=f"All {schedule.raised_count} invoices raised.",
            )
            record_audit(
                SYSTEM,
                "invoice_schedule.ended",
                AUDIT_OBJECT,
                schedule.id,
                account_id=account.id,
                before={"status": ScheduleStatus.ACTIVE.value},
                after={"status": ScheduleStatus.ENDED.value, "raised": schedule.raised_count},
            )
        else:
            schedule.next_period_date = following.day
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        if is_concurrency_conflict(exc):
            # Another run raised this period first (the unique run row), or the
            # database was busy with it: either way the next run sees what is done.
            counts.already_raised += 1
        else:
            logger.exception("periodic invoice schedule %s, %s: not raised", schedule_id, period)
            counts.failed += 1
        return False
    counts.raised += 1
    counts.invoice_numbers.append(invoice.number)
    if following is None:
        counts.ended += 1
        return False
    return True


def raise_due(day: date | None = None, *, batch_size: int = BATCH_SIZE) -> RaiseCounts:
    """Raise every period due on or before `day` (default today) that is not raised yet,
    each in its own transaction, so one bad schedule cannot stop the rest."""
    day = day or clock.today()
    counts = RaiseCounts()
    after = 0
    while True:
        rows = db.session.execute(
            sa.select(
                InvoiceSchedule.id,
                InvoiceSchedule.frequency,
                InvoiceSchedule.start_date,
                InvoiceSchedule.end_date,
                InvoiceSchedule.occurrences,
                InvoiceSchedule.raised_count,
            )
            .where(
                InvoiceSchedule.status == ScheduleStatus.ACTIVE,
                InvoiceSchedule.next_period_date <= day,
                InvoiceSchedule.id > after,
            )
            .order_by(InvoiceSchedule.id)
            .limit(batch_size)
        ).all()
        db.session.rollback()  # end the read: each period is its own transaction
        if not rows:
            break
        for row in rows:
            after = row.id
            terms = periodic.Terms(
                str(row.frequency), row.start_date, row.end_date, row.occurrences
            )
            due = periodic.due_after(terms, day, row.raised_count)
            if due:
                counts.schedules += 1
            for period in due:
                if not _raise_one(row.id, period, day, counts):
                    break
    return counts
