"""Twilio's status callbacks for texts we sent: verified with the real SDK's
validator, applied once, and a STOP reply stops further texts."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from twilio.request_validator import RequestValidator

from shared.integrations.sms import twilio_status_url
from shared.models import (
    AuditLog,
    ContactEvent,
    DebtorAccount,
    OutboxChannel,
    OutboxMessage,
    OutboxStatus,
)
from tests.factories import make_account


@pytest.fixture
def sent_text(db):
    account = make_account(mobile_phone="07700900123", consent_sms=True)
    message = OutboxMessage(
        account_id=account.id,
        channel=OutboxChannel.SMS,
        template="test",
        recipient="+447700900123",
        body="Your payment is due",
        status=OutboxStatus.SENT,
        provider_id="SM0123456789abcdef0123456789abcdef",
    )
    db.session.add(message)
    db.session.commit()
    return message


def post_status(app, client, sid, status, error_code=None, *, signature=None):
    form = {"MessageSid": sid, "MessageStatus": status}
    if error_code is not None:
        form["ErrorCode"] = str(error_code)
    if signature is None:
        signature = RequestValidator(app.config["TWILIO_AUTH_TOKEN"]).compute_signature(
            twilio_status_url(app.config), form
        )
    return client.post(
        "/webhooks/twilio/status", data=form, headers={"X-Twilio-Signature": signature}
    )


def reload(db, message_id) -> OutboxMessage:
    db.session.expire_all()
    return db.session.get(OutboxMessage, message_id)


def test_delivered_is_recorded_once_however_often_twilio_says_it(app, client, db, sent_text):
    for _ in range(3):
        response = post_status(app, client, sent_text.provider_id, "delivered")
        assert response.status_code == 200

    assert reload(db, sent_text.id).status == OutboxStatus.DELIVERED
    audits = db.session.scalars(
        sa.select(AuditLog.action).where(AuditLog.action == "outbox.delivered")
    ).all()
    assert audits == ["outbox.delivered"]


def test_an_earlier_status_arriving_late_changes_nothing(app, client, db, sent_text):
    post_status(app, client, sent_text.provider_id, "delivered")
    post_status(app, client, sent_text.provider_id, "sent")

    assert reload(db, sent_text.id).status == OutboxStatus.DELIVERED


def test_a_forged_callback_is_forbidden_and_changes_nothing(app, client, db, sent_text):
    response = post_status(app, client, sent_text.provider_id, "failed", 30003, signature="bad")

    assert response.status_code == 403
    assert reload(db, sent_text.id).status == OutboxStatus.SENT


def test_a_callback_signed_with_another_token_or_unsigned_is_forbidden(app, client, db, sent_text):
    form = {"MessageSid": sent_text.provider_id, "MessageStatus": "delivered"}
    forged = RequestValidator("someone-elses-token").compute_signature(
        twilio_status_url(app.config), form
    )

    assert (
        post_status(app, client, sent_text.provider_id, "delivered", signature=forged).status_code
        == 403
    )
    assert client.post("/webhooks/twilio/status", data=form).status_code == 403
    assert reload(db, sent_text.id).status == OutboxStatus.SENT


def test_an_undelivered_text_is_failed_with_the_reason_on_the_timeline(app, client, db, sent_text):
    post_status(app, client, sent_text.provider_id, "undelivered", 30006)

    row = reload(db, sent_text.id)
    assert row.status == OutboxStatus.FAILED
    assert row.last_error == "Twilio undelivered: error 30006"
    summaries = db.session.scalars(
        sa.select(ContactEvent.summary).where(ContactEvent.account_id == sent_text.account_id)
    ).all()
    assert summaries == [
        "Text message to +447700900123 not delivered: "
        "the number is a landline or cannot receive texts"
    ]


def test_a_stop_reply_withdraws_consent_to_texts_with_history_and_audit(app, client, db, sent_text):
    post_status(app, client, sent_text.provider_id, "failed", 21610)

    account = db.session.get(DebtorAccount, sent_text.account_id)
    assert account.consent_sms is False
    summaries = db.session.scalars(
        sa.select(ContactEvent.summary).where(ContactEvent.account_id == account.id)
    ).all()
    assert "Texts stopped: the person replied STOP" in summaries
    assert db.session.scalar(
        sa.select(AuditLog.action).where(AuditLog.action == "account.sms_opted_out")
    )


def test_a_callback_for_a_message_we_do_not_know_is_acknowledged(app, client, db):
    response = post_status(app, client, "SMnothing", "delivered")

    assert response.status_code == 200
    assert response.json["outcome"] == "unknown message"
