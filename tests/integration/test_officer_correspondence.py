"""An officer sends a letter, email or text from a template: the preview is what is
sent (through smtplib to the SMTP capture and the twilio SDK to the Twilio fake), the
note is plain text after the template, pressing Send twice sends once, and the
contact rules refuse with the rule's name and write nothing."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from shared.extensions import db
from shared.models import (
    AuditLog,
    BreathingSpaceType,
    Channel,
    ContactEvent,
    ContactKind,
    Language,
    MessagePurpose,
    MessageTemplate,
    OutboxChannel,
    OutboxMessage,
    OutboxStatus,
    TemplateChannel,
)
from shared.services import actors, ledger
from shared.services.actors import SYSTEM
from shared.services.messages import officer_sent
from tests.factories import make_account, make_department, make_staff
from tests.messaging_fixtures import run_outbox_jobs

LONDON = ZoneInfo("Europe/London")
MOBILE = "+447700900456"
EMAIL = "alex.archer@example.com"
KEY = "k" * 20

TEMPLATES = [
    ("officer.general_letter", "letter", "General letter", "Your account {account_reference}",
     "Dear {debtor_name}\n\nPlease call {officer_name} on {council_phone}."),
    ("officer.general_email", "email", "General email", "Your account {account_reference}",
     "Dear {debtor_name}\n\nPlease call {officer_name} on {council_phone}."),
    ("officer.general_sms", "sms", "General text", None,
     "{council_name}: {officer_name} would like to talk about account {account_reference}."),
    ("officer.payment_reminder", "letter", "Payment reminder", "Reminder: {account_reference}",
     "Dear {debtor_name}\n\nYou owe {amount_due} on {invoice_numbers}. Pay at {portal_url}."),
    ("officer.payment_reminder", "sms", "Payment reminder", None,
     "{council_name}: please pay {amount_due} on account {account_reference}."),
]  # fmt: skip


def england(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=LONDON)


@pytest.fixture
def world(outbox_app, time_machine):
    time_machine.move_to(england(2026, 6, 17, 12, 0), tick=True)  # a Wednesday noon
    for key, channel, name, subject, body in TEMPLATES:
        db.session.add(
            MessageTemplate(
                key=key,
                channel=TemplateChannel(channel),
                language=Language.ENGLISH,
                name=name,
                subject=subject,
                body=body,
            )
        )
    db.session.commit()
    officer = make_staff(full_name="Olly Officer")
    account = make_account(
        surname="Archer",
        email=EMAIL,
        consent_email=True,
        mobile_phone=MOBILE,
        consent_sms=True,
        preferred_channel=Channel.EMAIL,
    )
    ledger.raise_invoice(
        account_id=account.id,
        department_id=make_department(name="Trade waste").id,
        number="INV0000777",
        issue_date=date(2026, 5, 1),
        due_date=date(2026, 5, 31),
        description="Trade waste",
        lines=[ledger.LineInput("Bins", 1, 12_345)],
        actor=SYSTEM,
    )
    return actors.staff(officer.id), account


def rows(model, **where):
    db.session.expire_all()
    query = sa.select(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    return list(db.session.scalars(query))


def test_an_email_is_sent_as_previewed_with_the_note_as_plain_text_last(world, outbox_app, mailbox):
    actor, account = world
    note = "I tried to call you on Monday. <b>Ring me</b> about {account_balance}."
    shown = officer_sent.preview(actor, account.id, "officer.general_email", "email", note)

    message = officer_sent.send(actor, account.id, "officer.general_email", "email", note, KEY)

    assert shown.refused is None
    assert shown.subject == f"Your account {account.reference}"
    assert shown.body.endswith("\n\n" + note)  # the note is not read for placeholders
    assert "Please call Olly Officer on 0300 123 4567." in shown.body
    assert "&lt;b&gt;Ring me&lt;/b&gt; about {account_balance}." in shown.html
    row = rows(OutboxMessage)[0]
    assert (row.id, row.body, row.subject) == (message.id, shown.body, shown.subject)
    assert row.purpose == MessagePurpose.SERVICE and row.recipient == EMAIL
    assert "<b>" not in (row.html_body or "") and "&lt;b&gt;Ring me" in (row.html_body or "")
    [event] = rows(ContactEvent, account_id=account.id, outbox_message_id=row.id)
    assert event.summary == f"Email queued: Your account {account.reference}"
    assert event.kind == ContactKind.EMAIL and event.staff_id == actor.staff_id
    assert event.detail == f"{shown.subject}\n\n{shown.body}"
    [audit] = rows(AuditLog, action="correspondence.sent")
    assert audit.object_id == str(row.id) and audit.after["officer_note"] is True

    run_outbox_jobs(outbox_app)

    [mail] = mailbox.messages(to=EMAIL)
    assert mail["subject"] == shown.subject
    assert "Ring me</b> about {account_balance}." in mail["body"]
    assert rows(OutboxMessage)[0].status == OutboxStatus.SENT


def test_a_text_reaches_the_twilio_fake_as_previewed_with_its_segments_and_cost(
    world, outbox_app, sms_fake
):
    actor, account = world
    account_id = account.id
    shown = officer_sent.preview(actor, account_id, "officer.general_sms", "sms", "")

    officer_sent.send(actor, account_id, "officer.general_sms", "sms", "", KEY)
    run_outbox_jobs(outbox_app)  # the worker closes the session

    [sms] = sms_fake.messages(to=MOBILE)
    assert sms["body"] == shown.body
    assert shown.segments == sms["num_segments"] == 1
    assert shown.cost_pence == 4  # SMS_COST_PENCE_PER_SEGMENT
    assert shown.subject is None
    [event] = rows(ContactEvent, account_id=account_id, kind=ContactKind.SMS, outcome="queued")
    assert event.summary == "Text queued" and event.detail == shown.body


def test_a_long_note_makes_a_text_too_long_and_it_is_refused_before_anything_is_written(world):
    actor, account = world
    shown = officer_sent.preview(actor, account.id, "officer.general_sms", "sms", "x" * 500)

    assert shown.segments == 4
    assert "shorten your note" in shown.refused
    with pytest.raises(officer_sent.Refused, match="shorten your note"):
        officer_sent.send(actor, account.id, "officer.general_sms", "sms", "x" * 500, KEY)
    assert rows(OutboxMessage) == []


def test_a_letter_waits_for_the_print_batch_with_the_ladder_values_filled(world):
    actor, account = world

    message = officer_sent.send(actor, account.id, "officer.payment_reminder", "letter", "", KEY)

    row = rows(OutboxMessage)[0]
    assert row.id == message.id and row.channel == OutboxChannel.LETTER
    assert row.status == OutboxStatus.PENDING and row.purpose == MessagePurpose.COLLECTION
    assert "You owe £123.45 on INV0000777." in row.body
    assert row.payload["address_lines"][0].endswith("High Street")
    [event] = rows(ContactEvent, account_id=account.id, outbox_message_id=row.id)
    assert event.summary == f"Letter queued for the print batch: Reminder: {account.reference}"
    assert event.kind == ContactKind.LETTER


def test_pressing_send_twice_sends_once(world):
    actor, account = world

    first = officer_sent.send(actor, account.id, "officer.general_letter", "letter", "Hi", KEY)
    again = officer_sent.send(actor, account.id, "officer.general_letter", "letter", "Hi", KEY)

    assert first.id == again.id
    assert len(rows(OutboxMessage)) == 1
    assert len(rows(ContactEvent, outbox_message_id=first.id)) == 1
    assert len(rows(AuditLog, action="correspondence.sent")) == 1


def test_a_text_written_in_quiet_hours_is_held_until_eight_and_says_so(world, time_machine):
    actor, account = world
    time_machine.move_to(england(2026, 6, 17, 21, 30), tick=False)

    shown = officer_sent.preview(actor, account.id, "officer.general_sms", "sms", "")
    officer_sent.send(actor, account.id, "officer.general_sms", "sms", "", KEY)

    row = rows(OutboxMessage)[0]
    assert shown.not_before == row.not_before == datetime(2026, 6, 18, 7, 0)  # 08:00 BST
    [event] = rows(ContactEvent, outbox_message_id=row.id)
    assert event.summary == "Text queued to go at 18 June 2026 08:00 (quiet hours)"


@pytest.mark.parametrize(
    ("change", "key", "channel", "words"),
    [
        ({"consent_sms": False}, "officer.general_sms", "sms", "has not agreed to texts"),
        ({"mobile_phone": None}, "officer.general_sms", "sms", "there is no mobile number"),
        ({"email": None}, "officer.general_email", "email", "there is no email address"),
        (
            {"breathing_space_type": BreathingSpaceType.STANDARD},
            "officer.payment_reminder",
            "letter",
            "in Breathing Space",
        ),
        ({"deceased": True}, "officer.general_letter", "letter", "The debtor has died"),
    ],
)
def test_the_contact_rules_refuse_naming_the_rule_and_nothing_is_written(
    world, change, key, channel, words
):
    actor, account = world
    for name, value in change.items():
        setattr(account, name, value)
    if "breathing_space_type" in change:
        account.breathing_space_start = date(2026, 6, 1)
    db.session.commit()

    with pytest.raises(officer_sent.Refused, match=words):
        officer_sent.send(actor, account.id, key, channel, "", KEY)

    assert rows(OutboxMessage) == []
    assert rows(ContactEvent, account_id=account.id, kind=ContactKind(channel)) == []
    assert rows(AuditLog, action="correspondence.sent") == []


def test_in_breathing_space_a_message_that_does_not_ask_for_payment_still_goes(world):
    actor, account = world
    account.breathing_space_type = BreathingSpaceType.STANDARD
    account.breathing_space_start = date(2026, 6, 1)
    db.session.commit()

    message = officer_sent.send(actor, account.id, "officer.general_letter", "letter", "", KEY)

    assert message.purpose == MessagePurpose.SERVICE
    assert officer_sent.account_refusal(account, MessagePurpose.COLLECTION).startswith(
        "The debtor is in Breathing Space"
    )


def test_choices_list_each_template_with_why_a_channel_cannot_reach_the_debtor(world):
    actor, account = world
    account.consent_sms = False
    account.email = None
    db.session.commit()

    found = {t.key: t for t in officer_sent.choices(account)}

    assert set(found) == {
        "officer.general_letter",
        "officer.general_email",
        "officer.general_sms",
        "officer.payment_reminder",
    }
    reminder = found["officer.payment_reminder"]
    assert reminder.asks_for_payment and reminder.name == "Payment reminder"
    assert [(o.channel, o.available, o.why_not) for o in reminder.channels] == [
        ("letter", True, None),
        ("sms", False, "has not agreed to texts"),
    ]
    assert found["officer.general_email"].channels[0].why_not == "no email address"


def test_only_officer_and_ladder_templates_can_be_sent_this_way(world):
    actor, account = world
    with pytest.raises(officer_sent.InvalidRequest, match="Choose a template"):
        officer_sent.send(actor, account.id, "portal_one_time_code", "sms", "", KEY)
    with pytest.raises(officer_sent.InvalidRequest, match="expired"):
        officer_sent.send(actor, account.id, "officer.general_sms", "sms", "", "short")
    assert rows(OutboxMessage) == []


def test_a_debtor_who_asked_for_welsh_gets_the_welsh_version_where_there_is_one(world):
    actor, account = world
    db.session.add(
        MessageTemplate(
            key="officer.general_letter",
            channel=TemplateChannel.LETTER,
            language=Language.WELSH,
            name="Llythyr cyffredinol",
            subject="Eich cyfrif {account_reference}",
            body="Annwyl {debtor_name}",
        )
    )
    account.language = "cy"
    db.session.commit()

    letter = officer_sent.send(actor, account.id, "officer.general_letter", "letter", "", KEY)
    text = officer_sent.preview(actor, account.id, "officer.general_sms", "sms", "")

    assert (letter.subject, letter.payload["language"]) == (
        f"Eich cyfrif {account.reference}",
        "cy",
    )
    assert text.language == "en"  # no Welsh text yet: the English one
