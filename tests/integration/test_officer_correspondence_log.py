"""The message log in words (waiting for the print batch, deferred until 08:00,
failed with the reason, cancelled), masked in the overall log, filtered; and the
retry of a failed email or text: only a failed one, once, through the contact rules
again, then delivered by the real worker to the Twilio fake."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from shared.extensions import db
from shared.models import (
    AuditLog,
    BreathingSpaceType,
    Channel,
    ContactEvent,
    Language,
    MessagePurpose,
    MessageTemplate,
    OutboxChannel,
    OutboxMessage,
    OutboxStatus,
    TemplateChannel,
)
from shared.services import actors
from shared.services.errors import InvalidRequest
from shared.services.messages import message_log
from shared.services.messages.message_log import MessageFilter
from tests.factories import make_account, make_staff
from tests.messaging_fixtures import run_outbox_jobs

LONDON = ZoneInfo("Europe/London")
MOBILE = "+447700900457"
NOON = datetime(2026, 6, 17, 11, 0)  # 12:00 in England, naive UTC as stored


@pytest.fixture
def account(outbox_app, time_machine):
    time_machine.move_to(datetime(2026, 6, 17, 12, 0, tzinfo=LONDON), tick=True)
    return make_account(
        surname="Archer",
        email="alex.archer@example.com",
        consent_email=True,
        mobile_phone=MOBILE,
        consent_sms=True,
        preferred_channel=Channel.SMS,
    )


@pytest.fixture
def officer(outbox_app):
    return actors.staff(make_staff(full_name="Olly Officer").id)


def add(account_id, channel=OutboxChannel.SMS, **fields) -> int:
    values = {
        "recipient": MOBILE if channel == OutboxChannel.SMS else "alex.archer@example.com",
        "body": "Please call us about your account.",
        "template": "officer.general_sms",
        "status": OutboxStatus.PENDING,
        "created_at": NOON,
        **fields,
    }
    row = OutboxMessage(account_id=account_id, channel=channel, **values)
    db.session.add(row)
    db.session.commit()
    return row.id


def words(page) -> dict[int, str]:
    return {row.id: row.status_words for row in page.rows}


def test_each_status_reads_as_the_officer_needs_it(account):
    waiting_letter = add(
        account.id, OutboxChannel.LETTER, recipient="1 High Street, Ambridge, AB1 2CD"
    )
    deferred = add(account.id, not_before=datetime(2026, 6, 18, 7, 0))
    failed = add(
        account.id, status=OutboxStatus.FAILED, last_error="Twilio undelivered: error 30006"
    )
    bounced = add(
        account.id,
        OutboxChannel.EMAIL,
        status=OutboxStatus.FAILED,
        last_error="EmailError: 550 mailbox unavailable",
    )
    cancelled = add(
        account.id, status=OutboxStatus.CANCELLED, last_error="Withdrawn: Breathing Space began"
    )
    delivered = add(account.id, status=OutboxStatus.DELIVERED)
    posted = add(account.id, OutboxChannel.LETTER, status=OutboxStatus.SENT, recipient="x")

    found = words(message_log.account_messages(account.id))

    assert found[waiting_letter] == "Waiting for the print batch"
    assert found[deferred] == "Deferred until 08:00 tomorrow"
    assert found[failed] == "Failed: the number is a landline or cannot receive texts"
    assert found[bounced] == "Failed: EmailError: 550 mailbox unavailable"
    assert found[cancelled] == "Cancelled: Breathing Space began"
    assert found[delivered] == "Delivered"
    assert found[posted] == "Posted"


def test_rows_name_the_template_not_its_key(account):
    db.session.add(
        MessageTemplate(
            key="officer.general_sms",
            channel=TemplateChannel.SMS,
            language=Language.ENGLISH,
            name="General text",
            body="x",
        )
    )
    db.session.commit()
    stored = add(account.id)
    coded = add(account.id, template="portal_one_time_code")
    unknown = add(account.id, template="dunning.some_new_stage")

    names = {r.id: r.template_name for r in message_log.account_messages(account.id).rows}

    assert names == {
        stored: "General text",
        coded: "Portal security code",
        unknown: "Dunning: some new stage",
    }


def test_the_overall_log_shows_failures_first_masked_and_filtered(account):
    failed_sms = add(account.id, status=OutboxStatus.FAILED, last_error="x")
    failed_email = add(
        account.id,
        OutboxChannel.EMAIL,
        status=OutboxStatus.FAILED,
        created_at=NOON - timedelta(days=3),
    )
    add(account.id, status=OutboxStatus.SENT)
    add(None, OutboxChannel.REFUND, status=OutboxStatus.FAILED, recipient="pi_123")

    failures = message_log.all_messages(MessageFilter())
    by_id = {r.id: r for r in failures.rows}

    assert list(by_id) == [failed_email, failed_sms]  # newest written first; no refund
    assert by_id[failed_sms].recipient == "+44*******457"
    assert by_id[failed_email].recipient == "a***@example.com"
    assert by_id[failed_sms].account_reference == account.reference
    assert len(message_log.all_messages(MessageFilter(status="any")).rows) == 3
    only_email = message_log.all_messages(MessageFilter(channel="email"))
    assert [r.id for r in only_email.rows] == [failed_email]
    recent = message_log.all_messages(MessageFilter(written_from=date(2026, 6, 16)))
    assert [r.id for r in recent.rows] == [failed_sms]
    older = message_log.all_messages(MessageFilter(written_to=date(2026, 6, 14)))
    assert [r.id for r in older.rows] == [failed_email]
    assert message_log.all_messages(MessageFilter(template="plan_broken")).rows == []


def test_the_overall_log_pages_by_keyset_without_repeating_a_row(account, monkeypatch):
    monkeypatch.setattr(message_log, "PAGE_SIZE", 2)
    ids = [add(account.id, status=OutboxStatus.FAILED) for _ in range(5)]

    first = message_log.all_messages(MessageFilter())
    second = message_log.all_messages(MessageFilter(), before_id=first.next_before_id)
    third = message_log.all_messages(MessageFilter(), before_id=second.next_before_id)

    seen = [r.id for page in (first, second, third) for r in page.rows]
    assert seen == sorted(ids, reverse=True)
    assert third.next_before_id is None


def test_a_failed_text_is_retried_once_and_the_worker_delivers_it(
    account, officer, outbox_app, sms_fake
):
    account_id = account.id
    message_id = add(account_id, status=OutboxStatus.FAILED, attempts=3, last_error="boom")

    first = message_log.retry(officer, message_id)
    second = message_log.retry(officer, message_id)

    assert first.retried and not second.retried
    assert "already been retried" in second.words
    row = db.session.get(OutboxMessage, message_id)
    assert (row.status, row.attempts, row.last_error) == (OutboxStatus.PENDING, 3, "boom")
    [audit] = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "outbox.retried"))
    assert audit.actor_id == officer.staff_id and audit.before["last_error"] == "boom"
    [event] = db.session.scalars(
        sa.select(ContactEvent).where(ContactEvent.outbox_message_id == message_id)
    )
    assert event.summary == f"Retry requested: text message to {MOBILE}"

    run_outbox_jobs(outbox_app)

    [sms] = sms_fake.messages(to=MOBILE)
    assert sms["body"] == "Please call us about your account."
    db.session.expire_all()
    row = db.session.get(OutboxMessage, message_id)
    assert (row.status, row.attempts) == (OutboxStatus.SENT, 4)


def test_a_retry_goes_to_the_number_on_the_account_now(account, officer):
    message_id = add(
        account.id, status=OutboxStatus.FAILED, recipient="+447700900999", last_error="21211"
    )

    message_log.retry(officer, message_id)

    assert db.session.get(OutboxMessage, message_id).recipient == MOBILE


@pytest.mark.parametrize(
    ("fields", "refusal"),
    [
        ({"status": OutboxStatus.SENT}, None),
        ({"channel": OutboxChannel.LETTER}, "Only an email or a text"),
        ({"channel": OutboxChannel.REFUND, "recipient": "pi_1"}, "card refund"),
        ({"template": "portal_one_time_code"}, "security code"),
    ],
)
def test_only_a_failed_email_or_text_is_retried(account, officer, fields, refusal):
    fields = {"status": OutboxStatus.FAILED, **fields}
    channel = fields.pop("channel", OutboxChannel.SMS)
    message_id = add(account.id, channel, **fields)
    before = db.session.get(OutboxMessage, message_id).status

    if refusal:
        with pytest.raises(InvalidRequest, match=refusal):
            message_log.retry(officer, message_id)
    else:
        assert not message_log.retry(officer, message_id).retried

    db.session.expire_all()
    assert db.session.get(OutboxMessage, message_id).status == before
    assert db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "outbox.retried")) is None


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        ({"consent_sms": False}, "has not agreed to texts"),
        ({"breathing_space_type": BreathingSpaceType.STANDARD}, "Breathing Space"),
        ({"deceased": True}, "has died"),
    ],
)
def test_a_retry_meets_the_contact_rules_again(account, officer, change, refusal):
    message_id = add(account.id, status=OutboxStatus.FAILED, purpose=MessagePurpose.COLLECTION)
    for name, value in change.items():
        setattr(account, name, value)
    account.breathing_space_start = date(2026, 6, 1)
    db.session.commit()

    with pytest.raises(InvalidRequest, match=refusal):
        message_log.retry(officer, message_id)

    db.session.expire_all()
    assert db.session.get(OutboxMessage, message_id).status == OutboxStatus.FAILED


def test_a_text_retried_in_quiet_hours_waits_until_they_end(account, officer, time_machine):
    message_id = add(account.id, status=OutboxStatus.FAILED)
    time_machine.move_to(datetime(2026, 6, 17, 22, 0, tzinfo=LONDON), tick=False)

    message_log.retry(officer, message_id)

    row = db.session.get(OutboxMessage, message_id)
    assert row.not_before == datetime(2026, 6, 18, 7, 0)
    assert words(message_log.account_messages(account.id))[message_id] == (
        "Deferred until 08:00 tomorrow"
    )
