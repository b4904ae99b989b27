"""The Legal page of a case: Letters of Claim with their replies, County Court judgments,
acknowledgements and statute-barred debts; the forms officers record them with (errors
in a GOV.UK error summary, nothing changed); the case page's Legal line and flag; and
who may see and do what."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from shared.models import CourtJudgment, DebtAcknowledgement, LetterOfClaim, StaffRole
from shared.services import ledger
from shared.services.actors import SYSTEM
from tests.factories import make_account, make_department, make_staff
from tests.frozen_clock import TODAY, frozen_clock
from tests.views.conftest import signed_in_session
from tests.views.pages import csrf_token, error_summary, parse, text

pytestmark = frozen_clock


@pytest.fixture
def case(db):
    account = make_account(surname="Archer")
    department = make_department()
    invoices = [
        ledger.raise_invoice(
            account_id=account.id,
            department_id=department.id,
            number=number,
            issue_date=due - timedelta(days=30),
            due_date=due,
            description="Trade waste",
            lines=[ledger.LineInput("Bin lifts", 1, 12_000)],
            actor=SYSTEM,
        )
        for number, due in (
            ("INV00000501", date(2019, 1, 1)),
            ("INV00000502", TODAY - timedelta(days=60)),
        )
    ]
    letter = LetterOfClaim(
        account_id=account.id,
        amount_pence=24_000,
        written_on=TODAY - timedelta(days=12),
        posted_on=TODAY - timedelta(days=10),
        respond_by=TODAY + timedelta(days=20),
    )
    db.session.add(letter)
    db.session.commit()
    return account, invoices, letter


@pytest.fixture
def officer(client, db):
    person = make_staff(role=StaffRole.OFFICER, full_name="Sam Officer")
    signed_in_session(client, person)
    return person


def legal(account) -> str:
    return f"/backoffice/accounts/{account.reference}/legal"


def post(client, path, **fields):
    return client.post(path, data={"csrf_token": csrf_token(client, path), **fields})


def test_the_legal_page_lists_the_letter_the_time_limits_and_flags_the_statute_barred(
    client, db, officer, case
):
    account, (old, new), letter = case

    page = parse(client.get(legal(account)))

    assert page.title.get_text().startswith("Legal steps")
    letters = text(page.select_one("#letters").find_next("table"))
    assert f"{TODAY - timedelta(days=10):%-d %B %Y}" in letters
    assert f"{TODAY + timedelta(days=20):%-d %B %Y}" in letters
    assert "None received" in letters
    assert "Statute-barred since 3 January 2025: cannot be pursued through the courts" in text(
        page.main
    )
    limits = text(page.select_one("#limitation").find_next("table"))
    assert "INV00000502" in limits
    reply_link = page.select_one(f"a[href$='/legal/letters/{letter.id}/reply']")
    assert reply_link is not None


def test_the_case_page_has_the_legal_line_the_flag_and_the_link(client, db, officer, case):
    account, _, _ = case

    page = parse(client.get(f"/backoffice/accounts/{account.reference}"))

    flags = text(page.select_one("ul[aria-label=Flags]"))
    assert "Statute-barred" in flags and "INV00000501" in flags
    summary = text(page.select_one("#summary").find_next("dl"))
    assert "Letter of Claim posted" in summary and "1 statute-barred invoice" in summary
    assert page.select_one(f"a[href='{legal(account)}']") is not None


def test_an_officer_records_the_reply_and_then_marks_it_dealt_with(client, db, officer, case):
    account, _, letter = case
    base = f"{legal(account)}/letters/{letter.id}"

    reply = post(client, f"{base}/reply", received_on=f"{TODAY:%d/%m/%Y}", note="Disputes it")
    after_reply = parse(client.get(reply.headers["Location"]))
    dealt = post(client, f"{base}/dealt-with", note="Sent copies of the invoices")

    assert reply.status_code == dealt.status_code == 302
    assert "Waiting for an officer" in text(after_reply.select_one("#letters").find_next("table"))
    db.session.expire_all()
    row = db.session.get(LetterOfClaim, letter.id)
    assert (row.reply_received_on, row.reply_resolved_on) == (TODAY, TODAY)


def test_a_reply_form_that_will_not_do_is_explained_and_nothing_changes(client, db, officer, case):
    account, _, letter = case
    path = f"{legal(account)}/letters/{letter.id}/reply"

    future = post(client, path, received_on=f"{TODAY + timedelta(days=1):%d/%m/%Y}", note="x")
    blank = post(client, path, received_on="", note="")

    assert future.status_code == blank.status_code == 200
    assert (
        "The date the reply was received must be today or earlier",
        "#received_on",
    ) in error_summary(parse(future))
    assert ("Enter what the debtor said in their reply", "#note") in error_summary(parse(blank))
    db.session.expire_all()
    assert db.session.get(LetterOfClaim, letter.id).reply_received_on is None


def test_an_officer_records_a_judgment_and_sees_it_listed(client, db, officer, case):
    account, (_, new), _ = case
    path = f"{legal(account)}/judgments/new"

    response = post(
        client,
        path,
        court="County Court Money Claims Centre",
        claim_number="k12 ab345",
        judgment_date=f"{TODAY:%d/%m/%Y}",
        amount="125.50",
        invoices=[str(new.id)],
    )

    assert response.status_code == 302
    page = parse(client.get(response.headers["Location"]))
    judgments = text(page.select_one("#judgments").find_next("table"))
    assert "K12AB345" in judgments and "£125.50" in judgments and "INV00000502" in judgments


@pytest.mark.parametrize(
    ("fields", "message", "anchor"),
    [
        (
            {"claim_number": "K1"},
            "Enter the claim number as it is on the court's papers: 4 to 10 letters and "
            "digits, like K12AB345 or M1QZ123A",
            "#claim_number",
        ),
        ({"amount": "0"}, "The amount of the judgment must be more than £0", "#amount"),
        ({"invoices": []}, "Select the invoices the judgment is for", "#invoices"),
        ({"invoices": ["999999"]}, "Select invoices on this account", "#invoices"),
        (
            {"judgment_date": "31/2/2026"},
            "Date of the judgment must be a real date, like 27/3/2026",
            "#judgment_date",
        ),
    ],
)
def test_a_judgment_form_that_will_not_do_is_explained_and_nothing_is_recorded(
    client, db, officer, case, fields, message, anchor
):
    account, (_, new), _ = case
    data = {
        "court": "County Court Money Claims Centre",
        "claim_number": "K12AB345",
        "judgment_date": f"{TODAY:%d/%m/%Y}",
        "amount": "125.50",
        "invoices": [str(new.id)],
    } | fields

    response = post(client, f"{legal(account)}/judgments/new", **data)

    assert response.status_code == 200
    assert (message, anchor) in error_summary(parse(response))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CourtJudgment)) == 0


def test_an_officer_records_an_acknowledgement_of_every_debt(client, db, officer, case):
    account, _, _ = case

    response = post(
        client,
        f"{legal(account)}/acknowledgements/new",
        covers="",
        acknowledged_on=f"{TODAY:%d/%m/%Y}",
        note="Signed letter admitting both debts",
    )

    assert response.status_code == 302
    row = db.session.scalar(sa.select(DebtAcknowledgement))
    assert (row.invoice_id, row.acknowledged_on) == (None, TODAY)
    page = parse(client.get(response.headers["Location"]))
    assert "Signed letter admitting both debts" in text(
        page.select_one("#acknowledgements").find_next("table")
    )


def test_an_auditor_sees_the_legal_page_but_no_forms_and_is_refused_them(client, db, case):
    account, _, letter = case
    signed_in_session(client, make_staff(role=StaffRole.AUDITOR))

    page = client.get(legal(account))
    forms = [
        client.get(f"{legal(account)}/judgments/new"),
        client.get(f"{legal(account)}/acknowledgements/new"),
        client.get(f"{legal(account)}/letters/{letter.id}/reply"),
    ]

    assert page.status_code == 200
    assert "Record a judgment" not in text(parse(page).main)
    assert "Record a reply" not in text(parse(page).main)
    assert [f.status_code for f in forms] == [403, 403, 403]


def test_another_accounts_letter_is_not_found(client, db, officer, case):
    _, _, letter = case
    other = make_account()

    response = client.get(f"{legal(other)}/letters/{letter.id}/reply")

    assert response.status_code == 404
