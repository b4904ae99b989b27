"""The daily print batch: built from every letter waiting, merged for duplex printing with
a manifest, released once (only then are letters posted), withdrawn with its letters
put back, and read back with pypdf."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from shared.models import (
    AuditLog,
    ContactEvent,
    ContactKind,
    LetterDocument,
    LetterOfClaim,
    OutboxChannel,
    OutboxMessage,
    OutboxStatus,
    PrintBatch,
    PrintBatchStatus,
)
from shared.services import actors
from shared.services.actors import SYSTEM
from shared.services.errors import Conflict, InvalidRequest
from shared.services.messages import print_batches
from tests.factories import make_staff
from tests.frozen_clock import TODAY, frozen_clock
from tests.integration.test_print_batch_world import (
    LONG_BODY,
    composed_letter,
    make_debtors,
    notified_letter,
    print_dir,  # noqa: F401 - fixture
)

pytestmark = [frozen_clock, pytest.mark.usefixtures("print_dir")]
LETTERS = 1000  # the batch: every one rendered, merged and read back


def _manifest(view) -> list[dict]:
    with open(view.manifest_path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def officer(db):
    return actors.staff(make_staff().id)


def test_a_batch_of_a_thousand_letters_reads_back_page_for_page_in_manifest_order(db):
    debtors = make_debtors(LETTERS)
    templates = ("reminder", "final_demand", "plan_payment_due", "letter_of_claim")
    for n, debtor in enumerate(debtors):
        if n % 4 == 2:
            notified_letter(debtor, template=templates[2]) if n < 40 else composed_letter(
                debtor, template=templates[2], commit=False
            )
        else:
            composed_letter(
                debtor,
                template=templates[n % 4],
                body=LONG_BODY if n % 100 == 7 else f"Dear Morgan,\n\nLetter {n}.",
                commit=False,
            )
    db.session.commit()

    built = print_batches.build_batch(SYSTEM, TODAY)

    assert built.created
    batch = built.batch
    rows = _manifest(batch)
    assert [int(r["sequence"]) for r in rows] == list(range(1, LETTERS + 1))
    assert batch.letter_count == LETTERS
    reader = PdfReader(batch.pdf_path)
    padded = sum(int(r["pages"]) + (r["blank_page_after"] == "yes") for r in rows)
    assert len(reader.pages) == padded == batch.page_count
    assert any(int(r["pages"]) > 1 for r in rows)  # the long letters run on
    expected_first = 1
    by_reference = {d.reference: d for d in debtors}
    for row in rows:
        assert int(row["first_page"]) == expected_first
        assert int(row["first_page"]) % 2 == 1  # every letter starts on the front of a sheet
        pages = int(row["pages"])
        assert (pages % 2 == 1) == (row["blank_page_after"] == "yes")
        first = reader.pages[expected_first - 1].extract_text()
        debtor = by_reference[row["account_reference"]]
        for line in [debtor.display_name, *debtor.addresses[0].lines()]:
            assert line in first, (row["sequence"], line)
        assert row["postcode"] == debtor.addresses[0].postcode
        assert row["address_line_1"] == debtor.addresses[0].line1
        expected_first += pages + (1 if row["blank_page_after"] == "yes" else 0)
    assert batch.pdf_sha256 == hashlib.sha256(Path(batch.pdf_path).read_bytes()).hexdigest()
    in_batch = db.session.scalar(
        sa.select(sa.func.count()).where(OutboxMessage.print_batch_id == batch.batch_id)
    )
    assert in_batch == LETTERS
    # Built is not posted: nothing is sent and nothing says it was.
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).where(OutboxMessage.status == OutboxStatus.SENT)
        )
        == 0
    )
    assert db.session.scalar(sa.select(sa.func.count(ContactEvent.id))) == 0


def test_nothing_waiting_builds_nothing_and_writes_no_file(app, db):
    (debtor,) = make_debtors(1)
    composed_letter(debtor, status=OutboxStatus.CANCELLED)
    db.session.add(
        OutboxMessage(
            account_id=debtor.id,
            channel=OutboxChannel.EMAIL,
            template="x",
            recipient="a@example.com",
            body="hi",
            status=OutboxStatus.PENDING,
        )
    )
    db.session.commit()

    with pytest.raises(InvalidRequest, match="No letters waiting"):
        print_batches.build_batch(SYSTEM, TODAY)

    assert db.session.scalar(sa.select(sa.func.count(PrintBatch.id))) == 0
    folder = Path(app.config["PRINT_BATCH_DIR"])
    assert not folder.exists() or not any(folder.iterdir())


def test_building_again_returns_the_batch_in_play_and_says_so(db, officer):
    debtors = make_debtors(2)
    composed_letter(debtors[0])
    first = print_batches.build_batch(officer, TODAY)
    composed_letter(debtors[1])  # arrives later: waits for the next batch

    again = print_batches.build_batch(SYSTEM, TODAY)

    assert not again.created and again.batch.batch_id == first.batch.batch_id
    assert "already built" in again.message and first.batch.built_by in again.message
    assert again.batch.letter_count == 1
    assert print_batches.waiting_by_template() == [("reminder", 1)]


def test_only_letters_still_waiting_join_the_batch(db):
    debtors = make_debtors(3)
    waiting = composed_letter(debtors[0])
    composed_letter(debtors[1], status=OutboxStatus.CANCELLED)
    composed_letter(debtors[2], status=OutboxStatus.SENT)

    batch = print_batches.build_batch(SYSTEM, TODAY).batch

    assert [int(r["outbox_message_id"]) for r in _manifest(batch)] == [waiting.id]


def test_release_posts_every_letter_once_with_a_timeline_line_each(db, officer):
    debtors = make_debtors(3)
    rows = [composed_letter(d, subject=f"Final demand {n}") for n, d in enumerate(debtors)]
    claim = LetterOfClaim(
        account_id=debtors[0].id,
        outbox_message_id=rows[0].id,
        amount_pence=50_000,
        written_on=TODAY - timedelta(days=2),
    )
    db.session.add(claim)
    db.session.commit()
    batch = print_batches.build_batch(SYSTEM, TODAY).batch

    with pytest.raises(InvalidRequest, match="checked"):
        print_batches.release_batch(officer, batch.batch_id, checked=False)
    assert db.session.get(OutboxMessage, rows[0].id).status == OutboxStatus.PENDING

    first = print_batches.release_batch(officer, batch.batch_id, checked=True)
    second = print_batches.release_batch(officer, batch.batch_id, checked=True)

    assert first.changed and not second.changed
    assert first.batch.status == PrintBatchStatus.RELEASED
    for row in rows:
        sent = db.session.get(OutboxMessage, row.id)
        assert sent.status == OutboxStatus.SENT and sent.sent_at is not None
    events = db.session.scalars(sa.select(ContactEvent).order_by(ContactEvent.id)).all()
    assert [(e.summary, e.kind, e.outbox_message_id, e.account_id) for e in events] == [
        (f"Letter posted: Final demand {n}", ContactKind.LETTER, row.id, row.account_id)
        for n, row in enumerate(rows)
    ]
    claim = db.session.get(LetterOfClaim, claim.id)
    assert claim.posted_on == TODAY and claim.respond_by == TODAY + timedelta(days=30)
    actions = db.session.scalars(sa.select(AuditLog.action)).all()
    assert actions.count("letter.posted") == 3 and actions.count("print_batch.released") == 1
    with pytest.raises(Conflict, match="released"):
        print_batches.withdraw_batch(officer, batch.batch_id, "Too late")


def test_withdrawing_puts_the_letters_back_and_keeps_the_files_marked(db, officer):
    debtors = make_debtors(2)
    rows = [composed_letter(d) for d in debtors]
    batch = print_batches.build_batch(SYSTEM, TODAY).batch

    with pytest.raises(InvalidRequest, match="why"):
        print_batches.withdraw_batch(officer, batch.batch_id, "   ")
    change = print_batches.withdraw_batch(officer, batch.batch_id, "Printer  jammed")
    again = print_batches.withdraw_batch(officer, batch.batch_id, "Printer jammed")

    assert change.changed and not again.changed
    view = change.batch
    assert view.status == PrintBatchStatus.WITHDRAWN and view.withdrawn_reason == "Printer jammed"
    assert Path(view.pdf_path).name.startswith("WITHDRAWN-") and Path(view.pdf_path).is_file()
    assert Path(view.manifest_path).name.startswith("WITHDRAWN-")
    for row in rows:
        back = db.session.get(OutboxMessage, row.id)
        assert back.print_batch_id is None and back.status == OutboxStatus.PENDING
    with pytest.raises(Conflict, match="withdrawn"):
        print_batches.release_batch(officer, batch.batch_id, checked=True)
    stored = {
        d.outbox_message_id: d.rendered_at for d in db.session.scalars(sa.select(LetterDocument))
    }

    next_batch = print_batches.build_batch(SYSTEM, TODAY)

    assert next_batch.created and next_batch.batch.letter_count == 2
    assert {
        d.outbox_message_id: d.rendered_at for d in db.session.scalars(sa.select(LetterDocument))
    } == stored  # rendered once, reused


def test_a_download_is_the_stored_file_and_a_changed_pdf_is_refused(db, officer):
    (debtor,) = make_debtors(1)
    composed_letter(debtor)
    batch = print_batches.build_batch(SYSTEM, TODAY).batch

    assert (
        print_batches.download(batch.batch_id, "pdf", actor=officer)
        == Path(batch.pdf_path).read_bytes()
    )
    manifest = print_batches.download(batch.batch_id, "manifest").decode("utf-8")
    assert manifest.splitlines()[0].startswith("sequence,outbox_message_id,account_reference")
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).where(AuditLog.action == "print_batch.downloaded")
        )
        == 1
    )

    Path(batch.pdf_path).write_bytes(Path(batch.pdf_path).read_bytes() + b"%tampered")
    with pytest.raises(Conflict, match="SHA-256"):
        print_batches.download(batch.batch_id, "pdf")


def test_a_letter_pdf_for_the_case_is_the_stored_one_or_rendered_now(db):
    (debtor,) = make_debtors(1)
    row = notified_letter(debtor)

    fresh = print_batches.letter_pdf(row.id)
    assert debtor.addresses[0].line1 in PdfReader(io.BytesIO(fresh)).pages[0].extract_text()
    print_batches.build_batch(SYSTEM, TODAY)
    assert print_batches.letter_pdf(row.id) == db.session.get(LetterDocument, row.id).pdf


def test_the_job_alerts_the_recovery_team_once(app, db):
    (debtor,) = make_debtors(1)
    composed_letter(debtor)

    built = print_batches.build_batch(SYSTEM, TODAY, alert_officers=True)
    print_batches.build_batch(SYSTEM, TODAY, alert_officers=True)

    alerts = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.template == "print_batch_ready")
    ).all()
    assert len(alerts) == 1
    assert alerts[0].recipient == app.config["COUNCIL_EMAIL"]
    assert built.batch.name in alerts[0].subject


def test_the_command_line_lists_what_waits_and_builds_the_batch(app, db):
    debtors = make_debtors(2)
    composed_letter(debtors[0], template="reminder")
    composed_letter(debtors[1], template="final_demand")
    runner = app.test_cli_runner()

    listed = runner.invoke(args=["letters", "list"])
    built = runner.invoke(args=["letters", "build-batch", "--date", TODAY.isoformat()])
    again = runner.invoke(args=["letters", "build-batch"])

    assert listed.exit_code == 0 and "Letters waiting: 2" in listed.output
    assert "final_demand: 1" in listed.output and "reminder: 1" in listed.output
    assert built.exit_code == 0, built.output
    batch = print_batches.batch_in_play()
    assert "Letters: 2" in built.output and f"Pages: {batch.page_count}" in built.output
    assert f"PDF: {batch.pdf_path}" in built.output and "Manifest: " in built.output
    assert again.exit_code == 0 and "already built" in again.output
