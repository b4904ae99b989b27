"""Advance notices of Direct Debit collections: the AdvanceNotice row and its outbox
message, written in the caller's transaction (shared/services/directdebit/collections.py).

The notice goes by email when we may email the debtor, else by letter; never by text,
because a text would carry the amounts and dates of collections from a bank account.
It lists every upcoming collection under the mandate (the plan's whole schedule), the
mandate reference, the name that will appear on the payer's bank statement, and how to
query it. It counts from the day it is written for an email, and from the posting days
later for a letter (letters wait in the outbox for the print run: issue 14); a
collection may be taken on or after its earliest entry day.

Every notice's outbox row has the dedupe key "dd-notice:{mandate}:{n}" (the n-th notice
under the mandate), so a job retried after its commit never writes the same notice twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from flask import current_app

from shared.domain.bacs import calendar
from shared.domain.bacs.schedule import NoticeTiming
from shared.extensions import db
from shared.models import AdvanceNotice, DebtorAccount, Mandate, OutboxChannel
from shared.money import format_gbp
from shared.services.notifications import Message, channel_for, notify_debtor

TEMPLATE = "dd_advance_notice"


def channel(account: DebtorAccount) -> OutboxChannel:
    """Email or letter (never a text: it would carry the amounts)."""
    return channel_for(account, allow_sms=False)


def timing(account: DebtorAccount, today: date) -> NoticeTiming:
    """When a notice written today counts from, for this account's channel."""
    config = current_app.config
    counts_from = today
    if channel(account) == OutboxChannel.LETTER:
        counts_from = calendar.add_working_days(today, int(config["BACS_POSTING_WORKING_DAYS"]))
    return NoticeTiming(counts_from, int(config["BACS_ADVANCE_NOTICE_WORKING_DAYS"]))


def dedupe_key(mandate_id: int, sequence: int) -> str:
    return f"dd-notice:{int(mandate_id)}:{int(sequence)}"


def write_notice(
    account: DebtorAccount,
    mandate: Mandate,
    *,
    kind: str,
    description: str,
    schedule: Sequence[tuple[date, int]],
    timing_: NoticeTiming,
) -> AdvanceNotice | None:
    """The notice row and its outbox message (no commit); None when the debtor cannot
    be reached at all (no email we may use and no postal address) or the same notice
    was already written, in which case no collection may rely on it."""
    sequence = 1 + (
        db.session.scalar(
            sa.select(sa.func.count(AdvanceNotice.id)).where(AdvanceNotice.mandate_id == mandate.id)
        )
        or 0
    )
    message = notify_debtor(
        account,
        _message(account, mandate, kind, schedule, timing_.earliest_entry_day),
        dedupe_key=dedupe_key(mandate.id, sequence),
    )
    if message is None:
        return None
    db.session.flush()
    notice = AdvanceNotice(
        mandate_id=mandate.id,
        account_id=account.id,
        message_id=message.id,
        kind=kind,
        description=description,
        schedule=[{"date": d.isoformat(), "amount_pence": a} for d, a in schedule],
        counts_from=timing_.counts_from,
        earliest_entry_day=timing_.earliest_entry_day,
    )
    db.session.add(notice)
    db.session.flush()
    return notice


def told_schedule(notice: AdvanceNotice) -> frozenset[tuple[date, int]]:
    """The (date, amount) pairs a stored notice told the payer."""
    return frozenset(
        (date.fromisoformat(item["date"]), int(item["amount_pence"])) for item in notice.schedule
    )


def _message(
    account: DebtorAccount,
    mandate: Mandate,
    kind: str,
    schedule: Sequence[tuple[date, int]],
    first_day: date,
) -> Message:
    config = current_app.config
    council = config["COUNCIL_NAME"]
    lines = "\n".join(f"  {d:%-d %B %Y}: {format_gbp(a)}" for d, a in schedule)
    total = sum(a for _, a in schedule)
    opening = (
        "We will collect these payments by Direct Debit"
        if kind == "first"
        else "The Direct Debit payments we will collect have changed. We will now collect"
    )
    body = (
        f"Dear {account.display_name},\n\n"
        f"{opening} from your bank account ending {mandate.account_ending}:\n\n"
        f"{lines}\n\n"
        f"Total: {format_gbp(total)}\n\n"
        f"Your Direct Debit reference is {mandate.reference}. The payments will appear on "
        f"your bank statement as {config['BACS_SERVICE_USER_NAME']}.\n\n"
        "If a payment date falls on a weekend or bank holiday, the payment is taken on the "
        "next working day. No payment is taken before "
        f"{first_day:%-d %B %Y}.\n\n"
        f"If you have a question about these payments, or think any of them is wrong, "
        f"contact {council} on {config['COUNCIL_PHONE']} or at {config['COUNCIL_EMAIL']}, "
        f"quoting your account reference {account.reference}. You are protected by the "
        "Direct Debit Guarantee, and you can cancel a Direct Debit at any time by "
        "contacting your bank."
    )
    return Message(
        template=TEMPLATE,
        subject=(
            "Your Direct Debit payments"
            if kind == "first"
            else "A change to your Direct Debit payments"
        ),
        body=body,
        sms=None,
    )
