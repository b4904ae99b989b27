"""Telling a debtor something by the channel they prefer, through the outbox.

`notify_debtor` adds one outbox row (email, text or letter) to the caller's
transaction; the session hook enqueues email and SMS rows after commit, and
letters wait for the print batch. The caller records its own timeline entry and
audit row for the change it made; the outbox row, once sent, adds "Email sent"
(or failed) to the timeline itself.

Every notice meets the contact rules (shared/domain/contact_rules.py), the same
ones template messages meet in shared/services/messages/compose.py:
- the channel: the debtor's preferred one where they consented and we can reach
  them that way, else email (an address they agreed to, or their preference),
  else a letter to their postal address, else a text they consented to;
- nothing to a deceased debtor; nothing asking for payment (purpose COLLECTION)
  during Breathing Space or beyond the weekly cap;
- a text written in quiet hours waits until they end (OutboxMessage.not_before).

A notice is SERVICE unless the caller or the Message says otherwise: receipts,
plan decisions and Direct Debit notices still go during Breathing Space.
Security codes and staff emails are written as OutboxMessage rows directly and
meet none of these rules.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app

from shared.clock import today, utcnow
from shared.domain import contact_rules
from shared.extensions import db
from shared.models import (
    Address,
    DebtorAccount,
    MessagePurpose,
    OutboxChannel,
    OutboxMessage,
    OutboxStatus,
)
from shared.services.messages import rules

COLLECTION = MessagePurpose.COLLECTION
# The order we fall back in when the preferred channel cannot be used: a text only
# when nothing else reaches the debtor (or they prefer texts).
FALLBACK_ORDER = (contact_rules.EMAIL, contact_rules.LETTER, contact_rules.SMS)


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
    # Why it is sent, when the notice itself knows (a Direct Debit return that asks
    # the payer to pay is COLLECTION); None: the caller's purpose.
    purpose: MessagePurpose | None = None


def _allowed(allow_sms: bool) -> list[str]:
    return [c for c in FALLBACK_ORDER if allow_sms or c != contact_rules.SMS]


def channel_for(account: DebtorAccount, *, allow_sms: bool = True) -> OutboxChannel:
    """The channel a notice to this debtor would go by (contact_rules.choose_channel),
    a letter when nothing else may be used: for callers that must know beforehand,
    such as a Direct Debit advance notice counting posting days."""
    reach = rules.reach_of(account, has_address=True, on=today())
    chosen = contact_rules.choose_channel(reach, _allowed(allow_sms))
    return OutboxChannel(chosen or contact_rules.LETTER)


def notify_debtor(
    account: DebtorAccount,
    message: Message,
    *,
    dedupe_key: str | None = None,
    purpose: MessagePurpose = MessagePurpose.SERVICE,
) -> OutboxMessage | None:
    """Add the notice to the outbox in the caller's transaction; None when the contact
    rules refuse it (deceased; Breathing Space or the weekly cap for COLLECTION), when
    there is no way to reach the debtor, or when a notice with the same dedupe_key
    was already written (sent once)."""
    return _write([(account, message, dedupe_key)], purpose)[0]


def notify_debtors(
    notices: list[tuple[DebtorAccount, Message, str]],
    *,
    purpose: MessagePurpose = MessagePurpose.SERVICE,
) -> dict[str, OutboxMessage | None]:
    """notify_debtor for many (account, message, dedupe_key) notices at once, for batch
    jobs: one query each for the dedupe keys already used, the addresses and this
    week's contact counts, instead of one or more per notice. Same rules and the same
    None per dedupe key."""
    written: dict[str, OutboxMessage | None] = {}
    for (_, _, key), row in zip(notices, _write(notices, purpose), strict=True):
        written[key] = written.get(key) or row
    return written


def _write(
    notices: list[tuple[DebtorAccount, Message, str | None]], purpose: MessagePurpose
) -> list[OutboxMessage | None]:
    """The outbox row for each notice (None: refused, already written, or no way to
    reach the debtor), in order. A dedupe key used before, or earlier in the list,
    writes nothing."""
    if not notices:
        return []
    keys = [key for _, _, key in notices if key is not None]
    used = _used_keys(keys)
    account_ids = [a.id for a, _, key in notices if key not in used]
    addresses = _addresses(account_ids)
    at = utcnow()
    moment, on = rules.aware(at), today()
    asked = rules.asked_this_week(
        [a.id for a, m, key in notices if key not in used and (m.purpose or purpose) == COLLECTION],
        at,
    )
    quiet = rules.quiet_hours()
    cap = int(current_app.config["CONTACT_CAP_PER_WEEK"])
    written: list[OutboxMessage | None] = []
    for account, message, key in notices:
        if key is not None and key in used:
            written.append(None)
            continue
        why = MessagePurpose(message.purpose or purpose)
        address = addresses.get(account.id)
        verdict = contact_rules.decide(
            rules.reach_of(account, has_address=address is not None, on=on),
            purpose=str(why),
            allowed=_allowed(message.sms is not None),
            at=moment,
            quiet=quiet,
            asked_this_week=asked.get(account.id, 0),
            weekly_cap=cap,
        )
        if verdict.channel is None:
            written.append(None)
            continue
        row = _row(account, message, key, verdict, address, why)
        db.session.add(row)
        written.append(row)
        if key is not None:
            used.add(key)
        if why == MessagePurpose.COLLECTION:
            asked[account.id] = asked.get(account.id, 0) + 1
    return written


def _row(
    account: DebtorAccount,
    message: Message,
    key: str | None,
    verdict: contact_rules.Verdict,
    address: str | None,
    purpose: MessagePurpose,
) -> OutboxMessage:
    channel = OutboxChannel(verdict.channel)
    if channel == OutboxChannel.SMS:
        recipient, body, subject = account.mobile_phone, message.sms, None
    elif channel == OutboxChannel.EMAIL:
        recipient, body, subject = account.email, message.body, message.subject
    else:
        recipient, body, subject = address, message.body, message.subject
    return OutboxMessage(
        account_id=account.id,
        channel=channel,
        template=message.template,
        recipient=recipient,
        subject=subject,
        body=body,
        status=OutboxStatus.PENDING,
        dedupe_key=key,
        purpose=purpose,
        not_before=verdict.not_before,
        payload=(
            {"attachment": dict(message.attachment)}
            if message.attachment and channel != OutboxChannel.SMS
            else None
        ),
    )


def _used_keys(keys: list[str]) -> set[str]:
    used: set[str] = set()
    for start in range(0, len(keys), 1000):
        used.update(
            db.session.scalars(
                sa.select(OutboxMessage.dedupe_key).where(
                    OutboxMessage.dedupe_key.in_(keys[start : start + 1000])
                )
            )
        )
    return used


def _addresses(account_ids: list[int]) -> dict[int, str]:
    """Each account's postal address on one line (the primary one, else the newest)."""
    found: dict[int, str] = {}
    ids = list(set(account_ids))
    for start in range(0, len(ids), 1000):
        rows = db.session.scalars(
            sa.select(Address)
            .where(Address.account_id.in_(ids[start : start + 1000]))
            .order_by(Address.account_id, Address.is_primary.desc(), Address.id.desc())
        )
        for address in rows:
            found.setdefault(address.account_id, ", ".join(address.lines()))
    return found
