"""A letter from the outbox rendered to PDF, read back with pypdf: the address where a
windowed envelope shows it, the letterhead, the body escaped, how to pay, Welsh
headings, enclosures appended, and each letter rendered and stored once."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from pypdf import PdfReader
from pypdf._text_extraction import mult

from shared import documents
from shared.models import LetterDocument, OutboxChannel, OutboxMessage, OutboxStatus
from shared.services.messages import letters
from shared.services.messages.letters import ADDRESS_WINDOW
from tests.frozen_clock import frozen_clock
from tests.integration.test_print_batch_world import (
    LONG_BODY,
    composed_letter,
    make_debtors,
    notified_letter,
)

pytestmark = frozen_clock

MM = 72 / 25.4


def _words(pdf: bytes, page: int = 0) -> list[tuple[float, float, str]]:
    """(mm from the left, mm from the top of the sheet, text) of each run on a page."""
    found = []
    sheet = PdfReader(io.BytesIO(pdf)).pages[page]
    height = float(sheet.mediabox.height)

    def visit(text, cm, tm, font, size):
        if text.strip():
            matrix = mult(tm, cm)
            found.append((matrix[4] / MM, (height - matrix[5]) / MM, text.strip()))

    sheet.extract_text(visitor_text=visit)
    return found


def _text(pdf: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)


def _in_window(x: float, y: float) -> bool:
    w = ADDRESS_WINDOW
    # y is the text's baseline: the line's top is a few mm above it, still in the window.
    return w.left - 0.01 <= x <= w.left + w.width and w.top + 2 <= y <= w.top + w.height


@pytest.fixture
def debtor(db):
    return make_debtors(1)[0]


def test_the_name_and_address_sit_inside_the_envelope_window_and_nothing_else_does(db, debtor):
    letter = letters.render_letter(composed_letter(debtor))
    runs = _words(letter.pdf)

    address = [debtor.display_name, *debtor.addresses[0].lines()]
    placed = {text: (x, y) for x, y, text in runs}
    for line in address:
        assert line in placed, f"{line!r} is not on the first page"
        assert _in_window(*placed[line]), f"{line!r} at {placed[line]} is outside the window"
    others = [text for x, y, text in runs if _in_window(x, y) and text not in address]
    assert others == []
    assert letter.page_count == 1


def test_the_letter_has_the_letterhead_date_subject_body_and_how_to_pay(app, db, debtor):
    row = composed_letter(
        debtor, subject="Final demand", body="Dear Morgan,\n\nYou owe <b>£120.00</b> & more."
    )
    text = _text(letters.render_letter(row).pdf)

    config = app.config
    for expected in (
        config["COUNCIL_NAME"],
        config["COUNCIL_PHONE"],
        config["COUNCIL_EMAIL"],
        "17 June 2026",
        "Final demand",
        "You owe <b>£120.00</b> & more.",  # escaped: printed as written, never markup
        "How to pay",
        config["COUNCIL_BANK_SORT_CODE"],
        config["COUNCIL_BANK_ACCOUNT_NUMBER"],
        "/pay",
        "Page 1 of 1",
    ):
        assert expected in text, expected
    assert text.count(debtor.reference) >= 3  # references, payment reference, bank transfer


def test_a_welsh_letter_has_welsh_headings_and_date(db):
    (debtor,) = make_debtors(1, language="cy")
    row = composed_letter(debtor, language="cy", subject="Nodyn atgoffa", body="Annwyl Morgan,")
    text = _text(letters.render_letter(row).pdf)

    for welsh in (
        "Sut i dalu",
        "Dyddiad",
        "Cyfeirnod y cyfrif",
        "17 Mehefin 2026",
        "Tudalen 1 o 1",
    ):
        assert welsh in text, welsh
    assert "How to pay" not in text and "June" not in text


def test_a_letter_written_by_notifications_takes_the_address_from_the_recipient(db, debtor):
    row = notified_letter(debtor)
    runs = _words(letters.render_letter(row).pdf)

    placed = {text: (x, y) for x, y, text in runs}
    for line in [debtor.display_name, *debtor.addresses[0].lines()]:
        assert _in_window(*placed[line]), line
    who = letters.addressee_of(row, debtor)
    assert who.postcode == debtor.addresses[0].postcode
    assert who.street_lines == tuple(debtor.addresses[0].lines()[:-1])


def _two_page_enclosure(document_id: int) -> documents.Attachment:
    from weasyprint import HTML

    pdf = HTML(
        string="<p>ENCLOSURE ONE</p><p style='break-before: page'>ENCLOSURE TWO</p>"
    ).write_pdf()
    return documents.Attachment(f"enclosure-{document_id}.pdf", "application/pdf", pdf)


def test_an_enclosure_named_in_the_payload_follows_the_letter_pages(db, debtor):
    documents.register("test_enclosure", _two_page_enclosure)
    row = composed_letter(debtor, attachment={"document": "test_enclosure", "id": 7})
    letter = letters.render_letter(row)

    pages = PdfReader(io.BytesIO(letter.pdf)).pages
    assert letter.page_count == len(pages) == 3
    assert "Enclosed: enclosure-7.pdf" in pages[0].extract_text()
    assert "ENCLOSURE ONE" in pages[1].extract_text()
    assert "ENCLOSURE TWO" in pages[2].extract_text()


def test_a_long_letter_runs_on_to_more_pages_with_page_numbers(db, debtor):
    letter = letters.render_letter(composed_letter(debtor, body=LONG_BODY))

    assert letter.page_count >= 2
    text = _text(letter.pdf)
    assert "Paragraph 39" in text and f"Page 2 of {letter.page_count}" in text


def test_each_letter_is_rendered_and_stored_once(db, debtor):
    first, second = composed_letter(debtor), notified_letter(debtor)
    email = OutboxMessage(
        account_id=debtor.id,
        channel=OutboxChannel.EMAIL,
        template="x",
        recipient="a@example.com",
        body="hi",
        status=OutboxStatus.PENDING,
    )
    db.session.add(email)
    db.session.commit()

    assert letters.ensure_rendered([first.id, second.id, email.id]) == 2
    stored = {d.outbox_message_id: d.sha256 for d in db.session.scalars(sa.select(LetterDocument))}
    assert set(stored) == {first.id, second.id}
    assert letters.ensure_rendered([first.id, second.id]) == 0
    again = {d.outbox_message_id: d.sha256 for d in db.session.scalars(sa.select(LetterDocument))}
    assert again == stored
    document = db.session.get(LetterDocument, first.id)
    assert document.page_count == len(PdfReader(io.BytesIO(document.pdf)).pages)
