"""Refund, write-off and credit-note requests: a write-off or credit note is posted at
once while the requester's running total on the account (what they have posted or
asked for of that kind there within APPROVAL_LIMIT_PERIOD_MONTHS) stays within their
delegated limit; otherwise, and for every refund, it is queued for a team leader
(never the requester, nor for a refund anyone who created the credit) to approve,
reject, or for the requester to withdraw. Every request is recorded, including those
posted at once, so the running total is one indexed sum over approval_requests.

Each use case is one transaction that writes a timeline entry and an audit row.
Approving records the decision and posts the ledger entry in the same commit, and
the decision is a conditional update (pending -> approved), so two clicks or two
approvers post it once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import current_app

from shared import clock
from shared.domain import approvals as rules
from shared.domain.permissions import Permission, role_has
from shared.extensions import db
from shared.models import (
    ApprovalKind,
    ApprovalRequest,
    ApprovalStatus,
    EntryKind,
    Invoice,
    LedgerEntry,
    OutboxChannel,
    OutboxMessage,
    PaymentMethod,
    StaffUser,
)
from shared.models.base import utcnow
from shared.money import format_gbp
from shared.services import balances, credit_notes, ledger
from shared.services.actors import Actor
from shared.services.errors import Forbidden, InvalidRequest, NotFound
from shared.services.history import record_audit, record_timeline
from shared.services.unit_of_work import use_case

MAX_REASON = 2000
NOT_A_CARD_PAYMENT = (
    "Only an online card payment can go back to a card: refund this one by BACS credit or cheque"
)


@dataclass(frozen=True)
class Outcome:
    """What a request led to: a ledger entry posted now, or a request awaiting approval."""

    entry: LedgerEntry | None = None
    request: ApprovalRequest | None = None
    # With a queued request: the requester's running total on the account, this included.
    running_total_pence: int = 0

    @property
    def posted(self) -> bool:
        return self.entry is not None


@dataclass(frozen=True)
class Decision:
    request: ApprovalRequest
    changed: bool  # False when it had already been approved (a second click)


def _staff(actor: Actor) -> StaffUser:
    user = db.session.get(StaffUser, actor.staff_id) if actor.staff_id else None
    if user is None or not user.active:
        raise Forbidden("Only an active member of staff can do this")
    return user


def _reason_text(reason: str | None, what: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise InvalidRequest(f"Enter why the {what} is needed")
    if len(text) > MAX_REASON:
        raise InvalidRequest(f"Reason must be {MAX_REASON:,} characters or fewer")
    return text


def _positive(amount_pence: int) -> None:
    if not isinstance(amount_pence, int) or isinstance(amount_pence, bool) or amount_pence <= 0:
        raise InvalidRequest("Amount must be more than £0")


def period_since(today: date | None = None) -> date:
    """The first day counted in a running total, from APPROVAL_LIMIT_PERIOD_MONTHS."""
    months = int(
        current_app.config.get("APPROVAL_LIMIT_PERIOD_MONTHS", rules.DEFAULT_LIMIT_PERIOD_MONTHS)
    )
    return rules.period_start(today or clock.today(), months)


def running_total(staff_id: int, account_id: int, kind: ApprovalKind, since: date) -> int:
    """What this officer has posted or asked for (pending or approved) of this kind on
    this account since the day given: one sum on ix_approval_requests_running_total."""
    return int(
        db.session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(ApprovalRequest.amount_pence), 0)).where(
                ApprovalRequest.requested_by_staff_id == staff_id,
                ApprovalRequest.account_id == account_id,
                ApprovalRequest.kind == kind,
                ApprovalRequest.requested_at >= clock.day_starts(since),
                ApprovalRequest.status.in_([ApprovalStatus.PENDING, ApprovalStatus.APPROVED]),
            )
        )
    )


def _already(requester: StaffUser, account_id: int, kind: ApprovalKind) -> int:
    # Under the account lock, so two requests at once cannot both fit in the limit.
    ledger.lock_account(account_id)
    return running_total(requester.id, account_id, kind, period_since())


def _add_request(
    account_id: int,
    kind: ApprovalKind,
    amount_pence: int,
    reason_code: str,
    reason: str,
    payload: dict,
    actor: Actor,
    **state,
) -> ApprovalRequest:
    request = ApprovalRequest(
        account_id=account_id,
        kind=kind,
        amount_pence=amount_pence,
        reason_code=reason_code,
        reason=reason,
        payload=payload,
        requested_by_staff_id=actor.staff_id,
        **state,
    )
    db.session.add(request)
    db.session.flush()
    return request


def _record_within_limit(
    account_id: int,
    kind: ApprovalKind,
    amount_pence: int,
    reason_code: str,
    reason: str,
    payload: dict,
    actor: Actor,
    entry: LedgerEntry,
) -> ApprovalRequest:
    """The record of a request posted at once, so it counts in the running total."""
    return _add_request(
        account_id,
        kind,
        amount_pence,
        reason_code,
        reason,
        payload,
        actor,
        status=ApprovalStatus.APPROVED,
        decided_at=utcnow(),
        decision_note="Within the requester's delegated limit",
        ledger_entry_id=entry.id,
    )


def _queue(
    account_id: int,
    kind: ApprovalKind,
    amount_pence: int,
    reason_code: str,
    reason: str,
    payload: dict,
    actor: Actor,
    summary: str,
) -> ApprovalRequest:
    request = _add_request(
        account_id,
        kind,
        amount_pence,
        reason_code,
        reason,
        payload,
        actor,
        status=ApprovalStatus.PENDING,
    )
    record_timeline(account_id, actor, summary, detail=reason)
    record_audit(
        actor,
        "approval.requested",
        "approval_request",
        request.id,
        account_id=account_id,
        after={
            "kind": kind.value,
            "amount_pence": amount_pence,
            "reason_code": reason_code,
            **payload,
        },
    )
    return request


def _write_off_text(reason_code: str, reason: str) -> str:
    return f"{rules.WRITE_OFF_REASONS[reason_code]}: {reason}"


@use_case
def request_write_off(
    *, invoice_id: int, amount_pence: int, reason_code: str, reason: str, actor: Actor
) -> Outcome:
    """Write off part or all of an invoice: at once within the requester's write-off
    limit, otherwise as a request for a team leader's approval (nothing posted yet)."""
    requester = _staff(actor)
    if not role_has(requester.role, Permission.REQUEST_WRITE_OFF):
        raise Forbidden("You cannot request write-offs")
    _positive(amount_pence)
    if reason_code not in rules.WRITE_OFF_REASONS:
        raise InvalidRequest("Select why the debt is being written off")
    reason = _reason_text(reason, "write-off")
    invoice = db.session.get(Invoice, invoice_id)
    if invoice is None:
        raise NotFound(f"No invoice {invoice_id}")
    already = _already(requester, invoice.account_id, ApprovalKind.WRITE_OFF)
    outstanding = balances.invoice_outstanding(invoice.id)
    if amount_pence > outstanding:
        raise InvalidRequest(
            f"Invoice {invoice.number} has only {format_gbp(outstanding)} outstanding to write off"
        )
    total = already + amount_pence
    payload = {
        "invoice_id": invoice.id,
        "invoice_number": invoice.number,
        "running_total_pence": total,
    }
    if rules.posts_at_once(
        rules.WRITE_OFF_KIND, already, amount_pence, requester.write_off_limit_pence
    ):
        entry = ledger.post_write_off(
            invoice_id=invoice.id,
            amount_pence=amount_pence,
            reason=_write_off_text(reason_code, reason),
            actor=actor,
            audit={
                "reason_code": reason_code,
                "within_limit_of_staff_id": requester.id,
                "running_total_pence": total,
            },
        )
        _record_within_limit(
            invoice.account_id,
            ApprovalKind.WRITE_OFF,
            amount_pence,
            reason_code,
            reason,
            payload,
            actor,
            entry,
        )
        db.session.commit()
        return Outcome(entry=entry)
    request = _queue(
        invoice.account_id,
        ApprovalKind.WRITE_OFF,
        amount_pence,
        reason_code,
        reason,
        payload,
        actor,
        f"Write-off of {format_gbp(amount_pence)} on invoice {invoice.number} sent for approval",
    )
    db.session.commit()
    return Outcome(request=request, running_total_pence=total)


CREDIT_NOTE_CODE = "credit_note"


@use_case
def request_credit_note(
    *,
    invoice_id: int,
    reason: str,
    actor: Actor,
    lines: Mapping[int, int] | None = None,
    whole_invoice: bool = False,
    amount_pence: int | None = None,
) -> Outcome:
    """Reduce an invoice by a credit note naming the lines it credits: the net chosen
    for each line (`lines`: line id -> pence, the VAT following at the rate the line was
    charged), everything left (`whole_invoice`), or one sum spread over the lines
    (`amount_pence`). At once, with its document sent to the debtor, while the
    requester's running total of credit notes on the account stays within their
    write-off limit; otherwise as a request for a team leader's approval that carries
    the lines (nothing posted yet)."""
    requester = _staff(actor)
    if not role_has(requester.role, Permission.WORK_CASES):
        raise Forbidden("You cannot raise credit notes")
    if lines is None and not whole_invoice:
        _positive(amount_pence)
    reason = _reason_text(reason, "credit note")
    invoice = db.session.get(Invoice, invoice_id)
    if invoice is None:
        raise NotFound(f"No invoice {invoice_id}")
    already = _already(requester, invoice.account_id, ApprovalKind.CREDIT_NOTE)
    credits = credit_notes.plan(
        invoice, lines=lines, whole_invoice=whole_invoice, amount_pence=amount_pence
    )
    amount_pence = sum(c.total_pence for c in credits)
    total = already + amount_pence
    payload = {
        "invoice_id": invoice.id,
        "invoice_number": invoice.number,
        "running_total_pence": total,
        "lines": credit_notes.as_payload(credits),
    }
    if rules.posts_at_once(
        rules.CREDIT_NOTE_KIND, already, amount_pence, requester.write_off_limit_pence
    ):
        entry, _ = credit_notes.post(
            invoice=invoice,
            credits=credits,
            reason=reason,
            actor=actor,
            audit={"within_limit_of_staff_id": requester.id, "running_total_pence": total},
        )
        _record_within_limit(
            invoice.account_id,
            ApprovalKind.CREDIT_NOTE,
            amount_pence,
            CREDIT_NOTE_CODE,
            reason,
            payload,
            actor,
            entry,
        )
        db.session.commit()
        return Outcome(entry=entry)
    request = _queue(
        invoice.account_id,
        ApprovalKind.CREDIT_NOTE,
        amount_pence,
        CREDIT_NOTE_CODE,
        reason,
        payload,
        actor,
        f"Credit note of {format_gbp(amount_pence)} on invoice {invoice.number} sent for approval",
    )
    db.session.commit()
    return Outcome(request=request, running_total_pence=total)


@use_case
def request_refund(
    *, source_entry_id: int, amount_pence: int, route: str, reason: str, actor: Actor
) -> Outcome:
    """Ask to refund unallocated credit from one payment or credit. Always a request for
    a team leader's approval: money leaving the council needs a second person, and
    never one who created the credit. Unverified credit is refused."""
    requester = _staff(actor)
    if not role_has(requester.role, Permission.REQUEST_REFUND):
        raise Forbidden("You cannot request refunds")
    _positive(amount_pence)
    if route not in rules.REFUND_ROUTES:
        raise InvalidRequest("Select how the money goes back")
    reason = _reason_text(reason, "refund")
    available = ledger.refundable_available(source_entry_id)
    if amount_pence > available:
        raise InvalidRequest(
            f"Only {format_gbp(available)} of that credit is unallocated and refundable"
        )
    source = db.session.get(LedgerEntry, source_entry_id)
    if route == rules.CARD:
        _card_payment_id(source)  # refuse now, not at approval, a credit that was not a card
    ledger.refuse_unverified(source, "refunded")
    already = _already(requester, source.account_id, ApprovalKind.REFUND)
    total = already + amount_pence
    payload = {"source_entry_id": source.id, "route": route, "running_total_pence": total}
    # The rule says never, whatever the limit; it decides here as for every kind.
    if rules.posts_at_once(rules.REFUND_KIND, already, amount_pence, requester.refund_limit_pence):
        entry = _post_refund(
            source,
            amount_pence,
            route,
            f"{rules.REFUND_ROUTES[route]}: {reason}",
            actor,
            {"route": route, "within_limit_of_staff_id": requester.id},
        )
        _record_within_limit(
            source.account_id,
            ApprovalKind.REFUND,
            amount_pence,
            route,
            reason,
            payload,
            actor,
            entry,
        )
        db.session.commit()
        return Outcome(entry=entry)
    request = _queue(
        source.account_id,
        ApprovalKind.REFUND,
        amount_pence,
        route,
        reason,
        payload,
        actor,
        f"Refund of {format_gbp(amount_pence)} sent for approval ({rules.REFUND_ROUTES[route]})",
    )
    db.session.commit()
    return Outcome(request=request, running_total_pence=total)


def _card_payment_id(source: LedgerEntry | None) -> str:
    """The card provider's payment id a card refund goes back to; refuses a credit
    that was not an online card payment."""
    if (
        source is None
        or source.kind != EntryKind.PAYMENT
        or source.method != PaymentMethod.CARD
        or not source.external_reference
    ):
        raise InvalidRequest(NOT_A_CARD_PAYMENT)
    return source.external_reference


def _post_refund(
    source: LedgerEntry, amount_pence: int, route: str, reason: str, actor: Actor, audit: dict
) -> LedgerEntry:
    """The ledger refund and, for a card, the outbox row that sends it to the card
    provider, in the caller's transaction: the worker picks the row up after commit,
    so a refund is never posted without being sent, nor sent without being posted."""
    entry = ledger.post_refund(
        source_entry_id=source.id,
        amount_pence=amount_pence,
        reason=reason,
        actor=actor,
        audit=audit,
    )
    if route == rules.CARD:
        db.session.add(
            OutboxMessage(
                account_id=entry.account_id,
                channel=OutboxChannel.REFUND,
                template="card_refund",
                recipient=_card_payment_id(source),
                subject=f"of {format_gbp(amount_pence)}",
                body=f"Refund of {format_gbp(amount_pence)} to the card: {reason}",
                payload={
                    "refund_entry_id": entry.id,
                    "source_entry_id": source.id,
                    "amount_pence": amount_pence,
                },
                # One provider refund per ledger refund.
                dedupe_key=f"card-refund:{entry.id}",
            )
        )
        db.session.flush()
    return entry


MONEY_KINDS = (ApprovalKind.REFUND, ApprovalKind.WRITE_OFF, ApprovalKind.CREDIT_NOTE)


def _request(request_id: int) -> ApprovalRequest:
    request = db.session.get(ApprovalRequest, request_id)
    if request is None or request.kind not in MONEY_KINDS:
        raise NotFound(f"No refund, write-off or credit-note request {request_id}")
    return request


def credit_creators(source_entry_id: int) -> frozenset[int]:
    """Who created a credit: who recorded the payment or posted the entry, and for a
    credit note who asked for it and who approved it. None of them may approve
    paying it out."""
    entry = db.session.get(LedgerEntry, source_entry_id)
    people = {entry.created_by_staff_id} if entry is not None else set()
    made_by = db.session.execute(
        sa.select(ApprovalRequest.requested_by_staff_id, ApprovalRequest.decided_by_staff_id).where(
            ApprovalRequest.ledger_entry_id == source_entry_id
        )
    ).first()
    if made_by is not None:
        people.update(made_by)
    return frozenset(p for p in people if p is not None)


def _check_decider(request: ApprovalRequest, decider: StaffUser, verb: str) -> None:
    creators: frozenset[int] = frozenset()
    if request.kind == ApprovalKind.REFUND and verb == "approve":
        creators = credit_creators((request.payload or {}).get("source_entry_id"))
    refusal = rules.decider_refusal(
        decider.role, decider.id, request.requested_by_staff_id, verb, creators
    )
    if refusal:
        raise Forbidden(refusal)


def _decide(request: ApprovalRequest, status: ApprovalStatus, decider_id: int, note) -> bool:
    """Pending -> status, as one conditional update: False if someone got there first."""
    result = db.session.execute(
        sa.update(ApprovalRequest)
        .where(ApprovalRequest.id == request.id, ApprovalRequest.status == ApprovalStatus.PENDING)
        .values(
            status=status, decided_by_staff_id=decider_id, decided_at=utcnow(), decision_note=note
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _what(request: ApprovalRequest) -> str:
    number = (request.payload or {}).get("invoice_number", "")
    if request.kind == ApprovalKind.WRITE_OFF:
        return f"Write-off of {format_gbp(request.amount_pence)} on invoice {number}"
    if request.kind == ApprovalKind.CREDIT_NOTE:
        return f"Credit note of {format_gbp(request.amount_pence)} on invoice {number}"
    return f"Refund of {format_gbp(request.amount_pence)}"


def _not_pending(request: ApprovalRequest) -> InvalidRequest:
    return InvalidRequest(f"That request has already been {request.status.value}")


@use_case
def approve(*, request_id: int, actor: Actor) -> Decision:
    """Approve someone else's request and post its ledger entry, in one transaction.

    Approving an already approved request changes nothing (changed=False).
    """
    approver = _staff(actor)
    request = _request(request_id)
    if request.status == ApprovalStatus.APPROVED:
        return Decision(request, changed=False)
    if request.status != ApprovalStatus.PENDING:
        raise _not_pending(request)
    _check_decider(request, approver, "approve")
    # Credit notes share the write-off limit: both reduce what the debtor owes.
    limit = (
        approver.refund_limit_pence
        if request.kind == ApprovalKind.REFUND
        else approver.write_off_limit_pence
    )
    if not rules.within_decider_limit(request.amount_pence, limit):
        raise Forbidden(
            f"{format_gbp(request.amount_pence)} is above your own limit of {format_gbp(limit)}: "
            "it needs a team leader with a higher limit"
        )
    if not _decide(request, ApprovalStatus.APPROVED, approver.id, None):
        db.session.rollback()
        request = _request(request_id)
        if request.status == ApprovalStatus.APPROVED:
            return Decision(request, changed=False)
        raise _not_pending(request)
    payload = request.payload or {}
    audit = {
        "approval_request_id": request.id,
        "requested_by_staff_id": request.requested_by_staff_id,
    }
    if request.kind == ApprovalKind.WRITE_OFF:
        entry = ledger.post_write_off(
            invoice_id=payload["invoice_id"],
            amount_pence=request.amount_pence,
            reason=_write_off_text(request.reason_code, request.reason),
            actor=actor,
            audit={**audit, "reason_code": request.reason_code},
        )
    elif request.kind == ApprovalKind.CREDIT_NOTE:
        invoice = db.session.get(Invoice, payload["invoice_id"])
        # The lines the requester chose, checked again now; a request from before
        # credit notes named lines is spread over the invoice's lines.
        if "lines" in payload:
            credits = credit_notes.from_payload(invoice, payload["lines"], request.amount_pence)
        else:
            credits = credit_notes.plan(invoice, amount_pence=request.amount_pence)
        entry, _ = credit_notes.post(
            invoice=invoice, credits=credits, reason=request.reason, actor=actor, audit=audit
        )
    else:
        route = payload["route"]
        entry = _post_refund(
            db.session.get(LedgerEntry, payload["source_entry_id"]),
            request.amount_pence,
            route,
            f"{rules.REFUND_ROUTES[route]}: {request.reason}",
            actor,
            {**audit, "route": route},
        )
    db.session.execute(
        sa.update(ApprovalRequest)
        .where(ApprovalRequest.id == request.id)
        .values(ledger_entry_id=entry.id)
        .execution_options(synchronize_session=False)
    )
    record_timeline(request.account_id, actor, f"{_what(request)} approved")
    record_audit(
        actor,
        "approval.approved",
        "approval_request",
        request.id,
        account_id=request.account_id,
        before={"status": ApprovalStatus.PENDING.value},
        after={"status": ApprovalStatus.APPROVED.value, "ledger_entry_id": entry.id},
    )
    db.session.commit()
    db.session.refresh(request)
    return Decision(request, changed=True)


@use_case
def reject(*, request_id: int, note: str, actor: Actor) -> ApprovalRequest:
    """Turn down someone else's request, saying why. Nothing is posted."""
    decider = _staff(actor)
    request = _request(request_id)
    if request.status != ApprovalStatus.PENDING:
        raise _not_pending(request)
    _check_decider(request, decider, "reject")
    note = (note or "").strip()
    if not note:
        raise InvalidRequest("Enter why the request is rejected")
    if not _decide(request, ApprovalStatus.REJECTED, decider.id, note):
        db.session.rollback()
        raise _not_pending(_request(request_id))
    _after_decision(request, actor, "rejected", note)
    return request


@use_case
def withdraw(*, request_id: int, actor: Actor) -> ApprovalRequest:
    """The requester takes back their own pending request."""
    request = _request(request_id)
    if request.requested_by_staff_id != actor.staff_id:
        raise Forbidden("Only the person who made a request can withdraw it")
    if request.status != ApprovalStatus.PENDING:
        raise _not_pending(request)
    # decided_by stays empty: the check forbids the requester as the decider.
    result = db.session.execute(
        sa.update(ApprovalRequest)
        .where(ApprovalRequest.id == request.id, ApprovalRequest.status == ApprovalStatus.PENDING)
        .values(status=ApprovalStatus.WITHDRAWN, decided_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        raise _not_pending(_request(request_id))
    _after_decision(request, actor, "withdrawn", None)
    return request


def _after_decision(request: ApprovalRequest, actor: Actor, status: str, note: str | None):
    record_timeline(request.account_id, actor, f"{_what(request)} {status}", detail=note)
    record_audit(
        actor,
        f"approval.{status}",
        "approval_request",
        request.id,
        account_id=request.account_id,
        before={"status": ApprovalStatus.PENDING.value},
        after={"status": status, "note": note},
    )
    db.session.commit()
    db.session.refresh(request)
