"""Placing and lifting holds on an account or one of its invoices (one commit each,
on the timeline and in the audit log). Breathing Space and deceased holds also set
the account's own flags, which the rest of the system already reads."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from shared.domain import holds as rules
from shared.extensions import db
from shared.models import (
    AccountHold,
    BreathingSpaceType,
    DebtorAccount,
    HoldKind,
    Invoice,
)
from shared.models.base import utcnow
from shared.money import format_gbp
from shared.services import hold_effects
from shared.services.actors import Actor
from shared.services.errors import InvalidRequest, NotFound
from shared.services.history import record_audit, record_timeline
from shared.services.unit_of_work import use_case

KIND_WORDS = {
    HoldKind.DISPUTE: "Dispute",
    HoldKind.QUERY: "Query",
    HoldKind.PROMISE_TO_PAY: "Promise to pay",
    HoldKind.VULNERABILITY_REVIEW: "Vulnerability review",
    HoldKind.BREATHING_SPACE: "Breathing Space",
    HoldKind.DECEASED: "Deceased",
}


def _snapshot(hold: AccountHold) -> dict:
    return {
        "kind": hold.kind.value,
        "invoice_id": hold.invoice_id,
        "starts_on": hold.starts_on.isoformat(),
        "expires_on": hold.expires_on.isoformat() if hold.expires_on else None,
        "promise_date": hold.promise_date.isoformat() if hold.promise_date else None,
        "promise_amount_pence": hold.promise_amount_pence,
        "breathing_space_type": hold.breathing_space_type.value
        if hold.breathing_space_type
        else None,
        "crisis_treatment_ended_on": hold.crisis_treatment_ended_on.isoformat()
        if hold.crisis_treatment_ended_on
        else None,
        "date_of_death": hold.date_of_death.isoformat() if hold.date_of_death else None,
        "representative": {
            "name": hold.representative_name,
            "capacity": hold.representative_capacity,
            "address": hold.representative_address,
            "phone": hold.representative_phone,
            "email": hold.representative_email,
        }
        if hold.representative_name
        else None,
        "lifted": hold.lifted_at is not None,
    }


def _covers(hold: AccountHold) -> str:
    if hold.invoice_id is None:
        return "all debts"
    number = db.session.scalar(sa.select(Invoice.number).where(Invoice.id == hold.invoice_id))
    return f"invoice {number}"


@use_case
def place_hold(
    account_id: int,
    terms: rules.HoldTerms,
    reason: str,
    actor: Actor,
    *,
    today: date,
    invoice_id: int | None = None,
    breathing_space_reference: str | None = None,
    representative: rules.Representative | None = None,
) -> AccountHold:
    """Place a hold; a Breathing Space or a death also withdraws queued payment requests,
    and a death ends portal access to the account (shared/services/hold_effects.py)."""
    account = db.session.get(DebtorAccount, account_id)
    if account is None:
        raise NotFound(f"No debtor account {account_id}")
    if actor.staff_id is None:
        raise InvalidRequest("Only staff place holds")
    if not reason.strip():
        raise InvalidRequest("Enter the reason for the hold")
    representative = representative if terms.kind == "deceased" else None
    problems = rules.hold_problems(terms, today) | rules.representative_problems(
        representative or rules.Representative()
    )
    if problems:
        raise InvalidRequest(next(iter(problems.values())))
    if invoice_id is not None:
        owner = db.session.scalar(sa.select(Invoice.account_id).where(Invoice.id == invoice_id))
        if owner != account_id:
            raise InvalidRequest("Select an invoice on this account")
    hold = AccountHold(
        account_id=account_id,
        invoice_id=invoice_id,
        kind=HoldKind(terms.kind),
        reason=reason.strip(),
        starts_on=terms.starts_on,
        expires_on=terms.expires_on or rules.default_expiry(terms),
        promise_date=terms.promise_date,
        promise_amount_pence=terms.promise_amount_pence,
        breathing_space_type=BreathingSpaceType(terms.breathing_space_type)
        if terms.breathing_space_type
        else None,
        breathing_space_reference=(breathing_space_reference or "").strip() or None,
        date_of_death=terms.date_of_death if terms.kind == "deceased" else None,
        placed_by=actor.staff_id,
    )
    if representative is not None and representative.given:
        hold.representative_name = representative.name
        hold.representative_capacity = representative.capacity
        hold.representative_address = representative.address or None
        hold.representative_phone = representative.phone or None
        hold.representative_email = representative.email or None
    db.session.add(hold)
    if hold.kind == HoldKind.BREATHING_SPACE:
        account.breathing_space_type = hold.breathing_space_type
        account.breathing_space_start = hold.starts_on
        account.breathing_space_end = hold.expires_on
        account.breathing_space_reference = hold.breathing_space_reference
    elif hold.kind == HoldKind.DECEASED:
        account.deceased = True
        account.date_of_death = hold.date_of_death
    elif hold.kind == HoldKind.VULNERABILITY_REVIEW:
        account.vulnerable = True
        account.vulnerability_review_date = hold.expires_on
    db.session.flush()
    if hold.kind == HoldKind.DECEASED:
        hold_effects.end_portal_access(account_id, hold.id, actor)
    if hold.kind in (HoldKind.BREATHING_SPACE, HoldKind.DECEASED):
        # Even for a space starting later: a letter queued now may be printed inside it.
        hold_effects.withdraw_payment_requests(
            account_id, actor, f"{KIND_WORDS[hold.kind]} hold placed"
        )
    until = f" until {hold.expires_on:%d/%m/%Y}" if hold.expires_on else " until lifted"
    extra = ""
    if hold.kind == HoldKind.PROMISE_TO_PAY:
        extra = (
            f": promised {format_gbp(hold.promise_amount_pence)} by {hold.promise_date:%d/%m/%Y}"
        )
    detail = hold.reason
    if hold.kind == HoldKind.DECEASED:
        extra = f": died {hold.date_of_death:%d/%m/%Y}"
        if hold.representative_name:
            detail += (
                f"\nPersonal representative: {hold.representative_name} "
                f"({hold.representative_capacity})"
            )
    record_timeline(
        account_id,
        actor,
        f"{KIND_WORDS[hold.kind]} hold placed on {_covers(hold)}{until}{extra}",
        detail=detail,
    )
    record_audit(
        actor,
        "case.hold_placed",
        "account_hold",
        hold.id,
        account_id=account_id,
        after=_snapshot(hold) | {"reason": hold.reason},
    )
    db.session.commit()
    return hold


@use_case
def lift_hold(hold_id: int, reason: str, actor: Actor, *, today: date) -> AccountHold:
    hold = db.session.scalar(
        sa.select(AccountHold).where(AccountHold.id == hold_id).with_for_update()
    )
    if hold is None:
        raise NotFound(f"No hold {hold_id}")
    if actor.staff_id is None:
        raise InvalidRequest("Only staff lift holds")
    if not reason.strip():
        raise InvalidRequest("Enter why the hold is being lifted")
    if hold.lifted_at is not None:
        return hold  # lifted already (a second click): nothing more to do
    before = _snapshot(hold)
    hold.lifted_at = utcnow()
    hold.lifted_by = actor.staff_id
    hold.lift_reason = reason.strip()
    account = db.session.get(DebtorAccount, hold.account_id)
    if hold.kind == HoldKind.BREATHING_SPACE and account.breathing_space_start == hold.starts_on:
        # Kept as a record that it happened, ending today.
        account.breathing_space_end = max(today, hold.starts_on)
    elif hold.kind == HoldKind.DECEASED:
        account.deceased = False
        account.date_of_death = None
        hold_effects.restore_portal_access(hold.account_id, hold.id, actor)
    record_timeline(
        hold.account_id,
        actor,
        f"{KIND_WORDS[hold.kind]} hold on {_covers(hold)} lifted",
        detail=hold.lift_reason,
    )
    record_audit(
        actor,
        "case.hold_lifted",
        "account_hold",
        hold.id,
        account_id=hold.account_id,
        before=before,
        after=_snapshot(hold) | {"lift_reason": hold.lift_reason},
    )
    db.session.commit()
    return hold


@use_case
def record_crisis_treatment_end(
    hold_id: int,
    treatment_ended_on: date | None,
    space_ends_on: date | None,
    actor: Actor,
    *,
    today: date,
) -> AccountHold:
    """Record that a mental health crisis Breathing Space's treatment ended, and the end
    date of the space the Insolvency Service notified (30 days later)."""
    hold = db.session.scalar(
        sa.select(AccountHold).where(AccountHold.id == hold_id).with_for_update()
    )
    if hold is None:
        raise NotFound(f"No hold {hold_id}")
    if actor.staff_id is None:
        raise InvalidRequest("Only staff record the end of crisis treatment")
    if (
        hold.kind != HoldKind.BREATHING_SPACE
        or hold.breathing_space_type != BreathingSpaceType.MENTAL_HEALTH_CRISIS
    ):
        raise InvalidRequest("Only a mental health crisis Breathing Space has a treatment end")
    if hold.lifted_at is not None:
        raise InvalidRequest("This Breathing Space has been lifted")
    if hold.crisis_treatment_ended_on is not None:
        if (hold.crisis_treatment_ended_on, hold.expires_on) == (treatment_ended_on, space_ends_on):
            return hold  # the same form sent twice
        raise InvalidRequest("The end of crisis treatment is already recorded for this space")
    problems = rules.crisis_space_end_problems(
        hold.starts_on, treatment_ended_on, space_ends_on, today
    )
    if problems:
        raise InvalidRequest(next(iter(problems.values())))
    before = _snapshot(hold)
    hold.crisis_treatment_ended_on = treatment_ended_on
    hold.expires_on = space_ends_on
    account = db.session.get(DebtorAccount, hold.account_id)
    if account.breathing_space_start == hold.starts_on:
        account.breathing_space_end = space_ends_on
    record_timeline(
        hold.account_id,
        actor,
        f"Breathing Space (mental health crisis) ends {space_ends_on:%d/%m/%Y}: crisis "
        f"treatment ended {treatment_ended_on:%d/%m/%Y}",
    )
    record_audit(
        actor,
        "case.breathing_space_end_recorded",
        "account_hold",
        hold.id,
        account_id=hold.account_id,
        before=before,
        after=_snapshot(hold),
    )
    db.session.commit()
    return hold


def holds_for(account_id: int) -> list[AccountHold]:
    """Every hold on the account, newest first (lifted ones too, for the record)."""
    return list(
        db.session.scalars(
            sa.select(AccountHold)
            .where(AccountHold.account_id == account_id)
            .order_by(AccountHold.id.desc())
        )
    )


def holds_in_force(account_id: int, on: date) -> list[rules.HoldInForce]:
    """The holds stopping recovery on `on`, in the shape the pure rules take."""
    every = (
        rules.HoldInForce(
            kind=h.kind.value,
            invoice_id=h.invoice_id,
            starts_on=h.starts_on,
            expires_on=h.expires_on,
            lifted=h.lifted_at is not None,
        )
        for h in holds_for(account_id)
    )
    return [h for h in every if rules.in_force(h, on)]
