"""The Letter of Claim: the reply form received is a contact on the timeline and waits
for an officer (the ladder and legal referral pause), the officer dealing with it lets
recovery go on without restarting the 30 days, and the Information Sheet and Reply
Form enclosed with the letter (read back with pypdf)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from shared import documents
from shared.models import AuditLog, ContactEvent, ContactKind, LetterOfClaim, StaffRole
from shared.services.actors import staff
from shared.services.errors import Forbidden
from shared.services.legal import pre_action
from shared.services.legal.officers import Refused
from tests.factories import make_account, make_staff
from tests.frozen_clock import TODAY, frozen_clock

pytestmark = frozen_clock


@pytest.fixture
def letter(db):
    account = make_account(surname="Archer", forename="Jane", reference="T00004242")
    row = LetterOfClaim(
        account_id=account.id,
        amount_pence=45_678,
        written_on=TODAY - timedelta(days=12),
        posted_on=TODAY - timedelta(days=10),
        respond_by=TODAY + timedelta(days=20),
    )
    db.session.add(row)
    db.session.commit()
    return row


@pytest.fixture
def officer(db):
    return make_staff(role=StaffRole.OFFICER, full_name="Sam Officer")


def reload(db, letter) -> LetterOfClaim:
    db.session.expire_all()
    return db.session.get(LetterOfClaim, letter.id)


def test_a_reply_form_is_a_letter_contact_on_the_timeline_and_pauses_the_account(
    db, letter, officer
):
    pre_action.record_reply(
        staff(officer.id), letter.id, TODAY - timedelta(days=1), "Disputes it", today=TODAY
    )

    row = reload(db, letter)
    assert row.reply_received_on == TODAY - timedelta(days=1)
    event = db.session.get(ContactEvent, row.reply_contact_event_id)
    assert (event.kind, event.outcome, event.detail) == (
        ContactKind.LETTER,
        "reply_form_received",
        "Disputes it",
    )
    assert event.staff_id == officer.id
    assert "Reply form received" in event.summary
    [waiting] = [v for v in pre_action.claim_letters(row.account_id) if v.awaiting_officer]
    assert waiting.id == letter.id
    [view] = pre_action.letters_for(row.account_id)
    assert view.status == "Reply waiting for an officer"
    audit = db.session.scalar(
        sa.select(AuditLog).where(AuditLog.action == "legal.claim_reply_recorded")
    )
    assert audit.object_id == str(letter.id)
    assert audit.after["reply_received_on"] == (TODAY - timedelta(days=1)).isoformat()


def test_dealing_with_the_reply_lets_recovery_go_on_without_restarting_the_30_days(
    db, letter, officer
):
    pre_action.record_reply(staff(officer.id), letter.id, TODAY, "Wants time", today=TODAY)

    pre_action.resolve_reply(staff(officer.id), letter.id, "Plan agreed", today=TODAY)

    row = reload(db, letter)
    assert (row.reply_resolved_on, row.resolved_by_staff_id) == (TODAY, officer.id)
    assert row.respond_by == TODAY + timedelta(days=20)  # unchanged
    assert not any(v.awaiting_officer for v in pre_action.claim_letters(row.account_id))
    summaries = db.session.scalars(sa.select(ContactEvent.summary)).all()
    assert any(s.startswith("Reply to the Letter of Claim of") for s in summaries)


def test_recording_and_resolving_twice_has_one_effect(db, letter, officer):
    actor = staff(officer.id)
    for _ in range(2):
        pre_action.record_reply(actor, letter.id, TODAY, "Disputes it", today=TODAY)
    for _ in range(2):
        pre_action.resolve_reply(actor, letter.id, "Answered", today=TODAY)

    assert db.session.scalar(sa.select(sa.func.count()).select_from(ContactEvent)) == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)) == 2


def test_a_second_reply_with_another_date_is_refused(db, letter, officer):
    pre_action.record_reply(staff(officer.id), letter.id, TODAY, "x", today=TODAY)

    with pytest.raises(Refused) as refused:
        pre_action.record_reply(
            staff(officer.id), letter.id, TODAY - timedelta(days=1), "x", today=TODAY
        )

    assert "already recorded" in refused.value.problems["received_on"]


def test_a_reply_to_a_letter_not_posted_yet_is_refused_and_changes_nothing(db, letter, officer):
    row = reload(db, letter)
    row.posted_on = row.respond_by = None
    db.session.commit()

    with pytest.raises(Refused) as refused:
        pre_action.record_reply(staff(officer.id), letter.id, TODAY, "x", today=TODAY)

    assert refused.value.problems["received_on"].startswith("This Letter of Claim has not been")
    assert reload(db, letter).reply_received_on is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ContactEvent)) == 0


def test_a_reply_cannot_be_dealt_with_before_it_is_recorded(db, letter, officer):
    with pytest.raises(Refused):
        pre_action.resolve_reply(staff(officer.id), letter.id, "x", today=TODAY)

    assert reload(db, letter).reply_resolved_on is None


def test_an_auditor_may_not_record_a_reply(db, letter):
    with pytest.raises(Forbidden):
        pre_action.record_reply(
            staff(make_staff(role=StaffRole.AUDITOR).id), letter.id, TODAY, "x", today=TODAY
        )


def test_the_enclosures_are_registered_and_render_the_information_sheet_and_reply_form(db, letter):
    attachment = documents.render_attachment(
        {"document": "letter_of_claim_enclosures", "id": letter.id}
    )

    assert attachment.content_type == "application/pdf"
    assert attachment.filename.endswith(".pdf")
    reader = PdfReader(io.BytesIO(attachment.content))
    words = " ".join(" ".join(page.extract_text().split()) for page in reader.pages)
    assert len(reader.pages) >= 2
    for expected in (
        "Information sheet",
        "Reply form",
        "Jane Archer",
        "T00004242",
        "£456.78",
        f"{TODAY - timedelta(days=12):%-d %B %Y}",  # the letter's date
        f"{TODAY + timedelta(days=20):%-d %B %Y}",  # reply by
        "MoneyHelper",
        "StepChange",
        "National Debtline",
        "Citizens Advice",
        "30 days",
        "I agree I owe the debt",
        "I want time to pay",
        "I dispute the debt",
        "I need time to get advice",
        "financial statement",
        "County Court",
    ):
        assert expected in words, expected


def test_enclosures_rendered_before_posting_give_30_days_from_the_letters_date(db, letter):
    row = reload(db, letter)
    row.posted_on = row.respond_by = None
    db.session.commit()

    words = " ".join(
        page.extract_text()
        for page in PdfReader(io.BytesIO(pre_action.enclosures_pdf(row.id))).pages
    )

    assert f"{TODAY + timedelta(days=18):%-d %B %Y}" in " ".join(words.split())
