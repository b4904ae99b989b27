"""The Letter of Claim (Pre-Action Protocol for Debt Claims; rules in
shared.domain.pre_action): the debtor's reply, an officer dealing with it, and the
Information Sheet and Reply Form enclosed with the letter.

The dunning run writes the LetterOfClaim row with the letter; releasing the print batch
that carries it sets posted_on and respond_by. A reply received pauses the recovery
ladder for the account (the run skips it) until an officer records that it has been
dealt with; that does not start the 30 days again.

The enclosures are registered with shared.documents as "letter_of_claim_enclosures"
when this module is imported (the back office imports it, so every process that builds
the app can render them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from shared import documents, pdf
from shared.domain import pre_action as rules
from shared.extensions import db
from shared.models import ContactKind, DebtorAccount, LetterOfClaim, StaffUser
from shared.services.account_view import primary_address_lines
from shared.services.actors import Actor
from shared.services.errors import NotFound
from shared.services.history import record_audit, record_timeline
from shared.services.legal.officers import Refused, legal_recorder
from shared.services.unit_of_work import use_case

DOCUMENT = "letter_of_claim_enclosures"


def _rule_view(letter: LetterOfClaim) -> rules.ClaimLetter:
    return rules.ClaimLetter(
        id=letter.id,
        written_on=letter.written_on,
        posted_on=letter.posted_on,
        respond_by=letter.respond_by,
        reply_received_on=letter.reply_received_on,
        reply_resolved_on=letter.reply_resolved_on,
    )


def claim_letters(account_id: int) -> tuple[rules.ClaimLetter, ...]:
    """The account's Letters of Claim in the shape the rules take, oldest first."""
    letters = db.session.scalars(
        sa.select(LetterOfClaim)
        .where(LetterOfClaim.account_id == account_id)
        .order_by(LetterOfClaim.written_on, LetterOfClaim.id)
    )
    return tuple(_rule_view(letter) for letter in letters)


@dataclass(frozen=True)
class LetterView:
    id: int
    amount_pence: int
    written_on: date
    posted_on: date | None
    reply_by: date | None
    reply_received_on: date | None
    reply_resolved_on: date | None
    resolved_by: str | None

    @property
    def status(self) -> str:
        if self.reply_resolved_on:
            return "Reply dealt with"
        if self.reply_received_on:
            return "Reply waiting for an officer"
        if self.posted_on is None:
            return "Waiting to be posted"
        return "Posted"


def letters_for(account_id: int) -> list[LetterView]:
    """Every Letter of Claim of the account, newest first."""
    rows = db.session.execute(
        sa.select(LetterOfClaim, StaffUser.full_name)
        .outerjoin(StaffUser, StaffUser.id == LetterOfClaim.resolved_by_staff_id)
        .where(LetterOfClaim.account_id == account_id)
        .order_by(LetterOfClaim.written_on.desc(), LetterOfClaim.id.desc())
    ).all()
    return [
        LetterView(
            id=letter.id,
            amount_pence=letter.amount_pence,
            written_on=letter.written_on,
            posted_on=letter.posted_on,
            reply_by=_rule_view(letter).reply_by,
            reply_received_on=letter.reply_received_on,
            reply_resolved_on=letter.reply_resolved_on,
            resolved_by=name,
        )
        for letter, name in rows
    ]


def letter_of(account_id: int, letter_id: int) -> LetterView | None:
    """One Letter of Claim of this account (anyone else's is None, like a missing one)."""
    return next((v for v in letters_for(account_id) if v.id == letter_id), None)


def _locked(letter_of_claim_id: int) -> LetterOfClaim:
    letter = db.session.scalar(
        sa.select(LetterOfClaim).where(LetterOfClaim.id == letter_of_claim_id).with_for_update()
    )
    if letter is None:
        raise NotFound(f"No Letter of Claim {letter_of_claim_id}")
    return letter


def _snapshot(letter: LetterOfClaim) -> dict:
    def day(value):
        return value.isoformat() if value else None

    return {
        "reply_received_on": day(letter.reply_received_on),
        "reply_contact_event_id": letter.reply_contact_event_id,
        "reply_resolved_on": day(letter.reply_resolved_on),
        "resolved_by_staff_id": letter.resolved_by_staff_id,
    }


@use_case
def record_reply(
    actor: Actor,
    letter_of_claim_id: int,
    received_on: date | None,
    note: str,
    *,
    today: date,
) -> LetterOfClaim:
    """Record the reply form (or a reply by phone or email) to a Letter of Claim: a contact
    on the timeline with the outcome "reply_form_received". Recovery of the account
    waits until an officer has dealt with it (one commit; the same form twice is once)."""
    legal_recorder(actor)
    letter = _locked(letter_of_claim_id)
    text = (note or "").strip()
    if letter.reply_received_on is not None:
        if letter.reply_received_on == received_on:
            db.session.commit()  # the same reply sent twice: nothing more to do
            return letter
        raise Refused(
            {
                "received_on": "A reply to this letter was already recorded as received on "
                f"{letter.reply_received_on:%-d %B %Y}"
            }
        )
    problems = rules.reply_problems(_rule_view(letter), received_on, text, today)
    if problems:
        raise Refused(problems)
    before = _snapshot(letter)
    event = record_timeline(
        letter.account_id,
        actor,
        f"Reply form received on {received_on:%d/%m/%Y} to the Letter of Claim of "
        f"{letter.written_on:%d/%m/%Y}: recovery waits until an officer has dealt with it",
        kind=ContactKind.LETTER,
        detail=text,
        outcome=rules.REPLY_OUTCOME,
    )
    db.session.flush()
    letter.reply_received_on = received_on
    letter.reply_contact_event_id = event.id
    record_audit(
        actor,
        "legal.claim_reply_recorded",
        "letter_of_claim",
        letter.id,
        account_id=letter.account_id,
        before=before,
        after=_snapshot(letter) | {"note": text},
    )
    db.session.commit()
    return letter


@use_case
def resolve_reply(
    actor: Actor, letter_of_claim_id: int, note: str, *, today: date
) -> LetterOfClaim:
    """Record that an officer has dealt with the reply: recovery may go on. The 30 days
    to reply are not started again (one commit; twice is once)."""
    officer = legal_recorder(actor)
    letter = _locked(letter_of_claim_id)
    if letter.reply_received_on is None:
        raise Refused({"note": "No reply to this letter has been recorded"})
    if letter.reply_resolved_on is not None:
        db.session.commit()  # dealt with already (a second click): nothing more to do
        return letter
    problems = rules.note_problems(note, "Enter what was done about the reply")
    if problems:
        raise Refused(problems)
    text = note.strip()
    before = _snapshot(letter)
    letter.reply_resolved_on = today
    letter.resolved_by_staff_id = officer.id
    record_timeline(
        letter.account_id,
        actor,
        f"Reply to the Letter of Claim of {letter.written_on:%d/%m/%Y} dealt with: "
        "recovery may go on",
        detail=text,
    )
    record_audit(
        actor,
        "legal.claim_reply_resolved",
        "letter_of_claim",
        letter.id,
        account_id=letter.account_id,
        before=before,
        after=_snapshot(letter) | {"note": text},
    )
    db.session.commit()
    return letter


@dataclass(frozen=True)
class _Party:
    reference: str
    name: str


def enclosures_pdf(letter_of_claim_id: int) -> bytes:
    """The Information Sheet and Reply Form for one Letter of Claim, as PDF."""
    letter = db.session.get(LetterOfClaim, letter_of_claim_id)
    if letter is None:
        raise NotFound(f"No Letter of Claim {letter_of_claim_id}")
    account = db.session.get(DebtorAccount, letter.account_id)
    view = _rule_view(letter)
    if view.reply_by is None:
        # Not posted yet (the print batch renders it before release): 30 days from the
        # letter's date, the earliest the posted letter can give.
        view = rules.ClaimLetter(
            id=view.id,
            written_on=view.written_on,
            posted_on=None,
            respond_by=rules.respond_by(view.written_on),
        )
    return pdf.render_pdf(
        "pdf/letter_of_claim_enclosures.html",
        account=_Party(account.reference, account.display_name),
        address_lines=primary_address_lines(account.id),
        letter=_Enclosed(view, letter.amount_pence),
    )


@dataclass(frozen=True)
class _Enclosed:
    rules: rules.ClaimLetter
    amount_pence: int

    @property
    def written_on(self) -> date:
        return self.rules.written_on

    @property
    def reply_by(self) -> date:
        return self.rules.reply_by


def _attachment(letter_of_claim_id: int) -> documents.Attachment:
    return documents.Attachment(
        f"letter-of-claim-{letter_of_claim_id}-information-sheet-and-reply-form.pdf",
        "application/pdf",
        enclosures_pdf(letter_of_claim_id),
    )


# The print batch and the outbox render the enclosures when the letter goes out.
documents.register(DOCUMENT, _attachment)
