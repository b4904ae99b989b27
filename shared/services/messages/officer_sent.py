"""An officer sends a letter, email or text from a template, from the case.

The journey: `choices` lists the officer and ladder templates with the channels this
debtor can be reached by now (and in words why the others cannot); `preview` fills
the chosen one exactly as `send` will write it (with the SMS segments and cost, and
when a text would wait for quiet hours to end); `send` writes it through
shared.services.messages.compose, so the contact rules (consent, Breathing Space,
deceased, the weekly cap, quiet hours) are met as for every other message.

The officer's own words are plain text added as a final paragraph after the filled
template, never read for placeholders and escaped like the rest, so a note cannot
carry markup or fill in someone else's details. A submission key made when the
preview is shown is the outbox row's dedupe key: pressing Send twice sends once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from shared.clock import today, utcnow
from shared.domain import contact_rules
from shared.domain.message_templates import SMS_MAX_SEGMENTS, as_html, fill
from shared.domain.sms import sms_segments
from shared.extensions import db
from shared.formatting import london_time
from shared.models import (
    ContactKind,
    DebtorAccount,
    Invoice,
    Language,
    MessagePurpose,
    MessageTemplate,
    OutboxMessage,
    ServiceDepartment,
    StaffUser,
    TemplateChannel,
)
from shared.services import account_view, balances
from shared.services.actors import Actor
from shared.services.errors import InvalidRequest, NotFound
from shared.services.history import record_audit, record_timeline
from shared.services.messages import rules
from shared.services.messages.compose import REFUSED_NO_TEMPLATE, Outgoing, compose
from shared.services.messages.templates import find_template
from shared.services.messages.values import account_values
from shared.services.unit_of_work import use_case

OFFICER_PREFIX, DUNNING_PREFIX = "officer.", "dunning."
# Templates that ask for payment: the weekly cap and Breathing Space apply to them.
COLLECTION_KEYS = frozenset({"officer.payment_reminder"})
CHANNELS = (contact_rules.LETTER, contact_rules.EMAIL, contact_rules.SMS)
CHANNEL_WORDS = {"letter": "Letter", "email": "Email", "sms": "Text message"}
MAX_NOTE = 2000
_SUBMISSION_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}\Z")
AUDIT_ACTION = "correspondence.sent"

# Each rule's refusal as the officer reads it, with what they can do instead.
RULE_WORDS = {
    contact_rules.REFUSED_DECEASED: (
        "The debtor has died: nothing is sent to them. Write to the personal "
        "representative of their estate instead."
    ),
    contact_rules.REFUSED_BREATHING_SPACE: (
        "The debtor is in Breathing Space: nothing asking for payment can be sent until it "
        "ends (Debt Respite Scheme). Messages that do not ask for payment can still be sent."
    ),
    contact_rules.REFUSED_CAP: (
        "The weekly contact limit is reached: this debtor has already been asked for payment "
        "{cap} times in the last 7 days. Try again later, or phone them."
    ),
    REFUSED_NO_TEMPLATE: "There is no version of this template for that channel.",
}


class Refused(InvalidRequest):
    """The contact rules refuse this message now; nothing was written."""


@dataclass(frozen=True)
class ChannelOption:
    channel: str
    available: bool
    why_not: str | None = None  # in words: "no mobile number", "has not agreed to texts"

    @property
    def words(self) -> str:
        return CHANNEL_WORDS[self.channel]


@dataclass(frozen=True)
class TemplateChoice:
    key: str
    name: str
    purpose: MessagePurpose
    channels: tuple[ChannelOption, ...]

    @property
    def asks_for_payment(self) -> bool:
        return self.purpose == MessagePurpose.COLLECTION


@dataclass(frozen=True)
class Preview:
    template_key: str
    template_name: str
    channel: str
    purpose: MessagePurpose
    language: str
    recipient: str
    subject: str | None
    body: str  # exactly what is written to the outbox
    html: str  # the body as the email and letter lay it out (escaped paragraphs)
    segments: int | None  # texts only
    cost_pence: int | None  # texts only
    not_before: datetime | None  # naive UTC: a text held until quiet hours end
    refused: str | None  # why it cannot be sent now, in words (None: it can)


def purpose_of(template_key: str) -> MessagePurpose:
    """Ladder templates and the officer's payment reminder ask for payment."""
    if template_key.startswith(DUNNING_PREFIX) or template_key in COLLECTION_KEYS:
        return MessagePurpose.COLLECTION
    return MessagePurpose.SERVICE


def is_officer_template(template_key: str) -> bool:
    return template_key.startswith((OFFICER_PREFIX, DUNNING_PREFIX))


def why_not(account: DebtorAccount, channel: str, *, has_address: bool) -> str | None:
    """Why `channel` cannot reach this debtor at all, in words (None: it can)."""
    if channel == contact_rules.SMS:
        if not account.mobile_phone:
            return "no mobile number"
        if not account.consent_sms:
            return "has not agreed to texts"
    elif channel == contact_rules.EMAIL:
        if not account.email:
            return "no email address"
        if not (account.consent_email or str(account.preferred_channel) == "email"):
            return "has not agreed to email"
    elif not has_address:
        return "no postal address"
    return None


def unreachable_words(account: DebtorAccount, channel: str, *, has_address: bool) -> str:
    """Why `channel` cannot reach the debtor, as a clause: "there is no mobile number"."""
    return as_clause(why_not(account, channel, has_address=has_address) or "no way to receive it")


def as_clause(reason: str) -> str:
    """A why_not reason as the end of a sentence: "the debtor has not agreed to texts"."""
    return f"the debtor {reason}" if reason.startswith("has ") else f"there is {reason}"


def rule_words(refused: str) -> str:
    cap = int(current_app.config["CONTACT_CAP_PER_WEEK"])
    return RULE_WORDS.get(refused, f"The contact rules do not allow it: {refused}.").format(cap=cap)


def _account(account_id: int) -> DebtorAccount:
    account = db.session.get(DebtorAccount, account_id)
    if account is None:
        raise NotFound(f"No debtor account {account_id}")
    return account


def _templates() -> dict[str, dict[str, MessageTemplate]]:
    """The English officer and ladder templates by key, then channel."""
    rows = db.session.scalars(
        sa.select(MessageTemplate)
        .where(
            sa.or_(
                MessageTemplate.key.startswith(OFFICER_PREFIX, autoescape=True),
                MessageTemplate.key.startswith(DUNNING_PREFIX, autoescape=True),
            ),
            MessageTemplate.language == Language.ENGLISH,
        )
        .order_by(MessageTemplate.key)
    )
    found: dict[str, dict[str, MessageTemplate]] = {}
    for row in rows:
        found.setdefault(row.key, {})[str(row.channel)] = row
    return found


def _verdict(account: DebtorAccount, purpose: MessagePurpose, channel: str, *, at: datetime):
    has_address = bool(account_view.primary_address_lines(account.id))
    asked = rules.asked_this_week([account.id], at).get(account.id, 0)
    return contact_rules.decide(
        rules.reach_of(account, has_address=has_address, on=today()),
        purpose=str(purpose),
        allowed=[channel],
        at=rules.aware(at),
        quiet=rules.quiet_hours(),
        asked_this_week=asked,
        weekly_cap=int(current_app.config["CONTACT_CAP_PER_WEEK"]),
    ), has_address


def account_refusal(account: DebtorAccount, purpose: MessagePurpose) -> str | None:
    """Why nothing of this purpose may go to the debtor by any channel now, in words."""
    at = utcnow()
    asked = rules.asked_this_week([account.id], at).get(account.id, 0)
    cap = int(current_app.config["CONTACT_CAP_PER_WEEK"])
    if account.deceased:
        return rule_words(contact_rules.REFUSED_DECEASED)
    if purpose == MessagePurpose.COLLECTION:
        if account.in_breathing_space(today()):
            return rule_words(contact_rules.REFUSED_BREATHING_SPACE)
        if asked >= cap:
            return rule_words(contact_rules.REFUSED_CAP)
    return None


def choices(account: DebtorAccount) -> list[TemplateChoice]:
    """The officer and ladder templates for this debtor, each with its channels and
    whether each can reach them (a rule refusing the whole template is on the page
    from account_refusal)."""
    has_address = bool(account_view.primary_address_lines(account.id))
    found = []
    for key, by_channel in _templates().items():
        options = []
        for channel in CHANNELS:
            if channel not in by_channel:
                continue
            reason = why_not(account, channel, has_address=has_address)
            options.append(ChannelOption(channel, reason is None, reason))
        first = next(iter(by_channel.values()))
        found.append(TemplateChoice(key, first.name, purpose_of(key), tuple(options)))
    return found


def _values(account: DebtorAccount, actor: Actor) -> dict[str, str]:
    """Every placeholder for this account today, with the officer's name."""
    on = today()
    open_rows = account_view.open_invoices(account.id, on)
    departments = set(
        db.session.scalars(
            sa.select(ServiceDepartment.name)
            .join(Invoice, Invoice.department_id == ServiceDepartment.id)
            .where(Invoice.id.in_([row.id for row in open_rows]))
        )
    )
    officer = db.session.get(StaffUser, actor.staff_id) if actor.staff_id else None
    return account_values(
        account,
        on=on,
        amount_due_pence=sum(row.outstanding_pence for row in open_rows),
        account_balance_pence=balances.account_balance(account.id),
        invoice_numbers=[row.number for row in open_rows],
        oldest_due_date=min((row.due_date for row in open_rows), default=None),
        department_name=departments.pop() if len(departments) == 1 else None,
        extra={"officer_name": officer.full_name if officer else ""},
    )


def with_note(body: str, note: str | None) -> str:
    """The filled body with the officer's note as its final paragraph."""
    note = clean_note(note)
    return f"{body.rstrip()}\n\n{note}" if note else body


def clean_note(note: str | None) -> str:
    """The note as it will be sent: Windows line ends made plain, trimmed."""
    return (note or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def _check(template_key: str, channel: str, note: str | None) -> None:
    if not is_officer_template(template_key):
        raise InvalidRequest("Choose a template from the list")
    if channel not in CHANNELS:
        raise InvalidRequest("Choose whether to send a letter, an email or a text")
    if len(clean_note(note)) > MAX_NOTE:
        raise InvalidRequest(f"Your note must be {MAX_NOTE:,} characters or fewer")
    if "\x00" in (note or ""):
        raise InvalidRequest("Your note has a character that cannot be sent")


def preview(
    actor: Actor, account_id: int, template_key: str, channel: str, extra_text: str | None
) -> Preview:
    """The message exactly as send() would write it now, and whether the rules allow it."""
    _check(template_key, channel, extra_text)
    account = _account(account_id)
    language = account.language or "en"
    template = find_template(template_key, channel, language)
    if template is None:
        raise InvalidRequest(rule_words(REFUSED_NO_TEMPLATE))
    purpose = purpose_of(template_key)
    values = _values(account, actor)
    body = with_note(fill(template.body, values), extra_text)
    subject = fill(template.subject, values) if template.subject else None
    verdict, has_address = _verdict(account, purpose, channel, at=utcnow())
    refused = None
    if verdict.channel is None:
        refused = (
            f"It cannot be sent by {CHANNEL_WORDS[channel].lower()}: "
            f"{unreachable_words(account, channel, has_address=has_address)}."
            if verdict.refused == contact_rules.REFUSED_NO_CHANNEL
            else rule_words(verdict.refused or "")
        )
    segments = cost = None
    if channel == contact_rules.SMS:
        subject = None
        segments = sms_segments(body)
        cost = segments * int(current_app.config["SMS_COST_PENCE_PER_SEGMENT"])
        if refused is None and segments > SMS_MAX_SEGMENTS:
            refused = (
                f"The text would be sent as {segments} messages: shorten your note so it fits "
                f"in {SMS_MAX_SEGMENTS}."
            )
    return Preview(
        template_key=template_key,
        template_name=template.name,
        channel=channel,
        purpose=purpose,
        language=str(template.language),
        recipient=_recipient(account, channel),
        subject=subject,
        body=body,
        html=as_html(body),
        segments=segments,
        cost_pence=cost,
        not_before=verdict.not_before,
        refused=refused,
    )


def _recipient(account: DebtorAccount, channel: str) -> str:
    if channel == contact_rules.SMS:
        return account.mobile_phone or ""
    if channel == contact_rules.EMAIL:
        return account.email or ""
    return "\n".join([account.display_name, *account_view.primary_address_lines(account.id)])


def dedupe_key(account_id: int, submission_key: str) -> str:
    return f"officer-sent:{int(account_id)}:{submission_key}"


def _existing(key: str) -> OutboxMessage | None:
    return db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.dedupe_key == key))


def timeline_summary(message: OutboxMessage) -> str:
    channel = str(message.channel)
    if channel == contact_rules.LETTER:
        summary = f"Letter queued for the print batch: {message.subject or ''}"
    elif channel == contact_rules.EMAIL:
        summary = f"Email queued: {message.subject or ''}"
    else:
        summary = "Text queued"
        if message.not_before is not None:
            summary += f" to go at {london_time(message.not_before)} (quiet hours)"
    return summary.strip().rstrip(":")[:300]


@use_case
def send(
    actor: Actor,
    account_id: int,
    template_key: str,
    channel: str,
    extra_text: str | None,
    submission_key: str,
) -> OutboxMessage:
    """Write the officer's message to the outbox through the contact rules, with its
    timeline entry and audit row (one commit). The same submission key again returns
    the message the first press wrote; a refusal by the rules raises Refused."""
    if actor.staff_id is None:
        raise InvalidRequest("Only staff send correspondence")
    if not _SUBMISSION_KEY.match(submission_key or ""):
        raise InvalidRequest("This form has expired: start again")
    key = dedupe_key(account_id, submission_key)
    existing = _existing(key)
    if existing is not None:
        return existing
    shown = preview(actor, account_id, template_key, channel, extra_text)
    if shown.refused is not None:
        raise Refused(shown.refused)
    account = _account(account_id)
    written = compose(
        Outgoing(
            account=account,
            template_key=template_key,
            values=_values(account, actor),
            purpose=shown.purpose,
            channels=(channel,),
            dedupe_key=key,
            payload={
                "sent_by_staff_id": actor.staff_id,
                "officer_note": bool(clean_note(extra_text)),
            },
        )
    )
    if written.duplicate:
        return _existing(key)  # type: ignore[return-value]
    if written.message is None:
        raise Refused(rule_words(written.refused or ""))
    message = written.message
    filled = message.body
    message.body = with_note(filled, extra_text)
    if message.html_body is not None and message.body != filled:
        # Keep whatever layout compose put around the paragraphs; add the note's.
        before, after = as_html(filled), as_html(message.body)
        message.html_body = (
            message.html_body.replace(before, after) if before in message.html_body else after
        )
    try:
        db.session.flush()
    except IntegrityError:
        # Another press of the same form won the dedupe key a moment ago.
        db.session.rollback()
        again = _existing(key)
        if again is None:
            raise
        return again
    event = record_timeline(
        account.id,
        actor,
        timeline_summary(message),
        kind=ContactKind(str(message.channel)),
        detail="\n\n".join(part for part in (message.subject, message.body) if part),
        outcome="queued",
    )
    event.outbox_message_id = message.id
    record_audit(
        actor,
        AUDIT_ACTION,
        "outbox_message",
        message.id,
        account_id=account.id,
        after={
            "template": template_key,
            "template_channel": str(TemplateChannel(channel)),
            "channel": str(message.channel),
            "purpose": str(message.purpose),
            "language": (message.payload or {}).get("language"),
            "officer_note": bool(clean_note(extra_text)),
            "not_before": message.not_before.isoformat() if message.not_before else None,
        },
    )
    db.session.commit()
    return message
