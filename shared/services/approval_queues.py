"""What the approval pages show: the queue of pending refund, write-off and
credit-note requests, one person's own requests, and an account's credits that a
refund could pay out. Reads only; the use cases are in shared/services/approvals.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from shared import clock
from shared.domain import approvals as rules
from shared.extensions import db
from shared.models import (
    ApprovalKind,
    ApprovalRequest,
    ApprovalStatus,
    DebtorAccount,
    EntryKind,
    LedgerEntry,
    PaymentMethod,
    PaymentVerification,
    StaffUser,
    VerificationStatus,
)
from shared.services import balances
from shared.services.approvals import MONEY_KINDS


@dataclass(frozen=True)
class QueueItem:
    id: int
    kind: str  # "Refund", "Write-off" or "Credit note"
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
    # The requester's running total of this kind on the account in the limit period,
    # this request included (0 for requests made before it was recorded).
    running_total_pence: int = 0


def _items(where, today: date) -> list[QueueItem]:
    rows = db.session.execute(
        sa.select(ApprovalRequest, DebtorAccount, StaffUser.full_name)
        .join(DebtorAccount, DebtorAccount.id == ApprovalRequest.account_id)
        .join(StaffUser, StaffUser.id == ApprovalRequest.requested_by_staff_id)
        .where(
            ApprovalRequest.kind.in_(MONEY_KINDS),
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
        elif request.kind == ApprovalKind.CREDIT_NOTE:
            kind, words = "Credit note", ""
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
                age_days=(today - clock.london_day(request.requested_at)).days,
                reason_words=words,
                reason=request.reason or "",
                about=about,
                running_total_pence=int(payload.get("running_total_pence") or 0),
            )
        )
    return items


def pending_queue(today: date) -> list[QueueItem]:
    """Every pending refund, write-off and credit-note request, oldest first."""
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
    # A hand-recorded payment no second officer has verified: not refundable yet.
    unverified: bool = False


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
    unverified = set(
        db.session.scalars(
            sa.select(PaymentVerification.ledger_entry_id).where(
                PaymentVerification.ledger_entry_id.in_(values),
                PaymentVerification.status == VerificationStatus.UNVERIFIED,
            )
        )
    )
    credits = []
    for entry in entries:
        words = _KIND_WORDS[entry.kind]
        if entry.method is not None:
            words += f" by {entry.method.value.replace('_', ' ')}"
        if entry.external_reference:
            words += f" ({entry.external_reference})"
        card = entry.method == PaymentMethod.CARD and bool(entry.external_reference)
        credits.append(
            RefundableCredit(
                entry.id,
                entry.effective_date,
                words,
                values[entry.id],
                card,
                unverified=entry.id in unverified,
            )
        )
    return credits
