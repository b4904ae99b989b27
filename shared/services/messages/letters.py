"""Letters from the outbox as printed PDFs: rendered once, kept, enclosures appended.

A letter is an OutboxMessage on the "letter" channel. Two kinds of row reach here:
- rows written by compose.py (template letters): the payload carries "address_lines",
  "debtor_name" and "language";
- rows written by shared/services/notifications.py (invoices, plan reminders, Direct
  Debit notices): the recipient is the address joined with ", ", and the name comes
  from the account.
Either may name an enclosure in payload["attachment"] (shared/documents.py), whose PDF
pages follow the letter's.

`render_letter` lays a letter out (WeasyPrint, A4) with the council's letterhead, the
debtor's name and address in the window of a DL/C5 envelope (ADDRESS_WINDOW), the
date and references, the subject, the body (escaped paragraphs), and how to pay,
with Welsh headings for a Welsh letter. `ensure_rendered` stores each letter's PDF
once (LetterDocument), committing a chunk at a time, so what was printed is what the
case shows, and a print batch that stopped half way resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import io
import multiprocessing
import os
import re
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app, render_template
from markupsafe import Markup

from shared import clock
from shared.documents import render_attachment
from shared.domain.message_templates import as_html
from shared.extensions import db
from shared.formatting import long_date
from shared.models import DebtorAccount, LetterDocument, OutboxChannel, OutboxMessage
from shared.pdf import _no_fetching
from shared.services.errors import NotFound


@dataclass(frozen=True)
class Window:
    """Where the address must sit, in mm from the sheet's left and top edges."""

    left: int
    top: int
    width: int
    height: int


# The address window of a DL or C5 windowed envelope (window on the left, as hybrid-mail
# providers and Royal Mail's guidance place it): 20 mm from the left, 45 mm from the top,
# 90 x 35 mm. The letter's name-and-address block is exactly this box.
ADDRESS_WINDOW = Window(left=20, top=45, width=90, height=35)

RENDER_CHUNK = 200  # letters rendered and committed at a time
PER_PROCESS_AT_LEAST = 25  # fewer letters than this a process are laid out in this one

WELSH_MONTHS = (
    "Ionawr",
    "Chwefror",
    "Mawrth",
    "Ebrill",
    "Mai",
    "Mehefin",
    "Gorffennaf",
    "Awst",
    "Medi",
    "Hydref",
    "Tachwedd",
    "Rhagfyr",
)

WORDS = {
    "en": {
        "lang": "en-GB",
        "letter": "Letter",
        "date": "Date",
        "reference": "Account reference",
        "reference_lower": "reference",
        "how_to_pay": "How to pay",
        "quote": "Quote your payment reference however you pay:",
        "online": "Online",
        "phone": "Phone",
        "bank_transfer": "Bank transfer",
        "sort_code": "sort code",
        "account_number": "account number",
        "difficulty": "If you are having difficulty paying, contact us as soon as you can: "
        "we can help.",
        "enclosed": "Enclosed",
        "page": "Page",
        "of": "of",
    },
    "cy": {
        "lang": "cy",
        "letter": "Llythyr",
        "date": "Dyddiad",
        "reference": "Cyfeirnod y cyfrif",
        "reference_lower": "cyfeirnod",
        "how_to_pay": "Sut i dalu",
        "quote": "Dyfynnwch eich cyfeirnod talu pa bynnag ffordd y byddwch yn talu:",
        "online": "Ar-lein",
        "phone": "Ffôn",
        "bank_transfer": "Trosglwyddiad banc",
        "sort_code": "cod didoli",
        "account_number": "rhif y cyfrif",
        "difficulty": "Os ydych yn cael trafferth talu, cysylltwch â ni cyn gynted ag y "
        "gallwch: gallwn helpu.",
        "enclosed": "Amgaeir",
        "page": "Tudalen",
        "of": "o",
    },
}

# A UK postcode (the last address line, when it is one): the manifest's own column.
_POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$", re.IGNORECASE)


@dataclass(frozen=True)
class RenderedLetter:
    pdf: bytes
    page_count: int
    sha256: str


@dataclass(frozen=True)
class Addressee:
    """Who a letter goes to, as printed in the window and listed in the manifest."""

    name: str
    lines: tuple[str, ...]  # the address, postcode last when there is one

    @property
    def postcode(self) -> str:
        return self.lines[-1] if self.lines and _POSTCODE.match(self.lines[-1]) else ""

    @property
    def street_lines(self) -> tuple[str, ...]:
        """The lines above the postcode (all of them when there is no postcode)."""
        return self.lines[:-1] if self.postcode else self.lines


def language_of(message: OutboxMessage) -> str:
    return language_in(message.payload)


def language_in(payload: dict | None) -> str:
    return "cy" if (payload or {}).get("language") == "cy" else "en"


def addressee_of(message: OutboxMessage, account: DebtorAccount | None) -> Addressee:
    """The name and address a letter row carries (compose.py's payload, or the
    recipient notifications.py joined with ", ")."""
    name = account.display_name if account is not None else ""
    return addressee_from(message.payload, message.recipient, name)


def addressee_from(payload: dict | None, recipient: str | None, account_name: str) -> Addressee:
    payload = payload or {}
    lines = payload.get("address_lines")
    if not lines:
        lines = [part.strip() for part in (recipient or "").split(", ") if part.strip()]
    name = payload.get("debtor_name") or account_name
    return Addressee(str(name), tuple(str(line) for line in lines))


def letter_date(message: OutboxMessage, language: str) -> str:
    """The day the letter was written (England), in the letter's language."""
    day = clock.london_day(message.created_at) if message.created_at else clock.today()
    if language == "cy":
        return f"{day.day} {WELSH_MONTHS[day.month - 1]} {day.year}"
    return long_date(day)


def page_count_of(pdf: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf)).pages)


def render_letter(message: OutboxMessage) -> RenderedLetter:
    """The letter as a PDF (with any enclosure's pages after it), its pages and SHA-256."""
    if message.channel != OutboxChannel.LETTER:
        raise NotFound(f"Message {message.id} is not a letter")
    account = db.session.get(DebtorAccount, message.account_id) if message.account_id else None
    html, enclosure = _letter_html(message, account)
    return _finish(*html_to_pdf(html), enclosure)


def render_letters(messages: Sequence[OutboxMessage]) -> list[RenderedLetter]:
    """render_letter for many, laid out on several processes when there are enough of
    them to pay for starting them (WeasyPrint spends ~0.1 s a letter on one core)."""
    account_ids = {m.account_id for m in messages if m.account_id}
    accounts = {
        a.id: a
        for a in db.session.scalars(
            sa.select(DebtorAccount).where(DebtorAccount.id.in_(account_ids))
        )
    }
    pages = [_letter_html(m, accounts.get(m.account_id)) for m in messages]
    htmls = [html for html, _ in pages]
    workers = _processes(len(htmls))
    if workers > 1:
        with _pool(workers) as pool:
            pdfs = list(pool.map(html_to_pdf, htmls, chunksize=8))
    else:
        pdfs = [html_to_pdf(html) for html in htmls]
    return [
        _finish(pdf, count, enclosure)
        for (pdf, count), (_, enclosure) in zip(pdfs, pages, strict=True)
    ]


def _processes(letters: int) -> int:
    wanted = int(current_app.config.get("PRINT_RENDER_PROCESSES") or os.cpu_count() or 1)
    return max(1, min(wanted, 4, letters // PER_PROCESS_AT_LEAST))


def _pool(workers: int) -> ProcessPoolExecutor:
    # "spawn": a fresh interpreter that only lays out HTML, never sharing the parent's
    # database connections or threads (a forked copy of them would be unsafe).
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))


def html_to_pdf(html: str) -> tuple[bytes, int]:
    """Lay out one letter's HTML: its PDF bytes and page count (no app or database
    needed, so it runs in a worker process too). Fetches nothing (shared.pdf)."""
    from weasyprint import HTML

    document = HTML(string=html, url_fetcher=_no_fetching).render()
    return document.write_pdf(), len(document.pages)


def _council() -> dict[str, object]:
    """The council as shared/pdf.py gives it to every PDF template."""
    config = current_app.config
    return {
        "name": config["COUNCIL_NAME"],
        "phone": config["COUNCIL_PHONE"],
        "email": config["COUNCIL_EMAIL"],
        "address_lines": config.get("COUNCIL_ADDRESS_LINES") or [],
        "bank_account_name": config.get("COUNCIL_BANK_ACCOUNT_NAME", ""),
        "bank_sort_code": config.get("COUNCIL_BANK_SORT_CODE", ""),
        "bank_account_number": config.get("COUNCIL_BANK_ACCOUNT_NUMBER", ""),
        "portal": str(config.get("PUBLIC_BASE_URL", "")).split("://", 1)[-1] + "/pay",
    }


def _letter_html(message: OutboxMessage, account: DebtorAccount | None):
    """The letter's HTML and its enclosure (rendered now, from the database), if any."""
    language = language_of(message)
    addressee = addressee_of(message, account)
    attachment = (message.payload or {}).get("attachment")
    enclosure = render_attachment(attachment) if attachment else None
    council = _council()
    html = render_template(
        "pdf/letter.html",
        council=council,
        footer_css=css_string(f"{council['name']} · {council['phone']} · {council['email']}"),
        window=ADDRESS_WINDOW,
        words=WORDS[language],
        subject=message.subject,
        # as_html escapes every character of the body: it can carry no markup of its own.
        body_html=Markup(as_html(message.body or "")),  # noqa: S704
        debtor_name=addressee.name,
        address_lines=list(addressee.lines),
        reference=account.reference if account is not None else "",
        letter_date=letter_date(message, language),
        enclosures=[enclosure.filename] if enclosure is not None else [],
    )
    return html, enclosure


def css_string(text: str) -> Markup:
    """`text` as a quoted CSS string, every character that could end the string or the
    <style> element escaped (for the page footer, which CSS draws)."""
    safe = "".join(c if c.isalnum() or c in " .,@-·()'" else f"\\{ord(c):x} " for c in text)
    return Markup(f'"{safe}"')  # noqa: S704 - every special character is escaped above


def _finish(pdf: bytes, pages: int, enclosure) -> RenderedLetter:
    if enclosure is not None:
        pdf = _append(pdf, enclosure.content)
        pages = page_count_of(pdf)
    return RenderedLetter(pdf, pages, hashlib.sha256(pdf).hexdigest())


def _append(letter: bytes, enclosure: bytes) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(letter)))
    writer.append(PdfReader(io.BytesIO(enclosure)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _missing(ids: Sequence[int]) -> list[int]:
    stored: set[int] = set()
    for start in range(0, len(ids), 1000):
        stored.update(
            db.session.scalars(
                sa.select(LetterDocument.outbox_message_id).where(
                    LetterDocument.outbox_message_id.in_(ids[start : start + 1000])
                )
            )
        )
    return [i for i in ids if i not in stored]


def _store(rows: list[dict]) -> None:
    """Insert LetterDocument rows; one another process stored meanwhile stands."""
    if not rows:
        return
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    db.session.execute(insert(LetterDocument).values(rows).on_conflict_do_nothing())


def ensure_rendered(message_ids: Iterable[int], *, chunk: int = RENDER_CHUNK) -> int:
    """Render and store every listed letter not stored yet, committing each chunk (a
    crash keeps what was done); returns how many were rendered now."""
    ids = list(dict.fromkeys(int(i) for i in message_ids))
    rendered = 0
    missing = _missing(ids)
    for start in range(0, len(missing), chunk):
        part = missing[start : start + chunk]
        messages = db.session.scalars(
            sa.select(OutboxMessage).where(
                OutboxMessage.id.in_(part), OutboxMessage.channel == OutboxChannel.LETTER
            )
        ).all()
        now = clock.utcnow()
        rows = [
            {
                "outbox_message_id": message.id,
                "pdf": letter.pdf,
                "page_count": letter.page_count,
                "sha256": letter.sha256,
                "rendered_at": now,
            }
            for message, letter in zip(messages, render_letters(messages), strict=True)
        ]
        _store(rows)
        db.session.commit()
        rendered += len(rows)
    return rendered


def stored_letter(message_id: int) -> LetterDocument | None:
    return db.session.get(LetterDocument, message_id)
