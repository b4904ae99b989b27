"""Officers refer debts to an enforcement agent or legal: the invoices move to the
referred stage, the referral is on the timeline and in the audit log, and its pack
(statement PDF, contact history, the agent's CSV row) can be downloaded again. Debts
on hold, in Breathing Space, of someone who has died, in an active arrangement,
already referred or paid are refused with nothing changed. (What each destination
needs first, a Letter of Claim or a County Court judgment, and statute-barred debts:
tests/integration/test_legal_referral_gates.py.)"""

from __future__ import annotations

import csv
import io
import time
import zipfile
from datetime import timedelta

import pytest
import sqlalchemy as sa

from shared.domain.holds import HoldTerms
from shared.domain.referrals import PACK_COLUMNS
from shared.models import (
    Arrangement,
    ArrangementDebt,
    ArrangementStatus,
    AuditLog,
    BreathingSpaceType,
    ContactEvent,
    ContactKind,
    CourtJudgment,
    CourtJudgmentInvoice,
    DebtorAccount,
    EnforcementReferral,
    Frequency,
    Invoice,
    LetterOfClaim,
    PaymentMethod,
    PaymentRoute,
    PortalUser,
    RecoveryStage,
    StaffRole,
)
from shared.services import contacts, holds, ledger, referral_pack, referrals
from shared.services.actors import SYSTEM, staff
from shared.services.errors import Forbidden
from tests.factories import make_account, make_department, make_staff, password_hash
from tests.frozen_clock import TODAY, frozen_clock
from tests.views.conftest import signed_in_session
from tests.views.pages import csrf_token, error_summary, inline_errors, parse, text

pytestmark = frozen_clock


@pytest.fixture
def officer(client, db):
    person = make_staff(role=StaffRole.OFFICER, full_name="Sam Officer")
    signed_in_session(client, person)
    return person


def _pre_action_steps_taken(db, account, invoices):
    """What referral needs first: a Letter of Claim posted to the debtor more than 30 days
    ago (legal), and a County Court judgment for both invoices (an enforcement agent)."""
    db.session.add(
        LetterOfClaim(
            account_id=account.id,
            amount_pence=15_950,
            written_on=TODAY - timedelta(days=42),
            posted_on=TODAY - timedelta(days=41),
            respond_by=TODAY - timedelta(days=11),
        )
    )
    judgment = CourtJudgment(
        account_id=account.id,
        court="County Court Money Claims Centre",
        claim_number="K12AB345",
        judgment_date=TODAY - timedelta(days=5),
        amount_pence=15_950,
        recorded_by_staff_id=make_staff(role=StaffRole.OFFICER).id,
    )
    db.session.add(judgment)
    db.session.flush()
    db.session.add_all(
        CourtJudgmentInvoice(judgment_id=judgment.id, invoice_id=i.id) for i in invoices
    )
    db.session.commit()


@pytest.fixture
def debts(db):
    """An account owing £99.50 on an old invoice (£20.50 of £120 paid) and £60 on a newer
    one, with a Letter of Claim posted and a judgment recorded for both."""
    account = make_account(surname="Archer", email="jane@example.com", mobile_phone="07700 900982")
    department = make_department()
    invoices = [
        ledger.raise_invoice(
            account_id=account.id,
            department_id=department.id,
            number=number,
            issue_date=TODAY - timedelta(days=90),
            due_date=due,
            description="Trade waste",
            lines=[ledger.LineInput("Bin lifts", 1, pence)],
            actor=SYSTEM,
        )
        for number, due, pence in (
            ("INV00000301", TODAY - timedelta(days=60), 12_000),
            ("INV00000302", TODAY - timedelta(days=45), 6_000),
        )
    ]
    ledger.record_payment(
        account_id=account.id,
        amount_pence=2_050,
        method=PaymentMethod.CHEQUE,
        actor=SYSTEM,
        external_reference="cheque:100200",
    )
    _pre_action_steps_taken(db, account, invoices)
    return account, invoices


def form_path(account) -> str:
    return f"/backoffice/accounts/{account.reference}/referrals/new"


def refer(client, account, **fields):
    path = form_path(account)
    page = parse(client.get(path))
    data = {
        "csrf_token": page.select_one("input[name=csrf_token]")["value"],
        "submission_key": page.select_one("input[name=submission_key]")["value"],
        **fields,
    }
    return client.post(path, data=data), data


def stages(db, invoices) -> list[RecoveryStage]:
    db.session.expire_all()
    return [db.session.get(Invoice, i.id).recovery_stage for i in invoices]


def referral_rows(db) -> list[EnforcementReferral]:
    db.session.expire_all()
    return db.session.scalars(sa.select(EnforcementReferral)).all()


def referral_audits(db) -> list[AuditLog]:
    return db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "case.referred")).all()


def csv_dicts(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def assert_nothing_referred(db, invoices, before):
    assert referral_rows(db) == []
    assert stages(db, invoices) == before
    assert referral_audits(db) == []
    summaries = db.session.scalars(sa.select(ContactEvent.summary)).all()
    assert not any(s.startswith("Referred to") for s in summaries)


def test_referring_moves_the_chosen_invoices_and_records_it_with_before_and_after(
    client, db, officer, debts
):
    account, (old, new) = debts

    response, _ = refer(
        client,
        account,
        invoices=[str(old.id), str(new.id)],
        destination="enforcement_agent",
        note="Final demand ignored; no contact for 8 weeks",
    )

    assert response.status_code == 302
    assert response.headers["Location"] == f"/backoffice/accounts/{account.reference}"
    assert stages(db, [old, new]) == [RecoveryStage.REFERRED_ENFORCEMENT] * 2
    assert all(db.session.get(Invoice, i.id).recovery_stage_at is not None for i in (old, new))
    [referral] = referral_rows(db)
    assert (referral.amount_pence, referral.referred_by, referral.referred_on) == (
        15_950,
        officer.id,
        TODAY,
    )
    event = db.session.get(ContactEvent, referral.contact_event_id)
    assert event.summary == (
        "Referred to an enforcement agent: £159.50 on invoices INV00000301, INV00000302"
    )
    assert event.detail == "Final demand ignored; no contact for 8 weeks"
    assert event.staff_id == officer.id
    [audit] = referral_audits(db)
    assert audit.actor_id == officer.id and audit.object_id == str(referral.id)
    assert audit.before["recovery_stage"] == {"INV00000301": "none", "INV00000302": "none"}
    assert audit.after["recovery_stage"] == {
        "INV00000301": "referred_enforcement",
        "INV00000302": "referred_enforcement",
    }
    assert audit.after["amount_pence"] == 15_950

    case = parse(client.get(response.headers["Location"]))
    banner = case.select_one(".govuk-notification-banner--success")
    assert "Referred to an enforcement agent: £159.50" in text(banner)
    link = banner.select_one("a")
    assert link["href"] == (
        f"/backoffice/accounts/{account.reference}/referrals/{referral.id}/pack"
    )
    invoices = parse(client.get(response.headers["Location"] + "/invoices"))
    assert "Passed to enforcement agents" in text(
        invoices.select_one("#invoices").find_next("table")
    )


def test_referring_one_invoice_to_legal_leaves_the_other_alone(client, db, officer, debts):
    account, (old, new) = debts

    refer(client, account, invoices=[str(new.id)], destination="legal", note="Letter before claim")

    assert stages(db, [old, new]) == [RecoveryStage.NONE, RecoveryStage.REFERRED_LEGAL]
    [referral] = referral_rows(db)
    assert referral.amount_pence == 6_000


def test_the_same_form_sent_twice_refers_once(client, db, officer, debts):
    account, (old, _) = debts
    response, data = refer(
        client, account, invoices=[str(old.id)], destination="legal", note="Double click"
    )

    client.get(response.headers["Location"])  # shows (and uses up) the first banner
    again = client.post(form_path(account), data=data)

    assert response.status_code == again.status_code == 302
    assert len(referral_rows(db)) == 1
    assert len(referral_audits(db)) == 1
    banner = parse(client.get(again.headers["Location"])).select_one(".govuk-notification-banner")
    assert "already referred" in text(banner)


def test_a_second_referral_of_a_referred_invoice_from_a_new_form_is_refused(
    client, db, officer, debts
):
    account, (old, new) = debts
    refer(client, account, invoices=[str(old.id)], destination="legal", note="First")

    response, _ = refer(
        client, account, invoices=[str(old.id)], destination="enforcement_agent", note="Again"
    )

    assert response.status_code == 200
    assert ("Invoice INV00000301 has already been referred to legal.", "#invoices") in (
        error_summary(parse(response))
    )
    assert len(referral_rows(db)) == 1
    assert stages(db, [old, new]) == [RecoveryStage.REFERRED_LEGAL, RecoveryStage.NONE]


def _dispute(account, officer):
    holds.place_hold(
        account.id,
        HoldTerms("dispute", TODAY, TODAY + timedelta(days=14)),
        "Says the bins were not emptied",
        staff(officer.id),
        today=TODAY,
    )


def _breathing_space_hold(account, officer):
    holds.place_hold(
        account.id,
        HoldTerms(
            "breathing_space",
            TODAY,
            TODAY + timedelta(days=60),
            breathing_space_type="standard",
        ),
        "Notified by the Insolvency Service",
        staff(officer.id),
        today=TODAY,
    )


def _breathing_space_on_the_account(account, officer, db):
    debtor = db.session.get(DebtorAccount, account.id)
    debtor.breathing_space_type = BreathingSpaceType.MENTAL_HEALTH_CRISIS
    debtor.breathing_space_start = TODAY - timedelta(days=3)
    db.session.commit()


def _deceased(account, officer):
    holds.place_hold(
        account.id,
        HoldTerms("deceased", TODAY, date_of_death=TODAY),
        "Death certificate seen",
        staff(officer.id),
        today=TODAY,
    )


def _arrangement(account, invoice, db):
    plan = Arrangement(
        account_id=account.id,
        status=ArrangementStatus.ACTIVE,
        frequency=Frequency.MONTHLY,
        total_pence=9_950,
        start_date=TODAY,
        payment_route=PaymentRoute.CARD,
    )
    plan.debts.append(ArrangementDebt(invoice_id=invoice.id, amount_pence=9_950))
    db.session.add(plan)
    db.session.commit()


@pytest.mark.parametrize(
    ("set_up", "message"),
    [
        (
            lambda account, inv, officer, db: _dispute(account, officer),
            f"Invoice INV00000301 is on a dispute hold until "
            f"{(TODAY + timedelta(days=14)):%-d %B %Y} and cannot be referred.",
        ),
        (
            lambda account, inv, officer, db: _breathing_space_hold(account, officer),
            "The debtor is in Breathing Space, so nothing can be referred: "
            "no enforcement action is allowed until it ends.",
        ),
        (
            lambda account, inv, officer, db: _breathing_space_on_the_account(account, officer, db),
            "The debtor is in Breathing Space, so nothing can be referred: "
            "no enforcement action is allowed until it ends.",
        ),
        (
            lambda account, inv, officer, db: _deceased(account, officer),
            "The debtor is recorded as deceased, so nothing can be referred: "
            "deal with the estate instead.",
        ),
        (
            lambda account, inv, officer, db: _arrangement(account, inv, db),
            "Invoice INV00000301 is covered by an active arrangement: "
            "cancel or break the arrangement first.",
        ),
    ],
    ids=["dispute hold", "breathing space hold", "breathing space flag", "deceased", "arrangement"],
)
def test_a_debt_whose_recovery_must_wait_is_refused_saying_why_and_nothing_changes(
    client, db, officer, debts, set_up, message
):
    account, (old, new) = debts
    set_up(account, old, officer, db)

    response, _ = refer(
        client, account, invoices=[str(old.id)], destination="enforcement_agent", note="Try"
    )

    assert response.status_code == 200
    page = parse(response)
    assert (message, "#invoices") in error_summary(page)
    assert inline_errors(page)["invoices"] == message
    assert_nothing_referred(db, [old, new], [RecoveryStage.NONE, RecoveryStage.NONE])


def test_the_form_says_beside_each_invoice_why_it_cannot_be_referred(client, db, officer, debts):
    account, (old, _) = debts
    _dispute(account, officer)

    page = parse(client.get(form_path(account)))

    form = page.select_one("form[action$='/referrals/new']")
    assert [text(legend) for legend in form.select("legend")] == [
        "Which invoices are being referred?",
        "Who are they being referred to?",
    ]
    assert "£99.50 outstanding" in text(form)
    assert "INV00000301 is on a dispute hold until" in text(form)


def test_a_paid_invoice_has_nothing_to_refer(client, db, officer, debts):
    account, (old, new) = debts
    ledger.record_payment(
        account_id=account.id,
        amount_pence=6_000,
        method=PaymentMethod.CHEQUE,
        actor=SYSTEM,
        external_reference="cheque:100201",
        allocations=[(new.id, 6_000)],
    )

    page = parse(client.get(form_path(account)))
    offered = [i["value"] for i in page.select("input[name=invoices]")]
    response, _ = refer(
        client, account, invoices=[str(new.id)], destination="legal", note="Paid already"
    )

    assert offered == [str(old.id)]
    assert ("Invoice INV00000302 has nothing outstanding to refer.", "#invoices") in (
        error_summary(parse(response))
    )
    assert_nothing_referred(db, [old, new], [RecoveryStage.NONE, RecoveryStage.NONE])


def test_an_invoice_of_another_account_cannot_be_referred_from_this_one(client, db, officer, debts):
    account, (old, new) = debts
    other = make_account()
    foreign = ledger.raise_invoice(
        account_id=other.id,
        department_id=make_department().id,
        number="INV00000999",
        issue_date=TODAY - timedelta(days=40),
        due_date=TODAY - timedelta(days=10),
        description="x",
        lines=[ledger.LineInput("x", 1, 100)],
        actor=SYSTEM,
    )

    response, _ = refer(client, account, invoices=[str(foreign.id)], destination="legal", note="x")

    assert ("Select invoices on this account.", "#invoices") in error_summary(parse(response))
    assert referral_rows(db) == []
    assert stages(db, [foreign]) == [RecoveryStage.NONE]


@pytest.mark.parametrize(
    ("fields", "message", "anchor"),
    [
        ({"destination": "legal", "note": "x"}, "Select the invoices to refer", "#invoices"),
        ({"note": "x"}, "Select who the debts are being referred to", "#destination"),
        (
            {"destination": "bailiff", "note": "x"},
            "Select who the debts are being referred to",
            "#destination",
        ),
        ({"destination": "legal"}, "Enter why the debts are being referred", "#note"),
        (
            {"destination": "legal", "note": "x" * 2001},
            "Note must be 2,000 characters or fewer",
            "#note",
        ),
    ],
)
def test_a_form_that_will_not_do_is_explained_and_nothing_is_referred(
    client, db, officer, debts, fields, message, anchor
):
    account, (old, new) = debts
    if anchor != "#invoices":
        fields = {"invoices": [str(old.id)], **fields}

    response, _ = refer(client, account, **fields)

    assert response.status_code == 200
    page = parse(response)
    assert (message, anchor) in error_summary(page)
    assert page.title.get_text().startswith("Error:")
    assert_nothing_referred(db, [old, new], [RecoveryStage.NONE, RecoveryStage.NONE])


def test_the_service_refers_every_open_unreferred_invoice_when_none_are_named(db, debts):
    account, (old, new) = debts
    officer = make_staff(role=StaffRole.TEAM_LEADER)

    result = referrals.refer_for_enforcement(
        account.id, "legal", "All of it", staff(officer.id), today=TODAY
    )

    assert result.created
    assert stages(db, [old, new]) == [RecoveryStage.REFERRED_LEGAL] * 2
    assert result.referral.amount_pence == 15_950


def test_the_pack_holds_the_statement_the_contact_history_and_the_agents_csv_row(
    client, db, officer, debts
):
    account, (old, new) = debts
    contacts.record_contact(
        account.id,
        contacts.ContactRecord(ContactKind.CALL_OUT, "Rang about the arrears: no answer"),
        staff(officer.id),
        today=TODAY,
    )
    refer(client, account, invoices=[str(old.id), str(new.id)], destination="legal", note="Court")
    [referral] = referral_rows(db)

    response = client.get(f"/backoffice/accounts/{account.reference}/referrals/{referral.id}/pack")

    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert (
        f"referral-{account.reference}-{referral.id}.zip" in response.headers["Content-Disposition"]
    )
    pack = zipfile.ZipFile(io.BytesIO(response.data))
    assert sorted(pack.namelist()) == ["contact-history.csv", "referral.csv", "statement.pdf"]
    assert pack.read("statement.pdf").startswith(b"%PDF")

    history = csv_dicts(pack.read("contact-history.csv"))
    summaries = [row["summary"] for row in history]
    assert "Rang about the arrears: no answer" in summaries
    assert summaries[-1].startswith("Referred to legal: £159.50")
    assert [r["recorded_by"] for r in history if r["summary"].startswith("Rang")] == ["Sam Officer"]

    rows = list(csv.reader(io.StringIO(pack.read("referral.csv").decode("utf-8-sig"))))
    assert rows[0] == list(PACK_COLUMNS)
    assert rows[0] == [
        "account_reference",
        "debtor_name",
        "address",
        "postcode",
        "email",
        "phone",
        "invoice_numbers",
        "amount_referred_gbp",
        "oldest_due_date",
        "destination",
        "referral_date",
        "referring_officer",
    ]
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["account_reference"] == account.reference
    assert row["debtor_name"] == "Alex Archer"
    assert row["postcode"] == "AB1 2CD"
    assert (row["email"], row["phone"]) == ("jane@example.com", "07700 900982")
    assert row["invoice_numbers"] == "INV00000301;INV00000302"
    assert row["amount_referred_gbp"] == "159.50"
    assert row["oldest_due_date"] == (TODAY - timedelta(days=60)).isoformat()
    assert (row["destination"], row["referral_date"]) == ("legal", TODAY.isoformat())
    assert row["referring_officer"] == "Sam Officer"


def test_the_pack_downloaded_later_shows_the_debt_as_it_was_referred(client, db, officer, debts):
    account, (old, _) = debts
    refer(client, account, invoices=[str(old.id)], destination="legal", note="Court")
    [referral] = referral_rows(db)
    ledger.record_payment(
        account_id=account.id,
        amount_pence=1_000,
        method=PaymentMethod.CHEQUE,
        actor=SYSTEM,
        external_reference="cheque:100300",
        allocations=[(old.id, 1_000)],
    )
    debtor = db.session.get(DebtorAccount, account.id)
    debtor.email = "moved@example.com"
    db.session.commit()

    statement = referral_pack.referred_statement(referral)
    [row] = csv_dicts(referral_pack.referral_csv(referral))

    assert statement.balance_pence == 9_950
    assert [line.debit_pence for line in statement.lines] == [12_000, 0]
    assert [line.credit_pence for line in statement.lines] == [0, 2_050]
    assert (row["amount_referred_gbp"], row["email"]) == ("99.50", "jane@example.com")


def test_a_formula_in_the_debtors_name_is_written_as_text_in_the_csv(db, debts):
    account, _ = debts
    debtor = db.session.get(DebtorAccount, account.id)
    debtor.forename = "=HYPERLINK"
    db.session.commit()
    officer = make_staff(role=StaffRole.OFFICER)
    result = referrals.refer_for_enforcement(
        account.id, "legal", "x", staff(officer.id), today=TODAY
    )

    [row] = csv_dicts(referral_pack.referral_csv(result.referral))

    assert row["debtor_name"] == "'=HYPERLINK Archer"


def test_another_accounts_referral_pack_is_not_found(client, db, officer, debts):
    account, (old, _) = debts
    refer(client, account, invoices=[str(old.id)], destination="legal", note="Court")
    [referral] = referral_rows(db)
    other = make_account()

    response = client.get(f"/backoffice/accounts/{other.reference}/referrals/{referral.id}/pack")

    assert response.status_code == 404


def test_referrals_are_listed_with_their_pack_for_officers(client, db, officer, debts):
    account, (old, _) = debts
    refer(client, account, invoices=[str(old.id)], destination="legal", note="Court action")
    [referral] = referral_rows(db)

    page = parse(client.get(f"/backoffice/accounts/{account.reference}/referrals"))

    table = text(page.select_one("table"))
    assert "INV00000301" in table and "Legal" in table and "Court action" in table
    [download] = page.select("table a")
    assert download["href"] == (
        f"/backoffice/accounts/{account.reference}/referrals/{referral.id}/pack"
    )


def test_an_auditor_sees_referrals_but_cannot_refer_or_download_a_pack(client, db, debts):
    account, (old, new) = debts
    officer = make_staff(role=StaffRole.OFFICER)
    referrals.refer_for_enforcement(
        account.id, "legal", "Court", staff(officer.id), today=TODAY, invoice_ids=[old.id]
    )
    [referral] = referral_rows(db)
    signed_in_session(client, make_staff(role=StaffRole.AUDITOR))

    case = parse(client.get(f"/backoffice/accounts/{account.reference}"))
    listing = parse(client.get(f"/backoffice/accounts/{account.reference}/referrals"))
    form = client.get(form_path(account))
    token = csrf_token(client, f"/backoffice/accounts/{account.reference}/referrals")
    post = client.post(
        form_path(account),
        data={"csrf_token": token, "invoices": [str(new.id)], "destination": "legal", "note": "x"},
    )
    pack = client.get(f"/backoffice/accounts/{account.reference}/referrals/{referral.id}/pack")

    assert "Refer to an enforcement agent or legal" not in text(case.main)
    assert "INV00000301" in text(listing.main)
    assert "Download" not in text(listing.main)
    assert form.status_code == post.status_code == pack.status_code == 403
    assert stages(db, [new]) == [RecoveryStage.NONE]
    assert len(referral_rows(db)) == 1


def test_the_service_refuses_someone_who_may_not_refer(db, debts):
    account, (old, new) = debts
    auditor = make_staff(role=StaffRole.AUDITOR)

    with pytest.raises(Forbidden):
        referrals.refer_for_enforcement(account.id, "legal", "x", staff(auditor.id), today=TODAY)

    assert_nothing_referred(db, [old, new], [RecoveryStage.NONE, RecoveryStage.NONE])


def test_a_debtor_signed_in_to_the_portal_cannot_reach_referrals(client, db, debts):
    account, (old, _) = debts
    debtor = PortalUser(email="archer@example.com", password_hash=password_hash("a password!"))
    db.session.add(debtor)
    db.session.commit()
    with client.session_transaction() as session:
        session["portal_user_id"] = debtor.id
        session["last_seen"] = int(time.time())

    form = client.get(form_path(account))
    # A valid token for this browser, so the answer is about who is asking.
    token = csrf_token(client, "/backoffice/sign-in")
    post = client.post(
        form_path(account),
        data={"csrf_token": token, "invoices": [str(old.id)], "destination": "legal", "note": "x"},
    )

    for response in (form, post):
        assert response.status_code == 302
        assert response.headers["Location"] == "/backoffice/sign-in"
    assert referral_rows(db) == []
    assert stages(db, [old]) == [RecoveryStage.NONE]
