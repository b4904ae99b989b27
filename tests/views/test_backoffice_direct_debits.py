"""Officers take Direct Debit instructions by phone (with the read-back script ticked)
or record a signed paper one, and change or cancel a payer's mandate at their request,
from the case page. Bank details show masked only; an auditor may do none of it."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from shared.models import AuditLog, StaffRole
from shared.models.directdebit import Mandate, MandateSource, MandateStatus, ModulusOutcome
from shared.services import actors
from shared.services.directdebit import mandates
from tests.factories import make_account, make_staff
from tests.frozen_clock import TODAY, frozen_clock
from tests.views.conftest import signed_in_session
from tests.views.pages import csrf_token, error_summary, inline_errors, parse, text, title

pytestmark = frozen_clock


@pytest.fixture(autouse=True)
def no_redis(monkeypatch):
    calls = []
    monkeypatch.setattr(mandates, "enqueue_sync", lambda *a: calls.append(a) or True)
    return calls


@pytest.fixture
def officer(client, db):
    person = make_staff(role=StaffRole.OFFICER)
    signed_in_session(client, person)
    return person


@pytest.fixture
def account(db):
    return make_account(surname="Archer", email="archer@example.com")


def path(account, what: str) -> str:
    return f"/backoffice/accounts/{account.reference}/direct-debit/{what}"


def post(client, url: str, data: dict):
    return client.post(url, data={"csrf_token": csrf_token(client, url), **data})


PHONE = {
    "purpose": "invoices",
    "holder_name": "P Archer",
    "sort_code": "107999",
    "account_number": "88837491",
    "sole_signatory": "yes",
    "read_back": "confirmed",
    "replaces": "",
}


def stored(db) -> list[Mandate]:
    db.session.expire_all()
    return db.session.scalars(sa.select(Mandate).order_by(Mandate.id)).all()


def test_the_case_page_offers_the_direct_debit_actions_to_an_officer(client, db, officer, account):
    page = parse(client.get(f"/backoffice/accounts/{account.reference}"))
    links = {text(a) for a in page.select("a")}
    assert "Take a Direct Debit by phone" in links
    assert "Record a paper Direct Debit instruction" in links


def test_a_phone_instruction_with_the_read_back_ticked_is_set_up(
    client, db, officer, account, no_redis
):
    page = parse(client.get(path(account, "phone")))
    assert title(page).startswith("Take a Direct Debit by phone")
    assert page.select_one("#read-back-script") is not None
    assert "full and immediate refund" in text(page.select_one("#direct-debit-guarantee"))

    response = post(client, path(account, "phone"), PHONE)
    assert response.status_code == 302, text(parse(response))
    (mandate,) = stored(db)
    assert mandate.source == MandateSource.PHONE
    assert mandate.taken_by_staff_id == officer.id
    assert mandate.modulus_outcome == ModulusOutcome.VALID
    assert len(no_redis) == 1

    case = client.get(response.headers["Location"])
    body = case.get_data(as_text=True)
    assert mandate.reference in body
    assert "88837491" not in body and "107999" not in body


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("read_back", None, "read the details and the Guarantee back"),
        ("sole_signatory", "no", "paper Direct Debit form"),
        ("account_number", "88837490", "do not match a real bank account"),
        ("sort_code", "1079", "Sort code must be 6 digits long"),
        ("holder_name", "", "Enter the name on the account"),
    ],
)
def test_a_phone_instruction_that_fails_a_check_is_refused_on_its_field(
    client, db, officer, account, field, value, message
):
    data = dict(PHONE)
    if value is None:
        data.pop(field)
    else:
        data[field] = value
    response = post(client, path(account, "phone"), data)
    assert response.status_code == 400
    page = parse(response)
    assert message in inline_errors(page)[field]
    assert error_summary(page)
    assert stored(db) == []
    # What was typed is on the form for the officer to correct, never elsewhere on the page.
    assert "88837491" not in text(page.select_one(".govuk-error-summary"))


def test_a_paper_instruction_is_recorded_with_its_date_and_may_be_a_joint_account(
    client, db, officer, account
):
    signed = TODAY - timedelta(days=2)
    data = {
        "purpose": "invoices",
        "holder_name": "P AND J ARCHER",
        "sort_code": "089999",
        "account_number": "66374958",
        "date_signed": signed.strftime("%d/%m/%Y"),
        "replaces": "",
    }
    missing = post(client, path(account, "paper"), data)
    assert missing.status_code == 400
    assert "signed by everyone" in inline_errors(parse(missing))["signed_by_all"]

    response = post(client, path(account, "paper"), {**data, "signed_by_all": "confirmed"})
    assert response.status_code == 302
    (mandate,) = stored(db)
    assert mandate.source == MandateSource.PAPER
    audit = db.session.scalars(
        sa.select(AuditLog).where(AuditLog.action == "mandate.signed_up")
    ).one()
    assert audit.after["date_signed"] == signed.isoformat()


def test_a_second_click_on_set_up_makes_no_second_mandate(client, db, officer, account):
    url = path(account, "phone")
    token = csrf_token(client, url)
    first = client.post(url, data={"csrf_token": token, **PHONE})
    second = client.post(url, data={"csrf_token": token, **PHONE})
    assert first.status_code == 302
    assert second.status_code == 400
    assert "already has a Direct Debit" in text(parse(second))
    assert len(stored(db)) == 1


def _set_up(account, staff) -> Mandate:
    return mandates.sign_up(
        actors.staff(staff.id),
        account.id,
        holder_name="P ARCHER",
        sort_code="089999",
        account_number="66374958",
        sole_signatory=True,
        source=MandateSource.PHONE,
        read_back_confirmed=True,
    )


def test_an_officer_changes_bank_details_at_the_payers_request(client, db, officer, account):
    old = _set_up(account, officer)
    url = path(account, f"{old.id}/change")
    page = parse(client.get(url))
    assert "08-**-**" in text(page) and "66374958" not in str(page)

    response = post(
        client,
        url,
        {
            "holder_name": "P ARCHER",
            "sort_code": "107999",
            "account_number": "88837491",
            "sole_signatory": "yes",
            "read_back": "confirmed",
            "version": str(old.version),
        },
    )
    assert response.status_code == 302
    old, new = stored(db)
    assert old.status == MandateStatus.CANCELLED
    assert new.replaces_mandate_id == old.id


def test_an_officer_cancels_with_a_reason_and_a_second_click_changes_nothing(
    client, db, officer, account
):
    mandate = _set_up(account, officer)
    url = path(account, f"{mandate.id}/cancel")
    no_reason = post(client, url, {"reason": "", "version": str(mandate.version)})
    assert no_reason.status_code == 400
    assert "Enter why" in inline_errors(parse(no_reason))["reason"]

    token = csrf_token(client, url)
    data = {
        "csrf_token": token,
        "reason": "Payer phoned to cancel",
        "version": str(mandate.version),
    }
    assert client.post(url, data=data).status_code == 302
    assert client.post(url, data=data).status_code == 302
    (cancelled,) = stored(db)
    assert cancelled.status == MandateStatus.CANCELLED
    assert cancelled.cancellation_reason == "Payer phoned to cancel"
    assert (
        db.session.scalar(sa.select(sa.func.count()).where(AuditLog.action == "mandate.cancelled"))
        == 1
    )


def test_another_accounts_mandate_is_not_found(client, db, officer, account):
    mandate = _set_up(account, officer)
    other = make_account(surname="Grundy")
    assert client.get(path(other, f"{mandate.id}/cancel")).status_code == 404
    assert client.get(path(other, f"{mandate.id}/change")).status_code == 404


@pytest.mark.parametrize("what", ["phone", "paper"])
def test_an_auditor_may_not_take_a_direct_debit(client, db, account, what):
    signed_in_session(client, make_staff(role=StaffRole.AUDITOR))
    assert client.get(path(account, what)).status_code == 403
    page = parse(client.get(f"/backoffice/accounts/{account.reference}"))
    assert "Take a Direct Debit by phone" not in text(page)


def test_an_auditor_may_not_cancel_or_change(client, db, account):
    officer = make_staff(role=StaffRole.OFFICER)
    mandate = _set_up(account, officer)
    signed_in_session(client, make_staff(role=StaffRole.AUDITOR))
    assert client.get(path(account, f"{mandate.id}/cancel")).status_code == 403
    token = csrf_token(client, f"/backoffice/accounts/{account.reference}")
    response = client.post(
        path(account, f"{mandate.id}/cancel"),
        data={"csrf_token": token, "reason": "x", "version": str(mandate.version)},
    )
    assert response.status_code == 403
    assert stored(db)[0].status == MandateStatus.PENDING_SUBMISSION


def test_signed_out_is_sent_to_sign_in(client, db, account):
    response = client.get(path(account, "phone"))
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/backoffice/sign-in")
