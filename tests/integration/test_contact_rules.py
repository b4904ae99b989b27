"""The contact rules on every notice (shared/services/notifications.py) with the real
database: the weekly cap on requests for payment and its sliding window, Breathing
Space, deceased debtors, consent to texts, and a number that replied STOP, which
the Twilio fake refuses with error 21610."""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa

from shared.extensions import db
from shared.models import (
    AuditLog,
    BreathingSpaceType,
    Channel,
    ContactEvent,
    DebtorAccount,
    MessagePurpose,
    OutboxChannel,
    OutboxMessage,
    OutboxStatus,
)
from shared.services.notifications import Message, channel_for, notify_debtor, notify_debtors
from tests.factories import make_account
from tests.messaging_fixtures import OPTED_OUT_NUMBER, run_outbox_jobs

COLLECTION, SERVICE = MessagePurpose.COLLECTION, MessagePurpose.SERVICE
REMINDER = Message(
    template="plan_missed_payment",
    subject="You have missed a payment plan payment",
    body="We have not received your payment of £25.00. Please pay it as soon as you can.",
    sms="We have not received your payment of £25.00. Please pay now.",
)
RECEIPT = Message(
    template="payment_receipt",
    subject="Thank you for your payment",
    body="We received your payment of £25.00.",
    sms="We received your payment of £25.00. Thank you.",
)
ABOUT_BREATHING_SPACE = Message(
    template="breathing_space_started",
    subject="Breathing Space",
    body="We have paused recovery of your debts while your Breathing Space lasts.",
    sms=None,
)


def noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 11, 0, tzinfo=UTC)  # 12:00 BST


def emailable(**fields) -> DebtorAccount:
    return make_account(
        preferred_channel=Channel.EMAIL, email="pat@example.com", consent_email=True, **fields
    )


def send(account, message, key, purpose=COLLECTION) -> OutboxMessage | None:
    row = notify_debtor(account, message, dedupe_key=key, purpose=purpose)
    db.session.commit()
    return row


def test_the_fourth_request_for_payment_in_seven_days_is_refused_and_the_window_slides(
    db, time_machine
):
    account = emailable()
    for day, key in ((15, "a"), (16, "b"), (17, "c")):  # Monday to Wednesday
        time_machine.move_to(noon(date(2026, 6, day)), tick=False)
        assert send(account, REMINDER, f"cap:{key}") is not None

    time_machine.move_to(noon(date(2026, 6, 18)), tick=False)
    assert send(account, REMINDER, "cap:d") is None
    # Telling the debtor something is not asking for payment: not capped.
    assert send(account, RECEIPT, "cap:receipt", purpose=SERVICE) is not None

    # A week and a minute after the first, it no longer counts: one more may go...
    time_machine.move_to(datetime(2026, 6, 22, 11, 1, tzinfo=UTC), tick=False)
    assert send(account, REMINDER, "cap:e") is not None
    # ...and then the three of Tuesday, Wednesday and today fill the week again.
    assert send(account, REMINDER, "cap:f") is None
    purposes = db.session.scalars(sa.select(OutboxMessage.purpose).order_by(OutboxMessage.id)).all()
    assert purposes == [COLLECTION, COLLECTION, COLLECTION, SERVICE, COLLECTION]


def test_the_cap_counts_earlier_notices_in_the_same_batch(db):
    account = emailable()
    written = notify_debtors(
        [(account, REMINDER, f"batch:{n}") for n in range(5)], purpose=COLLECTION
    )
    assert [row is not None for row in written.values()] == [True, True, True, False, False]


def test_a_withdrawn_request_for_payment_does_not_count_towards_the_cap(db):
    account = emailable()
    rows = [send(account, REMINDER, f"withdrawn:{n}") for n in range(3)]
    rows[0].status = OutboxStatus.CANCELLED
    db.session.commit()
    assert send(account, REMINDER, "withdrawn:3") is not None


def test_breathing_space_refuses_requests_for_payment_but_not_messages_about_it_or_receipts(
    db, time_machine
):
    time_machine.move_to(noon(date(2026, 6, 17)), tick=False)
    account = emailable(
        breathing_space_type=BreathingSpaceType.STANDARD,
        breathing_space_start=date(2026, 6, 1),
        breathing_space_end=date(2026, 7, 30),
    )
    assert send(account, REMINDER, "bs:reminder") is None
    about = send(account, ABOUT_BREATHING_SPACE, "bs:about", purpose=MessagePurpose.BREATHING_SPACE)
    assert about is not None and about.purpose == MessagePurpose.BREATHING_SPACE
    assert send(account, RECEIPT, "bs:receipt", purpose=SERVICE) is not None

    # The day after it ends, asking for payment is allowed again.
    time_machine.move_to(noon(date(2026, 7, 31)), tick=False)
    assert send(account, REMINDER, "bs:after") is not None


def test_a_message_that_says_it_asks_for_payment_is_refused_whatever_the_caller_passes(db):
    account = emailable(
        breathing_space_type=BreathingSpaceType.STANDARD, breathing_space_start=date(2020, 1, 1)
    )
    asks = Message(**{**REMINDER.__dict__, "purpose": COLLECTION})
    assert send(account, asks, "bs:own-purpose", purpose=SERVICE) is None


def test_nothing_is_written_to_a_deceased_debtor_not_even_a_receipt(db):
    account = emailable(deceased=True, date_of_death=date(2026, 5, 1))
    assert send(account, RECEIPT, "dead:receipt", purpose=SERVICE) is None
    assert send(account, REMINDER, "dead:reminder") is None
    assert send(account, ABOUT_BREATHING_SPACE, "dead:bs", MessagePurpose.BREATHING_SPACE) is None
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 0


def test_no_text_without_consent_to_texts_even_when_texts_are_preferred(db):
    account = make_account(preferred_channel=Channel.SMS, mobile_phone="+447700900555")
    row = send(account, RECEIPT, "consent:none", purpose=SERVICE)
    assert row.channel == OutboxChannel.LETTER
    assert channel_for(account) == OutboxChannel.LETTER


def test_a_text_goes_when_texts_are_preferred_and_agreed(db, time_machine):
    time_machine.move_to(noon(date(2026, 6, 17)), tick=False)
    account = make_account(
        preferred_channel=Channel.SMS, mobile_phone="+447700900555", consent_sms=True
    )
    row = send(account, RECEIPT, "consent:yes", purpose=SERVICE)
    assert (row.channel, row.recipient, row.body) == (
        OutboxChannel.SMS,
        "+447700900555",
        RECEIPT.sms,
    )


def test_the_debtors_preference_for_post_is_kept_even_when_they_agreed_to_email(db):
    account = make_account(email="pat@example.com", consent_email=True)  # prefers post
    row = send(account, RECEIPT, "post:preferred", purpose=SERVICE)
    assert row.channel == OutboxChannel.LETTER
    assert row.recipient.endswith("Ambridge, AB1 2CD")


def test_a_number_that_replied_stop_is_never_texted_again(
    outbox_app, sms_fake, mailbox, time_machine
):
    time_machine.move_to(noon(date(2026, 6, 17)), tick=True)
    account = make_account(
        preferred_channel=Channel.SMS,
        mobile_phone=OPTED_OUT_NUMBER,
        consent_sms=True,
        email="pat@example.com",
        consent_email=True,
    )
    account_id = account.id
    first = send(account, RECEIPT, "stop:first", purpose=SERVICE)
    first_id = first.id
    assert first.channel == OutboxChannel.SMS

    run_outbox_jobs(outbox_app)  # the fake refuses it: 21610, the person replied STOP

    db.session.expire_all()
    assert db.session.get(OutboxMessage, first_id).status == OutboxStatus.FAILED
    account = db.session.get(DebtorAccount, account_id)
    assert account.consent_sms is False
    summaries = db.session.scalars(
        sa.select(ContactEvent.summary).where(ContactEvent.account_id == account_id)
    ).all()
    assert "Texts stopped: the person replied STOP" in summaries
    assert db.session.scalar(
        sa.select(AuditLog.action).where(AuditLog.action == "account.sms_opted_out")
    )

    second = send(account, RECEIPT, "stop:second", purpose=SERVICE)
    assert second.channel == OutboxChannel.EMAIL
    run_outbox_jobs(outbox_app)
    assert sms_fake.messages() == []
    assert [m["subject"] for m in mailbox.messages()] == [RECEIPT.subject]
