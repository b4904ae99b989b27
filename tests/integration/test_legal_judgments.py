"""Recording a County Court judgment: court, claim number (unique, uppercased), date,
amount and the account's open invoices it covers; on the timeline and in the audit log;
refused with a field's reason and nothing written when anything is wrong."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from shared.models import (
    AuditLog,
    ContactEvent,
    CourtJudgment,
    CourtJudgmentInvoice,
    PaymentMethod,
    StaffRole,
)
from shared.services import ledger
from shared.services.actors import SYSTEM, staff
from shared.services.errors import Forbidden
from shared.services.legal import judgments
from shared.services.legal.officers import Refused
from tests.factories import make_account, make_department, make_staff
from tests.frozen_clock import TODAY, frozen_clock

pytestmark = frozen_clock
COURT = "County Court Money Claims Centre"


def _invoice(account, number, pence=10_000):
    return ledger.raise_invoice(
        account_id=account.id,
        department_id=make_department().id,
        number=number,
        issue_date=TODAY - timedelta(days=200),
        due_date=TODAY - timedelta(days=170),
        description="Trade waste",
        lines=[ledger.LineInput("Bin lifts", 1, pence)],
        actor=SYSTEM,
    )


@pytest.fixture
def world(db):
    account = make_account(surname="Archer")
    first, second = _invoice(account, "INV00000701"), _invoice(account, "INV00000702")
    officer = make_staff(role=StaffRole.OFFICER, full_name="Sam Officer")
    return account, first, second, staff(officer.id)


def record(actor, account, invoices, **kw):
    fields = {
        "court": COURT,
        "claim_number": "k12ab345",
        "judgment_date": TODAY - timedelta(days=3),
        "amount_pence": 21_500,
    } | kw
    return judgments.record_judgment(
        actor,
        account.id,
        fields["court"],
        fields["claim_number"],
        fields["judgment_date"],
        fields["amount_pence"],
        [i.id for i in invoices],
        today=TODAY,
    )


def counts(db) -> tuple[int, int, int]:
    """Judgments, their invoices, and judgments on the timeline."""
    return (
        *(
            db.session.scalar(sa.select(sa.func.count()).select_from(t))
            for t in (CourtJudgment, CourtJudgmentInvoice)
        ),
        db.session.scalar(
            sa.select(sa.func.count()).where(ContactEvent.summary.like("County Court judgment%"))
        ),
    )


def test_a_judgment_is_recorded_with_its_invoices_on_the_timeline_and_audit_log(db, world):
    account, first, second, actor = world

    result = record(actor, account, [first, second])

    assert result.created
    judgment = result.judgment
    assert (judgment.claim_number, judgment.amount_pence) == ("K12AB345", 21_500)
    [view] = judgments.judgments_for(account.id)
    assert view.invoice_numbers == ["INV00000701", "INV00000702"]
    assert view.recorded_by == "Sam Officer"
    event = db.session.get(ContactEvent, judgment.contact_event_id)
    assert event.summary.startswith(
        f"County Court judgment recorded: claim K12AB345, {COURT}, £215.00"
    )
    audit = db.session.scalar(
        sa.select(AuditLog).where(AuditLog.action == "legal.judgment_recorded")
    )
    assert audit.after["invoices"] == ["INV00000701", "INV00000702"]


def test_the_same_judgment_sent_twice_is_recorded_once(db, world):
    account, first, _, actor = world

    record(actor, account, [first])
    again = record(actor, account, [first], claim_number="K12 AB345")

    assert not again.created
    assert counts(db) == (1, 1, 1)


def test_a_claim_number_already_used_is_refused_saying_where(db, world):
    account, first, second, actor = world
    record(actor, account, [first])

    with pytest.raises(Refused) as refused:
        record(actor, account, [second], amount_pence=999)

    assert refused.value.problems == {
        "claim_number": f"A judgment with claim number K12AB345 is already recorded, on account "
        f"{account.reference}: check the number on the court's papers"
    }
    assert counts(db) == (1, 1, 1)


def test_an_invoice_already_covered_by_a_judgment_is_refused(db, world):
    account, first, _, actor = world
    record(actor, account, [first])

    with pytest.raises(Refused) as refused:
        record(actor, account, [first], claim_number="M1QZ123A")

    assert refused.value.problems["invoices"] == (
        "Invoice INV00000701 is already covered by the judgment in claim K12AB345"
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"claim_number": "12"}, "claim_number"),
        ({"court": ""}, "court"),
        ({"judgment_date": TODAY + timedelta(days=1)}, "judgment_date"),
        ({"amount_pence": 0}, "amount"),
    ],
)
def test_a_bad_judgment_is_refused_naming_the_field_and_nothing_is_written(
    db, world, change, field
):
    account, first, _, actor = world

    with pytest.raises(Refused) as refused:
        record(actor, account, [first], **change)

    assert field in refused.value.problems
    assert counts(db) == (0, 0, 0)


def test_invoices_must_be_this_accounts_and_open(db, world):
    account, first, second, actor = world
    other = _invoice(make_account(), "INV00000799")
    ledger.record_payment(
        account_id=account.id,
        amount_pence=10_000,
        method=PaymentMethod.CHEQUE,
        actor=SYSTEM,
        external_reference="cheque:777",
        allocations=[(second.id, 10_000)],
    )

    with pytest.raises(Refused) as foreign:
        record(actor, account, [first, other])
    with pytest.raises(Refused) as paid:
        record(actor, account, [second])
    with pytest.raises(Refused) as none:
        record(actor, account, [])

    assert foreign.value.problems["invoices"] == "Select invoices on this account"
    assert paid.value.problems["invoices"] == "Invoice INV00000702 has nothing outstanding"
    assert none.value.problems["invoices"] == "Select the invoices the judgment is for"
    assert counts(db)[:2] == (0, 0)


def test_an_auditor_may_not_record_a_judgment(db, world):
    account, first, _, _ = world

    with pytest.raises(Forbidden):
        record(staff(make_staff(role=StaffRole.AUDITOR).id), account, [first])
