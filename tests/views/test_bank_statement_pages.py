"""The bank statement pages: an officer uploads a statement and sees its summary, a
bad file is refused with the reason, the queue shows the lines waiting with their
candidates side by side, and resolving a line posts it once."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from shared.models import BankLineResolution, EntryKind, LedgerEntry, StaffRole
from shared.services import balances
from tests.bank_statement_world import CAMT, build_world
from tests.factories import make_staff
from tests.frozen_clock import frozen_clock
from tests.views.conftest import signed_in_session
from tests.views.pages import error_summary, parse, text, title

pytestmark = frozen_clock
UPLOAD = "/backoffice/bank-statements"


@pytest.fixture
def officer(client, db):
    person = make_staff(role=StaffRole.OFFICER)
    signed_in_session(client, person)
    return person


@pytest.fixture
def world(db):
    return build_world()


def _token(client, path: str, name: str = "csrf_token") -> str:
    return parse(client.get(path)).select_one(f"input[name={name}]")["value"]


def _upload(client, content: bytes, name: str):
    data = {
        "csrf_token": _token(client, UPLOAD),
        "statement": (io.BytesIO(content), name),
    }
    return client.post(UPLOAD, data=data, content_type="multipart/form-data")


def _payments(db) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).where(LedgerEntry.kind == EntryKind.PAYMENT)
    )


def test_uploading_the_sample_shows_its_summary_that_reconciles(client, officer, world, db):
    response = _upload(client, CAMT.read_bytes(), CAMT.name)
    assert response.status_code == 302
    page = parse(client.get(response.headers["Location"]))

    assert title(page).startswith("Statement STMT-31926819-20261203")
    rows = {
        text(row.select_one("th")): [text(td) for td in row.select("td")]
        for row in page.select("table[id^=summary] tbody tr")
    }
    assert rows["Matched"] == ["5", "£905.50"]
    assert rows["Suggested"] == ["2", "£85.00"]
    assert rows["Unmatched"] == ["1", "£99.99"]
    assert rows["Settlements"] == ["2", "£2,076.66"]
    assert rows["Debits (recorded, not posted)"] == ["1", "£15.00"]
    assert text(page.select_one("#reconciles")).startswith("Yes")
    assert _payments(db) == 5


def test_a_file_that_is_not_a_statement_is_refused_with_the_reason(client, officer, world, db):
    response = _upload(client, b"Date,Nothing else\n", "wrong.csv")

    page = parse(response)
    assert response.status_code == 200
    assert title(page).startswith("Error:")
    [(message, href)] = error_summary(page)
    assert message.startswith("Row 1: the header must be Date,Sort code")
    assert href == "#statement"
    assert _payments(db) == 0


def test_uploading_the_same_file_again_posts_nothing_and_says_so(client, officer, world, db):
    _upload(client, CAMT.read_bytes(), CAMT.name)
    response = _upload(client, CAMT.read_bytes(), CAMT.name)
    page = parse(client.get(response.headers["Location"]))
    assert "imported before, so nothing was posted again" in text(page)
    assert _payments(db) == 5


def test_the_queue_shows_suggested_lines_with_their_candidates(client, officer, world, db):
    _upload(client, CAMT.read_bytes(), CAMT.name)
    page = parse(client.get(f"{UPLOAD}/lines"))
    rows = page.select("tbody tr")
    assert len(rows) == 3
    jones = next(r for r in rows if "D JONES" in text(r))
    assert "Daniel Jones (A00012353), INV00001239" in text(jones)
    assert "Dafydd Jones (A00012354), INV00001241" in text(jones)


def test_an_officer_posts_a_suggested_line_to_the_candidate_chosen_once(client, officer, world, db):
    _upload(client, CAMT.read_bytes(), CAMT.name)
    queue = parse(client.get(f"{UPLOAD}/lines"))
    jones = next(r for r in queue.select("tbody tr") if "D JONES" in text(r))
    path = jones.select_one("a[href*='/lines/']")["href"]
    page = parse(client.get(path))
    assert [text(th) for th in page.select("#candidates tbody tr td:nth-of-type(2)")] == [
        "INV00001239",
        "INV00001241",
    ]
    choice = page.select("input[name=post-choice]")[1]["value"]
    data = {"post-csrf_token": _token(client, path, "post-csrf_token"), "post-choice": choice}
    data["post-post"] = "Post payment"

    first = client.post(path, data=data)
    second = client.post(path, data=data)

    assert first.status_code == 302 and second.status_code == 302
    assert balances.invoice_outstanding(world.invoices["INV00001241"]) == 0
    assert balances.invoice_outstanding(world.invoices["INV00001239"]) == 3_500
    assert _payments(db) == 6
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BankLineResolution)) == 1


def test_marking_a_line_not_ours_needs_a_reason(client, officer, world, db):
    _upload(client, CAMT.read_bytes(), CAMT.name)
    queue = parse(client.get(f"{UPLOAD}/lines"))
    gift = next(r for r in queue.select("tbody tr") if "GIFT" in text(r))
    path = gift.select_one("a[href*='/lines/']")["href"]
    token = _token(client, path, "other-csrf_token")

    refused = parse(
        client.post(
            path, data={"other-csrf_token": token, "other-not_ours": "x", "other-reason": ""}
        )
    )
    assert [m for m, _ in error_summary(refused)] == [
        "Enter why this money is not a payment of a debt"
    ]
    done = client.post(
        path,
        data={"other-csrf_token": token, "other-not_ours": "x", "other-reason": "Paid in error"},
    )
    assert done.status_code == 302
    assert db.session.scalar(sa.select(BankLineResolution.reason)) == "Paid in error"
    assert _payments(db) == 5


def test_an_auditor_cannot_import_a_statement(client, db):
    signed_in_session(client, make_staff(role=StaffRole.AUDITOR))
    assert client.get(UPLOAD).status_code == 403


def test_resolving_a_line_to_an_account_that_keyed_the_transfer_says_it_was_not_posted_again(
    client, officer, world, db
):
    from datetime import date

    from shared.models import PaymentMethod
    from shared.services import payment_checks
    from shared.services.actors import staff

    keyed = payment_checks.record_manual_payment(
        account_id=world.accounts["A00012348"],
        amount_pence=9_999,
        method=PaymentMethod.BANK_TRANSFER,
        actor=staff(make_staff().id),
        external_reference="bank_transfer:GIFT-ADVICE",
        effective_date=date(2026, 12, 2),
    )
    _upload(client, CAMT.read_bytes(), CAMT.name)
    queue = parse(client.get(f"{UPLOAD}/lines"))
    gift = next(r for r in queue.select("tbody tr") if "GIFT" in text(r))
    path = gift.select_one("a[href*='/lines/']")["href"]
    data = {
        "post-csrf_token": _token(client, path, "post-csrf_token"),
        "post-choice": "other",
        "post-other_account": "A00012348",
        "post-post": "Post payment",
    }

    response = client.post(path, data=data)

    page = parse(client.get(response.headers["Location"]))
    assert "£99.99 matched to the bank transfer already recorded by hand" in text(page)
    assert _payments(db) == 5 + 1  # the sample's five and the hand-keyed one: none added
    row = db.session.scalar(sa.select(BankLineResolution))
    assert (row.action.value, row.ledger_entry_id) == ("linked", keyed.entry.id)
