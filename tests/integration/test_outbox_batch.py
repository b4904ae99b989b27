"""Batch delivery of outbox rows (shared/jobs/outbox_batch.py) against real parts:
the twilio SDK to the fake Twilio API, RQ on a real Redis, the real database."""

from __future__ import annotations

import threading
from datetime import timedelta

import sqlalchemy as sa
from rq import Queue, SimpleWorker
from rq.job import Job
from rq.registry import ScheduledJobRegistry

from shared.extensions import db
from shared.jobs import outbox, outbox_batch
from shared.models import AuditLog, ContactEvent, OutboxChannel, OutboxMessage, OutboxStatus
from shared.models.base import utcnow
from tests.factories import make_account
from tests.messaging_fixtures import OPTED_OUT_NUMBER


def write_texts(count: int, **fields) -> list[int]:
    """`count` SMS rows to one account each, committed together (so batched)."""
    accounts = [make_account() for _ in range(count)]
    db.session.flush()
    rows = [
        OutboxMessage(
            channel=OutboxChannel.SMS,
            template="test_message",
            recipient=f"+4477009{n:05d}",
            body=f"Reminder {n}: your payment is due.",
            account_id=account.id,
            **fields,
        )
        for n, account in enumerate(accounts)
    ]
    db.session.add_all(rows)
    db.session.commit()
    return [row.id for row in rows]


def rows(ids: list[int]) -> list[OutboxMessage]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.id.in_(ids)).order_by(OutboxMessage.id)
        )
    )


def actions(message_id: int) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(AuditLog.action)
            .where(AuditLog.object_type == "outbox_message", AuditLog.object_id == str(message_id))
            .order_by(AuditLog.id)
        )
    )


def timeline(message_id: int) -> list[ContactEvent]:
    return list(
        db.session.scalars(
            sa.select(ContactEvent).where(ContactEvent.outbox_message_id == message_id)
        )
    )


def batch_queue(app) -> Queue:
    return Queue(outbox.BATCH_QUEUE, connection=outbox.outbox_redis(app))


def run_all_outbox_jobs(app) -> None:
    """A real RQ worker in this process over both outbox queues, as the Procfile's does."""
    connection = outbox.outbox_redis(app)
    queues = [Queue(name, connection=connection) for name in (outbox.OUTBOX_QUEUE, "default")]
    SimpleWorker(queues, connection=connection).work(burst=True, logging_level="WARNING")


def test_a_commit_of_many_texts_is_delivered_by_batch_jobs_each_once_with_its_history(
    outbox_app, sms_fake
):
    ids = write_texts(outbox_batch.BATCH_SIZE + 5)

    run_all_outbox_jobs(outbox_app)

    sent = rows(ids)
    assert {row.status for row in sent} == {OutboxStatus.SENT}
    assert [row.attempts for row in sent] == [1] * len(ids)
    assert all(row.provider_id.startswith("SM") for row in sent)
    texts = sms_fake.messages()
    assert sorted(t["to"] for t in texts) == sorted(row.recipient for row in sent)
    assert actions(ids[0]) == ["outbox.claimed", "outbox.sent"]
    [event] = timeline(ids[-1])
    assert event.outcome == "sent" and event.account_id == sent[-1].account_id


def test_a_batch_job_run_twice_sends_each_row_once(outbox_app, sms_fake):
    ids = write_texts(outbox_batch.BATCH_MIN)

    first = outbox_batch.deliver_batch(ids)
    second = outbox_batch.deliver_batch(ids)
    run_all_outbox_jobs(outbox_app)  # and the job the commit enqueued

    assert first == {"sent": len(ids)}
    assert second == {"skipped: not pending": len(ids)}
    assert len(sms_fake.messages()) == len(ids)
    assert {row.attempts for row in rows(ids)} == {1}


def test_a_single_row_job_and_a_batch_job_for_the_same_row_at_once_send_it_once(
    outbox_app, sms_fake
):
    ids = write_texts(outbox_batch.BATCH_MIN)
    start = threading.Barrier(2)
    outcomes: list[object] = []
    errors: list[BaseException] = []

    def run(job) -> None:
        with outbox_app.app_context():
            try:
                start.wait()
                outcomes.append(job())
            except BaseException as exc:  # reported below, not lost in the thread
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [
        threading.Thread(target=run, args=(lambda: outbox.deliver_message(ids[0]),)),
        threading.Thread(target=run, args=(lambda: outbox_batch.deliver_batch(ids),)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert len(sms_fake.messages(to=rows(ids[:1])[0].recipient)) == 1
    assert len(sms_fake.messages()) == len(ids)
    assert actions(ids[0]) == ["outbox.claimed", "outbox.sent"]
    assert {row.status for row in rows(ids)} == {OutboxStatus.SENT}


def test_a_transient_failure_in_a_batch_retries_that_row_only_on_the_backoff(outbox_app, sms_fake):
    ids = write_texts(outbox_batch.BATCH_MIN)
    batch_queue(outbox_app).empty()
    sms_fake.fail_next(1)  # Twilio answers 503 to one of them

    counts = outbox_batch.deliver_batch(ids)

    assert counts == {"sent": len(ids) - 1, "retry": 1}
    [failed] = [row for row in rows(ids) if row.status != OutboxStatus.SENT]
    assert failed.status == OutboxStatus.PENDING
    assert "20500" in failed.last_error and failed.attempts == 1
    failed_id = failed.id  # the sweeper below closes this session
    assert len(sms_fake.messages()) == len(ids) - 1
    scheduled = ScheduledJobRegistry(queue=batch_queue(outbox_app))
    [jid] = scheduled.get_job_ids()
    assert jid == f"outbox-batch-{failed_id}-{failed_id}-retry1"
    retry = Job.fetch(jid, connection=batch_queue(outbox_app).connection)
    assert retry.args == ([failed_id],)
    seconds = (scheduled.get_scheduled_time(retry) - retry.created_at).total_seconds()
    assert abs(seconds - outbox_batch.RETRY_INTERVALS[0]) < 5
    # The sweeper sees the scheduled retry and queues nothing more for the row.
    assert outbox.sweep_outbox(pending_older_than=timedelta(0))["enqueued"] == 0

    assert outbox_batch.deliver_batch(*retry.args) == {"sent": 1}  # as the scheduler would
    again = rows([failed_id])[0]
    assert again.status == OutboxStatus.SENT and again.attempts == 2
    assert actions(failed_id) == ["outbox.claimed", "outbox.retry", "outbox.claimed", "outbox.sent"]
    assert len(sms_fake.messages()) == len(ids)


def test_a_permanent_failure_in_a_batch_is_recorded_failed_on_the_timeline(outbox_app, sms_fake):
    ids = write_texts(outbox_batch.BATCH_MIN)
    refused = ids[3]
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == refused)
        .values(recipient=OPTED_OUT_NUMBER)
    )
    db.session.commit()

    counts = outbox_batch.deliver_batch(ids)

    assert counts == {"sent": len(ids) - 1, "failed": 1}
    row = rows([refused])[0]
    assert row.status == OutboxStatus.FAILED and "21610" in row.last_error
    [event] = timeline(refused)
    assert event.outcome == "failed"
    assert "opted out of texts" in event.summary
    assert actions(refused) == ["outbox.claimed", "outbox.failed"]
    assert ScheduledJobRegistry(queue=batch_queue(outbox_app)).get_job_ids() == []
    assert sms_fake.messages(to=OPTED_OUT_NUMBER) == []


def test_rows_deferred_out_of_quiet_hours_in_a_batch_are_not_sent_early(outbox_app, sms_fake):
    later = utcnow() + timedelta(hours=10)
    waiting = write_texts(4, not_before=later)  # not enqueued by the commit
    now = write_texts(outbox_batch.BATCH_MIN)

    counts = outbox_batch.deliver_batch(waiting + now)

    assert counts == {"sent": len(now), "deferred": len(waiting)}
    assert {(row.status, row.attempts) for row in rows(waiting)} == {(OutboxStatus.PENDING, 0)}
    assert len(sms_fake.messages()) == len(now)
    assert outbox.sweep_outbox(pending_older_than=timedelta(0))["pending"] == 0


def test_the_sweeper_leaves_rows_a_waiting_batch_holds_and_batches_a_backlog_itself(
    outbox_app, sms_fake
):
    held = write_texts(outbox_batch.BATCH_MIN)  # its batch job waits on the queue
    [waiting] = batch_queue(outbox_app).job_ids
    stranded = write_texts(outbox_batch.BATCH_MIN + 2)
    batch_queue(outbox_app).remove(outbox_batch.batch_job_id(stranded))  # as if Redis lost it
    Job.fetch(
        outbox_batch.batch_job_id(stranded), connection=batch_queue(outbox_app).connection
    ).delete()

    counts = outbox.sweep_outbox(pending_older_than=timedelta(0))

    assert counts == {"rescued": 0, "pending": len(held + stranded), "enqueued": len(stranded)}
    assert outbox.sweep_outbox(pending_older_than=timedelta(0))["enqueued"] == 0
    assert sorted(batch_queue(outbox_app).job_ids) == sorted(
        [waiting, outbox_batch.batch_job_id(stranded)]
    )
    assert Queue(outbox.OUTBOX_QUEUE, connection=outbox.outbox_redis(outbox_app)).job_ids == []
    run_all_outbox_jobs(outbox_app)
    assert {row.status for row in rows(held + stranded)} == {OutboxStatus.SENT}
    assert len(sms_fake.messages()) == len(held + stranded)
