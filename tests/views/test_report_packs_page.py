"""The monthly report packs page: a team leader (or an auditor) sees every pack kept, by
month and department, with whether it went and to whom, why one failed, and the PDF to
download: the stored bytes every time, each download on the audit log. An officer may
not see it (the whole matrix is tests/views/test_backoffice_permissions.py)."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest
import sqlalchemy as sa

from shared.models import (
    AuditLog,
    OutboxChannel,
    OutboxMessage,
    OutboxStatus,
    ReportPack,
    ReportPackStatus,
    StaffRole,
)
from tests.factories import make_department, make_staff
from tests.frozen_clock import frozen_clock
from tests.views.conftest import signed_in_session
from tests.views.pages import parse, text, title

pytestmark = frozen_clock
PAGE = "/backoffice/reports/packs"
PDF = b"%PDF-1.7 a stand-in for the pack\n%%EOF\n"


def _pack(db, department, month, status, **kw) -> ReportPack:
    pdf = None if status == ReportPackStatus.FAILED else PDF + department.code.encode()
    pack = ReportPack(
        department_id=department.id,
        month=month,
        status=status,
        pdf=pdf,
        pdf_sha256=pdf and hashlib.sha256(pdf).hexdigest(),
        page_count=pdf and 7,
        **kw,
    )
    db.session.add(pack)
    db.session.commit()
    return pack


@pytest.fixture
def packs(db):
    trade = make_department("TRADE", name="Trade waste", contact_email="trade@c.example")
    care = make_department("CARE", name="Adult care")
    park = make_department("PARK", name="Parking")
    email = OutboxMessage(
        channel=OutboxChannel.EMAIL,
        template="report_pack",
        recipient="trade@c.example",
        subject="Trade waste: income recovery report pack for May 2026",
        body="Attached.",
        status=OutboxStatus.SENT,
    )
    db.session.add(email)
    db.session.commit()
    may, april = date(2026, 5, 1), date(2026, 4, 1)
    return {
        "may_trade": _pack(
            db,
            trade,
            may,
            ReportPackStatus.QUEUED,
            sent_to="trade@c.example",
            outbox_message_id=email.id,
        ),
        "may_care": _pack(db, care, may, ReportPackStatus.NO_CONTACT),
        "may_park": _pack(
            db, park, may, ReportPackStatus.FAILED, error="Aged debt: OperationalError: timeout"
        ),
        "april_trade": _pack(db, trade, april, ReportPackStatus.QUEUED, sent_to="trade@c.example"),
    }


@pytest.fixture
def leader(client, db):
    person = make_staff(role=StaffRole.TEAM_LEADER, full_name="Tess Leader")
    signed_in_session(client, person)
    return person


def _rows(page, month: str) -> dict[str, list[str]]:
    table = page.select_one(f"#packs-{month}")
    return {
        text(tr.select_one("th")): [text(td) for td in tr.select("td")]
        for tr in table.select("tbody tr")
    }


def test_a_team_leader_sees_each_months_packs_by_department(client, packs, leader):
    response = client.get(PAGE)
    assert response.status_code == 200
    page = parse(response)

    assert title(page).startswith("Monthly report packs")
    captions = [text(c) for c in page.select("table caption")]
    assert captions == ["May 2026", "April 2026"]  # newest month first
    may = _rows(page, "2026-05")
    assert list(may) == ["Adult care CARE", "Parking PARK", "Trade waste TRADE"]
    status, sent_to, pages, _made, pdf = may["Trade waste TRADE"]
    assert status == "Sent" and sent_to == "trade@c.example Email sent" and pages == "7"
    assert "Download the pack for Trade waste, May 2026 (PDF)" in pdf
    assert packs["may_trade"].pdf_sha256 in pdf.replace(" ", "")
    assert may["Adult care CARE"][0] == "No contact email"
    assert "has no contact email: download the pack" in may["Adult care CARE"][1]
    failed = may["Parking PARK"]
    assert failed[0].startswith("Failed Aged debt: OperationalError: timeout.")
    assert "built again the next time" in failed[0]
    assert failed[4] == ""  # nothing to download
    assert "The packs for June 2026 will be sent on 1 July 2026" in text(page)


def test_the_download_is_the_stored_pdf_every_time_and_each_is_recorded(client, packs, leader, db):
    href = parse(client.get(PAGE)).select_one("#packs-2026-05 a[download]")["href"]
    assert href == f"/backoffice/reports/packs/{packs['may_care'].id}.pdf"

    first, second = client.get(href), client.get(href)
    assert first.status_code == 200 and first.mimetype == "application/pdf"
    assert first.headers["Content-Disposition"] == (
        'attachment; filename="report-pack-care-2026-05.pdf"'
    )
    assert first.data == second.data == PDF + b"CARE"
    audits = db.session.execute(
        sa.select(AuditLog.actor_id, AuditLog.object_id, AuditLog.after).where(
            AuditLog.action == "report_pack.downloaded"
        )
    ).all()
    assert len(audits) == 2
    assert audits[0].actor_id == leader.id and audits[0].object_id == str(packs["may_care"].id)
    assert audits[0].after["month"] == "2026-05-01" and audits[0].after["department"] == "CARE"


def test_a_failed_pack_or_one_that_does_not_exist_has_nothing_to_download(
    client, packs, leader, db
):
    assert client.get(f"/backoffice/reports/packs/{packs['may_park'].id}.pdf").status_code == 404
    assert client.get("/backoffice/reports/packs/999999.pdf").status_code == 404
    assert not db.session.scalars(
        sa.select(AuditLog).where(AuditLog.action == "report_pack.downloaded")
    ).all()


def test_with_no_pack_yet_the_page_says_so(client, leader):
    page = parse(client.get(PAGE))
    assert "No pack has been sent yet." in text(page)


@pytest.mark.parametrize("role", [StaffRole.ADMIN, StaffRole.AUDITOR])
def test_admins_and_auditors_see_the_packs_too(client, packs, db, role):
    signed_in_session(client, make_staff(role=role))
    assert client.get(PAGE).status_code == 200
    href = f"/backoffice/reports/packs/{packs['april_trade'].id}.pdf"
    assert client.get(href).data == PDF + b"TRADE"


def test_an_officer_may_not_see_the_packs(client, packs, db):
    signed_in_session(client, make_staff(role=StaffRole.OFFICER))
    assert client.get(PAGE).status_code == 403
    assert client.get(f"/backoffice/reports/packs/{packs['april_trade'].id}.pdf").status_code == 403
