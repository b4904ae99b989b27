"""Referral's gates before court and enforcement, through the referral service: a
statute-barred debt is refused, an individual's debts go to legal only after a Letter
of Claim, its 30 days and any reply dealt with, and a debt goes to an enforcement agent
only with a County Court judgment. And the referral pack carries no health or
vulnerability notes."""

from __future__ import annotations

import io
import zipfile
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from shared.domain.holds import HoldTerms
from shared.models import (
    DebtorAccount,
    DebtorKind,
    EnforcementReferral,
    Invoice,
    LetterOfClaim,
    RecoveryStage,
    StaffRole,
)
from shared.services import contacts, holds, ledger, referral_pack, referrals
from shared.services.actors import SYSTEM, staff
from shared.services.legal import judgments, pre_action
from shared.services.referrals import ReferralRefused
from tests.factories import make_account, make_department, make_staff
from tests.frozen_clock import TODAY, frozen_clock

pytestmark = frozen_clock


def _invoice(account, number, due):
    return ledger.raise_invoice(
        account_id=account.id,
        department_id=make_department().id,
        number=number,
        issue_date=due - timedelta(days=30),
        due_date=due,
        description="Trade waste",
        lines=[ledger.LineInput("Bin lifts", 1, 10_000)],
        actor=SYSTEM,
    )


@pytest.fixture
def officer(db):
    return staff(make_staff(role=StaffRole.OFFICER, full_name="Sam Officer").id)


@pytest.fixture
def person(db):
    account = make_account(surname="Archer")
    return account, _invoice(account, "INV00000901", TODAY - timedelta(days=90))


def letter(db, account, *, posted_days_ago=40, **kw):
    posted = TODAY - timedelta(days=posted_days_ago)
    row = LetterOfClaim(
        account_id=account.id,
        amount_pence=10_000,
        written_on=posted - timedelta(days=1),
        posted_on=posted,
        respond_by=posted + timedelta(days=30),
        **kw,
    )
    db.session.add(row)
    db.session.commit()
    return row


def refer(officer, account, destination, invoice):
    return referrals.refer_for_enforcement(
        account.id, destination, "Court", officer, today=TODAY, invoice_ids=[invoice.id]
    )


def assert_not_referred(db, invoice):
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EnforcementReferral)) == 0
    assert db.session.get(Invoice, invoice.id).recovery_stage == RecoveryStage.NONE


def test_a_persons_debts_without_a_posted_letter_of_claim_are_refused_for_legal(
    db, officer, person
):
    account, inv = person

    with pytest.raises(ReferralRefused) as refused:
        refer(officer, account, "legal", inv)

    assert refused.value.reasons == (
        "No Letter of Claim has been posted to the debtor: an individual's debts can only be "
        "referred to legal 30 days after one is posted (Pre-Action Protocol for Debt Claims).",
    )
    assert_not_referred(db, inv)


def test_within_the_30_days_legal_is_refused_saying_from_when(db, officer, person):
    account, inv = person
    letter(db, account, posted_days_ago=10)

    with pytest.raises(ReferralRefused) as refused:
        refer(officer, account, "legal", inv)

    assert refused.value.reasons == (
        f"Invoice INV00000901: the debtor has until {TODAY + timedelta(days=20):%-d %B %Y} to "
        f"reply to the Letter of Claim posted on {TODAY - timedelta(days=10):%-d %B %Y}, so it "
        f"can be referred to legal from {TODAY + timedelta(days=21):%-d %B %Y}.",
    )
    assert_not_referred(db, inv)


def test_a_reply_pauses_legal_referral_until_it_is_dealt_with(db, officer, person):
    account, inv = person
    row = letter(db, account)
    pre_action.record_reply(officer, row.id, TODAY - timedelta(days=2), "Disputes", today=TODAY)

    with pytest.raises(ReferralRefused) as refused:
        refer(officer, account, "legal", inv)
    assert "no one has dealt with the reply yet" in refused.value.reasons[0]
    assert_not_referred(db, inv)

    pre_action.resolve_reply(officer, row.id, "Dispute answered", today=TODAY)
    result = refer(officer, account, "legal", inv)

    assert result.created
    assert db.session.get(Invoice, inv.id).recovery_stage == RecoveryStage.REFERRED_LEGAL


def test_an_organisations_debts_need_no_letter_of_claim_for_legal(db, officer):
    account = make_account(
        kind=DebtorKind.ORGANISATION, organisation_name="Ambridge Ltd", surname=None
    )
    inv = _invoice(account, "INV00000902", TODAY - timedelta(days=90))

    assert refer(officer, account, "legal", inv).created


def test_an_enforcement_agent_is_refused_without_a_judgment_and_allowed_with_one(
    db, officer, person
):
    account, inv = person

    with pytest.raises(ReferralRefused) as refused:
        refer(officer, account, "enforcement_agent", inv)
    assert refused.value.reasons == (
        "Invoice INV00000901 has no County Court judgment recorded: an enforcement agent can "
        "only act on a judgment, so record it on the Legal page first.",
    )
    assert_not_referred(db, inv)

    judgments.record_judgment(
        officer,
        account.id,
        "County Court Money Claims Centre",
        "K12AB345",
        TODAY - timedelta(days=1),
        10_000,
        [inv.id],
        today=TODAY,
    )

    assert refer(officer, account, "enforcement_agent", inv).created


@pytest.mark.parametrize("destination", ["legal", "enforcement_agent"])
def test_a_statute_barred_debt_is_refused_and_the_form_says_so(db, officer, destination):
    account = make_account()
    old = _invoice(account, "INV00000903", date(2019, 1, 1))
    letter(db, account)
    judgments.record_judgment(
        officer, account.id, "Court", "K1234", TODAY, 10_000, [old.id], today=TODAY
    )

    with pytest.raises(ReferralRefused) as refused:
        refer(officer, account, destination, old)
    [option] = referrals.referral_options(account.id, TODAY)

    message = (
        "Invoice INV00000903 is statute-barred since 3 January 2025: it cannot be pursued "
        "through the courts."
    )
    assert refused.value.reasons == (message,)
    assert option.blocked == message
    assert_not_referred(db, old)


def test_the_pack_carries_no_health_or_vulnerability_notes(db, officer):
    account = make_account(surname="Archer")
    inv = _invoice(account, "INV00000904", TODAY - timedelta(days=90))
    debtor = db.session.get(DebtorAccount, account.id)
    debtor.vulnerability_reason = "Bipolar disorder; recently bereaved"
    db.session.commit()
    holds.place_hold(
        account.id,
        HoldTerms("vulnerability_review", TODAY - timedelta(days=30), TODAY - timedelta(days=20)),
        "Told us of bipolar disorder and a recent bereavement",
        officer,
        today=TODAY - timedelta(days=30),
    )
    space = holds.place_hold(
        account.id,
        HoldTerms(
            "breathing_space",
            TODAY - timedelta(days=19),
            breathing_space_type="mental_health_crisis",
        ),
        "Approved mental health professional: detained for treatment",
        officer,
        today=TODAY - timedelta(days=19),
    )
    holds.record_crisis_treatment_end(
        space.id,
        TODAY - timedelta(days=31 - 12),
        TODAY + timedelta(days=11),
        officer,
        today=TODAY,
    )
    holds.lift_hold(
        space.id,
        "Space ended early: depression improving",
        officer,
        today=TODAY - timedelta(days=1),
    )
    contacts.record_contact(
        account.id,
        contacts.ContactRecord(contacts.ContactKind.CALL_OUT, "Rang about the arrears"),
        officer,
        today=TODAY,
    )
    letter(db, account)
    result = refer(officer, account, "legal", inv)

    pack = zipfile.ZipFile(io.BytesIO(referral_pack.referral_pack(result.referral).body))
    every_file = b" ".join(pack.read(name) for name in pack.namelist() if name.endswith(".csv"))
    history = referral_pack.contact_history_csv(result.referral).decode("utf-8-sig")

    for secret in (
        b"bipolar",
        b"Bipolar",
        b"bereave",
        b"Vulnerab",
        b"vulnerab",
        b"mental health",
        b"Mental health",
        b"treatment",
        b"depression",
        b"detained",
    ):
        assert secret not in every_file, secret
    assert "Breathing Space hold placed on all debts" in history
    assert "Rang about the arrears" in history
    assert "Referred to legal" in history
