"""The "Send a letter, email or text" journey from the case: choose, add a note,
check the preview, send, see the confirmation; on each channel the words the preview
showed are the words that reach the SMTP capture, the Twilio fake or the print
queue. A second press of Send sends nothing more; the contact rules' refusals are
explained on the page and write nothing; only officers and team leaders send."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from shared.extensions import db
from shared.models import (
    BreathingSpaceType,
    Channel,
    ContactEvent,
    Language,
    MessageTemplate,
    OutboxMessage,
    OutboxStatus,
    StaffRole,
    TemplateChannel,
)
from tests.factories import make_account, make_staff
from tests.messaging_fixtures import run_outbox_jobs
from tests.views.conftest import signed_in_session
from tests.views.pages import error_summary, inline_errors, parse, text, title

LONDON = ZoneInfo("Europe/London")
MOBILE = "+447700900458"
EMAIL = "alex.archer@example.com"
TEMPLATES = [
    ("officer.general_letter", "letter", "General letter", "Your account {account_reference}"),
    ("officer.general_email", "email", "General email", "Your account {account_reference}"),
    ("officer.general_sms", "sms", "General text", None),
    ("officer.payment_reminder", "letter", "Payment reminder", "Reminder: {account_reference}"),
]
BODY = "Dear {debtor_name}\n\nPlease call {officer_name} on {council_phone}."


@pytest.fixture
def browser(outbox_app, time_machine):
    time_machine.move_to(datetime(2026, 6, 17, 12, 0, tzinfo=LONDON), tick=True)
    for key, channel, name, subject in TEMPLATES:
        db.session.add(
            MessageTemplate(
                key=key,
                channel=TemplateChannel(channel),
                language=Language.ENGLISH,
                name=name,
                subject=subject,
                body=BODY,
            )
        )
    db.session.commit()
    return outbox_app.test_client()


@pytest.fixture
def officer(browser):
    person = make_staff(StaffRole.OFFICER, full_name="Olly Officer")
    signed_in_session(browser, person)
    return person


@pytest.fixture
def account(browser):
    return make_account(
        surname="Archer",
        email=EMAIL,
        consent_email=True,
        mobile_phone=MOBILE,
        consent_sms=True,
        preferred_channel=Channel.EMAIL,
    )


def base(reference: str) -> str:
    return f"/backoffice/accounts/{reference}/correspondence"


def token(page) -> str:
    return page.select_one("input[name=csrf_token]")["value"]


def to_preview(browser, reference, template, channel, note=""):
    """Choose, then add the note: the preview page."""
    choose = parse(browser.get(f"{base(reference)}/new"))
    response = browser.post(
        f"{base(reference)}/new",
        data={"csrf_token": token(choose), "template": template, "channel": channel},
    )
    assert response.status_code == 302, error_summary(parse(response))
    write = parse(browser.get(response.headers["Location"]))
    return browser.post(
        f"{base(reference)}/write",
        data={"csrf_token": token(write), "template": template, "channel": channel, "note": note},
    )


def send_form(page) -> dict[str, str]:
    form = page.select_one("form[action$='/correspondence/send']")
    return {i["name"]: i.get("value", "") for i in form.select("input[name]")}


def shown_message(page) -> str:
    return text(page.select_one("[aria-label='The message']"))


def messages() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


def test_an_email_goes_through_the_journey_and_arrives_as_previewed(
    browser, outbox_app, officer, account, mailbox
):
    reference = account.reference
    preview = parse(
        to_preview(browser, reference, "officer.general_email", "email", "See you <soon>")
    )
    assert title(preview).startswith("Check before sending")
    shown = shown_message(preview)
    assert "Please call Olly Officer" in shown and shown.endswith("See you <soon>")

    response = browser.post(f"{base(reference)}/send", data=send_form(preview))

    assert response.status_code == 302
    sent = parse(browser.get(response.headers["Location"]))
    assert text(sent.select_one(".govuk-panel__title")) == f"Email queued: Your account {reference}"
    run_outbox_jobs(outbox_app)
    [mail] = mailbox.messages(to=EMAIL)
    assert " ".join(mail["body"].split()) == shown.removeprefix(f"Your account {reference} ")


def test_a_text_goes_through_the_journey_with_its_cost_and_arrives_as_previewed(
    browser, outbox_app, officer, account, sms_fake
):
    preview = parse(to_preview(browser, account.reference, "officer.general_sms", "sms"))
    assert "1 text message, £0.04" in text(preview)

    browser.post(f"{base(account.reference)}/send", data=send_form(preview))
    run_outbox_jobs(outbox_app)

    [sms] = sms_fake.messages(to=MOBILE)
    assert " ".join(sms["body"].split()) == shown_message(preview)


def test_a_letter_goes_through_the_journey_and_waits_for_the_print_batch(browser, officer, account):
    preview = parse(to_preview(browser, account.reference, "officer.general_letter", "letter"))
    assert "Printed and posted with the next print batch" in text(preview)

    response = browser.post(f"{base(account.reference)}/send", data=send_form(preview))

    [row] = messages()
    assert row.status == OutboxStatus.PENDING and row.print_batch_id is None
    sent = parse(browser.get(response.headers["Location"]))
    assert "Letter queued for the print batch" in text(sent.select_one(".govuk-panel__title"))
    log = parse(browser.get(f"/backoffice/accounts/{account.reference}/messages"))
    assert "Waiting for the print batch" in text(log.select_one("table"))


def test_pressing_send_twice_sends_once(browser, officer, account):
    preview = parse(to_preview(browser, account.reference, "officer.general_letter", "letter"))
    form = send_form(preview)

    first = browser.post(f"{base(account.reference)}/send", data=form)
    second = browser.post(f"{base(account.reference)}/send", data=form)

    assert first.headers["Location"] == second.headers["Location"]
    [row] = messages()
    events = db.session.scalars(
        sa.select(ContactEvent).where(ContactEvent.outbox_message_id == row.id)
    ).all()
    assert len(events) == 1


def test_a_channel_the_debtor_cannot_be_reached_by_is_explained_and_refused(
    browser, officer, account
):
    account.consent_sms = False
    db.session.commit()
    choose = parse(browser.get(f"{base(account.reference)}/new"))
    assert "Not available: has not agreed to texts" in text(choose)

    response = browser.post(
        f"{base(account.reference)}/new",
        data={"csrf_token": token(choose), "template": "officer.general_sms", "channel": "sms"},
    )

    page = parse(response)
    assert response.status_code == 200
    assert inline_errors(page)["channel"] == (
        "You cannot send it by text: the debtor has not agreed to texts"
    )
    assert messages() == []


def test_in_breathing_space_a_payment_reminder_is_refused_and_the_page_says_why(
    browser, officer, account
):
    account.breathing_space_type = BreathingSpaceType.STANDARD
    account.breathing_space_start = date(2026, 6, 1)
    db.session.commit()
    choose = parse(browser.get(f"{base(account.reference)}/new"))
    assert "The debtor is in Breathing Space" in text(choose.select_one(".govuk-warning-text"))

    response = browser.post(
        f"{base(account.reference)}/new",
        data={
            "csrf_token": token(choose),
            "template": "officer.payment_reminder",
            "channel": "letter",
        },
    )

    assert "nothing asking for payment can be sent" in inline_errors(parse(response))["template"]
    assert messages() == []


def test_a_refusal_at_the_moment_of_sending_is_shown_and_nothing_is_written(
    browser, officer, account
):
    preview = parse(to_preview(browser, account.reference, "officer.general_letter", "letter"))
    account.deceased = True
    db.session.commit()

    response = browser.post(f"{base(account.reference)}/send", data=send_form(preview))

    page = parse(response)
    assert response.status_code == 200
    assert error_summary(page)[0][0].startswith("The debtor has died")
    assert page.select_one("form[action$='/correspondence/send']") is None
    assert messages() == []


def test_bad_input_on_the_choose_page_gets_field_errors(browser, officer, account):
    choose = parse(browser.get(f"{base(account.reference)}/new"))

    response = browser.post(
        f"{base(account.reference)}/new",
        data={"csrf_token": token(choose), "template": "portal_one_time_code", "channel": "fax"},
    )

    assert error_summary(parse(response)) == [
        ("Select what to send", "#template"),
        ("Select how to send it", "#channel"),
    ]


@pytest.mark.parametrize("role", [StaffRole.AUDITOR, StaffRole.ADMIN])
def test_people_who_only_read_cases_can_see_the_logs_but_not_send_or_retry(browser, account, role):
    signed_in_session(browser, make_staff(role))
    failed = OutboxMessage(
        account_id=account.id,
        channel="sms",
        template="officer.general_sms",
        recipient=MOBILE,
        body="x",
        status=OutboxStatus.FAILED,
    )
    db.session.add(failed)
    db.session.commit()

    case_log = browser.get(f"/backoffice/accounts/{account.reference}/messages")
    overall = browser.get("/backoffice/messages")

    assert case_log.status_code == overall.status_code == 200
    assert "Retry" not in text(parse(case_log).select_one("table"))
    assert "Send a letter" not in text(parse(case_log))
    assert browser.get(f"{base(account.reference)}/new").status_code == 403
    retry = browser.post(
        f"/backoffice/messages/{failed.id}/retry", data={"csrf_token": token(parse(overall))}
    )
    assert retry.status_code == 403
    db.session.expire_all()
    assert db.session.get(OutboxMessage, failed.id).status == OutboxStatus.FAILED
