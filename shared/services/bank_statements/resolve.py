"""An officer settles a suggested or unmatched statement line: posts it to the account
(and invoice) they chose, or marks it not ours with a reason.

Each is one transaction with its audit row. A line is resolved once: the
resolution row is unique per line, and the payment carries the line's own ledger
reference, so the same form sent twice (a double click) posts one payment and the
second answer says the line was already dealt with.

If the account chosen has the same bank transfer recorded by hand already (same
amount, within five working days of the booking day, not claimed by another line:
shared.domain.bank_statements.hand_keyed), the line is linked to that payment instead
of being posted again, and verifies it if it was waiting for verification. An officer
cannot confirm, this way, a payment they recorded themselves and nobody has verified:
that would be verifying their own payment.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from shared.domain.bank_statements.hand_keyed import MatchedCredit, claim
from shared.domain.bank_statements.matching import LineOutcome
from shared.extensions import db
from shared.models import (
    BankLineResolution,
    BankStatementLine,
    DebtorAccount,
    Invoice,
    PaymentMethod,
    PaymentVerification,
    ResolutionAction,
    VerificationStatus,
)
from shared.services import ledger
from shared.services.actors import Actor
from shared.services.bank_statements import hand_keyed
from shared.services.bank_statements.importer import payment_reference
from shared.services.bank_statements.lookups import owed_by_invoice
from shared.services.errors import Forbidden, InvalidRequest, NotFound
from shared.services.history import record_audit
from shared.services.unit_of_work import use_case

WAITING = (LineOutcome.SUGGESTED, LineOutcome.UNMATCHED)
MAX_REASON = 500


@dataclass(frozen=True)
class Resolved:
    line_id: int
    created: bool  # False: the line had already been resolved; nothing changed
    action: ResolutionAction
    ledger_entry_id: int | None

    @property
    def linked(self) -> bool:
        """The line was the account's hand-recorded transfer: linked, not posted again."""
        return self.action == ResolutionAction.LINKED


def _waiting_line(line_id: int, actor: Actor) -> tuple[BankStatementLine, Resolved | None]:
    if actor.staff_id is None:
        raise Forbidden("Only a member of staff can resolve a statement line")
    line = db.session.get(BankStatementLine, line_id)
    if line is None:
        raise NotFound(f"No bank statement line {line_id}")
    if line.outcome not in WAITING:
        raise InvalidRequest("This statement line was not waiting for an officer")
    earlier = db.session.scalar(
        sa.select(BankLineResolution).where(BankLineResolution.line_id == line_id)
    )
    if earlier is not None:
        return line, Resolved(line_id, False, earlier.action, earlier.ledger_entry_id)
    return line, None


def _resolved_meanwhile(line_id: int, exc: IntegrityError) -> Resolved:
    """After a unique constraint refused the commit: another request resolved the line
    first (its answer is returned), or something else is wrong (raised again)."""
    db.session.rollback()
    earlier = db.session.scalar(
        sa.select(BankLineResolution).where(BankLineResolution.line_id == line_id)
    )
    if earlier is None:
        raise exc
    return Resolved(line_id, False, earlier.action, earlier.ledger_entry_id)


@use_case
def post_line(
    *, line_id: int, account_reference: str, invoice_id: int | None, actor: Actor
) -> Resolved:
    """Post a waiting line as a bank transfer to the account (and invoice) chosen."""
    line, done = _waiting_line(line_id, actor)
    if done is not None:
        return done
    reference = "".join((account_reference or "").split()).upper()
    account = db.session.scalar(
        sa.select(DebtorAccount).where(DebtorAccount.reference == reference)
    )
    if account is None:
        raise NotFound(f"No debtor account {reference or '(none given)'}")
    keyed = _recorded_by_hand(line, account.id)
    if keyed is not None:
        return _link(line, account, keyed, actor)
    allocations = None
    if invoice_id is not None:
        invoice = db.session.get(Invoice, invoice_id)
        if invoice is None or invoice.account_id != account.id:
            raise InvalidRequest(f"That invoice is not on account {account.reference}")
        owed = owed_by_invoice([invoice_id]).get(invoice_id, 0)
        if owed > 0:
            allocations = [(invoice_id, min(owed, line.amount_pence))]
    result = ledger.post_payment(
        account_id=account.id,
        amount_pence=line.amount_pence,
        method=PaymentMethod.BANK_TRANSFER,
        actor=actor,
        external_reference=payment_reference(line.bank_account, line.line_reference),
        effective_date=line.booking_date,
        allocations=allocations,
        note=f"Bank statement line {line.line_reference}: {line.remittance}"[:300],
    )
    db.session.add(
        BankLineResolution(
            line_id=line.id,
            action=ResolutionAction.POSTED,
            account_id=account.id,
            invoice_id=invoice_id,
            ledger_entry_id=result.entry.id,
            staff_id=actor.staff_id,
        )
    )
    record_audit(
        actor,
        "bank_statement_line.posted",
        "bank_statement_line",
        line.id,
        account_id=account.id,
        before={"outcome": line.outcome.value},
        after={"ledger_entry_id": result.entry.id, "invoice_id": invoice_id},
    )
    try:
        db.session.commit()
    except IntegrityError as exc:
        return _resolved_meanwhile(line.id, exc)
    return Resolved(line.id, True, ResolutionAction.POSTED, result.entry.id)


def _recorded_by_hand(line: BankStatementLine, account_id: int) -> int | None:
    """The hand-recorded payment on the account (locked by the read) that this line is,
    if any: the same rule as the import's."""
    payments = hand_keyed.unclaimed_payments([account_id], line.booking_date, line.booking_date)
    credit = MatchedCredit(line.id, account_id, line.amount_pence, line.booking_date)
    found = claim([credit], payments).get(line.id)
    return found.entry_id if found is not None else None


def _link(line: BankStatementLine, account: DebtorAccount, entry_id: int, actor: Actor) -> Resolved:
    recorder = db.session.scalar(
        sa.select(PaymentVerification.recorded_by_staff_id).where(
            PaymentVerification.ledger_entry_id == entry_id,
            PaymentVerification.status == VerificationStatus.UNVERIFIED,
        )
    )
    if recorder is not None and recorder == actor.staff_id:
        # InvalidRequest, not Forbidden: the form shows it, and another officer may do it.
        raise InvalidRequest(
            f"You recorded the payment on {account.reference} that this line would verify: "
            "another officer must match this line"
        )
    try:
        db.session.add(
            BankLineResolution(
                line_id=line.id,
                action=ResolutionAction.LINKED,
                account_id=account.id,
                ledger_entry_id=entry_id,
                staff_id=actor.staff_id,
            )
        )
        verified = hand_keyed.verify([(entry_id, line.line_reference)], actor)
        record_audit(
            actor,
            "bank_statement_line.linked",
            "bank_statement_line",
            line.id,
            account_id=account.id,
            before={"outcome": line.outcome.value},
            after={"ledger_entry_id": entry_id, "verified": bool(verified)},
        )
        db.session.commit()
    except IntegrityError as exc:
        return _resolved_meanwhile(line.id, exc)
    return Resolved(line.id, True, ResolutionAction.LINKED, entry_id)


@use_case
def not_ours(*, line_id: int, reason: str, actor: Actor) -> Resolved:
    """Mark a waiting line as not the council's debt (paid in error, another
    department's income): it is not posted, and the reason is kept."""
    text = " ".join((reason or "").split())
    if not text:
        raise InvalidRequest("Enter why this money is not a payment of a debt")
    if len(text) > MAX_REASON:
        raise InvalidRequest(f"The reason must be {MAX_REASON} characters or fewer")
    line, done = _waiting_line(line_id, actor)
    if done is not None:
        return done
    db.session.add(
        BankLineResolution(
            line_id=line.id, action=ResolutionAction.NOT_OURS, reason=text, staff_id=actor.staff_id
        )
    )
    record_audit(
        actor,
        "bank_statement_line.not_ours",
        "bank_statement_line",
        line.id,
        before={"outcome": line.outcome.value},
        after={"reason": text, "amount_pence": line.amount_pence},
    )
    try:
        db.session.commit()
    except IntegrityError as exc:
        return _resolved_meanwhile(line.id, exc)
    return Resolved(line.id, True, ResolutionAction.NOT_OURS, None)
