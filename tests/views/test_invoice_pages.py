"""The invoice pages: raising a draft from the account, adding and removing lines without
JavaScript, the PDF preview, issuing within the limit, the checking queue, the check
page (issue, or return with a required note), and the service-department user's pages."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from shared.domain.invoice_checks import DraftStatus
from shared.domain.vat import VatRate
from shared.extensions import db as _db
from shared.models import Invoice, InvoiceDraft, StaffRole
from shared.services import actors
from shared.services.invoices import drafts
from tests.factories import make_account, make_department, make_staff
from tests.frozen_clock import frozen_clock
from tests.integration.test_invoice_drafts import ensure_vat_rates, make_code
from tests.views.conftest import signed_in_session
from tests.views.pages import error_summary, inline_errors, parse, text, title

pytestmark = frozen_clock


class Place:
    def __init__(self):
        ensure_vat_rates()
        self.department = make_department(name="Trade waste")
        self.code = make_code(self.department)
        self.account = make_account(surname="Archer")
        self.officer = make_staff(StaffRole.OFFICER, invoice_limit_pence=200_000)
        self.checker = make_staff(StaffRole.TEAM_LEADER, full_name="Chris Checker")
        self.service_user = make_staff(
            StaffRole.SERVICE_DEPARTMENT, department_id=self.department.id
        )

    def draft(self, user, *, submit=False, price=10_000) -> InvoiceDraft:
        actor = actors.staff(user.id)
        draft = drafts.start_draft(
            self.account.id,
            drafts.DraftDetails(self.department.id, self.code.id, "Trade waste, June"),
            actor,
        )
        drafts.add_line(
            draft.id, 1, drafts.LineDetails("Bin lift", 2, price, VatRate.STANDARD), actor
        )
        if submit:
            drafts.send_for_checking(draft.id, 2, actor)
        return _db.session.get(InvoiceDraft, draft.id)


@pytest.fixture
def place(db):
    return Place()


def _token(client, path: str) -> str:
    return parse(client.get(path)).select_one("input[name=csrf_token]")["value"]


def test_an_officer_raises_an_invoice_adds_lines_and_sees_the_totals_with_vat(client, place):
    signed_in_session(client, place.officer)
    start = f"/backoffice/accounts/{place.account.reference}/invoices/new"
    page = parse(client.get(start))
    assert title(page).startswith("Raise an invoice")
    options = [o.get_text() for o in page.select("select[name=income_code] option")]
    assert "Trade waste: TW01 Commercial collections" in options

    response = client.post(
        start,
        data={
            "csrf_token": _token(client, start),
            "income_code": str(place.code.id),
            "description": "Trade waste collections, June",
            "purchase_order": "PO-1",
            "due_date": "",
        },
    )
    assert response.status_code == 302
    draft_path = response.headers["Location"]
    response = client.post(
        draft_path,
        data={
            "csrf_token": _token(client, draft_path),
            "version": "1",
            "line_description": "Bin lift",
            "quantity": "3",
            "unit_price": "25.00",
            "vat_rate": "standard",
        },
    )
    assert response.status_code == 302
    page = parse(client.get(draft_path))

    assert text(page.select_one("#invoice-total")) == "£90.00"
    assert [text(td) for td in page.select("#lines tbody tr")[0].select("td")][:7] == [
        "Bin lift",
        "3",
        "£25.00",
        "£75.00",
        "20%",
        "£15.00",
        "£90.00",
    ]
    buttons = [b.get_text(strip=True) for b in page.select("button[name=action]")]
    assert "Issue invoice" in buttons
    assert page.select_one(f"a[href='{draft_path}/preview.pdf']") is not None


def test_a_line_with_a_bad_quantity_gets_a_field_error_and_changes_nothing(client, place):
    draft = place.draft(place.officer)
    signed_in_session(client, place.officer)
    path = f"/backoffice/invoices/drafts/{draft.id}"

    response = client.post(
        path,
        data={
            "csrf_token": _token(client, path),
            "version": str(draft.version),
            "line_description": "More",
            "quantity": "1.5",
            "unit_price": "10",
            "vat_rate": "standard",
        },
    )

    assert response.status_code == 200
    page = parse(response)
    assert ("Quantity must be a whole number, 1 or more", "#quantity") in error_summary(page)
    _db.session.expire_all()
    assert len(_db.session.get(InvoiceDraft, draft.id).lines) == 1


def test_removing_a_line_and_issuing_from_the_draft_page(client, place):
    draft = place.draft(place.officer)
    drafts.add_line(
        draft.id,
        draft.version,
        drafts.LineDetails("Wrong line", 1, 99_00, VatRate.ZERO),
        actors.staff(place.officer.id),
    )
    signed_in_session(client, place.officer)
    path = f"/backoffice/invoices/drafts/{draft.id}"
    action = f"{path}/action"
    page = parse(client.get(path))
    remove = page.select("button[name=action][value^=remove-]")
    assert [b["value"] for b in remove] == ["remove-1", "remove-2"]

    client.post(
        action, data={"csrf_token": _token(client, path), "version": "3", "action": "remove-2"}
    )
    client.post(
        action, data={"csrf_token": _token(client, path), "version": "4", "action": "issue"}
    )

    [invoice] = _db.session.scalars(sa.select(Invoice)).all()
    assert invoice.total_pence == 24_000
    page = parse(client.get(path))
    assert "Invoice INV00000001" in text(page.select_one("h1"))


def test_the_preview_is_a_pdf_marked_draft(client, place):
    draft = place.draft(place.officer)
    signed_in_session(client, place.officer)

    response = client.get(f"/backoffice/invoices/drafts/{draft.id}/preview.pdf")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    pdf = PdfReader(io.BytesIO(response.data))
    assert "DRAFT - not an invoice" in pdf.pages[0].extract_text()


def test_the_queue_lists_waiting_invoices_and_the_nav_counts_them(client, place):
    draft = place.draft(place.service_user, submit=True)
    signed_in_session(client, place.checker)

    page = parse(client.get("/backoffice/invoices/checking"))

    links = page.select("table a")
    assert [a["href"] for a in links] == [f"/backoffice/invoices/checking/{draft.id}"]
    nav = text(page.select_one(".govuk-service-navigation"))
    assert "Invoices to check (1)" in nav


def test_returning_without_a_note_is_a_field_error_and_changes_nothing(client, place):
    draft = place.draft(place.service_user, submit=True)
    signed_in_session(client, place.checker)
    path = f"/backoffice/invoices/checking/{draft.id}"

    response = client.post(
        path,
        data={
            "csrf_token": _token(client, path),
            "version": str(draft.version),
            "action": "return",
            "note": "  ",
        },
    )

    assert response.status_code == 200
    page = parse(response)
    assert error_summary(page) == [("Enter what the raiser needs to change", "#note")]
    assert inline_errors(page)["note"] == "Enter what the raiser needs to change"
    _db.session.expire_all()
    assert _db.session.get(InvoiceDraft, draft.id).status == DraftStatus.AWAITING_CHECK


def test_returning_with_a_note_sends_it_back_to_the_raiser(client, place):
    draft = place.draft(place.service_user, submit=True)
    signed_in_session(client, place.checker)
    path = f"/backoffice/invoices/checking/{draft.id}"

    response = client.post(
        path,
        data={
            "csrf_token": _token(client, path),
            "version": str(draft.version),
            "action": "return",
            "note": "Wrong income code",
        },
    )

    assert response.status_code == 302
    _db.session.expire_all()
    returned = _db.session.get(InvoiceDraft, draft.id)
    assert (returned.status, returned.return_note) == (DraftStatus.RETURNED, "Wrong income code")


def test_the_checker_issues_from_the_check_page(client, place):
    draft = place.draft(place.service_user, submit=True)
    signed_in_session(client, place.checker)
    path = f"/backoffice/invoices/checking/{draft.id}"

    response = client.post(
        path,
        data={"csrf_token": _token(client, path), "version": str(draft.version), "action": "issue"},
    )

    assert response.status_code == 302
    assert len(_db.session.scalars(sa.select(Invoice)).all()) == 1


def test_the_raiser_gets_no_buttons_on_the_check_page_of_their_own_invoice(client, place):
    draft = place.draft(place.officer, submit=True, price=500_000)
    signed_in_session(client, place.officer)
    path = f"/backoffice/invoices/checking/{draft.id}"

    page = parse(client.get(path))

    assert page.select("button[value=issue]") == []
    assert "someone else must check it" in text(page.select_one("main"))


def test_a_service_department_user_lands_on_a_home_page_they_can_use(client, place):
    signed_in_session(client, place.service_user)

    response = client.get("/backoffice/")

    assert response.status_code == 200
    page = parse(response)
    hrefs = [a["href"] for a in page.select("main a")]
    assert "/backoffice/invoices/find-account" in hrefs
    assert "/backoffice/invoices/drafts" in hrefs


def test_a_service_department_user_finds_an_account_by_name_seeing_only_name_reference_postcode(
    client, place
):
    signed_in_session(client, place.service_user)

    page = parse(client.get("/backoffice/invoices/find-account?q=arch"))

    [row] = page.select("table tbody tr")
    cells = [text(td) for td in row.select("td")]
    assert cells[:3] == ["Alex Archer", place.account.reference, "AB1 2CD"]
    assert client.get(f"/backoffice/accounts/{place.account.reference}").status_code == 403


def test_a_service_department_user_cannot_open_a_colleagues_draft(client, place):
    colleague = make_staff(StaffRole.SERVICE_DEPARTMENT, department_id=place.department.id)
    theirs = place.draft(colleague)
    signed_in_session(client, place.service_user)

    assert client.get(f"/backoffice/invoices/drafts/{theirs.id}").status_code == 404
    assert client.get(f"/backoffice/invoices/drafts/{theirs.id}/preview.pdf").status_code == 404


def test_a_service_department_user_cannot_reach_the_checking_queue(client, place):
    signed_in_session(client, place.service_user)

    assert client.get("/backoffice/invoices/checking").status_code == 403
