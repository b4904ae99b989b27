"""The checking queue: a different officer issues an invoice waiting to be checked, or
returns it to its raiser with a note saying what to change.

Nobody checks their own invoice, and a service-department user never checks one
(shared/domain/invoice_checks.py); the database refuses a checker who is the raiser
as well (invoice_drafts' CHECK constraint).
"""

from __future__ import annotations

from shared import clock
from shared.domain.invoice_checks import CheckRefused, DraftStatus, check_move, why_checker_refused
from shared.extensions import db
from shared.models import Invoice, InvoiceDraft, StaffUser
from shared.services.actors import Actor
from shared.services.errors import Forbidden, InvalidRequest
from shared.services.history import record_audit, record_timeline
from shared.services.invoices import drafts, issuing
from shared.services.invoices.drafts import AUDIT_OBJECT
from shared.services.unit_of_work import use_case

MAX_NOTE = 1000


def note_problem(note: str | None) -> str | None:
    """Why a return note will not do, in GOV.UK words, or None."""
    text = (note or "").strip()
    if not text:
        return "Enter what the raiser needs to change"
    if len(text) > MAX_NOTE:
        return f"Note must be {MAX_NOTE:,} characters or fewer"
    return None


def _checkable(draft_id: int, actor: Actor) -> tuple[StaffUser, InvoiceDraft]:
    checker = drafts.staff_acting(actor)
    draft = drafts.locked_draft(draft_id)
    refusal = why_checker_refused(checker.id, checker.role.value, draft.raised_by_staff_id)
    if refusal:
        raise Forbidden(refusal)
    return checker, draft


@use_case
def issue_checked(draft_id: int, version: int, actor: Actor) -> Invoice:
    """A checker issues an invoice from the queue: numbered, posted and sent."""
    _, draft = _checkable(draft_id, actor)
    if draft.status != DraftStatus.AWAITING_CHECK and draft.status != DraftStatus.ISSUED:
        raise InvalidRequest("This invoice is not waiting to be checked")
    issuing.claim_for_issue(draft, version)
    invoice = issuing.issue(draft, actor, checked=True)
    db.session.commit()
    return invoice


@use_case
def return_to_raiser(draft_id: int, version: int, note: str, actor: Actor) -> InvoiceDraft:
    """A checker sends an invoice back to its raiser with a note of what to change."""
    problem = note_problem(note)
    if problem:
        raise InvalidRequest(problem)
    checker, draft = _checkable(draft_id, actor)
    try:
        check_move(draft.status, DraftStatus.RETURNED)
    except CheckRefused as exc:
        raise InvalidRequest(str(exc)) from None
    drafts.same_version(draft, version)
    draft.status = DraftStatus.RETURNED
    draft.return_note = note.strip()
    draft.checked_by_staff_id = checker.id
    draft.checked_at = clock.utcnow()
    draft.version += 1
    draft.updated_at = clock.utcnow()
    record_timeline(
        draft.account_id,
        actor,
        f"Invoice returned to {db.session.get(StaffUser, draft.raised_by_staff_id).full_name} "
        "to be changed",
        detail=draft.return_note,
    )
    record_audit(
        actor,
        "invoice_draft.returned",
        AUDIT_OBJECT,
        draft.id,
        account_id=draft.account_id,
        before={"status": DraftStatus.AWAITING_CHECK.value},
        after={"status": draft.status.value, "note": draft.return_note},
    )
    db.session.commit()
    return draft
