"""The worker our Procfiles run, as a real `rq worker` process: it builds the app once
and every forked job uses it, with its own database connection."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from shared.extensions import db
from shared.models import OutboxChannel, OutboxMessage, OutboxStatus
from tests.factories import make_account

RQ = str(Path(sys.executable).parent / "rq")


def test_the_procfile_worker_delivers_queued_messages_in_forked_jobs(
    outbox_app, mailbox, database_url
):
    account_id = make_account().id
    ids = []
    for n in range(3):
        message = OutboxMessage(
            account_id=account_id,
            channel=OutboxChannel.EMAIL,
            template="test_message",
            recipient=f"person{n}@example.com",
            subject=f"Message {n}",
            body="Hello",
        )
        db.session.add(message)
        db.session.commit()  # each commit enqueues its row
        ids.append(message.id)
    config = outbox_app.config
    env = {
        **os.environ,
        "APP_ENV": "test",
        "DATABASE_URL": database_url,
        "SECRET_KEY": str(config["SECRET_KEY"]),
        "REDIS_URL": str(config["REDIS_URL"]),
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(config["SMTP_PORT"]),
        "MAIL_FROM": str(config["MAIL_FROM"]),
    }
    finished = subprocess.run(
        [
            RQ,
            "worker",
            "--burst",
            "-w",
            "shared.jobs.worker.AppWorker",
            "--url",
            env["REDIS_URL"],
            "high",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert finished.returncode == 0, finished.stderr[-2000:]
    db.session.expire_all()
    rows = [db.session.get(OutboxMessage, i) for i in ids]
    assert [r.status for r in rows] == [OutboxStatus.SENT] * 3
    assert sorted(m["subject"] for m in mailbox.messages()) == [
        "Message 0",
        "Message 1",
        "Message 2",
    ]
