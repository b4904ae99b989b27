"""Quiet hours against the real parts: a text written late is kept, not sent, by the
delivery job, the sweeper and `send-pending` until quiet hours end, then goes through
the twilio SDK to the Twilio fake; email is never held back. The clock is moved with
time-machine (the defaults: no texts 20:00-08:00 in England, nor on Sundays).

June 2026 is British Summer Time (UTC+1): 08:00 in England is 07:00 UTC."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from rq import Queue

from shared.extensions import db
from shared.jobs import outbox
from shared.jobs.queues import redis_connection
from shared.models import Channel, MessagePurpose, OutboxChannel, OutboxMessage, OutboxStatus
from shared.services.notifications import Message, notify_debtor
from tests.factories import make_account
from tests.messaging_fixtures import run_outbox_jobs

LONDON = ZoneInfo("Europe/London")
MOBILE = "+447700900321"
NOTICE = Message(
    template="plan_payment_due",
    subject="Your payment plan payment is due soon",
    body="Your payment of £25.00 is due on 1 July 2026.",
    sms="Your payment plan payment of £25.00 is due 1 July 2026.",
)


def england(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=LONDON)


@pytest.fixture
def texter(outbox_app):
    return make_account(
        preferred_channel=Channel.SMS, mobile_phone=MOBILE, consent_sms=True, email=None
    )


def write(account, key: str, purpose=MessagePurpose.COLLECTION) -> int:
    row = notify_debtor(account, NOTICE, dedupe_key=key, purpose=purpose)
    assert row is not None
    db.session.commit()
    return row.id


def reload(message_id: int) -> OutboxMessage:
    db.session.expire_all()
    return db.session.get(OutboxMessage, message_id)


def queued(app) -> list[str]:
    return Queue(outbox.OUTBOX_QUEUE, connection=redis_connection(app.config["REDIS_URL"])).job_ids


def test_a_text_written_at_nine_in_the_evening_goes_at_eight_the_next_morning_and_not_before(
    outbox_app, sms_fake, texter, time_machine
):
    time_machine.move_to(england(2026, 6, 16, 21, 0), tick=False)  # a Tuesday
    message_id = write(texter, "quiet:evening")

    row = reload(message_id)
    assert row.channel == OutboxChannel.SMS
    assert row.not_before == datetime(2026, 6, 17, 7, 0)
    assert row.purpose == MessagePurpose.COLLECTION
    assert queued(outbox_app) == []  # not enqueued at commit: the sweeper's, later
    assert outbox.deliver_message(message_id) == "deferred"
    assert outbox.sweep_outbox()["pending"] == 0

    time_machine.move_to(england(2026, 6, 17, 7, 59), tick=False)
    assert outbox.sweep_outbox()["pending"] == 0
    assert outbox.send_pending()["sent"] == 0
    assert outbox.deliver_message(message_id) == "deferred"
    assert sms_fake.messages() == []
    assert reload(message_id).status == OutboxStatus.PENDING
    assert reload(message_id).attempts == 0

    time_machine.move_to(england(2026, 6, 17, 8, 0, 30), tick=False)
    assert outbox.sweep_outbox() == {"rescued": 0, "pending": 1, "enqueued": 1}
    run_outbox_jobs(outbox_app)

    [sms] = sms_fake.messages(to=MOBILE)
    assert sms["body"] == NOTICE.sms
    row = reload(message_id)
    assert row.status == OutboxStatus.SENT
    assert row.sent_at >= datetime(2026, 6, 17, 7, 0)


def test_a_text_written_on_saturday_evening_waits_through_sunday_until_monday_morning(
    outbox_app, sms_fake, texter, time_machine
):
    time_machine.move_to(england(2026, 6, 20, 21, 0), tick=False)
    message_id = write(texter, "quiet:weekend")
    assert reload(message_id).not_before == datetime(2026, 6, 22, 7, 0)

    time_machine.move_to(england(2026, 6, 21, 12, 0), tick=False)  # Sunday noon
    assert outbox.sweep_outbox()["pending"] == 0
    assert outbox.deliver_message(message_id) == "deferred"
    assert sms_fake.messages() == []

    time_machine.move_to(england(2026, 6, 22, 8, 1), tick=False)  # Monday
    assert outbox.send_pending()["sent"] == 1
    assert [m["to"] for m in sms_fake.messages()] == [MOBILE]
    assert reload(message_id).status == OutboxStatus.SENT


def test_a_text_written_in_the_day_is_enqueued_at_commit_and_sent_at_once(
    outbox_app, sms_fake, texter, time_machine
):
    time_machine.move_to(england(2026, 6, 17, 12, 0), tick=False)
    message_id = write(texter, "quiet:noon", purpose=MessagePurpose.SERVICE)

    assert reload(message_id).not_before is None
    assert queued(outbox_app) == [outbox.job_id(message_id)]
    run_outbox_jobs(outbox_app)
    assert reload(message_id).status == OutboxStatus.SENT
    assert len(sms_fake.messages(to=MOBILE)) == 1


def test_email_is_never_deferred_even_late_on_a_saturday_night(outbox_app, mailbox, time_machine):
    emailer = make_account(
        preferred_channel=Channel.EMAIL,
        email="late@example.com",
        consent_email=True,
        mobile_phone=MOBILE,
        consent_sms=True,
    )
    time_machine.move_to(england(2026, 6, 20, 23, 30), tick=False)
    message_id = write(emailer, "quiet:email")

    row = reload(message_id)
    assert (row.channel, row.not_before) == (OutboxChannel.EMAIL, None)
    run_outbox_jobs(outbox_app)
    [mail] = mailbox.messages(to="late@example.com")
    assert mail["subject"] == NOTICE.subject
    assert reload(message_id).status == OutboxStatus.SENT


def test_security_codes_written_directly_are_sent_in_quiet_hours(
    outbox_app, sms_fake, time_machine
):
    time_machine.move_to(england(2026, 6, 21, 2, 0), tick=False)  # Sunday, 2 a.m.
    code = OutboxMessage(
        channel=OutboxChannel.SMS,
        template="security_code",
        recipient=MOBILE,
        body="482913 is your security code.",
    )
    db.session.add(code)
    db.session.commit()
    code_id = code.id

    run_outbox_jobs(outbox_app)
    assert reload(code_id).status == OutboxStatus.SENT
    assert [m["body"] for m in sms_fake.messages()] == ["482913 is your security code."]
