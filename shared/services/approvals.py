"""Refund and write-off requests: posted at once within the requester's delegated
limit, otherwise queued for a team leader (never the requester) to approve, reject,
or for the requester to withdraw.

Each use case is one transaction that writes a timeline entry and an audit row.
Approving records the decision and posts the ledger entry in the same commit, and
the decision is a conditional update (pending -> approved), so two clicks or two
approvers post it once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from shared.domain import approvals as rules
from shared.domain.permissions import Permission, role_has
from shared.extensions import db
from shared.models import (
    ApprovalKind,
    ApprovalRequest,
    ApprovalStatus,
    DebtorAccount,
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
from shared.services import balances, ledger
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
    request = ApprovalRequest(
        account_id=account_id,
        kind=kind,
        amount_pence=amount_pence,
        reason_code=reason_code,
        reason=reason,
        payload=payload,
        status=ApprovalStatus.PENDING,
        requested_by_staff_id=actor.staff_id,
    )
    db.session.add(request)
    db.session.flush()
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
    outstanding = balances.invoice_outstanding(invoice.id)
    if amount_pence > outstanding:
        raise InvalidRequest(
            f"Invoice {invoice.number} has only {format_gbp(outstanding)} outstanding to write off"
        )
    if not rules.needs_approval(amount_pence, requester.write_off_limit_pence):
        entry = ledger.post_write_off(
            invoice_id=invoice.id,
            amount_pence=amount_pence,
            reason=_write_off_text(reason_code, reason),
            actor=actor,
            audit={"reason_code": reason_code, "within_limit_of_staff_id": requester.id},
        )
        db.session.commit()
        return Outcome(entry=entry)
    request = _queue(
        invoice.account_id,
        ApprovalKind.WRITE_OFF,
        amount_pence,
        reason_code,
        reason,
        {"invoice_id": invoice.id, "invoice_number": invoice.number},
        actor,
        f"Write-off of {format_gbp(amount_pence)} on invoice {invoice.number} sent for approval",
    )
    db.session.commit()
    return Outcome(request=request)


@use_case
def request_refund(
    *, source_entry_id: int, amount_pence: int, route: str, reason: str, actor: Actor
) -> Outcome:
    """Refund unallocated credit from one payment or credit: at once within the
    requester's refund limit, otherwise as a request for a team leader's approval."""
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
    text = f"{rules.REFUND_ROUTES[route]}: {reason}"
    if not rules.needs_approval(amount_pence, requester.refund_limit_pence):
        entry = _post_refund(
            source,
            amount_pence,
            route,
            text,
            actor,
            {"route": route, "within_limit_of_staff_id": requester.id},
        )
        db.session.commit()
        return Outcome(entry=entry)
    request = _queue(
        source.account_id,
        ApprovalKind.REFUND,
        amount_pence,
        route,
        reason,
        {"source_entry_id": source.id, "route": route},
        actor,
        f"Refund of {format_gbp(amount_pence)} sent for approval ({rules.REFUND_ROUTES[route]})",
    )
    db.session.commit()
    return Outcome(request=request)


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


def _request(request_id: int) -> ApprovalRequest:
    request = db.session.get(ApprovalRequest, request_id)
    if request is None or request.kind not in (ApprovalKind.REFUND, ApprovalKind.WRITE_OFF):
        raise NotFound(f"No refund or write-off request {request_id}")
    return request


def _check_decider(request: ApprovalRequest, decider: StaffUser, verb: str) -> None:
    if decider.id == request.requested_by_staff_id:
        raise Forbidden(f"You cannot {verb} your own request: another team leader must")
    if not rules.may_decide(decider.role, decider.id, request.requested_by_staff_id):
        raise Forbidden(f"Only a team leader can {verb} requests")


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
    if request.kind == ApprovalKind.WRITE_OFF:
        number = (request.payload or {}).get("invoice_number", "")
        return f"Write-off of {format_gbp(request.amount_pence)} on invoice {number}"
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


# --- what the pages show -----------------------------------------------------------


@dataclass(frozen=True)
class QueueItem:
    id: int
    kind: str  # "Refund" or "Write-off"
    amount_pence: int
    account_reference: str
    account_name: str
    requested_by: str
    requested_by_id: int
    requested_at: datetime
    age_days: int
    reason_words: str
    reason: str
    about: str


def _items(where, today: date) -> list[QueueItem]:
    rows = db.session.execute(
        sa.select(ApprovalRequest, DebtorAccount, StaffUser.full_name)
        .join(DebtorAccount, DebtorAccount.id == ApprovalRequest.account_id)
        .join(StaffUser, StaffUser.id == ApprovalRequest.requested_by_staff_id)
        .where(
            ApprovalRequest.kind.in_([ApprovalKind.REFUND, ApprovalKind.WRITE_OFF]),
            ApprovalRequest.status == ApprovalStatus.PENDING,
            where,
        )
        .order_by(ApprovalRequest.requested_at, ApprovalRequest.id)
    ).all()
    items = []
    for request, account, requester in rows:
        payload = request.payload or {}
        if request.kind == ApprovalKind.WRITE_OFF:
            kind, words = "Write-off", rules.WRITE_OFF_REASONS.get(request.reason_code, "")
            about = f"Invoice {payload.get('invoice_number', '')}"
        else:
            kind, words = "Refund", rules.REFUND_ROUTES.get(request.reason_code, "")
            about = f"From ledger entry {payload.get('source_entry_id', '')}"
        name = account.display_name
        items.append(
            QueueItem(
                id=request.id,
                kind=kind,
                amount_pence=request.amount_pence,
                account_reference=account.reference,
                account_name=name or "",
                requested_by=requester,
                requested_by_id=request.requested_by_staff_id,
                requested_at=request.requested_at,
                age_days=(today - request.requested_at.date()).days,
                reason_words=words,
                reason=request.reason or "",
                about=about,
            )
        )
    return items


def pending_queue(today: date) -> list[QueueItem]:
    """Every pending refund and write-off request, oldest first."""
    return _items(sa.true(), today)


def pending_for(staff_id: int, today: date) -> list[QueueItem]:
    """One person's own pending requests, oldest first."""
    return _items(ApprovalRequest.requested_by_staff_id == staff_id, today)


@dataclass(frozen=True)
class RefundableCredit:
    entry_id: int
    effective_date: date
    words: str
    available_pence: int
    # An online card payment, which can go back to the card it came from.
    card: bool = False


_KIND_WORDS = {
    EntryKind.PAYMENT: "Payment",
    EntryKind.CREDIT_NOTE: "Credit note",
    EntryKind.ADJUSTMENT: "Credit adjustment",
}


def refundable_credits(account_id: int) -> list[RefundableCredit]:
    """The account's payments and credits with unallocated money that could be refunded."""
    values = {
        v.entry_id: v.available_pence
        for v in balances.credit_values(account_id=account_id)
        if v.kind in _KIND_WORDS and v.available_pence > 0
    }
    if not values:
        return []
    entries = db.session.scalars(
        sa.select(LedgerEntry).where(LedgerEntry.id.in_(values)).order_by(LedgerEntry.id)
    ).all()
    credits = []
    for entry in entries:
        words = _KIND_WORDS[entry.kind]
        if entry.method is not None:
            words += f" by {entry.method.value.replace('_', ' ')}"
        if entry.external_reference:
            words += f" ({entry.external_reference})"
        card = entry.method == PaymentMethod.CARD and bool(entry.external_reference)
        credits.append(
            RefundableCredit(entry.id, entry.effective_date, words, values[entry.id], card)
        )
    return credits
