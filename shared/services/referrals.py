"""Referring an account's debts to an enforcement agent or to legal, and what the back
office reads about referrals.

A referral is one transaction: it locks the debtor account row (as the ledger does,
so a payment cannot land half way through), checks every chosen debt against
shared.domain.referrals (statute-barred debts, and the Letter of Claim or County Court
judgment each destination needs first: shared.services.legal), moves each to its
referred stage, keeps the referral with
the CSV row sent to the agent, and writes a timeline entry and an audit row with the
stages before and after. Refused referrals change nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from shared.domain import referrals as rules
from shared.domain.permissions import Permission, role_has
from shared.extensions import db
from shared.models import (
    Allocation,
    Arrangement,
    ArrangementDebt,
    ArrangementStatus,
    CourtJudgmentInvoice,
    DebtorAccount,
    DebtorKind,
    EnforcementReferral,
    EnforcementReferralInvoice,
    Invoice,
    RecoveryStage,
    ReferralDestination,
    StaffUser,
)
from shared.models.base import utcnow
from shared.money import format_gbp
from shared.services import holds
from shared.services.account_view import RECOVERY_STAGE_WORDS
from shared.services.actors import Actor
from shared.services.errors import Forbidden, InvalidRequest, NotFound
from shared.services.history import record_audit, record_timeline
from shared.services.legal import limitation, pre_action
from shared.services.unit_of_work import use_case

MAX_NOTE = 2000

DESTINATION_WORDS = {
    ReferralDestination.ENFORCEMENT_AGENT: "Enforcement agent",
    ReferralDestination.LEGAL: "Legal",
}


class ReferralRefused(InvalidRequest):
    """The chosen debts may not be referred; `reasons` says why, one sentence each."""

    def __init__(self, reasons: Sequence[str]):
        self.reasons = tuple(reasons)
        super().__init__(" ".join(self.reasons))


@dataclass(frozen=True)
class ReferralResult:
    referral: EnforcementReferral
    created: bool  # False when the same form had already been sent


@dataclass(frozen=True)
class ReferralOption:
    """An open invoice as the referral form offers it."""

    invoice_id: int
    number: str
    description: str
    due_date: date
    outstanding_pence: int
    stage: str | None  # how far up the ladder it is, in words (None: not started)
    blocked: str | None  # why it cannot be referred today, if it cannot


@dataclass(frozen=True)
class ReferralSummary:
    id: int
    destination: str
    referred_on: date
    amount_pence: int
    invoice_numbers: list[str]
    officer: str
    note: str


_ALLOCATED = (
    sa.select(sa.func.coalesce(sa.func.sum(Allocation.amount_pence), 0))
    .where(Allocation.invoice_id == Invoice.id)
    .correlate(Invoice)
    .scalar_subquery()
)
_ARRANGED = sa.exists().where(
    ArrangementDebt.invoice_id == Invoice.id,
    ArrangementDebt.arrangement_id == Arrangement.id,
    Arrangement.status == ArrangementStatus.ACTIVE,
)
_DEBTS = (
    sa.select(
        Invoice.id,
        Invoice.number,
        Invoice.description,
        Invoice.due_date,
        Invoice.recovery_stage,
        (Invoice.total_pence - _ALLOCATED).label("outstanding"),
        _ARRANGED.label("arranged"),
        sa.exists().where(CourtJudgmentInvoice.invoice_id == Invoice.id).label("judgment"),
    )
    .where(Invoice.account_id == sa.bindparam("account_id"))
    .order_by(Invoice.due_date, Invoice.id)
)


def _debts(account_id: int, today: date) -> list[tuple[rules.Debt, str]]:
    """Every invoice on the account as the rules see it, with its description."""
    barred = limitation.barred_since_by_invoice(account_id, today)
    return [
        (
            rules.Debt(
                invoice_id=r.id,
                number=r.number,
                due_date=r.due_date,
                outstanding_pence=int(r.outstanding),
                recovery_stage=RecoveryStage(r.recovery_stage).value,
                in_active_arrangement=bool(r.arranged),
                statute_barred_since=barred.get(r.id),
                covered_by_judgment=bool(r.judgment),
            ),
            r.description,
        )
        for r in db.session.execute(_DEBTS, {"account_id": account_id})
    ]


def _debtor(account: DebtorAccount, on: date) -> rules.Debtor:
    return rules.Debtor(
        deceased=bool(account.deceased),
        in_breathing_space=account.in_breathing_space(on),
        holds=tuple(holds.holds_in_force(account.id, on)),
        is_person=account.kind == DebtorKind.PERSON,
        claim_letters=pre_action.claim_letters(account.id),
    )


def referral_options(account_id: int, today: date) -> list[ReferralOption]:
    """The account's open invoices not yet referred, each with why it cannot be, if so."""
    account = db.session.get(DebtorAccount, account_id)
    if account is None:
        raise NotFound(f"No debtor account {account_id}")
    debtor = _debtor(account, today)
    return [
        ReferralOption(
            invoice_id=debt.invoice_id,
            number=debt.number,
            description=description,
            due_date=debt.due_date,
            outstanding_pence=debt.outstanding_pence,
            stage=None
            if debt.recovery_stage == RecoveryStage.NONE
            else RECOVERY_STAGE_WORDS[RecoveryStage(debt.recovery_stage)],
            blocked=rules.why_not_referable(debt, debtor, today),
        )
        for debt, description in _debts(account_id, today)
        if debt.outstanding_pence > 0 and debt.recovery_stage not in rules.REFERRED_STAGE_WORDS
    ]


def _referrer(actor: Actor) -> StaffUser:
    user = db.session.get(StaffUser, actor.staff_id) if actor.staff_id else None
    if user is None or not user.active or not role_has(user.role, Permission.REFER):
        raise Forbidden("You do not have permission to refer debts")
    return user


def _party(account: DebtorAccount) -> rules.PackParty:
    address = account.primary_address
    return rules.PackParty(
        reference=account.reference,
        name=account.display_name,
        address_lines=[address.line1, address.line2, address.town, address.county]
        if address
        else [],
        postcode=address.postcode if address else "",
        email=account.email,
        phone=account.mobile_phone or account.other_phone,
    )


def _note_text(note: str | None) -> str:
    text = (note or "").strip()
    if not text:
        raise InvalidRequest("Enter why the debts are being referred")
    if len(text) > MAX_NOTE:
        raise InvalidRequest(f"Note must be {MAX_NOTE:,} characters or fewer")
    return text


@use_case
def refer_for_enforcement(
    account_id: int,
    destination: str,
    note: str,
    actor: Actor,
    *,
    today: date,
    invoice_ids: Sequence[int] | None = None,
    submission_key: str | None = None,
) -> ReferralResult:
    """Refer the chosen invoices (by default every one with something outstanding that is
    not referred yet) to an enforcement agent or legal: one commit, or nothing at all."""
    officer = _referrer(actor)
    if destination not in rules.DESTINATION_WORDS:
        raise InvalidRequest("Select who the debts are being referred to")
    text = _note_text(note)
    account = db.session.execute(
        sa.select(DebtorAccount).where(DebtorAccount.id == account_id).with_for_update()
    ).scalar_one_or_none()
    if account is None:
        raise NotFound(f"No debtor account {account_id}")
    # Read under the account's lock: a second copy of the form waits for the first.
    earlier = _sent_before(account_id, submission_key)
    if earlier is not None:
        db.session.commit()  # nothing written: this just ends the lock
        return ReferralResult(earlier, created=False)

    every = {debt.invoice_id: debt for debt, _ in _debts(account_id, today)}
    if invoice_ids is None:
        chosen = [
            d
            for d in every.values()
            if d.outstanding_pence > 0 and d.recovery_stage not in rules.REFERRED_STAGE_WORDS
        ]
    else:
        wanted = list(dict.fromkeys(invoice_ids))
        if any(i not in every for i in wanted):
            raise ReferralRefused(["Select invoices on this account."])
        chosen = [every[i] for i in wanted]
    problems = rules.referral_problems(chosen, _debtor(account, today), today, destination)
    if problems:
        raise ReferralRefused(problems)

    stage = RecoveryStage(rules.STAGE_FOR[destination])
    amount = sum(d.outstanding_pence for d in chosen)
    referral = EnforcementReferral(
        account_id=account_id,
        destination=ReferralDestination(destination),
        amount_pence=amount,
        referred_on=today,
        note=text,
        referred_by=officer.id,
        pack_row=rules.pack_row(
            _party(account),
            chosen,
            destination=destination,
            referred_on=today,
            officer=officer.full_name,
        ),
        submission_key=submission_key or None,
        invoices=[
            EnforcementReferralInvoice(
                invoice_id=d.invoice_id,
                amount_pence=d.outstanding_pence,
                stage_before=RecoveryStage(d.recovery_stage),
            )
            for d in chosen
        ],
    )
    db.session.add(referral)
    now = utcnow()
    invoices = db.session.scalars(
        sa.select(Invoice).where(Invoice.id.in_([d.invoice_id for d in chosen]))
    ).all()
    for invoice in invoices:
        invoice.recovery_stage = stage
        invoice.recovery_stage_at = now
    numbers = [d.number for d in sorted(chosen, key=lambda d: (d.due_date, d.number))]
    event = record_timeline(
        account_id,
        actor,
        f"Referred to {rules.DESTINATION_WORDS[destination]}: {format_gbp(amount)} on "
        f"{'invoice' if len(numbers) == 1 else 'invoices'} {', '.join(numbers)}",
        detail=text,
    )
    db.session.flush()
    referral.contact_event_id = event.id
    record_audit(
        actor,
        "case.referred",
        "enforcement_referral",
        referral.id,
        account_id=account_id,
        before={"recovery_stage": {d.number: d.recovery_stage for d in chosen}},
        after={
            "recovery_stage": {d.number: stage.value for d in chosen},
            "destination": destination,
            "amount_pence": amount,
            "note": text,
        },
    )
    try:
        db.session.commit()
    except IntegrityError:
        # SQLite has no row lock to make a concurrent copy of the form wait: its
        # submission key's unique constraint stops the second instead.
        db.session.rollback()
        earlier = _sent_before(account_id, submission_key)
        if earlier is None:
            raise
        return ReferralResult(earlier, created=False)
    return ReferralResult(referral, created=True)


def _sent_before(account_id: int, submission_key: str | None) -> EnforcementReferral | None:
    if not submission_key:
        return None
    return db.session.scalar(
        sa.select(EnforcementReferral).where(
            EnforcementReferral.submission_key == submission_key,
            EnforcementReferral.account_id == account_id,
        )
    )


def referral_of(account_id: int, referral_id: int) -> EnforcementReferral | None:
    """One referral of this account (anyone else's is None, like one that does not exist)."""
    return db.session.scalar(
        sa.select(EnforcementReferral).where(
            EnforcementReferral.id == referral_id, EnforcementReferral.account_id == account_id
        )
    )


def referrals_for(account_id: int) -> list[ReferralSummary]:
    """Every referral of the account, newest first."""
    rows = db.session.execute(
        sa.select(EnforcementReferral, StaffUser.full_name)
        .join(StaffUser, StaffUser.id == EnforcementReferral.referred_by)
        .where(EnforcementReferral.account_id == account_id)
        .order_by(EnforcementReferral.id.desc())
    ).all()
    return [
        ReferralSummary(
            id=referral.id,
            destination=DESTINATION_WORDS[referral.destination],
            referred_on=referral.referred_on,
            amount_pence=referral.amount_pence,
            invoice_numbers=referral.pack_row["invoice_numbers"].split(";"),
            officer=officer,
            note=referral.note,
        )
        for referral, officer in rows
    ]
