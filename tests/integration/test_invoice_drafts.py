"""Invoices raised in the back office: drafts, the checking queue, issuing and sending
(shared/services/invoices/), against a real database."""

from __future__ import annotations

import base64
import io
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from shared.domain.invoice_checks import DraftStatus
from shared.domain.vat import VatRate
from shared.extensions import db
from shared.models import (
    AuditLog,
    Channel,
    ContactEvent,
    EntryKind,
    IncomeCode,
    Invoice,
    InvoiceDraft,
    LedgerEntry,
    OutboxChannel,
    OutboxMessage,
    StaffRole,
    VatRatePeriod,
)
from shared.services import actors
from shared.services.errors import Conflict, Forbidden, InvalidRequest, NotFound
from shared.services.invoices import checking, drafts, issuing, reads
from tests.factories import make_account, make_department, make_staff
from tests.frozen_clock import TODAY, frozen_clock
from tests.messaging_fixtures import run_outbox_jobs

pytestmark = frozen_clock


def ensure_vat_rates() -> None:
    """Migration 0019's UK rates: the PostgreSQL run empties every table before each test,
    the seeded ones included, so put them back when they are gone."""
    if db.session.scalar(sa.select(sa.func.count()).select_from(VatRatePeriod)):
        return
    for rate, start, basis_points in (
        (VatRate.STANDARD, date(2011, 1, 4), 2000),
        (VatRate.REDUCED, date(1997, 9, 1), 500),
        (VatRate.ZERO, date(1973, 4, 1), 0),
        (VatRate.EXEMPT, date(1973, 4, 1), 0),
        (VatRate.OUTSIDE_SCOPE, date(1973, 4, 1), 0),
    ):
        db.session.add(VatRatePeriod(rate=rate, valid_from=start, basis_points=basis_points))
    db.session.commit()


def make_code(department, code="TW01", active=True) -> IncomeCode:
    row = IncomeCode(
        department_id=department.id,
        code=code,
        description="Commercial collections",
        cost_centre="CC100",
        ledger_code="L4000",
        active=active,
    )
    db.session.add(row)
    db.session.commit()
    return row


class World:
    """A department with an income code, an account, and the people who raise and check."""

    def __init__(self, **account):
        ensure_vat_rates()
        self.department = make_department(payment_terms_days=14)
        self.code = make_code(self.department)
        self.account = make_account(**account)
        self.officer = make_staff(StaffRole.OFFICER, invoice_limit_pence=200_000)
        self.checker = make_staff(StaffRole.TEAM_LEADER, invoice_limit_pence=0)
        self.service_user = make_staff(
            StaffRole.SERVICE_DEPARTMENT, department_id=self.department.id
        )

    def actor(self, user):
        return actors.staff(user.id, "198.51.100.7")

    def details(self, **kw) -> drafts.DraftDetails:
        return drafts.DraftDetails(
            department_id=kw.pop("department_id", self.department.id),
            income_code_id=kw.pop("income_code_id", self.code.id),
            description=kw.pop("description", "Trade waste collections, June"),
            **kw,
        )

    def draft(self, user, *lines, **kw) -> InvoiceDraft:
        """A draft by `user` with lines of (quantity, unit price pence, VAT rate)."""
        draft = drafts.start_draft(self.account.id, self.details(**kw), self.actor(user))
        for quantity, price, rate in lines or [(2, 10_000, VatRate.STANDARD)]:
            version = db.session.get(InvoiceDraft, draft.id).version
            drafts.add_line(
                draft.id,
                version,
                drafts.LineDetails("Bin lift", quantity, price, rate),
                self.actor(user),
            )
        return db.session.get(InvoiceDraft, draft.id)

    def submitted(self, user, *lines, **kw) -> InvoiceDraft:
        draft = self.draft(user, *lines, **kw)
        drafts.send_for_checking(draft.id, draft.version, self.actor(user))
        return db.session.get(InvoiceDraft, draft.id)


@pytest.fixture
def world(app):
    return World()


def _invoices() -> list[Invoice]:
    return list(db.session.scalars(sa.select(Invoice)))


def _outbox() -> list[OutboxMessage]:
    return list(db.session.scalars(sa.select(OutboxMessage)))


def test_an_officer_issues_their_own_invoice_within_their_limit_numbered_and_posted_once(world):
    draft = world.draft(world.officer, (2, 10_000, VatRate.STANDARD), (1, 5_000, VatRate.EXEMPT))

    invoice = issuing.issue_unchecked(draft.id, draft.version, world.actor(world.officer))

    [stored] = _invoices()
    assert stored.number == "INV00000001"
    assert stored.issue_date == TODAY
    # No due date chosen: the department's 14 days of payment terms.
    assert stored.due_date == TODAY + timedelta(days=14)
    # 2 x £100 at 20% is £240; £50 exempt adds £50.
    assert (stored.net_pence, stored.vat_pence, stored.total_pence) == (25_000, 4_000, 29_000)
    assert stored.income_code_id == world.code.id
    assert stored.raised_by_staff_id == world.officer.id
    entries = db.session.scalars(
        sa.select(LedgerEntry).where(LedgerEntry.invoice_id == invoice.id)
    ).all()
    assert [(e.kind, e.amount_pence) for e in entries] == [(EntryKind.INVOICE, 29_000)]
    draft = db.session.get(InvoiceDraft, draft.id)
    assert draft.status == DraftStatus.ISSUED and draft.invoice_id == invoice.id
    assert draft.checked_by_staff_id is None


def test_a_chosen_due_date_is_kept_and_the_purchase_order_is_on_the_invoice(world):
    due = TODAY + timedelta(days=60)
    draft = world.draft(world.officer, due_date=due, purchase_order=" PO-7781 ")

    issuing.issue_unchecked(draft.id, draft.version, world.actor(world.officer))

    [invoice] = _invoices()
    assert invoice.due_date == due
    assert invoice.purchase_order == "PO-7781"


def test_issuing_twice_with_the_same_version_issues_once(world):
    draft = world.draft(world.officer)
    version = draft.version
    issuing.issue_unchecked(draft.id, version, world.actor(world.officer))

    with pytest.raises(InvalidRequest, match="This invoice is issued, so it cannot be issued"):
        issuing.issue_unchecked(draft.id, version, world.actor(world.officer))

    assert len(_invoices()) == 1
    assert len(_outbox()) == 1
    assert (
        db.session.scalar(sa.select(sa.func.count()).where(LedgerEntry.kind == EntryKind.INVOICE))
        == 1
    )


def test_a_checker_clicking_issue_twice_issues_once(world):
    draft = world.submitted(world.service_user)
    version = draft.version
    checking.issue_checked(draft.id, version, world.actor(world.checker))

    with pytest.raises(InvalidRequest):
        checking.issue_checked(draft.id, version, world.actor(world.checker))

    assert len(_invoices()) == 1


def test_an_officer_above_their_limit_cannot_issue_without_a_check(world):
    draft = world.draft(world.officer, (1, 300_000, VatRate.OUTSIDE_SCOPE))

    with pytest.raises(Forbidden, match="above your invoice limit"):
        issuing.issue_unchecked(draft.id, draft.version, world.actor(world.officer))

    assert _invoices() == []
    assert db.session.get(InvoiceDraft, draft.id).status == DraftStatus.DRAFT


def test_a_service_department_user_can_never_issue_even_a_small_invoice(world):
    world.service_user.invoice_limit_pence = 10_000_000
    db.session.commit()
    draft = world.draft(world.service_user, (1, 100, VatRate.OUTSIDE_SCOPE))

    with pytest.raises(Forbidden, match="checked before they are issued"):
        issuing.issue_unchecked(draft.id, draft.version, world.actor(world.service_user))
    submitted = world.submitted(world.service_user)
    with pytest.raises(Forbidden, match="Service department users cannot check invoices"):
        checking.issue_checked(submitted.id, submitted.version, world.actor(world.service_user))

    assert _invoices() == []


def test_the_checker_cannot_be_the_raiser(world):
    draft = world.submitted(world.officer, (1, 300_000, VatRate.OUTSIDE_SCOPE))

    with pytest.raises(Forbidden, match="someone else must check it"):
        checking.issue_checked(draft.id, draft.version, world.actor(world.officer))
    with pytest.raises(Forbidden, match="someone else must check it"):
        checking.return_to_raiser(draft.id, draft.version, "No", world.actor(world.officer))

    assert _invoices() == []
    assert db.session.get(InvoiceDraft, draft.id).status == DraftStatus.AWAITING_CHECK


def test_the_database_refuses_a_draft_checked_by_its_raiser(world):
    draft = world.submitted(world.officer)
    draft.checked_by_staff_id = world.officer.id

    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_a_checked_invoice_is_issued_by_the_checker_and_names_the_raiser(world):
    draft = world.submitted(world.service_user)

    invoice = checking.issue_checked(draft.id, draft.version, world.actor(world.checker))

    assert invoice.raised_by_staff_id == world.service_user.id
    entry = db.session.scalar(sa.select(LedgerEntry).where(LedgerEntry.invoice_id == invoice.id))
    assert entry.created_by_staff_id == world.checker.id
    draft = db.session.get(InvoiceDraft, draft.id)
    assert draft.checked_by_staff_id == world.checker.id
    assert draft.checked_at is not None
    actions = db.session.scalars(
        sa.select(AuditLog.action).where(AuditLog.object_type == "invoice_draft")
    ).all()
    assert "invoice_draft.issued" in actions


def test_return_then_change_then_resubmit_then_issue(world):
    draft = world.submitted(world.service_user)

    checking.return_to_raiser(
        draft.id, draft.version, "Use the June price list", world.actor(world.checker)
    )
    returned = db.session.get(InvoiceDraft, draft.id)
    assert returned.status == DraftStatus.RETURNED
    assert returned.return_note == "Use the June price list"
    drafts.remove_line(returned.id, returned.version, 1, world.actor(world.service_user))
    changed = db.session.get(InvoiceDraft, draft.id)
    drafts.add_line(
        changed.id,
        changed.version,
        drafts.LineDetails("Bin lift (June prices)", 2, 11_000, VatRate.STANDARD),
        world.actor(world.service_user),
    )
    changed = db.session.get(InvoiceDraft, draft.id)
    drafts.send_for_checking(changed.id, changed.version, world.actor(world.service_user))
    again = db.session.get(InvoiceDraft, draft.id)
    assert again.status == DraftStatus.AWAITING_CHECK

    invoice = checking.issue_checked(again.id, again.version, world.actor(world.checker))

    assert invoice.total_pence == 26_400
    assert [line.description for line in invoice.lines] == ["Bin lift (June prices)"]


def test_returning_needs_a_note_and_changes_nothing_without_one(world):
    draft = world.submitted(world.service_user)

    with pytest.raises(InvalidRequest, match="Enter what the raiser needs to change"):
        checking.return_to_raiser(draft.id, draft.version, "  ", world.actor(world.checker))

    assert db.session.get(InvoiceDraft, draft.id).status == DraftStatus.AWAITING_CHECK


def test_a_returned_invoice_cannot_be_issued_until_it_is_sent_for_checking_again(world):
    draft = world.submitted(world.officer)
    checking.return_to_raiser(draft.id, draft.version, "Wrong code", world.actor(world.checker))
    returned = db.session.get(InvoiceDraft, draft.id)

    with pytest.raises(InvalidRequest):
        issuing.issue_unchecked(returned.id, returned.version, world.actor(world.officer))
    with pytest.raises(InvalidRequest, match="not waiting to be checked"):
        checking.issue_checked(returned.id, returned.version, world.actor(world.checker))

    assert _invoices() == []


def test_a_draft_waiting_to_be_checked_cannot_be_changed_by_its_raiser(world):
    draft = world.submitted(world.officer)

    with pytest.raises(InvalidRequest, match="cannot be changed"):
        drafts.add_line(
            draft.id,
            draft.version,
            drafts.LineDetails("More", 1, 100, VatRate.ZERO),
            world.actor(world.officer),
        )


def test_a_stale_version_is_refused_and_changes_nothing(world):
    draft = world.draft(world.officer)
    stale = draft.version
    drafts.add_line(
        draft.id,
        stale,
        drafts.LineDetails("Second", 1, 100, VatRate.ZERO),
        world.actor(world.officer),
    )

    with pytest.raises(Conflict, match="changed since you opened it"):
        drafts.remove_line(draft.id, stale, 1, world.actor(world.officer))

    assert len(db.session.get(InvoiceDraft, draft.id).lines) == 2


def test_a_service_department_user_raises_only_for_their_own_department(world):
    other = make_department()
    other_code = make_code(other, code="LIC01")

    with pytest.raises(Forbidden, match="your own department"):
        drafts.start_draft(
            world.account.id,
            world.details(department_id=other.id, income_code_id=other_code.id),
            world.actor(world.service_user),
        )

    assert db.session.scalar(sa.select(sa.func.count()).select_from(InvoiceDraft)) == 0
    choices = reads.income_code_choices(world.service_user.id)
    assert [c.id for c in choices] == [world.code.id]


def test_a_service_department_user_sees_only_their_own_drafts(world):
    colleague = make_staff(StaffRole.SERVICE_DEPARTMENT, department_id=world.department.id)
    theirs = world.draft(colleague)
    mine = world.draft(world.service_user)

    assert reads.draft_view(theirs.id, world.service_user.id) is None
    assert reads.draft_view(mine.id, world.service_user.id) is not None
    with pytest.raises(NotFound):
        drafts.cancel(theirs.id, theirs.version, world.actor(world.service_user))
    open_, _ = reads.my_drafts(world.service_user.id)
    assert [row.id for row in open_] == [mine.id]


def test_an_income_code_must_be_the_departments_and_in_use(world):
    other_code = make_code(make_department(), code="X1")
    retired = make_code(world.department, code="OLD", active=False)

    with pytest.raises(InvalidRequest, match="income codes"):
        drafts.start_draft(
            world.account.id,
            world.details(income_code_id=other_code.id),
            world.actor(world.officer),
        )
    with pytest.raises(InvalidRequest, match="no longer in use"):
        drafts.start_draft(
            world.account.id, world.details(income_code_id=retired.id), world.actor(world.officer)
        )


def test_the_checking_queue_lists_the_longest_waiting_first(world):
    first = world.submitted(world.service_user)
    second = world.submitted(world.officer, (1, 300_000, VatRate.OUTSIDE_SCOPE))
    world.draft(world.officer)  # not sent for checking

    queue = reads.checking_queue()

    assert [row.id for row in queue] == [first.id, second.id]
    assert queue[0].total_pence == 24_000
    assert reads.waiting_count() == 2
    assert reads.waiting_count(exclude_raised_by=world.officer.id) == 1


def test_cancelling_a_draft_writes_nothing_to_the_ledger(world):
    draft = world.draft(world.officer)

    drafts.cancel(draft.id, draft.version, world.actor(world.officer))

    assert db.session.get(InvoiceDraft, draft.id).status == DraftStatus.CANCELLED
    assert _invoices() == []
    summaries = db.session.scalars(sa.select(ContactEvent.summary)).all()
    assert any(s.startswith("Invoice cancelled before issue") for s in summaries)


def test_an_invoice_goes_by_email_to_a_debtor_who_chose_email(app):
    world = World(email="pat@example.com", preferred_channel=Channel.EMAIL)
    draft = world.draft(world.officer)

    invoice = issuing.issue_unchecked(draft.id, draft.version, world.actor(world.officer))

    [message] = _outbox()
    assert message.channel == OutboxChannel.EMAIL
    assert message.recipient == "pat@example.com"
    assert message.payload == {"attachment": {"document": "invoice", "id": invoice.id}}
    assert message.dedupe_key == issuing.dedupe_key(invoice.id)
    assert invoice.number in message.subject


def test_an_invoice_goes_by_letter_to_a_debtor_who_chose_post(app):
    world = World(email="pat@example.com", preferred_channel=Channel.POST)
    draft = world.draft(world.officer)

    issuing.issue_unchecked(draft.id, draft.version, world.actor(world.officer))

    [message] = _outbox()
    assert message.channel == OutboxChannel.LETTER
    assert "Ambridge" in message.recipient


def test_an_invoice_is_never_texted_email_with_consent_else_a_letter(app):
    texted = World(
        mobile_phone="+447700900123",
        consent_sms=True,
        preferred_channel=Channel.SMS,
        email="sam@example.com",
        consent_email=True,
    )
    draft = texted.draft(texted.officer)
    issuing.issue_unchecked(draft.id, draft.version, texted.actor(texted.officer))
    no_email = World(mobile_phone="+447700900124", consent_sms=True, preferred_channel=Channel.SMS)
    draft = no_email.draft(no_email.officer)
    issuing.issue_unchecked(draft.id, draft.version, no_email.actor(no_email.officer))

    channels = sorted((m.account_id, m.channel) for m in _outbox())
    assert channels == [
        (texted.account.id, OutboxChannel.EMAIL),
        (no_email.account.id, OutboxChannel.LETTER),
    ]


def test_the_emailed_invoice_carries_its_pdf(outbox_app, mailbox):
    world = World(email="pat@example.com", preferred_channel=Channel.EMAIL)
    draft = world.draft(world.officer)
    number = issuing.issue_unchecked(draft.id, draft.version, world.actor(world.officer)).number

    run_outbox_jobs(outbox_app)  # the worker closes the session: read what is needed first

    [mail] = mailbox.messages()
    assert mail["subject"] == f"Invoice {number} from {outbox_app.config['COUNCIL_NAME']}"
    [attachment] = mail["attachments"]
    assert attachment["filename"] == f"{number}.pdf"
    assert attachment["content_type"] == "application/pdf"
    pdf = PdfReader(io.BytesIO(base64.b64decode(attachment["content_base64"])))
    text = " ".join(page.extract_text() for page in pdf.pages)
    assert number in text
    assert "£240.00" in text
    assert "DRAFT" not in text
    [message] = _outbox()
    assert message.status == "sent"


def test_the_draft_preview_is_a_pdf_marked_draft(world):
    draft = world.draft(world.officer)
    view = reads.draft_view(draft.id, world.officer.id)

    from shared.services.invoices.documents import draft_preview_pdf

    pdf = PdfReader(io.BytesIO(draft_preview_pdf(view)))
    text = " ".join(page.extract_text() for page in pdf.pages)
    assert "DRAFT - not an invoice" in text
    assert "£240.00" in text
