"""Message templates: named placeholders, checked when a template is saved, filled
when a message is written (pure: no database, no Flask).

A template is plain text. `{balance}` is a placeholder; `{{` and `}}` are a literal
brace. Paragraphs are separated by a blank line, and letters and HTML email are
laid out from them with every character escaped, so a template can never carry
markup, a link we did not write, or anything that fetches.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass

LETTER, EMAIL, SMS = "letter", "email", "sms"
CHANNELS = (LETTER, EMAIL, SMS)


@dataclass(frozen=True)
class Placeholder:
    name: str
    description: str
    sample: str  # shown in the editor's preview when no real account is chosen


# Every placeholder a template may use. The values come from
# shared/services/messages/values.py; a name missing there is a bug its test catches.
PLACEHOLDERS: tuple[Placeholder, ...] = (
    Placeholder("debtor_name", "the debtor's name as we address them", "Mrs Jane Smith"),
    Placeholder("account_reference", "the debtor's account reference", "AC0001234"),
    Placeholder(
        "payment_reference",
        "the reference to quote when paying (the account reference)",
        "AC0001234",
    ),
    Placeholder("amount_due", "what this message asks to be paid, in pounds", "£245.60"),
    Placeholder("account_balance", "everything the account owes today, in pounds", "£312.10"),
    Placeholder(
        "invoice_numbers", "the invoices this message is about", "INV00012345, INV00012399"
    ),
    Placeholder("oldest_due_date", "the due date of the oldest of those invoices", "14 May 2026"),
    Placeholder("pay_by_date", "the date to pay by (14 days from the message)", "1 July 2026"),
    Placeholder(
        "respond_by_date", "the date a Letter of Claim must be answered by", "17 July 2026"
    ),
    Placeholder("department_name", "the service the debt is owed to", "Trade waste"),
    Placeholder("portal_url", "where to pay or set up a plan online", "pay.example.gov.uk"),
    Placeholder("council_name", "the council's name", "Borsetshire County Council"),
    Placeholder("council_phone", "the council's recovery phone number", "01632 960 000"),
    Placeholder("council_email", "the council's recovery email address", "recovery@example.gov.uk"),
    Placeholder("today", "the date the message is written", "17 June 2026"),
    Placeholder(
        "late_payment_charges",
        "Late Payment Act compensation and interest added, in pounds (organisations)",
        "£70.00",
    ),
    Placeholder("officer_name", "the officer sending it (officer-sent messages)", "Sam Patel"),
)
PLACEHOLDER_NAMES = frozenset(p.name for p in PLACEHOLDERS)
SAMPLE_VALUES: Mapping[str, str] = {p.name: p.sample for p in PLACEHOLDERS}

# {name}, or a doubled brace (a literal one), or a lone brace (an error).
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_NAME = re.compile(r"[a-z_]+\Z")

# Limits a saved template must keep.
SUBJECT_MAX = 200
BODY_MAX = 20_000
SMS_MAX_SEGMENTS = 3  # a longer text costs more and reads worse than a letter


class TemplateError(ValueError):
    """The text is not a valid template; `problems` lists each, in words."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


def placeholders_in(text: str) -> list[str]:
    """The placeholder names `text` uses, in order of first use (unknown ones too)."""
    found: list[str] = []
    for match in _TOKEN.finditer(text or ""):
        name = match.group(1)
        if name is not None and name not in found:
            found.append(name.strip())
    return found


def problems_in(text: str, *, field: str = "The message") -> list[str]:
    """What is wrong with `text` as a template, one sentence each (empty: nothing)."""
    problems: list[str] = []
    for match in _TOKEN.finditer(text or ""):
        token, name = match.group(0), match.group(1)
        if token in ("{{", "}}"):
            continue
        if name is None:
            problems.append(
                f"{field} has a {token} on its own: write {{{{ or }}}} for a brace, "
                "or put a placeholder name inside braces, like {balance}"
            )
        elif not _NAME.match(name.strip()) or name.strip() not in PLACEHOLDER_NAMES:
            problems.append(f"{field} uses {{{name}}}, which is not a placeholder we can fill")
    return list(dict.fromkeys(problems))


def fill(text: str, values: Mapping[str, str]) -> str:
    """`text` with each placeholder replaced by its value (doubled braces made single).
    A placeholder with no value is left empty: templates are checked when saved, so
    this happens only for a value that does not apply (no Letter of Claim date)."""

    def replace(match: re.Match) -> str:
        token, name = match.group(0), match.group(1)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        if name is None:
            return token
        return str(values.get(name.strip(), ""))

    return _TOKEN.sub(replace, text or "")


def paragraphs(text: str) -> list[str]:
    """The paragraphs of a filled template: split on blank lines, trimmed, none empty."""
    blocks = re.split(r"\n\s*\n", (text or "").replace("\r\n", "\n").strip())
    return [b.strip() for b in blocks if b.strip()]


def as_html(text: str) -> str:
    """A filled template as HTML paragraphs, every character escaped; a single line
    break inside a paragraph stays a line break (an address, a list of invoices)."""
    return "\n".join(
        "<p>" + "<br>\n".join(html.escape(line) for line in block.split("\n")) + "</p>"
        for block in paragraphs(text)
    )
