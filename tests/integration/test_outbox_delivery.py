"""The outbox dispatcher against real parts: smtplib to the SMTP capture, the
twilio SDK to the fake Twilio API, RQ on a real Redis, the real database."""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta
from urllib.parse import parse_qsl

import pytest
import sqlalchemy as sa
from rq import Queue
from rq.cron import CronScheduler
from rq.job import Job, JobStatus
from twilio.request_validator import RequestValidator

from shared.app import create_app
from shared.extensions import db
from shared.integrations.email import EmailError
from shared.integrations.sms import SmsClient
from shared.jobs import outbox, outbox_batch
from shared.jobs.queues import QUEUE_NAMES, redis_connection
from shared.models import (
    AuditLog,
    ContactEvent,
    ContactKind,
    OutboxChannel,
    OutboxMessage,
    OutboxStatus,
)
from shared.models.base import utcnow
from tests.factories import make_account
from tests.messaging_fixtures import (
    OPTED_OUT_NUMBER,
    REJECTED_DOMAIN,
    TWILIO_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN,
    TWILIO_FROM_NUMBER,
    messaging_config,
    run_outbox_jobs,
)
from tests.stripe_fixtures import free_port

MOBILE = "+447700900123"


def add_message(channel=OutboxChannel.EMAIL, **fields) -> int:
    defaults = {
        OutboxChannel.EMAIL: {
            "recipient": "alex.smith@example.com",
            "subject": "Your Borsetshire County Council security code",
            "body": "Your security code is 482913\n\nIt expires in 10 minutes.",
        },
        OutboxChannel.SMS: {
            "recipient": MOBILE,
            "body": "482913 is your Borsetshire County Council security code.",
        },
        OutboxChannel.LETTER: {"recipient": "1 High Street, Ambridge", "body": "Dear Alex"},
    }[channel]
    message = OutboxMessage(channel=channel, template="test_message", **{**defaults, **fields})
    db.session.add(message)
    db.session.commit()
    return message.id


def reload(message_id: int) -> OutboxMessage:
    db.session.expire_all()
    return db.session.get(OutboxMessage, message_id)


def queued_ids(app) -> list[str]:
    return Queue(outbox.OUTBOX_QUEUE, connection=redis_connection(app.config["REDIS_URL"])).job_ids


def timeline(message_id: int) -> list[ContactEvent]:
    return list(
        db.session.scalars(
            sa.select(ContactEvent).where(ContactEvent.outbox_message_id == message_id)
        )
    )


def audit_actions(message_id: int) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(AuditLog.action)
            .where(AuditLog.object_type == "outbox_message", AuditLog.object_id == str(message_id))
            .order_by(AuditLog.id)
        )
    )


# --- delivery -----------------------------------------------------------------------------------


def test_an_email_row_is_delivered_to_the_smtp_server_and_marked_sent_with_its_message_id(
    outbox_app, mailbox
):
    account_id = make_account().id
    message_id = add_message(account_id=account_id)

    run_outbox_jobs(outbox_app)

    [mail] = mailbox.messages()
    assert mail["rcpt_tos"] == ["alex.smith@example.com"]
    assert mail["subject"] == "Your Borsetshire County Council security code"
    assert mail["body"].strip() == "Your security code is 482913\n\nIt expires in 10 minutes."
    assert "no-reply@borsetshire.example" in mail["from"]
    row = reload(message_id)
    assert row.status == OutboxStatus.SENT
    assert row.provider_id == mail["message_id"]
    assert row.provider_id.endswith("@borsetshire.example>")
    assert row.sent_at is not None
    assert row.attempts == 1
    assert row.last_error is None
    [event] = timeline(message_id)
    assert event.account_id == account_id
    assert event.kind == ContactKind.EMAIL
    assert event.outcome == "sent"
    assert audit_actions(message_id) == ["outbox.claimed", "outbox.sent"]


def test_an_sms_row_reaches_the_twilio_fake_through_the_sdk_and_stores_its_sid(
    outbox_app, sms_fake
):
    message_id = add_message(OutboxChannel.SMS)

    run_outbox_jobs(outbox_app)

    [sms] = sms_fake.messages()
    assert sms["to"] == MOBILE
    assert sms["from"] == TWILIO_FROM_NUMBER
    assert sms["body"] == "482913 is your Borsetshire County Council security code."
    assert sms["num_segments"] == 1
    row = reload(message_id)
    assert row.status == OutboxStatus.SENT
    assert row.provider_id == sms["sid"]
    assert row.provider_id.startswith("SM") and len(row.provider_id) == 34


def test_a_message_without_an_account_is_sent_without_a_timeline_entry(outbox_app, mailbox):
    message_id = add_message(recipient="new.user@example.com", subject="Reset your password")

    run_outbox_jobs(outbox_app)

    assert reload(message_id).status == OutboxStatus.SENT
    assert [m["subject"] for m in mailbox.messages()] == ["Reset your password"]
    assert timeline(message_id) == []
    assert audit_actions(message_id) == ["outbox.claimed", "outbox.sent"]


# --- once, and only once ------------------------------------------------------------------------


def test_a_delivery_job_that_runs_twice_sends_once(outbox_app, mailbox):
    message_id = add_message()

    assert outbox.deliver_message(message_id) == "sent"
    assert outbox.deliver_message(message_id) == "skipped: not pending"
    run_outbox_jobs(outbox_app)  # the job the commit enqueued finds it done too

    assert len(mailbox.messages()) == 1
    assert reload(message_id).attempts == 1


def test_enqueuing_a_message_twice_queues_one_job(outbox_app):
    message_id = add_message()  # the commit enqueued it once

    assert outbox.enqueue_messages([message_id, message_id]) == 0

    assert queued_ids(outbox_app) == [f"outbox-{message_id}"]


def test_two_workers_delivering_the_same_row_at_once_send_it_once(outbox_app, mailbox):
    message_id = add_message()
    start = threading.Barrier(2)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def worker() -> None:
        with outbox_app.app_context():
            try:
                start.wait()
                outcomes.append(outbox.deliver_message(message_id))
            except BaseException as exc:  # reported below, not lost in the thread
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(outcomes) == ["sent", "skipped: not pending"]
    assert len(mailbox.messages()) == 1
    assert reload(message_id).attempts == 1


# --- transient failures -------------------------------------------------------------------------


def test_when_smtp_is_down_the_row_goes_back_to_pending_and_the_sweeper_delivers_it_later(
    outbox_app, mailbox
):
    smtp_port = outbox_app.config["SMTP_PORT"]
    outbox_app.config["SMTP_PORT"] = free_port()  # nothing listens there
    message_id = add_message()
    Queue(outbox.OUTBOX_QUEUE, connection=outbox.outbox_redis(outbox_app)).empty()

    with pytest.raises(EmailError) as raised:
        outbox.deliver_message(message_id)

    assert raised.value.transient
    row = reload(message_id)
    assert row.status == OutboxStatus.PENDING
    assert row.attempts == 1
    assert "Connection refused" in row.last_error
    assert mailbox.messages() == []

    outbox_app.config["SMTP_PORT"] = smtp_port
    counts = outbox.sweep_outbox(pending_older_than=timedelta(0))
    assert counts == {"rescued": 0, "pending": 1, "enqueued": 1}
    run_outbox_jobs(outbox_app)

    row = reload(message_id)
    assert row.status == OutboxStatus.SENT
    assert row.attempts == 2
    assert row.last_error is None
    assert len(mailbox.messages()) == 1
    assert audit_actions(message_id) == [
        "outbox.claimed",
        "outbox.retry",
        "outbox.claimed",
        "outbox.sent",
    ]


def test_a_transient_failure_in_a_worker_is_left_to_rqs_retry_and_not_enqueued_again(
    outbox_app, sms_fake
):
    sms_fake.fail_next(1)  # Twilio answers 503
    message_id = add_message(OutboxChannel.SMS)

    run_outbox_jobs(outbox_app)

    row = reload(message_id)
    assert row.status == OutboxStatus.PENDING
    assert "20500" in row.last_error
    job = Job.fetch(f"outbox-{message_id}", connection=outbox.outbox_redis(outbox_app))
    assert job.get_status() == JobStatus.SCHEDULED
    assert job.retries_left == outbox.RETRY.max - 1
    # The sweeper sees the retry waiting and does not queue a second job.
    assert outbox.sweep_outbox(pending_older_than=timedelta(0))["enqueued"] == 0
    assert queued_ids(outbox_app) == []


def test_a_row_that_keeps_failing_is_given_up_on_after_the_last_attempt(outbox_app, mailbox):
    outbox_app.config["SMTP_PORT"] = free_port()
    message_id = add_message()
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(attempts=outbox.MAX_ATTEMPTS - 1)
    )
    db.session.commit()

    assert outbox.deliver_message(message_id) == "failed"

    row = reload(message_id)
    assert row.status == OutboxStatus.FAILED
    assert row.attempts == outbox.MAX_ATTEMPTS
    assert "Connection refused" in row.last_error


# --- permanent failures -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number, code, reason",
    [
        (OPTED_OUT_NUMBER, "21610", "opted out of texts"),
        ("07700 900123", "21211", "not a valid phone number"),
    ],
)
def test_a_number_twilio_refuses_fails_for_good_and_shows_why_on_the_timeline(
    outbox_app, sms_fake, number, code, reason
):
    account = make_account()
    message_id = add_message(OutboxChannel.SMS, recipient=number, account_id=account.id)

    run_outbox_jobs(outbox_app)

    row = reload(message_id)
    assert row.status == OutboxStatus.FAILED
    assert code in row.last_error
    assert row.attempts == 1
    assert row.provider_id is None
    assert sms_fake.messages() == []
    job = Job.fetch(f"outbox-{message_id}", connection=outbox.outbox_redis(outbox_app))
    assert job.get_status() == JobStatus.FINISHED  # no RQ retry
    assert outbox.sweep_outbox(pending_older_than=timedelta(0))["pending"] == 0
    [event] = timeline(message_id)
    assert event.kind == ContactKind.SMS
    assert event.outcome == "failed"
    assert reason in event.summary
    assert code in event.detail
    assert audit_actions(message_id) == ["outbox.claimed", "outbox.failed"]


def test_an_email_address_the_server_refuses_fails_for_good(outbox_app, mailbox):
    message_id = add_message(recipient=f"nobody@{REJECTED_DOMAIN}")

    assert outbox.deliver_message(message_id) == "failed"

    row = reload(message_id)
    assert row.status == OutboxStatus.FAILED
    assert "550" in row.last_error
    assert mailbox.messages() == []


# --- enqueueing after commit --------------------------------------------------------------------


def test_committing_a_message_enqueues_its_id_after_the_commit_and_not_before(outbox_app):
    message = OutboxMessage(
        channel=OutboxChannel.EMAIL,
        template="test_message",
        recipient="alex.smith@example.com",
        subject="Hello",
        body="Hello",
    )
    db.session.add(message)
    db.session.flush()
    message_id = message.id

    assert queued_ids(outbox_app) == []
    db.session.commit()

    assert queued_ids(outbox_app) == [f"outbox-{message_id}"]
    job = Job.fetch(f"outbox-{message_id}", connection=outbox.outbox_redis(outbox_app))
    assert job.func_name == "shared.jobs.outbox.deliver_message"
    assert job.args == (message_id,)


def test_many_messages_in_one_commit_go_in_batch_jobs_below_the_security_codes(outbox_app):
    # A batch job (the plan monitor, a dunning run) commits hundreds of notices at
    # once: they go in batch jobs of up to BATCH_SIZE ids on BATCH_QUEUE, in one
    # pipeline, and nothing is put on "high" in front of the next security code.
    ids = []
    for n in range(outbox_batch.BATCH_SIZE * 2 + 3):
        message = OutboxMessage(
            channel=OutboxChannel.SMS,
            template="test_message",
            recipient=f"+4477009{n:05d}",
            body="Hello",
        )
        db.session.add(message)
        db.session.flush()
        ids.append(message.id)
    db.session.commit()

    assert queued_ids(outbox_app) == []
    batch_queue = Queue(outbox.BATCH_QUEUE, connection=outbox.outbox_redis(outbox_app))
    jobs = [Job.fetch(jid, connection=batch_queue.connection) for jid in batch_queue.job_ids]
    assert [len(job.args[0]) for job in jobs] == [100, 100, 3]
    assert sorted(i for job in jobs for i in job.args[0]) == ids
    assert jobs[0].id == f"outbox-batch-{ids[0]}-{ids[99]}"
    assert jobs[0].func_name == "shared.jobs.outbox_batch.deliver_batch"
    assert jobs[0].timeout == outbox_batch.BATCH_JOB_TIMEOUT_SECONDS


def test_a_few_messages_in_one_commit_each_get_one_job_with_retries_on_high(outbox_app):
    ids = [add_message(OutboxChannel.SMS) for _ in range(2)]
    three = [
        OutboxMessage(channel=OutboxChannel.SMS, template="t", recipient=MOBILE, body="Hi")
        for _ in range(outbox_batch.BATCH_MIN - 1)
    ]
    db.session.add_all(three)
    db.session.commit()
    ids += [m.id for m in three]

    assert sorted(queued_ids(outbox_app)) == sorted(f"outbox-{i}" for i in ids)
    job = Job.fetch(f"outbox-{ids[-1]}", connection=outbox.outbox_redis(outbox_app))
    assert job.args == (ids[-1],)
    assert job.retries_left == outbox.RETRY.max
    assert job.timeout == outbox.JOB_TIMEOUT_SECONDS


def test_a_rolled_back_message_enqueues_nothing(outbox_app):
    db.session.add(
        OutboxMessage(
            channel=OutboxChannel.EMAIL,
            template="test_message",
            recipient="alex.smith@example.com",
            subject="Hello",
            body="Hello",
        )
    )
    db.session.flush()
    db.session.rollback()
    add_message(OutboxChannel.LETTER)  # a later commit in the same session

    assert queued_ids(outbox_app) == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 1


def test_letters_are_never_enqueued_claimed_or_swept(outbox_app):
    message_id = add_message(OutboxChannel.LETTER)

    assert queued_ids(outbox_app) == []
    assert outbox.deliver_message(message_id) == "skipped: not pending"
    assert outbox.sweep_outbox(pending_older_than=timedelta(0))["pending"] == 0
    assert reload(message_id).status == OutboxStatus.PENDING


def test_a_commit_succeeds_when_redis_is_down_and_the_sweeper_sends_the_row_later(
    database_url, outbox_redis_url, mailbox, sms_fake, outbox_app, caplog
):
    closed = f"redis://127.0.0.1:{free_port()}/0"
    down = create_app(messaging_config(database_url, closed, mailbox, sms_fake))
    with down.app_context(), caplog.at_level(logging.WARNING, logger="shared.jobs.outbox"):
        started = time.monotonic()
        message_id = add_message()
        assert time.monotonic() - started < 5
        db.session.remove()
        db.engine.dispose()
    assert "the sweeper will send them" in caplog.text

    assert queued_ids(outbox_app) == []
    assert outbox.sweep_outbox()["enqueued"] == 0  # too new: its own job may still come
    assert outbox.sweep_outbox(pending_older_than=timedelta(0))["enqueued"] == 1
    run_outbox_jobs(outbox_app)

    assert reload(message_id).status == OutboxStatus.SENT
    assert len(mailbox.messages()) == 1


# --- rows a dead worker left behind -------------------------------------------------------------


def test_a_row_left_sending_by_a_dead_worker_is_returned_to_pending_and_delivered(
    outbox_app, mailbox
):
    message_id = add_message()
    Queue(outbox.OUTBOX_QUEUE, connection=outbox.outbox_redis(outbox_app)).empty()
    # A worker claimed it 11 minutes ago, then died before recording anything.
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(status=OutboxStatus.SENDING, attempts=1)
    )
    db.session.add(
        AuditLog(
            actor_type="system",
            action="outbox.claimed",
            object_type="outbox_message",
            object_id=str(message_id),
            occurred_at=utcnow() - timedelta(minutes=11),
        )
    )
    db.session.commit()

    counts = outbox.sweep_outbox(pending_older_than=timedelta(0))
    assert counts == {"rescued": 1, "pending": 1, "enqueued": 1}
    assert "worker stopped" in reload(message_id).last_error
    run_outbox_jobs(outbox_app)

    row = reload(message_id)
    assert row.status == OutboxStatus.SENT
    assert row.attempts == 2
    assert len(mailbox.messages()) == 1


def test_a_row_claimed_a_moment_ago_is_left_to_its_worker(outbox_app):
    message_id = add_message()
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(status=OutboxStatus.SENDING, attempts=1)
    )
    db.session.add(
        AuditLog(
            actor_type="system",
            action="outbox.claimed",
            object_type="outbox_message",
            object_id=str(message_id),
            occurred_at=utcnow() - timedelta(minutes=2),
        )
    )
    db.session.commit()

    assert outbox.sweep_outbox(pending_older_than=timedelta(0))["rescued"] == 0
    assert reload(message_id).status == OutboxStatus.SENDING


# --- operators and the schedule -----------------------------------------------------------------


def test_the_send_pending_command_delivers_pending_rows_inline(outbox_app, mailbox, sms_fake):
    add_message()
    add_message(OutboxChannel.SMS)
    add_message(OutboxChannel.SMS, recipient=OPTED_OUT_NUMBER)

    result = outbox_app.test_cli_runner().invoke(args=["outbox", "send-pending"])

    assert result.exit_code == 0, result.output
    assert "sent 2, failed 1, retry later 0, skipped 0" in result.output
    assert len(mailbox.messages()) == 1
    assert len(sms_fake.messages()) == 1


def test_the_cron_config_sweeps_the_outbox_every_minute_on_a_queue_the_workers_serve(redis_url):
    connection = redis_connection(redis_url)
    scheduler = CronScheduler(connection=connection)
    scheduler.load_config_from_file("shared.jobs.cron_config")

    [job] = [j for j in scheduler.get_jobs() if j.func is outbox.sweep_outbox]

    assert job.interval == 60
    assert job.queue_name in QUEUE_NAMES
    connection.close()


# --- the fake Twilio's status callbacks ---------------------------------------------------------


def test_the_twilio_fake_reports_sent_and_delivered_with_a_signature_the_sdk_accepts(
    sms_fake, receiver
):
    receiver.clear()
    client = SmsClient(
        TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER, api_base=sms_fake.base_url
    )

    sid = client.send(MOBILE, "Your payment plan starts on 1 May.", status_callback=receiver.url)

    deadline = time.monotonic() + 10
    while len(receiver.received) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    validator = RequestValidator(TWILIO_AUTH_TOKEN)
    statuses = []
    for headers, body in receiver.received:
        params = dict(parse_qsl(body.decode()))
        assert params["MessageSid"] == sid
        assert validator.validate(receiver.url, params, headers["X-Twilio-Signature"])
        assert not RequestValidator("another-token").validate(
            receiver.url, params, headers["X-Twilio-Signature"]
        )
        statuses.append(params["MessageStatus"])
    assert statuses == ["sent", "delivered"]
    [sms] = sms_fake.messages()
    assert sms["status"] == "delivered"
