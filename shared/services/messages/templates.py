"""The stored message templates: finding the one for a debtor's language, editing them
(checked, versioned, audited), previewing them filled in, and installing the defaults.

A Welsh template is a translation of an English one: it is only saved where the
English version of the same key and channel exists, and a debtor whose language is
Welsh gets the English one where no Welsh one is kept (find_template). Templates are
settings, not any debtor's business: their audit rows carry the text before and
after, and no timeline is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from shared.clock import today
from shared.domain import template_checks
from shared.domain.default_templates import DEFAULT_TEMPLATES
from shared.domain.message_templates import (
    PLACEHOLDER_NAMES,
    SAMPLE_VALUES,
    SMS,
    as_html,
    fill,
    placeholders_in,
)
from shared.domain.sms import sms_segments
from shared.domain.template_checks import TemplateFields
from shared.extensions import db
from shared.formatting import long_date
from shared.models import (
    Allocation,
    DebtorAccount,
    Invoice,
    Language,
    MessageTemplate,
    ServiceDepartment,
    StaffUser,
    TemplateChannel,
)
from shared.services.actors import Actor
from shared.services.balances import account_balance
from shared.services.errors import Conflict, InvalidRequest, NotFound
from shared.services.history import record_audit
from shared.services.messages.values import account_values
from shared.services.unit_of_work import use_case

# A Letter of Claim gives 30 days to reply; a preview shows the date it would say.
LETTER_OF_CLAIM_DAYS = 30


def find_template(key: str, channel: str, language: str = "en") -> MessageTemplate | None:
    """The template `key` for `channel` in `language`, else in English; None if neither."""
    rows = db.session.scalars(
        sa.select(MessageTemplate).where(
            MessageTemplate.key == key,
            MessageTemplate.channel == TemplateChannel(channel),
            MessageTemplate.language.in_({Language(language), Language.ENGLISH}),
        )
    ).all()
    by_language = {row.language: row for row in rows}
    return by_language.get(Language(language)) or by_language.get(Language.ENGLISH)


class TemplateRefused(InvalidRequest):
    """The template cannot be saved as asked; `problems` names each field at fault
    (key, channel, language, name, subject, body), `field` the first."""

    def __init__(self, problems: dict[str, str]):
        self.problems = problems
        self.field = next(iter(problems))
        super().__init__(problems[self.field])


class TemplateConflict(Conflict):
    """Someone else saved the template since the form was shown: nothing was changed."""


@dataclass(frozen=True)
class TemplateRow:
    id: int
    key: str
    channel: str
    language: str
    name: str
    subject: str | None
    body: str
    version: int
    updated_at: datetime
    updated_by: str | None  # None: installed as a default, never edited

    @property
    def fields(self) -> TemplateFields:
        return TemplateFields(
            self.key, self.channel, self.language, self.name, self.subject, self.body
        )


_ROWS = (
    sa.select(MessageTemplate, StaffUser.full_name)
    .outerjoin(StaffUser, StaffUser.id == MessageTemplate.updated_by_staff_id)
    .order_by(MessageTemplate.key, MessageTemplate.channel, MessageTemplate.language)
)


def _row(template: MessageTemplate, updated_by: str | None) -> TemplateRow:
    return TemplateRow(
        id=template.id,
        key=template.key,
        channel=str(template.channel),
        language=str(template.language),
        name=template.name,
        subject=template.subject,
        body=template.body,
        version=template.version,
        updated_at=template.updated_at,
        updated_by=updated_by,
    )


def list_templates() -> list[TemplateRow]:
    """Every template, by key, channel and language."""
    return [_row(t, who) for t, who in db.session.execute(_ROWS)]


def get(template_id: int) -> TemplateRow:
    found = db.session.execute(_ROWS.where(MessageTemplate.id == template_id)).one_or_none()
    if found is None:
        raise NotFound(f"No message template {template_id}")
    return _row(*found)


def _fields(template: MessageTemplate) -> dict[str, object]:
    return {
        "key": template.key,
        "channel": str(template.channel),
        "language": str(template.language),
        "name": template.name,
        "subject": template.subject,
        "body": template.body,
        "version": template.version,
    }


def _english_exists(key: str, channel: str) -> bool:
    return (
        db.session.scalar(
            sa.select(MessageTemplate.id).where(
                MessageTemplate.key == key,
                MessageTemplate.channel == TemplateChannel(channel),
                MessageTemplate.language == Language.ENGLISH,
            )
        )
        is not None
    )


@use_case
def save_template(
    actor: Actor,
    template_id: int | None,
    key: str,
    channel: str,
    language: str,
    name: str,
    subject: str | None,
    body: str,
    expected_version: int | None,
) -> TemplateRow:
    """Add a template (template_id None) or change one; a changed one's version goes up.

    The key, channel and language of a saved template stay as they are (policies and
    senders name them); a Welsh one needs the English version of its key and channel.
    """
    fields = template_checks.cleaned(TemplateFields(key, channel, language, name, subject, body))
    problems = template_checks.template_problems(fields)
    if problems:
        raise TemplateRefused(problems)
    words = template_checks.CHANNEL_WORDS[fields.channel].lower()
    if template_id is None:
        existing = None
        taken = db.session.scalar(
            sa.select(MessageTemplate.id).where(
                MessageTemplate.key == fields.key,
                MessageTemplate.channel == TemplateChannel(fields.channel),
                MessageTemplate.language == Language(fields.language),
            )
        )
        if taken is not None:
            language_words = template_checks.LANGUAGE_WORDS[fields.language]
            article = "an" if language_words == "English" else "a"
            raise TemplateRefused(
                {
                    "key": f"There is already {article} {language_words} {words} template "
                    f"{fields.key}"
                }
            )
    else:
        existing = db.session.execute(
            sa.select(MessageTemplate).where(MessageTemplate.id == template_id).with_for_update()
        ).scalar_one_or_none()
        if existing is None:
            raise NotFound(f"No message template {template_id}")
        if (existing.key, str(existing.channel), str(existing.language)) != (
            fields.key,
            fields.channel,
            fields.language,
        ):
            raise TemplateRefused(
                {"key": "The key, channel and language of a saved template cannot be changed"}
            )
        if expected_version != existing.version:
            raise TemplateConflict(
                f"Someone else changed this template while you were editing it (it is now "
                f"version {existing.version}). Nothing was saved: check the template as it is "
                "now and make your changes again"
            )
    if fields.language == Language.WELSH and not _english_exists(fields.key, fields.channel):
        raise TemplateRefused(
            {
                "language": f"Add the English {words} template {fields.key} first: a Welsh "
                "version is a translation of it"
            }
        )

    if existing is None:
        template = MessageTemplate(
            key=fields.key,
            channel=TemplateChannel(fields.channel),
            language=Language(fields.language),
            version=1,
        )
        before = None
        db.session.add(template)
    else:
        template, before = existing, _fields(existing)
        if (template.name, template.subject, template.body) == (
            fields.name,
            fields.subject,
            fields.body,
        ):
            db.session.commit()  # nothing changed: no new version, no audit row
            return get(template.id)
        template.version = template.version + 1
    template.name = fields.name
    template.subject = fields.subject
    template.body = fields.body
    template.updated_by_staff_id = actor.staff_id
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise TemplateConflict(
            f"Someone else added the {words} template {fields.key} at the same time. "
            "Nothing was saved"
        ) from None
    record_audit(
        actor,
        "message_template.created" if before is None else "message_template.changed",
        "message_template",
        template.id,
        before=before,
        after=_fields(template),
    )
    db.session.commit()
    return get(template.id)


# --- preview ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Preview:
    subject: str | None
    text: str
    html: str | None  # letters and email: the paragraphs as the layout shows them
    segments: int | None  # texts: SMS segments it is sent (and charged) as
    cost_pence: int | None  # texts: what one costs to send
    unknown_placeholders: list[str]


def _overdue_values(account: DebtorAccount, on: date) -> dict[str, object]:
    """What the account owes for a preview: its overdue invoices (else its open ones)."""
    allocated = (
        sa.select(sa.func.coalesce(sa.func.sum(Allocation.amount_pence), 0))
        .where(Allocation.invoice_id == Invoice.id)
        .correlate(Invoice)
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(
            Invoice.number,
            Invoice.due_date,
            (Invoice.total_pence - allocated).label("outstanding"),
            ServiceDepartment.name,
        )
        .join(ServiceDepartment, ServiceDepartment.id == Invoice.department_id)
        .where(Invoice.account_id == account.id)
        .order_by(Invoice.due_date, Invoice.id)
    ).all()
    open_rows = [r for r in rows if r.outstanding > 0]
    chosen = [r for r in open_rows if r.due_date < on] or open_rows
    return {
        "amount_due_pence": sum(int(r.outstanding) for r in chosen),
        "invoice_numbers": [r.number for r in chosen],
        "oldest_due_date": chosen[0].due_date if chosen else None,
        "department_name": chosen[0].name if chosen else None,
    }


def account_for_preview(reference: str) -> DebtorAccount | None:
    """The account a preview is filled in for, by its reference (as typed: any case)."""
    typed = (reference or "").strip()
    if not typed or len(typed) > 40:
        return None
    return db.session.scalars(
        sa.select(DebtorAccount).where(DebtorAccount.reference.in_({typed, typed.upper()}))
    ).first()


def preview_values(
    account: DebtorAccount | None, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The placeholder values a preview fills in: the account's own where one is
    given, else the samples."""
    on = today()
    if account is None:
        return {**SAMPLE_VALUES, **(extra or {})}
    return account_values(
        account,
        on=on,
        account_balance_pence=account_balance(account.id),
        **_overdue_values(account, on),
        extra={
            "respond_by_date": long_date(on + timedelta(days=LETTER_OF_CLAIM_DAYS)),
            **(extra or {}),
        },
    )


def preview(
    template_or_fields: MessageTemplate | TemplateRow | TemplateFields,
    account: DebtorAccount | None = None,
    *,
    extra: Mapping[str, str] | None = None,
) -> Preview:
    """A template filled in for `account` (or with the sample values), as it would be sent."""
    channel = str(template_or_fields.channel)
    subject_text = template_or_fields.subject or ""
    body = (template_or_fields.body or "").replace("\r\n", "\n")
    values = preview_values(account, extra)
    text = fill(body, values)
    unknown = [
        name
        for name in dict.fromkeys(placeholders_in(subject_text) + placeholders_in(body))
        if name not in PLACEHOLDER_NAMES
    ]
    if channel == SMS:
        segments = sms_segments(text)
        cost = segments * int(current_app.config["SMS_COST_PENCE_PER_SEGMENT"])
        return Preview(None, text, None, segments, cost, unknown)
    return Preview(
        fill(subject_text, values) if subject_text else None,
        text,
        as_html(text),
        None,
        None,
        unknown,
    )


# --- defaults -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class InstallCounts:
    templates_added: int
    templates_kept: int  # already there (perhaps edited): left exactly as they are
    policies_added: int


@use_case
def install_defaults(actor: Actor) -> InstallCounts:
    """Store each default template that is missing and give each department without a
    recovery ladder the standard one; running it again changes nothing."""
    from shared.services.dunning.policy import add_default_policies

    have = {
        (key, str(channel), str(language))
        for key, channel, language in db.session.execute(
            sa.select(MessageTemplate.key, MessageTemplate.channel, MessageTemplate.language)
        )
    }
    added = []
    # English first, so a Welsh default always has its English one beside it.
    for default in sorted(DEFAULT_TEMPLATES, key=lambda d: d.language != "en"):
        if (default.key, default.channel, default.language) in have:
            continue
        template = MessageTemplate(
            key=default.key,
            channel=TemplateChannel(default.channel),
            language=Language(default.language),
            name=default.name,
            subject=default.subject,
            body=default.body,
            version=1,
        )
        db.session.add(template)
        added.append(f"{default.key}/{default.channel}/{default.language}")
    db.session.flush()
    if added:
        record_audit(
            actor,
            "message_template.defaults_installed",
            "message_template",
            None,
            after={"added": added},
        )
    policies = add_default_policies(actor)
    db.session.commit()
    return InstallCounts(len(added), len(DEFAULT_TEMPLATES) - len(added), policies)
