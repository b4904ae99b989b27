"""The message log pages: the case's own (full addresses, a page at a time) and the
overall one (failures first, filters in the URL, addresses masked), each with a
Retry button on a failed email or text for those who may send, which retries once."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from shared.extensions import db
from shared.models import AuditLog, OutboxChannel, OutboxMessage, OutboxStatus, StaffRole
from tests.factories import make_account, make_staff
from tests.views.conftest import signed_in_session
from tests.views.pages import parse, text

LONDON = ZoneInfo("Europe/London")
MOBILE = "+447700900459"


@pytest.fixture
def browser(outbox_app, time_machine):
    time_machine.move_to(datetime(2026, 6, 17, 12, 0, tzinfo=LONDON), tick=True)
    return outbox_app.test_client()


@pytest.fixture
def officer(browser):
    person = make_staff(StaffRole.OFFICER)
    signed_in_session(browser, person)
    return person


@pytest.fixture
def account(browser):
    return make_account(surname="Archer", mobile_phone=MOBILE, consent_sms=True)


def add(account_id, channel=OutboxChannel.SMS, **fields) -> int:
    values = {
        "recipient": MOBILE,
        "body": "Please call us.",
        "template": "plan_missed_payment",
        "status": OutboxStatus.PENDING,
        **fields,
    }
    row = OutboxMessage(account_id=account_id, channel=channel, **values)
    db.session.add(row)
    db.session.commit()
    return row.id


def table_rows(page) -> list[str]:
    return [text(tr) for tr in page.select("table tbody tr")]


def test_the_case_log_reads_each_message_in_words_with_retry_only_on_a_failure(
    browser, officer, account
):
    add(account.id, OutboxChannel.LETTER, recipient="1 High Street, Ambridge, AB1 2CD")
    add(account.id, not_before=datetime(2026, 6, 18, 7, 0))
    failed = add(account.id, status=OutboxStatus.FAILED, last_error="Twilio failed: error 21211")

    page = parse(browser.get(f"/backoffice/accounts/{account.reference}/messages"))

    rows = table_rows(page)
    assert "Failed: the number is not a valid phone number" in rows[0]
    assert "Payment plan payment missed" in rows[0] and MOBILE in rows[0]
    assert "Deferred until 08:00 tomorrow" in rows[1]
    assert "Waiting for the print batch" in rows[2] and "AB1 2CD" in rows[2]
    retry_forms = page.select("form[action*='/retry']")
    assert [f["action"] for f in retry_forms] == [f"/backoffice/messages/{failed}/retry"]


def test_retry_from_the_overall_log_returns_to_it_and_a_second_press_changes_nothing(
    browser, officer, account
):
    failed = add(account.id, status=OutboxStatus.FAILED, last_error="boom")
    log = parse(browser.get("/backoffice/messages?channel=sms"))
    form = log.select_one(f"form[action='/backoffice/messages/{failed}/retry']")
    data = {i["name"]: i.get("value", "") for i in form.select("input[name]")}

    first = browser.post(form["action"], data=data)
    second = browser.post(form["action"], data=data, follow_redirects=True)

    assert first.headers["Location"] == "/backoffice/messages?channel=sms"
    assert "already been retried" in text(parse(second))
    db.session.expire_all()
    assert db.session.get(OutboxMessage, failed).status == OutboxStatus.PENDING
    assert (
        len(
            db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "outbox.retried")).all()
        )
        == 1
    )


def test_the_overall_log_shows_failures_first_masked_and_filters_from_the_url(
    browser, officer, account
):
    add(account.id, status=OutboxStatus.FAILED, last_error="boom")
    add(account.id, OutboxChannel.EMAIL, recipient="alex@example.com", status=OutboxStatus.SENT)

    failures = parse(browser.get("/backoffice/messages"))
    everything = parse(browser.get("/backoffice/messages?status=any&template=plan_missed_payment"))
    emails = parse(browser.get("/backoffice/messages?status=any&channel=email"))

    [row] = table_rows(failures)
    assert "+44*******459" in row and MOBILE not in row and account.reference in row
    assert failures.select_one("select[name=status] option[selected]")["value"] == "failed"
    assert len(table_rows(everything)) == 2
    [email] = table_rows(emails)
    assert "a***@example.com" in email


@pytest.mark.parametrize(
    "query",
    ["status=nonsense", "channel=fax", "template=nope", "written_from=31/2/2026", "before=x"],
)
def test_a_bad_filter_is_explained_not_a_server_error(browser, officer, query):
    response = browser.get(f"/backoffice/messages?{query}")

    assert response.status_code == 200
    page = parse(response)
    assert page.select(".govuk-error-summary") or query == "before=x"


def test_the_navigation_links_to_the_overall_log(browser, officer):
    page = parse(browser.get("/backoffice/messages"))

    link = page.select_one(".govuk-service-navigation a[href='/backoffice/messages']")
    assert text(link) == "Messages"
