"""What a message template must be before it is saved (pure: no database, no Flask).

The placeholders themselves are checked by shared.domain.message_templates; here are
the rules of a whole template: a letter and an email have a subject, a text has
none and must stay short once filled in, and the names and keys are sensible.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shared.domain.message_templates import (
    BODY_MAX,
    CHANNELS,
    EMAIL,
    LETTER,
    SAMPLE_VALUES,
    SMS,
    SMS_MAX_SEGMENTS,
    SUBJECT_MAX,
    fill,
    problems_in,
)
from shared.domain.sms import sms_segments

ENGLISH, WELSH = "en", "cy"
LANGUAGES = (ENGLISH, WELSH)
LANGUAGE_WORDS = {ENGLISH: "English", WELSH: "Welsh"}
CHANNEL_WORDS = {LETTER: "Letter", EMAIL: "Email", SMS: "Text message"}

KEY_MAX = 80
NAME_MAX = 120
# Keys name what a message is for, as code and policies refer to it: "dunning.reminder".
_KEY = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*\Z")


@dataclass(frozen=True)
class TemplateFields:
    """A template as typed: what is checked, previewed and saved."""

    key: str
    channel: str
    language: str
    name: str
    subject: str | None
    body: str


def segments_when_filled(body: str) -> int:
    """How many SMS segments a text template is once filled with the sample values
    (which are about as long as real ones)."""
    return sms_segments(fill(body, SAMPLE_VALUES))


def cleaned(fields: TemplateFields) -> TemplateFields:
    """Trimmed as stored: line endings made \\n, no subject for a text."""
    body = (fields.body or "").replace("\r\n", "\n").strip()
    subject = " ".join((fields.subject or "").split()) or None
    return TemplateFields(
        key=(fields.key or "").strip(),
        channel=(fields.channel or "").strip(),
        language=(fields.language or "").strip(),
        name=" ".join((fields.name or "").split()),
        subject=subject,
        body=body,
    )


def template_problems(fields: TemplateFields) -> dict[str, str]:
    """Each field's problem in GOV.UK words (empty: the template will do)."""
    fields = cleaned(fields)
    problems: dict[str, str] = {}
    if not fields.key:
        problems["key"] = "Enter the template's key, like dunning.reminder"
    elif len(fields.key) > KEY_MAX:
        problems["key"] = f"Key must be {KEY_MAX} characters or fewer"
    elif not _KEY.match(fields.key):
        problems["key"] = (
            "Key must be lower-case letters, digits and underscores, in parts joined by dots, "
            "like dunning.reminder"
        )
    if fields.channel not in CHANNELS:
        problems["channel"] = "Select letter, email or text message"
    if fields.language not in LANGUAGES:
        problems["language"] = "Select English or Welsh"
    if not fields.name:
        problems["name"] = "Enter a name for the template, as officers will see it"
    elif len(fields.name) > NAME_MAX:
        problems["name"] = f"Name must be {NAME_MAX} characters or fewer"

    if fields.channel == SMS:
        if fields.subject:
            problems["subject"] = "A text message has no subject: leave it empty"
    elif fields.channel in (LETTER, EMAIL):
        if not fields.subject:
            problems["subject"] = (
                "Enter the subject"
                if fields.channel == EMAIL
                else "Enter the letter's heading (its subject)"
            )
        elif len(fields.subject) > SUBJECT_MAX:
            problems["subject"] = f"Subject must be {SUBJECT_MAX} characters or fewer"
        else:
            found = problems_in(fields.subject, field="The subject")
            if found:
                problems["subject"] = found[0]

    if not fields.body:
        problems["body"] = "Enter the message"
    elif len(fields.body) > BODY_MAX:
        problems["body"] = f"Message must be {BODY_MAX:,} characters or fewer"
    else:
        found = problems_in(fields.body, field="The message")
        if found:
            problems["body"] = found[0]
        elif fields.channel == SMS:
            segments = segments_when_filled(fields.body)
            if segments > SMS_MAX_SEGMENTS:
                problems["body"] = (
                    f"The text would be sent as {segments} text messages once filled in: "
                    f"make it shorter (at most {SMS_MAX_SEGMENTS})"
                )
    return problems
