"""Template emails go as multipart/alternative through smtplib: the plain text, and
the same words as HTML inside the council's layout. Read back from the SMTP capture."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.extensions import db
from shared.models import (
    Channel,
    Language,
    MessagePurpose,
    MessageTemplate,
    OutboxMessage,
    OutboxStatus,
    TemplateChannel,
)
from shared.services.messages.compose import Outgoing, compose
from shared.services.notifications import Message, notify_debtor
from tests.factories import make_account
from tests.messaging_fixtures import run_outbox_jobs

COUNCIL = "Borsetshire County Council"


@pytest.fixture
def templates(outbox_app):
    db.session.add_all(
        [
            MessageTemplate(
                key="reminder",
                channel=TemplateChannel.EMAIL,
                language=Language.ENGLISH,
                name="Reminder",
                subject="Reminder: {amount_due} is overdue",
                body="Dear {name},\n\nPlease pay {amount_due}.\nReference: {payment_reference}",
            ),
            MessageTemplate(
                key="reminder",
                channel=TemplateChannel.EMAIL,
                language=Language.WELSH,
                name="Nodyn atgoffa",
                subject="Nodyn atgoffa: {amount_due}",
                body="Annwyl {name},\n\nTalwch {amount_due}.",
            ),
        ]
    )
    db.session.commit()


def account(**fields):
    return make_account(
        preferred_channel=Channel.EMAIL, email="robin@example.com", consent_email=True, **fields
    )


def send(who, values) -> int:
    written = compose(
        Outgoing(who, "reminder", values, MessagePurpose.COLLECTION),
        at=datetime(2026, 6, 17, 11, 0),
    )
    assert written.message is not None
    db.session.commit()
    return written.message.id


def test_a_template_email_arrives_with_a_plain_text_part_and_an_html_part(
    outbox_app, mailbox, templates
):
    message_id = send(
        account(),
        {"name": "Robin <b>Tally</b> & Sons", "amount_due": "£120.00", "payment_reference": "R1"},
    )
    run_outbox_jobs(outbox_app)

    [mail] = mailbox.messages(to="robin@example.com")
    assert mail["content_type"] == "multipart/alternative"
    assert mail["subject"] == "Reminder: £120.00 is overdue"
    assert mail["body"].strip() == (
        "Dear Robin <b>Tally</b> & Sons,\n\nPlease pay £120.00.\nReference: R1"
    )
    page = mail["html"]
    assert page.startswith("<!DOCTYPE html>")
    assert '<html lang="en">' in page
    assert "<title>Reminder: £120.00 is overdue</title>" in page
    assert COUNCIL in page
    # The debtor's words are escaped, never markup; paragraphs and line breaks kept.
    assert "Dear Robin &lt;b&gt;Tally&lt;/b&gt; &amp; Sons," in page
    assert "<b>" not in page
    assert "Please pay £120.00.<br>\nReference: R1</p>" in page
    # Styles inline only: mail clients drop <style> and linked sheets.
    assert "<style" not in page and "<link" not in page
    assert 'role="presentation"' in page
    db.session.expire_all()
    assert db.session.get(OutboxMessage, message_id).status == OutboxStatus.SENT


def test_a_welsh_email_says_so_to_screen_readers_and_in_its_footer(outbox_app, mailbox, templates):
    send(account(language="cy"), {"name": "Rhys", "amount_due": "£5.00"})
    run_outbox_jobs(outbox_app)

    [mail] = mailbox.messages(to="robin@example.com")
    assert mail["subject"] == "Nodyn atgoffa: £5.00"
    assert '<html lang="cy">' in mail["html"]
    assert f"Anfonwyd yr e-bost hwn gan {COUNCIL}." in mail["html"]
    assert mail["body"].startswith("Annwyl Rhys,")


def test_an_email_without_an_html_version_is_plain_text_only(outbox_app, mailbox, time_machine):
    time_machine.move_to(datetime(2026, 6, 17, 11, 0, tzinfo=UTC), tick=True)
    notify_debtor(account(), Message("receipt", "Thank you", "We received £5.00.", None))
    db.session.commit()
    run_outbox_jobs(outbox_app)

    [mail] = mailbox.messages(to="robin@example.com")
    assert mail["content_type"] == "text/plain"
    assert mail["html"] == ""
    assert mail["body"].strip() == "We received £5.00."
