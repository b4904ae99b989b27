"""Telling a debtor something by the channel they prefer, through the outbox.

`notify_debtor` adds one outbox row (email, text or letter) to the caller's
transaction; the session hook enqueues email and SMS rows after commit, and
letters wait for the print run. The caller records its own timeline entry and
audit row for the change it made; the outbox row, once sent, adds "Email sent"
(or failed) to the timeline itself.

Choosing the channel (the debtor's preference first, then what we can lawfully
and practically use):
- text, when they prefer texts, we have a mobile and they have not opted out;
- email, when they prefer email and we have an address, or when we have an
  address they have agreed to be emailed at;
- otherwise a letter to their primary address.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from shared.extensions import db
from shared.models import Address, Channel, DebtorAccount, OutboxChannel, OutboxMessage
from shared.models.messaging import OutboxStatus


@dataclass(frozen=True)
class Message:
    """One notice in the words for each channel. A text should fit in two segments."""

    template: str
    subject: str
    body: str  # email and letter
    # The text message; None for a notice never sent by text (an invoice: it goes by
    # email if the debtor agreed to email, else by post).
    sms: str | None
    # A document the email carries (and the letter encloses), named, not rendered:
    # e.g. {"document": "invoice", "id": 42} (shared/documents.py).
    attachment: dict | None = None


def channel_for(account: DebtorAccount, *, allow_sms: bool = True) -> OutboxChannel:
    if (
        allow_sms
        and account.preferred_channel == Channel.SMS
        and account.mobile_phone
        and account.consent_sms
    ):
        return OutboxChannel.SMS
    if account.email and (account.preferred_channel == Channel.EMAIL or account.consent_email):
        return OutboxChannel.EMAIL
    return OutboxChannel.LETTER


def notify_debtor(
    account: DebtorAccount, message: Message, *, dedupe_key: str | None = None
) -> OutboxMessage | None:
    """Add the notice to the outbox in the caller's transaction; None when there is
    no way to reach the debtor at all (no mobile, email or address on file), or
    when a notice with the same dedupe_key was already written (sent once)."""
    return _write([(account, message, dedupe_key)])[0]


def notify_debtors(
    notices: list[tuple[DebtorAccount, Message, str]],
) -> dict[str, OutboxMessage | None]:
    """notify_debtor for many (account, message, dedupe_key) notices at once, for batch
    jobs: one query for the dedupe keys already used and one for the letters'
    addresses, instead of one or two per notice. Same channel choice and the same
    None (already sent, or no way to reach the debtor) per dedupe key."""
    written: dict[str, OutboxMessage | None] = {}
    for (_, _, key), row in zip(notices, _write(notices), strict=True):
        written[key] = written.get(key) or row
    return written


def _write(
    notices: list[tuple[DebtorAccount, Message, str | None]],
) -> list[OutboxMessage | None]:
    """The outbox row for each notice (None: already written, or no way to reach the
    debtor), in order. A dedupe key used before, or earlier in the list, writes nothing."""
    keys = [key for _, _, key in notices if key is not None]
    used = (
        set(
            db.session.scalars(
                sa.select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(keys))
            )
        )
        if keys
        else set()
    )
    letters = {
        a.id
        for a, m, key in notices
        if key not in used and channel_for(a, allow_sms=m.sms is not None) == OutboxChannel.LETTER
    }
    addresses: dict[int, str] = {}
    if letters:
        rows = db.session.scalars(
            sa.select(Address)
            .where(Address.account_id.in_(letters))
            .order_by(Address.account_id, Address.is_primary.desc(), Address.id.desc())
        )
        for address in rows:
            addresses.setdefault(address.account_id, ", ".join(address.lines()))
    written: list[OutboxMessage | None] = []
    for account, message, key in notices:
        if key is not None and key in used:
            written.append(None)
            continue
        channel = channel_for(account, allow_sms=message.sms is not None)
        if channel == OutboxChannel.SMS:
            recipient, body, subject = account.mobile_phone, message.sms, None
        elif channel == OutboxChannel.EMAIL:
            recipient, body, subject = account.email, message.body, message.subject
        else:
            recipient, body, subject = addresses.get(account.id), message.body, message.subject
        if recipient is None:
            written.append(None)
            continue
        row = OutboxMessage(
            account_id=account.id,
            channel=channel,
            template=message.template,
            recipient=recipient,
            subject=subject,
            body=body,
            status=OutboxStatus.PENDING,
            dedupe_key=key,
            payload=(
                {"attachment": dict(message.attachment)}
                if message.attachment and channel != OutboxChannel.SMS
                else None
            ),
        )
        db.session.add(row)
        written.append(row)
        if key is not None:
            used.add(key)
    return written
