"""Read-side queries for the back office's case page: one debtor account, everything about it.

Read-only. Like shared.services.account_view (whose invoice query and words
it reuses), every statement is built once with bind parameters and answered
by an index on the account: the ledger by (account_id, id), the timeline by
contact_events (account_id, occurred_at). The ledger and the timeline come a
page at a time, fetching one row more than a page to know whether there is a
next one, so an account with thousands of entries costs the same as a small one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from shared.domain.names import display_name
from shared.extensions import db
from shared.models import (
    AccountHold,
    Allocation,
    Arrangement,
    BreathingSpaceType,
    Channel,
    Collection,
    ContactEvent,
    ContactKind,
    DebtorAccount,
    EntryKind,
    HoldKind,
    Invoice,
    LedgerEntry,
    Mandate,
    OutboxChannel,
    OutboxMessage,
    PaymentMethod,
    RecoveryStage,
    StaffUser,
)
from shared.models.directdebit import LIVE_MANDATE_STATUSES
from shared.money import format_gbp
from shared.services import unallocated
from shared.services.account_view import (
    _ACCOUNT_COLUMNS,
    FREQUENCY_WORDS,
    METHOD_WORDS,
    RECOVERY_STAGE_WORDS,
    InvoiceRow,
    _balance_of,
    _invoice_rows,
    primary_address_lines,
)
from shared.services.directdebit import returns_queue
from shared.services.directdebit.returns_queue import ItemRow
from shared.services.legal.summary import LegalSummary, legal_summary, statute_barred_words

PAGE_SIZE = 50
MESSAGES_SHOWN = 50

CONTACT_KIND_WORDS = {
    ContactKind.NOTE: "Note",
    ContactKind.CALL_IN: "Call in",
    ContactKind.CALL_OUT: "Call out",
    ContactKind.LETTER: "Letter",
    ContactKind.EMAIL: "Email",
    ContactKind.SMS: "Text message",
    ContactKind.VISIT: "Visit",
    ContactKind.PORTAL: "Portal",
    ContactKind.SYSTEM: "System",
}

ENTRY_KIND_WORDS = {
    EntryKind.INVOICE: "Invoice",
    EntryKind.PAYMENT: "Payment",
    EntryKind.CREDIT_NOTE: "Credit note",
    EntryKind.REFUND: "Refund",
    EntryKind.WRITE_OFF: "Write-off",
    EntryKind.REVERSAL: "Reversal",
    EntryKind.ADJUSTMENT: "Adjustment",
}

BREATHING_SPACE_WORDS = {
    BreathingSpaceType.STANDARD: "Standard",
    BreathingSpaceType.MENTAL_HEALTH_CRISIS: "Mental health crisis",
}

CHANNEL_WORDS = {
    OutboxChannel.EMAIL: "Email",
    OutboxChannel.SMS: "Text message",
    OutboxChannel.LETTER: "Letter",
}

_STAGE_ORDER = {RECOVERY_STAGE_WORDS[stage]: n for n, stage in enumerate(RecoveryStage)}


@dataclass(frozen=True)
class Flag:
    label: str
    colour: str  # a govuk-tag modifier
    detail: str


@dataclass(frozen=True)
class CaseAccount:
    id: int
    reference: str
    name: str
    kind: str
    balance_pence: int
    address_lines: list[str]
    email: str | None
    mobile_phone: str | None
    other_phone: str | None
    preferred_channel: Channel
    consent_email: bool
    consent_sms: bool


@dataclass(frozen=True)
class OldestDebt:
    invoice_number: str
    due_date: date
    age_days: int


@dataclass(frozen=True)
class AllocationLine:
    invoice_number: str
    amount_pence: int


@dataclass(frozen=True)
class LedgerLine:
    id: int
    effective_date: date
    kind: str
    description: str
    amount_pence: int
    invoice_number: str | None
    by: str
    allocations: list[AllocationLine]


@dataclass(frozen=True)
class ArrangementLine:
    status: str
    frequency: str
    total_pence: int
    start_date: date
    id: int | None = None  # links to the plan's page


@dataclass(frozen=True)
class MandateLine:
    reference: str
    status: str
    account_ending: str
    created_at: datetime
    id: int | None = None  # for the change and cancel actions
    live: bool = False  # pending, submitted or active: it can be changed or cancelled


@dataclass(frozen=True)
class CollectionLine:
    """A Direct Debit collection under one of the account's mandates."""

    collection_date: date  # the entry day: the day the payer's bank is debited
    amount_pence: int
    transaction_code: str
    status: str
    mandate_reference: str
    return_description: str | None


@dataclass(frozen=True)
class MessageLine:
    created_at: datetime
    channel: str
    template: str
    recipient: str
    status: str
    last_error: str | None


@dataclass(frozen=True)
class TimelineItem:
    occurred_at: datetime
    kind: str
    summary: str
    detail: str | None
    outcome: str | None
    actor: str


@dataclass(frozen=True)
class Page:
    number: int
    has_previous: bool
    has_next: bool


@dataclass(frozen=True)
class CasePage:
    account: CaseAccount
    flags: list[Flag]
    recovery_stage: str
    oldest_debt: OldestDebt | None
    open_invoices: list[InvoiceRow]
    paid_invoices: list[InvoiceRow]
    ledger: list[LedgerLine]
    ledger_page: Page
    arrangements: list[ArrangementLine]
    mandates: list[MandateLine]
    collections: list[CollectionLine]
    # What Bacs reported about the account's mandates and collections, newest first.
    bacs_items: list[ItemRow]
    messages: list[MessageLine]
    timeline: list[TimelineItem]
    timeline_page: Page
    # Money on the account allocated to no invoice (from the unallocated payments queue).
    unallocated_pence: int = 0
    # Letters of Claim, judgments, statute-barred debts (shared.services.legal.summary).
    legal: LegalSummary | None = None


# --- statements, built once ----------------------------------------------------------

_ACCOUNT_ID = sa.bindparam("account_id")
_LIMIT = sa.bindparam("limit")
_OFFSET = sa.bindparam("offset")

_ACCOUNT = sa.select(
    *_ACCOUNT_COLUMNS,
    DebtorAccount.vulnerable,
    DebtorAccount.vulnerability_reason,
    DebtorAccount.vulnerability_review_date,
    DebtorAccount.breathing_space_type,
    DebtorAccount.breathing_space_start,
    DebtorAccount.breathing_space_end,
    DebtorAccount.breathing_space_reference,
    DebtorAccount.deceased,
    DebtorAccount.date_of_death,
    _balance_of(DebtorAccount.id).label("balance"),
).where(DebtorAccount.reference == sa.bindparam("reference"))

_LEDGER = (
    sa.select(
        LedgerEntry.id,
        LedgerEntry.effective_date,
        LedgerEntry.kind,
        LedgerEntry.amount_pence,
        LedgerEntry.method,
        LedgerEntry.reason,
        LedgerEntry.external_reference,
        Invoice.number.label("invoice_number"),
        StaffUser.full_name.label("staff_name"),
    )
    .outerjoin(Invoice, Invoice.id == LedgerEntry.invoice_id)
    .outerjoin(StaffUser, StaffUser.id == LedgerEntry.created_by_staff_id)
    .where(LedgerEntry.account_id == _ACCOUNT_ID)
    .order_by(LedgerEntry.id.desc())
    .limit(_LIMIT)
    .offset(_OFFSET)
)

_ALLOCATIONS = (
    sa.select(Allocation.credit_entry_id, Allocation.amount_pence, Invoice.number)
    .join(Invoice, Invoice.id == Allocation.invoice_id)
    .where(Allocation.credit_entry_id.in_(sa.bindparam("entry_ids", expanding=True)))
    .order_by(Allocation.id)
)

_ARRANGEMENTS = (
    sa.select(
        Arrangement.status,
        Arrangement.frequency,
        Arrangement.total_pence,
        Arrangement.start_date,
        Arrangement.id,
    )
    .where(Arrangement.account_id == _ACCOUNT_ID)
    .order_by(Arrangement.id.desc())
)

_MANDATES = (
    sa.select(
        Mandate.reference, Mandate.status, Mandate.account_ending, Mandate.created_at, Mandate.id
    )
    .where(Mandate.account_id == _ACCOUNT_ID)
    .order_by(Mandate.id.desc())
)

# The newest collections first: what is coming, what was taken, what came back.
COLLECTIONS_SHOWN = 12
_COLLECTIONS = (
    sa.select(
        Collection.collection_date,
        Collection.amount_pence,
        Collection.transaction_code,
        Collection.status,
        Collection.return_description,
        Mandate.reference,
    )
    .join(Mandate, Mandate.id == Collection.mandate_id)
    .where(Mandate.account_id == _ACCOUNT_ID)
    .order_by(Collection.collection_date.desc(), Collection.id.desc())
    .limit(COLLECTIONS_SHOWN)
)

_MESSAGES = (
    sa.select(
        OutboxMessage.created_at,
        OutboxMessage.channel,
        OutboxMessage.template,
        OutboxMessage.recipient,
        OutboxMessage.status,
        OutboxMessage.last_error,
    )
    .where(OutboxMessage.account_id == _ACCOUNT_ID)
    .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
    .limit(MESSAGES_SHOWN)
)

_TIMELINE = (
    sa.select(
        ContactEvent.occurred_at,
        ContactEvent.kind,
        ContactEvent.summary,
        ContactEvent.detail,
        ContactEvent.outcome,
        ContactEvent.portal_user_id,
        StaffUser.full_name.label("staff_name"),
    )
    .outerjoin(StaffUser, StaffUser.id == ContactEvent.staff_id)
    .where(ContactEvent.account_id == _ACCOUNT_ID)
    .order_by(ContactEvent.occurred_at.desc(), ContactEvent.id.desc())
    .limit(_LIMIT)
    .offset(_OFFSET)
)


# --- pieces ---------------------------------------------------------------------------

# Breathing Space and deceased holds are flagged from the account's own fields.
_HOLD_FLAG_KINDS = {
    HoldKind.DISPUTE: ("Dispute", "yellow"),
    HoldKind.QUERY: ("Query", "yellow"),
    HoldKind.PROMISE_TO_PAY: ("Promise to pay", "blue"),
    HoldKind.VULNERABILITY_REVIEW: ("Vulnerability review", "orange"),
}


def hold_flags(account_id: int, today: date) -> list[Flag]:
    """A tag for each hold in force that the account's own fields do not already show."""
    held = db.session.scalars(
        sa.select(AccountHold)
        .where(
            AccountHold.account_id == account_id,
            AccountHold.lifted_at.is_(None),
            AccountHold.starts_on <= today,
            sa.or_(AccountHold.expires_on.is_(None), AccountHold.expires_on >= today),
            AccountHold.kind.in_([*_HOLD_FLAG_KINDS, HoldKind.DECEASED]),
        )
        .order_by(AccountHold.id)
    ).all()
    flags = []
    for hold in held:
        if hold.kind == HoldKind.DECEASED:
            if hold.representative_name:  # who to deal with about the estate
                flags.append(Flag("Personal representative", "grey", _representative(hold)))
            continue
        label, colour = _HOLD_FLAG_KINDS[hold.kind]
        detail = f"On hold until {hold.expires_on:%-d %B %Y}" if hold.expires_on else "On hold"
        if hold.kind == HoldKind.PROMISE_TO_PAY and hold.promise_amount_pence:
            detail = (
                f"{format_gbp(hold.promise_amount_pence)} promised by {hold.promise_date:%-d %B %Y}"
            )
        flags.append(Flag(f"{label} hold", colour, detail))
    return flags


def _representative(hold: AccountHold) -> str:
    contact = [hold.representative_address, hold.representative_phone, hold.representative_email]
    return "; ".join(
        [f"{hold.representative_name} ({hold.representative_capacity})"] + [c for c in contact if c]
    )


def _words(value: str) -> str:
    return str(value).replace("_", " ").capitalize()


def flags_for(row, today: date) -> list[Flag]:
    """What an officer must know before contacting the debtor or taking action."""
    flags = []
    if row.deceased:
        died = f"Died {row.date_of_death:%-d %B %Y}" if row.date_of_death else "Date not known"
        flags.append(Flag("Deceased", "grey", died))
    if row.breathing_space_type is not None and row.breathing_space_start is not None:
        start, end = row.breathing_space_start, row.breathing_space_end
        kind = BREATHING_SPACE_WORDS[BreathingSpaceType(row.breathing_space_type)]
        until = f" until {end:%-d %B %Y}" if end else ""
        reference = (
            f" (reference {row.breathing_space_reference})" if row.breathing_space_reference else ""
        )
        if start <= today and (end is None or today <= end):
            detail = f"{kind}, from {start:%-d %B %Y}{until}{reference}"
            flags.append(Flag("Breathing Space", "red", detail))
    if row.vulnerable:
        detail = row.vulnerability_reason or "No reason recorded"
        if row.vulnerability_review_date:
            detail += f"; review by {row.vulnerability_review_date:%-d %B %Y}"
        flags.append(Flag("Vulnerable", "orange", detail))
    return flags


def _page(number: int, rows: list, size: int) -> tuple[list, Page]:
    return rows[:size], Page(number, number > 1, len(rows) > size)


def _entry_description(r) -> str:
    if r.kind == EntryKind.PAYMENT and r.method:
        text = METHOD_WORDS.get(PaymentMethod(r.method), str(r.method))
        return f"{text} {r.external_reference}" if r.external_reference else text
    if r.invoice_number and r.kind != EntryKind.INVOICE:
        return f"Invoice {r.invoice_number}" + (f": {r.reason}" if r.reason else "")
    return r.reason or (f"Invoice {r.invoice_number}" if r.invoice_number else "")


def _ledger(account_id: int, page: int) -> tuple[list[LedgerLine], Page]:
    rows = db.session.execute(
        _LEDGER,
        {"account_id": account_id, "limit": PAGE_SIZE + 1, "offset": (page - 1) * PAGE_SIZE},
    ).all()
    rows, where = _page(page, rows, PAGE_SIZE)
    allocations: dict[int, list[AllocationLine]] = {}
    if rows:
        for a in db.session.execute(_ALLOCATIONS, {"entry_ids": [r.id for r in rows]}):
            allocations.setdefault(a.credit_entry_id, []).append(
                AllocationLine(a.number, int(a.amount_pence))
            )
    return [
        LedgerLine(
            id=r.id,
            effective_date=r.effective_date,
            kind=ENTRY_KIND_WORDS[EntryKind(r.kind)],
            description=_entry_description(r),
            amount_pence=int(r.amount_pence),
            invoice_number=r.invoice_number,
            by=r.staff_name or "System",
            allocations=allocations.get(r.id, []),
        )
        for r in rows
    ], where


def _actor(r) -> str:
    if r.staff_name:
        return r.staff_name
    if r.portal_user_id is not None:
        return "Debtor (portal)"
    return "System"


def _timeline(account_id: int, page: int) -> tuple[list[TimelineItem], Page]:
    rows = db.session.execute(
        _TIMELINE,
        {"account_id": account_id, "limit": PAGE_SIZE + 1, "offset": (page - 1) * PAGE_SIZE},
    ).all()
    rows, where = _page(page, rows, PAGE_SIZE)
    return [
        TimelineItem(
            occurred_at=r.occurred_at,
            kind=CONTACT_KIND_WORDS[ContactKind(r.kind)],
            summary=r.summary,
            detail=r.detail,
            outcome=r.outcome,
            actor=_actor(r),
        )
        for r in rows
    ], where


def _oldest(open_invoices: list[InvoiceRow], today: date) -> OldestDebt | None:
    if not open_invoices:
        return None
    oldest = min(open_invoices, key=lambda i: (i.due_date, i.id))
    return OldestDebt(oldest.number, oldest.due_date, (today - oldest.due_date).days)


def case_page(
    reference: str, today: date, *, ledger_page: int = 1, timeline_page: int = 1
) -> CasePage | None:
    """Everything the case page shows for the account with this reference, or None."""
    row = db.session.execute(_ACCOUNT, {"reference": reference}).one_or_none()
    if row is None:
        return None
    account_id = row.id
    invoices = _invoice_rows(account_id, today)
    open_invoices = [i for i in invoices if i.outstanding_pence > 0]
    # The account is as far up the ladder as its furthest open invoice.
    stage = max(
        (i.recovery_stage for i in open_invoices),
        key=_STAGE_ORDER.__getitem__,
        default=RECOVERY_STAGE_WORDS[RecoveryStage.NONE],
    )
    ledger, ledger_where = _ledger(account_id, max(ledger_page, 1))
    timeline, timeline_where = _timeline(account_id, max(timeline_page, 1))
    params = {"account_id": account_id}
    legal = legal_summary(account_id, today)
    return CasePage(
        account=CaseAccount(
            id=account_id,
            reference=row.reference,
            name=display_name(
                row.kind, row.title, row.forename, row.surname, row.organisation_name
            ),
            kind=_words(row.kind),
            balance_pence=int(row.balance),
            address_lines=primary_address_lines(account_id),
            email=row.email,
            mobile_phone=row.mobile_phone,
            other_phone=row.other_phone,
            preferred_channel=Channel(row.preferred_channel),
            consent_email=bool(row.consent_email),
            consent_sms=bool(row.consent_sms),
        ),
        flags=flags_for(row, today)
        + hold_flags(account_id, today)
        + [Flag("Statute-barred", "purple", statute_barred_words(i)) for i in legal.statute_barred],
        recovery_stage=stage,
        oldest_debt=_oldest(open_invoices, today),
        open_invoices=open_invoices,
        paid_invoices=[i for i in invoices if i.outstanding_pence <= 0],
        ledger=ledger,
        ledger_page=ledger_where,
        arrangements=[
            ArrangementLine(
                status=_words(r.status),
                frequency=FREQUENCY_WORDS.get(str(r.frequency), str(r.frequency)),
                total_pence=int(r.total_pence),
                start_date=r.start_date,
                id=r.id,
            )
            for r in db.session.execute(_ARRANGEMENTS, params)
        ],
        mandates=[
            MandateLine(
                reference=r.reference,
                status=_words(r.status),
                account_ending=r.account_ending,
                created_at=r.created_at,
                id=r.id,
                live=r.status in LIVE_MANDATE_STATUSES,
            )
            for r in db.session.execute(_MANDATES, params)
        ],
        collections=[
            CollectionLine(
                collection_date=r.collection_date,
                amount_pence=int(r.amount_pence),
                transaction_code=r.transaction_code,
                status=_words(r.status),
                mandate_reference=r.reference,
                return_description=r.return_description,
            )
            for r in db.session.execute(_COLLECTIONS, params)
        ],
        bacs_items=returns_queue.account_items(account_id, limit=10),
        messages=[
            MessageLine(
                created_at=r.created_at,
                channel=CHANNEL_WORDS[OutboxChannel(r.channel)],
                template=r.template,
                recipient=r.recipient,
                status=_words(r.status),
                last_error=r.last_error,
            )
            for r in db.session.execute(_MESSAGES, params)
        ],
        timeline=timeline,
        timeline_page=timeline_where,
        unallocated_pence=unallocated.account_total(account_id),
        legal=legal,
    )
