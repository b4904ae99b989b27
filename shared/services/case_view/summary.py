"""The block on top of every section of the case page: who the debtor is, what they
owe, what must be known before acting (flags and holds), how far up the recovery
ladder the account is, and the next thing in the diary.

Read-only, every statement built once with bind parameters and answered by an
index on the account. The invoices are read here because the stage and the oldest
debt come from them; the invoices section shows the same rows without reading them
again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from shared.domain.names import display_name
from shared.extensions import db
from shared.models import (
    AccountHold,
    BreathingSpaceType,
    Channel,
    ContactEvent,
    DebtorAccount,
    HoldKind,
    RecoveryStage,
    StaffUser,
)
from shared.money import format_gbp
from shared.services import unallocated
from shared.services.account_view import (
    _ACCOUNT_COLUMNS,
    RECOVERY_STAGE_WORDS,
    InvoiceRow,
    _balance_of,
    invoices_of,
    primary_address_lines,
)
from shared.services.legal.summary import LegalSummary, legal_summary, statute_barred_words

BREATHING_SPACE_WORDS = {
    BreathingSpaceType.STANDARD: "Standard",
    BreathingSpaceType.MENTAL_HEALTH_CRISIS: "Mental health crisis",
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
class NextAction:
    """The earliest follow-up in the diary on this account that nothing has dealt with."""

    due: date
    summary: str
    by: str
    days_overdue: int  # 0 when due today, negative while still to come


@dataclass(frozen=True)
class CaseSummary:
    account: CaseAccount
    flags: list[Flag]
    recovery_stage: str
    oldest_debt: OldestDebt | None
    next_action: NextAction | None
    # Every invoice on the account, oldest due first (the invoices section shows them).
    invoices: list[InvoiceRow]
    # Money on the account allocated to no invoice (from the unallocated payments queue).
    unallocated_pence: int = 0
    # Letters of Claim, judgments, statute-barred debts (shared.services.legal.summary).
    legal: LegalSummary | None = None

    @property
    def open_invoices(self) -> list[InvoiceRow]:
        return [i for i in self.invoices if i.outstanding_pence > 0]

    @property
    def paid_invoices(self) -> list[InvoiceRow]:
        return [i for i in self.invoices if i.outstanding_pence <= 0]


# --- statements, built once ----------------------------------------------------------

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

# A follow-up stays open until the officer who set it records anything later on the
# account (as the diary reads it: shared.services.contacts.due_follow_ups).
_LATER = sa.orm.aliased(ContactEvent)
_NEXT_FOLLOW_UP = (
    sa.select(ContactEvent.follow_up_date, ContactEvent.summary, StaffUser.full_name)
    .outerjoin(StaffUser, StaffUser.id == ContactEvent.staff_id)
    .where(
        ContactEvent.account_id == sa.bindparam("account_id"),
        ContactEvent.follow_up_date.is_not(None),
        ~sa.exists().where(
            _LATER.account_id == ContactEvent.account_id,
            _LATER.staff_id == ContactEvent.staff_id,
            _LATER.id > ContactEvent.id,
        ),
    )
    .order_by(ContactEvent.follow_up_date, ContactEvent.id)
    .limit(1)
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


def words(value: str) -> str:
    """A stored enum value as words: "payment_plan" -> "Payment plan"."""
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


def _oldest(open_invoices: list[InvoiceRow], today: date) -> OldestDebt | None:
    if not open_invoices:
        return None
    oldest = min(open_invoices, key=lambda i: (i.due_date, i.id))
    return OldestDebt(oldest.number, oldest.due_date, (today - oldest.due_date).days)


def _next_action(account_id: int, today: date) -> NextAction | None:
    row = db.session.execute(_NEXT_FOLLOW_UP, {"account_id": account_id}).one_or_none()
    if row is None:
        return None
    return NextAction(
        due=row.follow_up_date,
        summary=row.summary,
        by=row.full_name or "System",
        days_overdue=(today - row.follow_up_date).days,
    )


def case_summary(reference: str, today: date) -> CaseSummary | None:
    """The top of every case section for the account with this reference, or None."""
    row = db.session.execute(_ACCOUNT, {"reference": reference}).one_or_none()
    if row is None:
        return None
    account_id = row.id
    invoices = invoices_of(account_id, today)
    open_invoices = [i for i in invoices if i.outstanding_pence > 0]
    # The account is as far up the ladder as its furthest open invoice.
    stage = max(
        (i.recovery_stage for i in open_invoices),
        key=_STAGE_ORDER.__getitem__,
        default=RECOVERY_STAGE_WORDS[RecoveryStage.NONE],
    )
    legal = legal_summary(account_id, today)
    return CaseSummary(
        account=CaseAccount(
            id=account_id,
            reference=row.reference,
            name=display_name(
                row.kind, row.title, row.forename, row.surname, row.organisation_name
            ),
            kind=words(row.kind),
            balance_pence=int(row.balance),
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
        next_action=_next_action(account_id, today),
        invoices=invoices,
        unallocated_pence=unallocated.account_total(account_id),
        legal=legal,
    )


def address_lines(account_id: int) -> list[str]:
    """The account's primary address, line by line (the summary section shows it)."""
    return primary_address_lines(account_id)
