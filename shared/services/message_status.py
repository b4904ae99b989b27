"""What the SMS provider later says about a text we handed it (its status callback).

Twilio reports queued, sending, sent, delivered, undelivered and failed, possibly
more than once and out of order. Only the end of the road changes our row: sent
becomes delivered, or a text that never arrived is marked failed with the reason
on the debtor's timeline. Error 21610 means the person replied STOP: we record
that they no longer agree to texts, so nothing texts them again until they say so.
"""

from __future__ import annotations

import sqlalchemy as sa

from shared.extensions import db
from shared.models import ContactKind, DebtorAccount, OutboxMessage, OutboxStatus
from shared.services.actors import SYSTEM
from shared.services.history import record_audit, record_timeline
from shared.services.unit_of_work import use_case

OPTED_OUT = 21610
ERROR_WORDS = {
    OPTED_OUT: "the person has replied STOP to our texts",
    21211: "the number is not a valid phone number",
    30003: "the phone was unreachable (switched off or out of signal)",
    30005: "the number is unknown or no longer in use",
    30006: "the number is a landline or cannot receive texts",
}
_NOT_ARRIVED = {"undelivered", "failed"}


@use_case
def apply_sms_status(sid: str, status: str, error_code: int | None) -> str:
    """Apply one status callback; returns what it did (for the provider's log)."""
    message = db.session.scalar(
        sa.select(OutboxMessage).where(OutboxMessage.provider_id == sid).with_for_update()
    )
    if message is None:
        return "unknown message"
    if status == "delivered" and message.status == OutboxStatus.SENT:
        message.status = OutboxStatus.DELIVERED
        record_audit(
            SYSTEM, "outbox.delivered", "outbox_message", message.id, account_id=message.account_id
        )
        db.session.commit()
        return "delivered"
    if status not in _NOT_ARRIVED or message.status == OutboxStatus.FAILED:
        return "no change"
    reason = ERROR_WORDS.get(error_code or 0, f"the network did not deliver it ({error_code})")
    message.status = OutboxStatus.FAILED
    message.last_error = f"Twilio {status}: error {error_code}"
    record_audit(
        SYSTEM,
        "outbox.undelivered",
        "outbox_message",
        message.id,
        account_id=message.account_id,
        after={"status": status, "error_code": error_code},
    )
    if message.account_id is not None:
        event = record_timeline(
            message.account_id,
            SYSTEM,
            f"Text message to {message.recipient} not delivered: {reason}",
            kind=ContactKind.SMS,
            outcome="failed",
        )
        event.outbox_message_id = message.id
        if error_code == OPTED_OUT:
            record_opt_out(message.account_id)
    db.session.commit()
    return "failed"


def record_opt_out(account_id: int) -> None:
    """The person replied STOP: no more texts until they agree again (consent_sms
    false, which the contact rules read), on the timeline and the audit log; no commit."""
    account = db.session.get(DebtorAccount, account_id)
    if account is None or not account.consent_sms:
        return
    account.consent_sms = False
    record_timeline(account_id, SYSTEM, "Texts stopped: the person replied STOP")
    record_audit(
        SYSTEM,
        "account.sms_opted_out",
        "debtor_account",
        account_id,
        account_id=account_id,
        before={"consent_sms": True},
        after={"consent_sms": False},
    )
