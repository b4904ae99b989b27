"""The message log: every letter, email and text written to the outbox, per account
and overall, in words an officer reads (what it was, to whom, what became of it),
and a retry for an email or text that failed for good.

Pages are newest first by id (the primary key: the order rows were written), with
a keyset cursor (`before_id`) so the hundredth page costs what the first does; a
status filter is answered by ix_outbox_messages_status_created. Card refunds go
through the outbox too, but they are money with their own path
(shared/services/approvals.py), so they are neither shown nor retried here.

The overall log masks email addresses and phone numbers (the case's own log shows
them in full): it is a list of many people's details, and a failure is worked from
the case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from shared.clock import day_starts, today, utcnow
from shared.domain import contact_rules
from shared.domain.names import display_name
from shared.extensions import db
from shared.formatting import london_time
from shared.jobs.outbox import enqueue_messages
from shared.models import (
    ContactKind,
    DebtorAccount,
    Language,
    MessageTemplate,
    OutboxChannel,
    OutboxMessage,
    OutboxStatus,
)
from shared.services.actors import Actor
from shared.services.errors import InvalidRequest, NotFound
from shared.services.history import record_audit, record_timeline
from shared.services.message_status import ERROR_WORDS
from shared.services.messages import rules
from shared.services.messages.officer_sent import rule_words, unreachable_words
from shared.services.unit_of_work import use_case

PAGE_SIZE = 50
MESSAGE_CHANNELS = (OutboxChannel.LETTER, OutboxChannel.EMAIL, OutboxChannel.SMS)
RETRYABLE = (OutboxChannel.EMAIL, OutboxChannel.SMS)
CHANNEL_WORDS = {
    OutboxChannel.LETTER: "Letter",
    OutboxChannel.EMAIL: "Email",
    OutboxChannel.SMS: "Text message",
    OutboxChannel.REFUND: "Card refund",
}
# The messages written in code rather than from a stored template, by their key.
TEMPLATE_NAMES = {
    "portal_one_time_code": "Portal security code",
    "portal_reset_password": "Portal password reset link",
    "portal_verify_email": "Portal email address check",
    "staff_temporary_password": "Staff temporary password",
    "bacs_file_ready": "Bacs file ready to release (staff)",
    "card_payment_receipt": "Card payment receipt",
    "card_refund": "Card refund",
    "invoice_issued": "Invoice",
    "credit_note": "Credit note",
    "plan_received": "Payment plan proposal received",
    "plan_active": "Payment plan agreed",
    "plan_rejected": "Payment plan not agreed",
    "plan_counter_offer": "Payment plan counter-offer",
    "plan_payment_due": "Payment plan payment due",
    "plan_missed_payment": "Payment plan payment missed",
    "plan_broken": "Payment plan ended",
    "plan_completed": "Payment plan paid in full",
    "dd_mandate_confirmation": "Direct Debit confirmation",
    "dd_advance_notice": "Direct Debit advance notice",
    "dd_instruction_rejected": "Direct Debit instruction rejected",
    "dd_mandate_cancelled": "Direct Debit cancelled",
    "dd_payment_returned": "Direct Debit payment returned",
    "dd_payment_represented": "Direct Debit payment to be taken again",
}
# A code or link that has expired by the time anyone retries: the person asks again.
NOT_RETRIED = frozenset(
    {
        "portal_one_time_code",
        "portal_reset_password",
        "portal_verify_email",
        "staff_temporary_password",
    }
)
STATUS_FILTERS = {
    "failed": "Failed",
    "waiting": "Waiting to send or print",
    "sending": "Sending",
    "sent": "Sent or posted",
    "delivered": "Delivered",
    "cancelled": "Cancelled",
    "any": "Any status",
}
_FILTER_STATUSES = {
    "failed": (OutboxStatus.FAILED,),
    "waiting": (OutboxStatus.PENDING,),
    "sending": (OutboxStatus.SENDING,),
    "sent": (OutboxStatus.SENT,),
    "delivered": (OutboxStatus.DELIVERED,),
    "cancelled": (OutboxStatus.CANCELLED,),
    "any": (),
}
_ERROR_CODE = re.compile(r"\b([23]\d{4})\b")


def readable_key(key: str) -> str:
    """A template key as words when no name is known: "officer.payment_reminder" ->
    "Officer: payment reminder"."""
    head, _, rest = key.rpartition(".")
    words = rest.replace("_", " ").strip()
    if head:
        return f"{head.replace('_', ' ').capitalize()}: {words}"
    return words.capitalize()


def failure_reason(channel: OutboxChannel, last_error: str | None) -> str:
    """Why a message failed, as short as the officer needs to act on it."""
    error = (last_error or "").strip()
    code = _ERROR_CODE.search(error) if channel == OutboxChannel.SMS else None
    if code and int(code.group(1)) in ERROR_WORDS:
        return ERROR_WORDS[int(code.group(1))]
    if not error:
        return "no reason was given"
    return error if len(error) <= 160 else error[:157] + "..."


def status_words(
    channel: OutboxChannel,
    status: OutboxStatus,
    *,
    not_before: datetime | None,
    print_batch_id: int | None,
    last_error: str | None,
    now: datetime,
) -> str:
    """A row's state as the officer reads it."""
    if status == OutboxStatus.PENDING:
        if channel == OutboxChannel.LETTER:
            if print_batch_id is not None:
                return "In a print batch waiting to be released"
            return "Waiting for the print batch"
        if not_before is not None and not_before > now:
            return f"Deferred until {_moment(not_before, now)}"
        return "Waiting to try again" if last_error else "Waiting to send"
    if status == OutboxStatus.SENDING:
        return "Sending"
    if status == OutboxStatus.SENT:
        return "Posted" if channel == OutboxChannel.LETTER else "Sent"
    if status == OutboxStatus.DELIVERED:
        return "Delivered"
    if status == OutboxStatus.FAILED:
        return f"Failed: {failure_reason(channel, last_error)}"
    reason = (last_error or "").removeprefix("Withdrawn: ").strip()
    return f"Cancelled: {reason}" if reason else "Cancelled"


def _moment(stamp: datetime, now: datetime) -> str:
    """HH:MM when it is today or tomorrow in England, else with its date."""
    full = london_time(stamp)
    local_day = london_time(stamp, "%Y-%m-%d")
    if local_day == london_time(now, "%Y-%m-%d"):
        return london_time(stamp, "%H:%M")
    if local_day == london_time(now + timedelta(days=1), "%Y-%m-%d"):
        return london_time(stamp, "%H:%M") + " tomorrow"
    return full


def mask_recipient(channel: OutboxChannel, recipient: str) -> str:
    """Enough of an address to tell two apart, not enough to use it."""
    recipient = recipient or ""
    if channel == OutboxChannel.EMAIL and "@" in recipient:
        local, _, domain = recipient.rpartition("@")
        return f"{local[:1]}***@{domain}"
    if channel == OutboxChannel.SMS:
        digits = recipient.replace(" ", "")
        return f"{digits[:3]}{'*' * max(len(digits) - 6, 3)}{digits[-3:]}" if digits else ""
    if channel == OutboxChannel.LETTER:
        # The postcode: the last part of the address.
        return "Post to " + recipient.rpartition(", ")[2] if recipient else ""
    return ""


@dataclass(frozen=True)
class MessageRow:
    id: int
    written_at: datetime
    channel: OutboxChannel
    channel_words: str
    template_key: str
    template_name: str
    subject: str | None
    recipient: str
    status: OutboxStatus
    status_words: str
    attempts: int
    account_id: int | None
    account_reference: str | None
    account_name: str | None

    @property
    def failed(self) -> bool:
        return self.status == OutboxStatus.FAILED

    @property
    def can_retry(self) -> bool:
        return self.failed and self.channel in RETRYABLE and self.template_key not in NOT_RETRIED

    @property
    def is_letter(self) -> bool:
        return self.channel == OutboxChannel.LETTER


@dataclass(frozen=True)
class MessagePage:
    rows: list[MessageRow]
    number: int  # 1-based; the account log pages by number
    next_before_id: int | None  # the overall log's cursor to the next (older) page

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.next_before_id is not None


@dataclass(frozen=True)
class MessageFilter:
    status: str = "failed"  # a STATUS_FILTERS key: failures first by default
    channel: str | None = None  # letter, email or sms
    template: str | None = None  # a template key
    written_from: date | None = None  # England's dates, inclusive
    written_to: date | None = None


_COLUMNS = (
    OutboxMessage.id,
    OutboxMessage.created_at,
    OutboxMessage.channel,
    OutboxMessage.template,
    OutboxMessage.subject,
    OutboxMessage.recipient,
    OutboxMessage.status,
    OutboxMessage.attempts,
    OutboxMessage.last_error,
    OutboxMessage.not_before,
    OutboxMessage.print_batch_id,
    OutboxMessage.account_id,
    DebtorAccount.reference,
    DebtorAccount.kind,
    DebtorAccount.title,
    DebtorAccount.forename,
    DebtorAccount.surname,
    DebtorAccount.organisation_name,
)


def known_name(key: str) -> str:
    """A key's name without asking the database: the map's, else the key in words."""
    return TEMPLATE_NAMES.get(key) or readable_key(key)


def template_names(keys: set[str]) -> dict[str, str]:
    """Each key's name: the stored template's (English first), else the map's, else
    the key in words. One query."""
    names = dict(TEMPLATE_NAMES)
    stored = db.session.execute(
        sa.select(MessageTemplate.key, MessageTemplate.name)
        .where(MessageTemplate.key.in_(sorted(keys)))
        .order_by(MessageTemplate.key, (MessageTemplate.language != Language.ENGLISH))
    ).all()
    seen: set[str] = set()
    for key, name in stored:
        if key not in seen:
            names[key] = name
            seen.add(key)
    return {key: names.get(key) or readable_key(key) for key in keys}


def _rows(query, *, masked: bool) -> list[MessageRow]:
    found = db.session.execute(query).all()
    names = template_names({r.template for r in found}) if found else {}
    now = utcnow()
    return [
        MessageRow(
            id=r.id,
            written_at=r.created_at,
            channel=OutboxChannel(r.channel),
            channel_words=CHANNEL_WORDS[OutboxChannel(r.channel)],
            template_key=r.template,
            template_name=names[r.template],
            subject=r.subject,
            recipient=mask_recipient(OutboxChannel(r.channel), r.recipient)
            if masked
            else r.recipient,
            status=OutboxStatus(r.status),
            status_words=status_words(
                OutboxChannel(r.channel),
                OutboxStatus(r.status),
                not_before=r.not_before,
                print_batch_id=r.print_batch_id,
                last_error=r.last_error,
                now=now,
            ),
            attempts=r.attempts,
            account_id=r.account_id,
            account_reference=r.reference,
            account_name=(
                display_name(r.kind, r.title, r.forename, r.surname, r.organisation_name)
                if r.reference
                else None
            ),
        )
        for r in found
    ]


def _base():
    return (
        sa.select(*_COLUMNS)
        .outerjoin(DebtorAccount, DebtorAccount.id == OutboxMessage.account_id)
        .where(OutboxMessage.channel.in_(MESSAGE_CHANNELS))
        .order_by(OutboxMessage.id.desc())
    )


def account_messages(account_id: int, page: int = 1) -> MessagePage:
    """The account's messages, newest first, PAGE_SIZE a page (ix on account_id)."""
    page = max(1, min(int(page or 1), 10_000))
    rows = _rows(
        _base()
        .where(OutboxMessage.account_id == account_id)
        .limit(PAGE_SIZE + 1)
        .offset((page - 1) * PAGE_SIZE),
        masked=False,
    )
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return MessagePage(rows, page, rows[-1].id if more else None)


def all_messages(wanted: MessageFilter, *, before_id: int | None = None) -> MessagePage:
    """Every account's messages matching `wanted`, newest first, a page at a time
    from `before_id` (the previous page's next_before_id); recipients masked."""
    query = _base()
    statuses = _FILTER_STATUSES.get(wanted.status)
    if statuses is None:
        raise InvalidRequest("Choose a status from the list")
    if statuses:
        query = query.where(OutboxMessage.status.in_(statuses))
    if wanted.channel:
        query = query.where(OutboxMessage.channel == OutboxChannel(wanted.channel))
    if wanted.template:
        query = query.where(OutboxMessage.template == wanted.template)
    if wanted.written_from:
        query = query.where(OutboxMessage.created_at >= day_starts(wanted.written_from))
    if wanted.written_to:
        query = query.where(
            OutboxMessage.created_at < day_starts(wanted.written_to + timedelta(days=1))
        )
    if before_id is not None:
        query = query.where(OutboxMessage.id < before_id)
    rows = _rows(query.limit(PAGE_SIZE + 1), masked=True)
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return MessagePage(rows, 1, rows[-1].id if more else None)


def known_templates() -> list[tuple[str, str]]:
    """(key, name) of every template a message may have been written from, by name."""
    stored = set(db.session.scalars(sa.select(MessageTemplate.key).distinct()))
    keys = stored | set(TEMPLATE_NAMES)
    names = template_names(keys)
    return sorted(names.items(), key=lambda item: item[1].lower())


@dataclass(frozen=True)
class RetryResult:
    retried: bool
    message_id: int
    account_id: int | None
    words: str  # what the officer is told


def _refusal_to_retry(message: OutboxMessage) -> str | None:
    if message.channel == OutboxChannel.REFUND:
        return "A card refund is not retried here: it has its own path through approvals"
    if message.channel not in RETRYABLE:
        return "Only an email or a text can be retried: letters go in the print batch"
    if message.template in NOT_RETRIED:
        return (
            "A security code or sign-in link is not sent again: it has expired. "
            "Ask the person to request a new one."
        )
    return None


@use_case
def retry(actor: Actor, message_id: int) -> RetryResult:
    """Put a failed email or text back in the queue (attempts kept), if the contact
    rules still allow it; to the account's current address or number. Twice: once."""
    if actor.staff_id is None:
        raise InvalidRequest("Only staff retry messages")
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound(f"No message {message_id}")
    refusal = _refusal_to_retry(message)
    if refusal:
        raise InvalidRequest(refusal)
    if message.status != OutboxStatus.FAILED:
        return RetryResult(False, message.id, message.account_id, _not_failed(message))
    channel = str(message.channel)
    recipient, not_before = message.recipient, None
    account = db.session.get(DebtorAccount, message.account_id) if message.account_id else None
    if account is not None:
        verdict = contact_rules.decide(
            rules.reach_of(account, has_address=False, on=today()),
            purpose=str(message.purpose),
            allowed=[channel],
            at=rules.aware(utcnow()),
            quiet=rules.quiet_hours(),
            # The same message again: it is not a new request for payment.
            asked_this_week=0,
            weekly_cap=1,
        )
        if verdict.channel is None:
            raise InvalidRequest(_retry_refused(account, channel, verdict.refused))
        not_before = verdict.not_before
        recipient = account.mobile_phone if channel == "sms" else account.email
    done = db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == message.id, OutboxMessage.status == OutboxStatus.FAILED)
        .values(status=OutboxStatus.PENDING, recipient=recipient, not_before=not_before)
        .execution_options(synchronize_session=False)
    ).rowcount
    if done != 1:
        db.session.rollback()
        db.session.refresh(message)
        return RetryResult(False, message.id, message.account_id, _not_failed(message))
    record_audit(
        actor,
        "outbox.retried",
        "outbox_message",
        message.id,
        account_id=message.account_id,
        before={
            "status": "failed",
            "recipient": message.recipient,
            "last_error": message.last_error,
        },
        after={
            "status": "pending",
            "recipient": recipient,
            "attempts": message.attempts,
            "not_before": not_before.isoformat() if not_before else None,
        },
    )
    if message.account_id is not None:
        word = CHANNEL_WORDS[message.channel]
        changed = (
            f" (now to {recipient}, not {message.recipient})"
            if recipient != message.recipient
            else ""
        )
        event = record_timeline(
            message.account_id,
            actor,
            f"Retry requested: {word.lower()} to {recipient}{changed}"[:300],
            kind=ContactKind(channel),
            detail=message.subject,
            outcome="queued",
        )
        event.outbox_message_id = message.id
    message_id, account_id = message.id, message.account_id
    db.session.commit()
    if not_before is None:  # a deferred text is the sweeper's once quiet hours end
        enqueue_messages([message_id])
    return RetryResult(
        True, message_id, account_id, "Retry requested: it will be sent again shortly"
    )


def _not_failed(message: OutboxMessage) -> str:
    now = status_words(
        message.channel,
        message.status,
        not_before=message.not_before,
        print_batch_id=message.print_batch_id,
        last_error=message.last_error,
        now=utcnow(),
    )
    return f"This message has already been retried or is no longer failed: {now}"


def _retry_refused(account: DebtorAccount, channel: str, refused: str | None) -> str:
    if refused == contact_rules.REFUSED_NO_CHANNEL:
        return f"It cannot be sent again: {unreachable_words(account, channel, has_address=False)}"
    return rule_words(refused or "")
