"""The contact rules (shared.domain.contact_rules) applied to accounts in the database:
what we know of how to reach each debtor, and how often they were asked this week."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from shared.clock import LONDON
from shared.domain import contact_rules
from shared.extensions import db
from shared.models import DebtorAccount, MessagePurpose, OutboxMessage, OutboxStatus

WEEK = timedelta(days=7)


def quiet_hours() -> contact_rules.QuietHours:
    config = current_app.config
    return contact_rules.QuietHours(
        config["QUIET_HOURS_START"], config["QUIET_HOURS_END"], bool(config["QUIET_ON_SUNDAYS"])
    )


def reach_of(account: DebtorAccount, *, has_address: bool, on: date) -> contact_rules.Reach:
    """What the rules need to know about reaching `account` on `on`.

    A mobile whose owner replied STOP is unusable: the opt-out is recorded as
    consent_sms false (shared/services/message_status.record_opt_out, from Twilio's
    status callback or its refusal of a send with error 21610), and a text needs
    consent. Only agreeing again (an officer recording consent) makes it usable."""
    return contact_rules.Reach(
        preferred=str(account.preferred_channel),
        email=bool(account.email),
        consent_email=bool(account.consent_email),
        mobile=bool(account.mobile_phone),
        consent_sms=bool(account.consent_sms),
        address=has_address,
        in_breathing_space=account.in_breathing_space(on),
        deceased=bool(account.deceased),
    )


def asked_this_week(account_ids: Iterable[int], at_utc: datetime) -> dict[int, int]:
    """Messages asking each account for payment written in the seven days before
    `at_utc` (naive UTC), whatever became of them except withdrawn ones: one query."""
    ids = list(set(account_ids))
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(OutboxMessage.account_id, sa.func.count())
        .where(
            OutboxMessage.account_id.in_(ids),
            OutboxMessage.purpose == MessagePurpose.COLLECTION,
            OutboxMessage.created_at > at_utc - WEEK,
            OutboxMessage.status != OutboxStatus.CANCELLED,
        )
        .group_by(OutboxMessage.account_id)
    )
    return {account_id: count for account_id, count in rows}


def aware(at_utc: datetime) -> datetime:
    """A stored naive-UTC moment as an aware time in England."""
    return at_utc.replace(tzinfo=UTC).astimezone(LONDON)
