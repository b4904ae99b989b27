"""Direct Debit instructions (mandates): sign up, change bank details, cancel.

One use case a function, one commit each. Every one:
- checks the bank details (shared/domain/bacs: reading, modulus checking) and the way
  the instruction was given (paperless needs the payer to be the only signatory; by
  phone the officer reads it all back; paper is signed by everyone and dated) and
  refuses with field-by-field problems (MandateRefused), having written nothing;
- stores the details only sealed (bank_details.seal) with the last two digits in the
  clear, and puts only masked forms on the timeline and in the audit log;
- writes the written confirmation to the outbox in the same transaction;
- after the commit, enqueues the account's collections sync (mandates_jobs).

An account has at most one live mandate (a partial unique index). A new instruction
replaces the live one, which is cancelled: with a 0C to come (needs_cancel_instruction)
if its 0N had reached Bacs, or simply stopped if it never left us.

Double submits: change and cancel claim the mandate at the version the person saw
(a conditional UPDATE), so the second of two clicks finds it moved on and is refused
with Conflict; sign_up is told which live mandate (if any) the person meant to replace,
so a second click finds the first click's mandate instead and is refused the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from shared import clock
from shared.domain.bacs import references
from shared.extensions import db
from shared.models import DebtorAccount, OutboxChannel
from shared.models.directdebit import (
    LIVE_MANDATE_STATUSES,
    Mandate,
    MandateSource,
    MandateStatus,
    ModulusOutcome,
)
from shared.models.plans import LIVE_ARRANGEMENT_STATUSES, Arrangement, PaymentRoute
from shared.money import format_gbp
from shared.services.actors import Actor
from shared.services.directdebit import bank_details
from shared.services.directdebit.mandates_checks import (
    CheckedDetails,
    MandateRefused,
    check_bank_details,
    instruction_problems,
)
from shared.services.directdebit.mandates_confirmation import (
    first_collection,
    plan_on_account,
    write_confirmation,
)
from shared.services.directdebit.mandates_jobs import enqueue_sync
from shared.services.errors import Conflict, Forbidden, InvalidRequest, NotFound
from shared.services.history import record_audit, record_timeline
from shared.services.unit_of_work import use_case

AUDIT_OBJECT = "mandate"
MAX_REASON = 200
# Statuses in which the 0N has reached (or is on its way to) Bacs.
LODGED_STATUSES = (MandateStatus.SUBMITTED, MandateStatus.ACTIVE)

STATUS_WORDS = {
    MandateStatus.PENDING_SUBMISSION: "Being set up",
    MandateStatus.SUBMITTED: "Being set up",
    MandateStatus.ACTIVE: "Active",
    MandateStatus.CANCELLED: "Cancelled",
    MandateStatus.FAILED: "Rejected by the bank",
}
SOURCE_WORDS = {
    MandateSource.PORTAL: "online by the payer",
    MandateSource.PHONE: "by phone",
    MandateSource.PAPER: "from a signed paper instruction",
}
CHANGED_SINCE = (
    "This Direct Debit has just been changed or cancelled. Look at it again before you try again"
)


# --- reads ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MandateView:
    """A mandate as people see it: bank details masked."""

    id: int
    account_id: int
    reference: str
    status: MandateStatus
    status_words: str
    holder_name: str
    masked_sort_code: str
    account_ending: str
    source: MandateSource
    collects_invoices: bool
    modulus_outcome: ModulusOutcome
    version: int
    created_at: datetime

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_MANDATE_STATUSES

    @property
    def masked_account(self) -> str:
        return "******" + self.account_ending


def _view(row: Mandate) -> MandateView:
    return MandateView(
        id=row.id,
        account_id=row.account_id,
        reference=row.reference,
        status=row.status,
        status_words=STATUS_WORDS[row.status],
        holder_name=row.account_holder_name,
        masked_sort_code=bank_details.open_sealed(row.bank_details_encrypted).masked_sort_code,
        account_ending=row.account_ending,
        source=row.source,
        collects_invoices=row.collects_invoices,
        modulus_outcome=row.modulus_outcome,
        version=row.version,
        created_at=row.created_at,
    )


def _live_row(account_id: int, *, lock: bool = False) -> Mandate | None:
    query = sa.select(Mandate).where(
        Mandate.account_id == account_id, Mandate.status.in_(LIVE_MANDATE_STATUSES)
    )
    if lock:
        query = query.with_for_update()
    return db.session.scalars(query.order_by(Mandate.id.desc()).limit(1)).first()


def live_mandate(account_id: int) -> MandateView | None:
    """The account's live mandate (pending, submitted or active), or None."""
    row = _live_row(account_id)
    return None if row is None else _view(row)


def mandate_on_account(mandate_id: int, account_id: int) -> MandateView | None:
    """One mandate of this account; None for anyone else's (or none at all)."""
    row = db.session.get(Mandate, mandate_id)
    return None if row is None or row.account_id != account_id else _view(row)


def plan_needs_direct_debit(plan_id: int, account_id: int) -> bool:
    """Whether `plan_id` is a live plan of this account (one a mandate may be for)."""
    plan = plan_on_account(plan_id, account_id)
    return plan is not None and plan.status in LIVE_ARRANGEMENT_STATUSES


# --- shared steps -----------------------------------------------------------------------------


def _check_actor(actor: Actor, source: MandateSource) -> None:
    if source == MandateSource.PORTAL and actor.portal_user_id is None:
        raise Forbidden("Only the payer signs up online")
    if source != MandateSource.PORTAL and actor.staff_id is None:
        raise Forbidden("Only an officer takes an instruction by phone or on paper")


def _checked_or_refuse(
    holder_name: str,
    sort_code: str,
    account_number: str,
    source: MandateSource,
    *,
    sole_signatory: bool,
    read_back_confirmed: bool,
    date_signed: date | None,
) -> CheckedDetails:
    checked = check_bank_details(holder_name, sort_code, account_number)
    problems = dict(checked.problems)
    problems.update(
        instruction_problems(
            source,
            sole_signatory=sole_signatory,
            read_back_confirmed=read_back_confirmed,
            date_signed=date_signed,
            today=clock.today(),
        )
    )
    if problems:
        raise MandateRefused(problems)
    return checked


def _lodged(mandate: Mandate) -> bool:
    return mandate.status in LODGED_STATUSES or mandate.lodged_in_file_id is not None


def _stop(mandate: Mandate, reason: str, *, claimed: bool) -> bool:
    """Cancel a live mandate row; True if Bacs must be sent a 0C for it. A row not
    `claimed` at a version (one a new sign-up replaces) is moved on a version here."""
    needs_0c = _lodged(mandate)
    mandate.status = MandateStatus.CANCELLED
    mandate.cancelled_at = clock.utcnow()
    mandate.cancellation_reason = reason[:MAX_REASON]
    mandate.needs_cancel_instruction = needs_0c
    if not claimed:
        mandate.version = mandate.version + 1
    return needs_0c


def _claim(mandate_id: int, expected_version: int, account_id: int | None) -> Mandate:
    """The live mandate at the version the person saw, moved on one version; Conflict if
    it has changed since (a second click), NotFound if it is not theirs."""
    mandate = db.session.get(Mandate, mandate_id, with_for_update=True)
    if mandate is None or (account_id is not None and mandate.account_id != account_id):
        raise NotFound(f"No Direct Debit {mandate_id}")
    claimed = db.session.execute(
        sa.update(Mandate)
        .where(
            Mandate.id == mandate_id,
            Mandate.version == expected_version,
            Mandate.status.in_(LIVE_MANDATE_STATUSES),
        )
        .values(version=Mandate.version + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise Conflict(CHANGED_SINCE)
    db.session.refresh(mandate)
    return mandate


def _next_reference(account: DebtorAccount) -> str:
    count = db.session.scalar(
        sa.select(sa.func.count(Mandate.id)).where(Mandate.account_id == account.id)
    )
    return references.mandate_reference(account.reference, int(count or 0) + 1)


def _sent_words(channel: OutboxChannel | None) -> str:
    if channel == OutboxChannel.EMAIL:
        return "confirmation emailed"
    if channel == OutboxChannel.LETTER:
        return "confirmation queued for the print batch"
    return "no confirmation sent: there is no email or postal address on file"


def _create(
    account: DebtorAccount,
    checked: CheckedDetails,
    source: MandateSource,
    actor: Actor,
    *,
    replacing: Mandate | None,
    collects_invoices: bool,
    for_plan_id: int | None,
    date_signed: date | None,
    action: str,
    summary: str,
    replacing_claimed: bool = False,
) -> Mandate:
    """Cancel `replacing` (if any), store the new mandate, confirm it, record it."""
    details = checked.details
    assert details is not None and checked.holder_name is not None
    old_needs_0c = None
    if replacing is not None:
        old_needs_0c = _stop(
            replacing, "Replaced by a new Direct Debit instruction", claimed=replacing_claimed
        )
    try:
        db.session.flush()  # the old one is no longer live before the new one is
        mandate = Mandate(
            account_id=account.id,
            reference=_next_reference(account),
            account_holder_name=checked.holder_name,
            bank_details_encrypted=bank_details.seal(details),
            account_ending=details.account_ending,
            modulus_outcome=checked.modulus_outcome,
            source=source,
            status=MandateStatus.PENDING_SUBMISSION,
            collects_invoices=collects_invoices,
            portal_user_id=actor.portal_user_id,
            taken_by_staff_id=actor.staff_id,
            replaces_mandate_id=replacing.id if replacing is not None else None,
        )
        db.session.add(mandate)
        db.session.flush()
    except IntegrityError:
        # Another request set up a mandate on this account at the same moment.
        raise Conflict(CHANGED_SINCE) from None
    first = first_collection(for_plan_id, clock.today())
    message = write_confirmation(account, mandate, details, checked.holder_name, first)
    db.session.flush()
    mandate.confirmation_message_id = message.id if message is not None else None
    words = [
        summary.format(reference=mandate.reference, ending=details.account_ending),
        f"Bank account ending {details.account_ending}, sort code {details.masked_sort_code}",
    ]
    if checked.modulus_outcome == ModulusOutcome.COULD_NOT_CHECK:
        words.append("the sort code could not be checked against the bank tables")
    if date_signed is not None:
        words.append(f"signed {date_signed:%-d %B %Y}")
    if replacing is not None:
        words.append(
            f"replaces {replacing.reference}"
            + (" (a cancellation goes to Bacs)" if old_needs_0c else "")
        )
    words.append(_sent_words(message.channel if message is not None else None))
    record_timeline(account.id, actor, "; ".join(words))
    record_audit(
        actor,
        action,
        AUDIT_OBJECT,
        mandate.id,
        account_id=account.id,
        before=(
            {
                "mandate_id": replacing.id,
                "reference": replacing.reference,
                "status": MandateStatus.CANCELLED.value,
                "needs_cancel_instruction": old_needs_0c,
            }
            if replacing is not None
            else None
        ),
        after={
            "reference": mandate.reference,
            "status": mandate.status.value,
            "source": source.value,
            "holder_name": checked.holder_name,
            "sort_code": details.masked_sort_code,
            "account": details.masked_account,
            "modulus_outcome": mandate.modulus_outcome.value,
            "collects_invoices": collects_invoices,
            "for_plan_id": for_plan_id,
            "date_signed": date_signed.isoformat() if date_signed else None,
            "replaces_mandate_id": mandate.replaces_mandate_id,
            "confirmation_message_id": mandate.confirmation_message_id,
            "first_collection": (
                {"date": first.entry_day.isoformat(), "amount_pence": first.amount_pence}
                if first is not None
                else None
            ),
        },
    )
    return mandate


def _commit_and_sync(mandate: Mandate) -> Mandate:
    account_id, mandate_id, version = mandate.account_id, mandate.id, mandate.version
    db.session.commit()
    enqueue_sync(account_id, mandate_id, version)
    return mandate


# --- use cases --------------------------------------------------------------------------------


_SIGN_UP_SUMMARY = {
    MandateSource.PORTAL: "Direct Debit {reference} set up online by the payer",
    MandateSource.PHONE: "Direct Debit {reference} taken by phone",
    MandateSource.PAPER: "Direct Debit {reference} recorded from a signed paper instruction",
}


@use_case
def sign_up(
    actor: Actor,
    account_id: int,
    *,
    holder_name: str,
    sort_code: str,
    account_number: str,
    sole_signatory: bool,
    source: MandateSource,
    collects_invoices: bool = False,
    for_plan_id: int | None = None,
    replaces: int | None = None,
    date_signed: date | None = None,
    read_back_confirmed: bool = False,
) -> Mandate:
    """Take a Direct Debit instruction for the account (portal, phone or paper).

    `replaces` is the live mandate the person saw and means to replace (None: they saw
    none); a different live mandate means someone (or a second click) got there first,
    and the request is refused with Conflict."""
    source = MandateSource(source)
    _check_actor(actor, source)
    account = db.session.get(DebtorAccount, account_id, with_for_update=True)
    if account is None:
        raise NotFound(f"No debtor account {account_id}")
    checked = _checked_or_refuse(
        holder_name,
        sort_code,
        account_number,
        source,
        sole_signatory=sole_signatory,
        read_back_confirmed=read_back_confirmed,
        date_signed=date_signed,
    )
    if for_plan_id is not None and not plan_needs_direct_debit(for_plan_id, account_id):
        raise InvalidRequest("That payment plan is not a live plan on this account")
    live = _live_row(account_id, lock=True)
    if (live.id if live is not None else None) != replaces:
        raise Conflict(
            f"This account already has a Direct Debit ({live.reference}): change its bank "
            "details or cancel it instead"
            if live is not None
            else CHANGED_SINCE
        )
    mandate = _create(
        account,
        checked,
        source,
        actor,
        replacing=live,
        collects_invoices=collects_invoices,
        for_plan_id=for_plan_id,
        date_signed=date_signed if source == MandateSource.PAPER else None,
        action="mandate.signed_up",
        summary=_SIGN_UP_SUMMARY[source],
    )
    return _commit_and_sync(mandate)


@use_case
def change_bank_details(
    actor: Actor,
    mandate_id: int,
    expected_version: int,
    *,
    holder_name: str,
    sort_code: str,
    account_number: str,
    sole_signatory: bool,
    source: MandateSource | None = None,
    account_id: int | None = None,
    date_signed: date | None = None,
    read_back_confirmed: bool = False,
) -> Mandate:
    """The payer's new bank details: a new mandate (0N to come) replaces the old one,
    which is cancelled (0C to come if it had been lodged). `account_id`, when given,
    is the only account the mandate may belong to (the payer's own)."""
    if source is None:
        source = MandateSource.PORTAL if actor.portal_user_id is not None else MandateSource.PHONE
    source = MandateSource(source)
    _check_actor(actor, source)
    checked = _checked_or_refuse(
        holder_name,
        sort_code,
        account_number,
        source,
        sole_signatory=sole_signatory,
        read_back_confirmed=read_back_confirmed,
        date_signed=date_signed,
    )
    old = _claim(mandate_id, expected_version, account_id)
    account = db.session.get(DebtorAccount, old.account_id, with_for_update=True)
    mandate = _create(
        account,
        checked,
        source,
        actor,
        replacing=old,
        collects_invoices=old.collects_invoices,
        for_plan_id=None,
        date_signed=date_signed if source == MandateSource.PAPER else None,
        action="mandate.bank_details_changed",
        replacing_claimed=True,
        summary="Direct Debit bank details changed " + SOURCE_WORDS[source] + ": {reference}",
    )
    return _commit_and_sync(mandate)


@use_case
def cancel(
    actor: Actor,
    mandate_id: int,
    expected_version: int,
    reason: str,
    *,
    account_id: int | None = None,
) -> Mandate:
    """Cancel the mandate: a 0C goes to Bacs if its 0N had been lodged; one never lodged
    just stops. Scheduled collections are cancelled by the collections sync."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise MandateRefused({"reason": "Enter why the Direct Debit is being cancelled"})
    if len(reason) > MAX_REASON:
        raise MandateRefused({"reason": f"Reason must be {MAX_REASON} characters or fewer"})
    if actor.staff_id is None and actor.portal_user_id is None:
        raise Forbidden("Only the payer or an officer cancels a Direct Debit here")
    mandate = _claim(mandate_id, expected_version, account_id)
    before = {"status": mandate.status.value, "version": expected_version}
    needs_0c = _stop(mandate, reason, claimed=True)
    record_timeline(
        mandate.account_id,
        actor,
        f"Direct Debit {mandate.reference} cancelled: {reason}"
        + ("; a cancellation goes to Bacs" if needs_0c else "; it had not reached Bacs"),
    )
    record_audit(
        actor,
        "mandate.cancelled",
        AUDIT_OBJECT,
        mandate.id,
        account_id=mandate.account_id,
        before=before,
        after={
            "status": mandate.status.value,
            "reason": reason,
            "needs_cancel_instruction": needs_0c,
            "account": "******" + mandate.account_ending,
        },
    )
    return _commit_and_sync(mandate)


# --- what a new mandate may be for ---------------------------------------------------------


def plans_to_collect(account_id: int) -> list[tuple[int, str]]:
    """The account's live plans to be paid by Direct Debit, newest first, as (id, words)."""
    rows = db.session.execute(
        sa.select(Arrangement.id, Arrangement.total_pence, Arrangement.frequency)
        .where(
            Arrangement.account_id == account_id,
            Arrangement.status.in_(LIVE_ARRANGEMENT_STATUSES),
            Arrangement.payment_route == PaymentRoute.DIRECT_DEBIT,
        )
        .order_by(Arrangement.id.desc())
    ).all()
    return [
        (
            r.id,
            f"Your payment plan of {format_gbp(r.total_pence)} "
            f"({str(r.frequency).replace('_', '-')} payments)",
        )
        for r in rows
    ]
