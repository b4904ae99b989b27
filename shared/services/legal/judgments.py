"""County Court judgments: recorded before a sundry debt may go to enforcement agents
(shared.domain.pre_action; the referral gate is in shared.domain.referrals).

A judgment names the court, its claim number (unique: the County Court Money Claims
Centre prints numbers like K12AB345 or M1QZ123A), the date, the amount, and the
account's open invoices it covers. The same form sent twice records it once: the
claim number is the judgment's own key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from shared.domain import pre_action as rules
from shared.extensions import db
from shared.models import (
    Allocation,
    CourtJudgment,
    CourtJudgmentInvoice,
    DebtorAccount,
    Invoice,
    StaffUser,
)
from shared.money import format_gbp
from shared.services.actors import Actor
from shared.services.errors import NotFound
from shared.services.history import record_audit, record_timeline
from shared.services.legal.officers import Refused, legal_recorder
from shared.services.unit_of_work import use_case

_ALLOCATED = (
    sa.select(sa.func.coalesce(sa.func.sum(Allocation.amount_pence), 0))
    .where(Allocation.invoice_id == Invoice.id)
    .correlate(Invoice)
    .scalar_subquery()
)


@dataclass(frozen=True)
class JudgmentResult:
    judgment: CourtJudgment
    created: bool  # False: the same judgment was recorded already (a double submit)


@dataclass(frozen=True)
class JudgmentView:
    id: int
    court: str
    claim_number: str
    judgment_date: date
    amount_pence: int
    invoice_numbers: list[str]
    recorded_by: str


def _same(existing: CourtJudgment, account_id: int, terms, invoice_ids: Sequence[int]) -> bool:
    covered = set(
        db.session.scalars(
            sa.select(CourtJudgmentInvoice.invoice_id).where(
                CourtJudgmentInvoice.judgment_id == existing.id
            )
        )
    )
    return (
        existing.account_id == account_id
        and existing.judgment_date == terms.judgment_date
        and existing.amount_pence == terms.amount_pence
        and covered == set(invoice_ids)
    )


def _taken(number: str) -> CourtJudgment | None:
    return db.session.scalar(sa.select(CourtJudgment).where(CourtJudgment.claim_number == number))


def _taken_message(number: str, existing: CourtJudgment) -> dict[str, str]:
    reference = db.session.scalar(
        sa.select(DebtorAccount.reference).where(DebtorAccount.id == existing.account_id)
    )
    return {
        "claim_number": f"A judgment with claim number {number} is already recorded, on "
        f"account {reference}: check the number on the court's papers"
    }


@use_case
def record_judgment(
    actor: Actor,
    account_id: int,
    court: str,
    claim_number: str,
    judgment_date: date | None,
    amount_pence: int | None,
    invoice_ids: Sequence[int],
    *,
    today: date,
) -> JudgmentResult:
    """Record a County Court judgment for some of the account's open invoices (one commit,
    or nothing at all)."""
    officer = legal_recorder(actor)
    account = db.session.execute(
        sa.select(DebtorAccount).where(DebtorAccount.id == account_id).with_for_update()
    ).scalar_one_or_none()
    if account is None:
        raise NotFound(f"No debtor account {account_id}")
    terms = rules.JudgmentTerms(court, claim_number, judgment_date, amount_pence)
    problems = rules.judgment_problems(terms, today)
    wanted = list(dict.fromkeys(int(i) for i in invoice_ids))
    invoices = {
        r.id: r
        for r in db.session.execute(
            sa.select(
                Invoice.id, Invoice.number, (Invoice.total_pence - _ALLOCATED).label("left")
            ).where(Invoice.account_id == account_id, Invoice.id.in_(wanted))
        )
    }
    if not wanted:
        problems["invoices"] = "Select the invoices the judgment is for"
    elif any(i not in invoices for i in wanted):
        problems["invoices"] = "Select invoices on this account"
    else:
        paid = [invoices[i].number for i in wanted if invoices[i].left <= 0]
        if paid:
            problems["invoices"] = f"Invoice {paid[0]} has nothing outstanding"
    number = rules.normalise_claim_number(claim_number)
    if "claim_number" not in problems and (existing := _taken(number)) is not None:
        if not problems and _same(existing, account_id, terms, wanted):
            db.session.commit()  # the same form sent twice: ends the lock
            return JudgmentResult(existing, created=False)
        problems |= _taken_message(number, existing)
    if not problems:
        covered = db.session.execute(
            sa.select(Invoice.number, CourtJudgment.claim_number)
            .join(CourtJudgmentInvoice, CourtJudgmentInvoice.invoice_id == Invoice.id)
            .join(CourtJudgment, CourtJudgment.id == CourtJudgmentInvoice.judgment_id)
            .where(Invoice.id.in_(wanted))
        ).first()
        if covered:
            problems["invoices"] = (
                f"Invoice {covered.number} is already covered by the judgment in claim "
                f"{covered.claim_number}"
            )
    if problems:
        raise Refused(problems)

    numbers = sorted(invoices[i].number for i in wanted)
    judgment = CourtJudgment(
        account_id=account_id,
        court=court.strip(),
        claim_number=number,
        judgment_date=judgment_date,
        amount_pence=amount_pence,
        recorded_by_staff_id=officer.id,
    )
    db.session.add(judgment)
    db.session.flush()
    db.session.add_all(CourtJudgmentInvoice(judgment_id=judgment.id, invoice_id=i) for i in wanted)
    event = record_timeline(
        account_id,
        actor,
        f"County Court judgment recorded: claim {number}, {judgment.court}, "
        f"{format_gbp(amount_pence)} on {judgment_date:%d/%m/%Y}, for "
        f"{'invoice' if len(numbers) == 1 else 'invoices'} {', '.join(numbers)}",
    )
    db.session.flush()
    judgment.contact_event_id = event.id
    record_audit(
        actor,
        "legal.judgment_recorded",
        "court_judgment",
        judgment.id,
        account_id=account_id,
        after={
            "court": judgment.court,
            "claim_number": number,
            "judgment_date": judgment_date.isoformat(),
            "amount_pence": amount_pence,
            "invoices": numbers,
        },
    )
    try:
        db.session.commit()
    except IntegrityError:
        # Another account's officer recorded the same claim number at the same moment.
        db.session.rollback()
        existing = _taken(number)
        if existing is None:
            raise
        if _same(existing, account_id, terms, wanted):
            return JudgmentResult(existing, created=False)
        raise Refused(_taken_message(number, existing)) from None
    return JudgmentResult(judgment, created=True)


def judgments_for(account_id: int) -> list[JudgmentView]:
    """The account's County Court judgments, newest first, with the invoices each covers."""
    rows = db.session.execute(
        sa.select(CourtJudgment, StaffUser.full_name)
        .join(StaffUser, StaffUser.id == CourtJudgment.recorded_by_staff_id)
        .where(CourtJudgment.account_id == account_id)
        .order_by(CourtJudgment.judgment_date.desc(), CourtJudgment.id.desc())
    ).all()
    numbers: dict[int, list[str]] = {}
    if rows:
        for judgment_id, number in db.session.execute(
            sa.select(CourtJudgmentInvoice.judgment_id, Invoice.number)
            .join(Invoice, Invoice.id == CourtJudgmentInvoice.invoice_id)
            .where(CourtJudgmentInvoice.judgment_id.in_([j.id for j, _ in rows]))
            .order_by(Invoice.number)
        ):
            numbers.setdefault(judgment_id, []).append(number)
    return [
        JudgmentView(
            id=judgment.id,
            court=judgment.court,
            claim_number=judgment.claim_number,
            judgment_date=judgment.judgment_date,
            amount_pence=judgment.amount_pence,
            invoice_numbers=numbers.get(judgment.id, []),
            recorded_by=name,
        )
        for judgment, name in rows
    ]
