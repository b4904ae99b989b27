"""Writing messages from templates into the outbox, after the contact rules.

`compose_many` is for batch callers (a dunning run writes one message per debtor
for thousands of debtors): one query for the dedupe keys already used, one for the
letters' addresses and one for this week's contact counts, whatever the batch
size. `compose` is one message. Both add rows to the caller's transaction; the
session hook enqueues email and texts after commit, and letters wait for the
print batch (shared/services/messages/print_batches.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask import current_app

from shared.clock import utcnow
from shared.domain import contact_rules
from shared.domain.message_templates import as_html, fill
from shared.extensions import db
from shared.models import (
    Address,
    DebtorAccount,
    MessagePurpose,
    MessageTemplate,
    OutboxChannel,
    OutboxMessage,
    OutboxStatus,
)
from shared.services.messages import rules
from shared.services.messages.templates import find_template

ALL_CHANNELS = (contact_rules.LETTER, contact_rules.EMAIL, contact_rules.SMS)
REFUSED_NO_TEMPLATE = "no template for the channels allowed"


@dataclass(frozen=True)
class Outgoing:
    """One message to write: to whom, from which template, filled with what, why."""

    account: DebtorAccount
    template_key: str
    values: Mapping[str, str]
    purpose: MessagePurpose
    # The channels the sender allows, in its order (a dunning stage's channels).
    channels: Sequence[str] = ALL_CHANNELS
    # A second message with the same key is never written (the first one stands).
    dedupe_key: str | None = None
    # A document the email carries and the letter encloses (shared/documents.py).
    attachment: dict | None = None
    # Extra payload kept on the outbox row (e.g. the dunning run and stage).
    payload: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Written:
    message: OutboxMessage | None  # None: refused, or written before (duplicate)
    channel: str | None
    refused: str | None = None  # why nothing was written, in words
    duplicate: bool = False  # written before under the same dedupe key


def compose(outgoing: Outgoing, *, at: datetime | None = None) -> Written:
    return compose_many([outgoing], at=at)[0]


def compose_many(items: Sequence[Outgoing], *, at: datetime | None = None) -> list[Written]:
    """Write each message the rules allow; `at` is naive UTC (default now)."""
    at = at or utcnow()
    moment = rules.aware(at)
    on = moment.date()  # the day in England at `at` (Breathing Space is by day)
    keys = [o.dedupe_key for o in items if o.dedupe_key]
    used: set[str] = set()
    for start in range(0, len(keys), 1000):
        used.update(
            db.session.scalars(
                sa.select(OutboxMessage.dedupe_key).where(
                    OutboxMessage.dedupe_key.in_(keys[start : start + 1000])
                )
            )
        )
    account_ids = [o.account.id for o in items]
    addresses = _addresses(account_ids)
    asked = rules.asked_this_week(account_ids, at)
    quiet = rules.quiet_hours()
    cap = int(current_app.config["CONTACT_CAP_PER_WEEK"])
    templates: dict[tuple[str, str, str], MessageTemplate | None] = {}

    def template(key: str, channel: str, language: str) -> MessageTemplate | None:
        if (key, channel, language) not in templates:
            templates[key, channel, language] = find_template(key, channel, language)
        return templates[key, channel, language]

    written: list[Written] = []
    for outgoing in items:
        account = outgoing.account
        if outgoing.dedupe_key and outgoing.dedupe_key in used:
            written.append(Written(None, None, None, duplicate=True))
            continue
        language = account.language or "en"
        allowed = [
            c for c in outgoing.channels if template(outgoing.template_key, c, language) is not None
        ]
        if not allowed:
            written.append(Written(None, None, REFUSED_NO_TEMPLATE))
            continue
        lines = addresses.get(account.id)
        verdict = contact_rules.decide(
            rules.reach_of(account, has_address=bool(lines), on=on),
            purpose=str(outgoing.purpose),
            allowed=allowed,
            at=moment,
            quiet=quiet,
            asked_this_week=asked.get(account.id, 0),
            weekly_cap=cap,
        )
        if verdict.channel is None:
            written.append(Written(None, None, verdict.refused))
            continue
        chosen = template(outgoing.template_key, verdict.channel, language)
        row = _row(outgoing, chosen, verdict, lines or [])
        db.session.add(row)
        if outgoing.dedupe_key:
            used.add(outgoing.dedupe_key)
        if outgoing.purpose == MessagePurpose.COLLECTION:
            asked[account.id] = asked.get(account.id, 0) + 1
        written.append(Written(row, verdict.channel))
    return written


def _row(
    outgoing: Outgoing,
    chosen: MessageTemplate,
    verdict: contact_rules.Verdict,
    address_lines: list[str],
) -> OutboxMessage:
    account, channel = outgoing.account, verdict.channel
    body = fill(chosen.body, outgoing.values)
    subject = fill(chosen.subject, outgoing.values) if chosen.subject else None
    payload: dict[str, object] = {
        **dict(outgoing.payload),
        "language": str(chosen.language),
        "template_version": chosen.version,
    }
    if outgoing.attachment and channel != contact_rules.SMS:
        payload["attachment"] = dict(outgoing.attachment)
    if channel == contact_rules.SMS:
        recipient, subject = account.mobile_phone, None
    elif channel == contact_rules.EMAIL:
        recipient = account.email
    else:
        recipient = ", ".join(address_lines)
        payload["address_lines"] = list(address_lines)
        payload["debtor_name"] = account.display_name
    return OutboxMessage(
        account_id=account.id,
        channel=OutboxChannel(channel),
        template=outgoing.template_key,
        recipient=recipient,
        subject=subject,
        body=body,
        html_body=as_html(body) if channel == contact_rules.EMAIL else None,
        purpose=outgoing.purpose,
        not_before=verdict.not_before,
        status=OutboxStatus.PENDING,
        dedupe_key=outgoing.dedupe_key,
        payload=payload,
    )


def _addresses(account_ids: Sequence[int]) -> dict[int, list[str]]:
    """Each account's postal address lines (the primary one, else the newest)."""
    found: dict[int, list[str]] = {}
    ids = list(set(account_ids))
    for start in range(0, len(ids), 1000):
        rows = db.session.scalars(
            sa.select(Address)
            .where(Address.account_id.in_(ids[start : start + 1000]))
            .order_by(Address.account_id, Address.is_primary.desc(), Address.id.desc())
        )
        for address in rows:
            found.setdefault(address.account_id, address.lines())
    return found
