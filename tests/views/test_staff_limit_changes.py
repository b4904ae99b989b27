"""Delegated limits: nobody changes their own; a limit above STAFF_LIMIT_CEILING_PENCE waits
for a second administrator; every change says who asked, who approved, before and after;
the person's page shows who set the limits in force."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from shared.config import ConfigError, load_config
from shared.extensions import db
from shared.models import AuditLog, LimitChangeStatus, StaffLimitChange, StaffRole, StaffUser
from shared.services import staff_admin
from shared.services.errors import InvalidRequest
from tests.factories import make_department, make_staff
from tests.views.conftest import signed_in_session
from tests.views.pages import csrf_token, error_summary, parse, text
from tests.views.test_staff_admin import banners


@pytest.fixture
def ada(client):
    person = make_staff(StaffRole.ADMIN, full_name="Ada Admin")
    signed_in_session(client, person)
    return person


@pytest.fixture
def bea(app):
    return make_staff(StaffRole.ADMIN, full_name="Bea Admin")


@pytest.fixture
def leader():
    return make_staff(
        StaffRole.TEAM_LEADER,
        full_name="Tom Leader",
        refund_limit_pence=100_000,
        write_off_limit_pence=50_000,
    )


def post(client, path: str, data: dict | None = None):
    return client.post(
        path, data={"csrf_token": csrf_token(client, "/backoffice/"), **(data or {})}
    )


def limits_of(user: StaffUser) -> tuple[int, int]:
    db.session.expire_all()
    fresh = db.session.get(StaffUser, user.id)
    return fresh.refund_limit_pence, fresh.write_off_limit_pence


def audit(action: str) -> list[AuditLog]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)
        )
    )


def summary_rows(page) -> dict[str, str]:
    return {
        text(row.select_one("dt")): text(row.select_one("dd"))
        for row in page.select(".govuk-summary-list__row")
    }


def waiting_change(user: StaffUser) -> StaffLimitChange:
    db.session.expire_all()
    return db.session.scalars(
        sa.select(StaffLimitChange).where(
            StaffLimitChange.staff_user_id == user.id,
            StaffLimitChange.status == LimitChangeStatus.PENDING,
        )
    ).one()


# --- nobody changes their own -------------------------------------------------------


def test_an_admin_cannot_change_their_own_limits_and_the_page_says_so(client, ada):
    ada_page = parse(client.get(f"/backoffice/staff/{ada.id}"))
    assert not ada_page.select_one(f'a[href="/backoffice/staff/{ada.id}/limits"]')
    assert "your own role, limits, status" in text(ada_page.main)
    own = parse(client.get(f"/backoffice/staff/{ada.id}/limits"))
    assert "You cannot change your own limits. Ask another administrator" in text(own.main)
    assert own.select("main form") == []

    page = parse(
        post(
            client,
            f"/backoffice/staff/{ada.id}/limits",
            {"refund_limit": "1000000", "write_off_limit": "1000000"},
        )
    )

    assert error_summary(page) == [
        (
            "You cannot change the limits of your own account. Ask another administrator",
            "#refund_limit",
        )
    ]
    assert limits_of(ada) == (0, 0)
    assert audit("staff.limits_changed") == audit("staff.limit_change_requested") == []


def test_the_service_refuses_anyone_their_own_limits_role_or_status(app, ada):
    with pytest.raises(InvalidRequest, match="your own account"):
        staff_admin.set_limits(ada.id, ada.id, refund_limit_pence=1, write_off_limit_pence=1)
    with pytest.raises(InvalidRequest, match="your own account"):
        staff_admin.change_role(ada.id, ada.id, StaffRole.TEAM_LEADER)
    with pytest.raises(InvalidRequest, match="your own account"):
        staff_admin.deactivate(ada.id, ada.id)
    assert limits_of(ada) == (0, 0)


# --- the ceiling --------------------------------------------------------------------


def test_raising_a_limit_above_the_ceiling_waits_for_a_second_admin_and_the_old_one_applies(
    client, ada, leader
):
    response = post(
        client,
        f"/backoffice/staff/{leader.id}/limits",
        {"refund_limit": "5,000.01", "write_off_limit": "500"},
    )

    assert response.headers["Location"] == f"/backoffice/staff/{leader.id}"
    assert limits_of(leader) == (100_000, 50_000)
    change = waiting_change(leader)
    assert (change.refund_limit_pence, change.write_off_limit_pence) == (500_001, 50_000)
    [row] = audit("staff.limit_change_requested")
    assert (row.actor_id, row.object_id) == (ada.id, str(leader.id))
    assert row.before == {
        "refund_limit_pence": 100_000,
        "write_off_limit_pence": 50_000,
        "invoice_limit_pence": 0,
    }
    assert row.after["requested_by"] == ada.id
    assert (row.after["refund_limit_pence"], row.after["ceiling_pence"]) == (500_001, 500_000)
    assert audit("staff.limits_changed") == []
    page = parse(client.get(response.headers["Location"]))
    assert "wait for another administrator to approve them" in banners(page)
    assert summary_rows(page)["Refund limit"] == "£1,000.00"
    waiting = text(page.select_one("#limit-change-waiting").find_next("p"))
    assert "Ada Admin asked" in waiting and "£5,000.01" in waiting
    # The admin who asked is offered no way to approve it.
    assert "Another administrator must approve or reject it" in text(page.main)
    assert not page.select_one('form[action$="/approve"]')


def test_a_limit_up_to_the_ceiling_applies_at_once(client, ada, leader):
    post(
        client,
        f"/backoffice/staff/{leader.id}/limits",
        {"refund_limit": "5,000", "write_off_limit": "5,000"},
    )

    assert limits_of(leader) == (500_000, 500_000)
    [row] = audit("staff.limits_changed")
    assert (row.after["requested_by"], row.after["approved_by"]) == (ada.id, None)


def test_the_admin_who_asked_cannot_approve_or_reject_their_own_request(client, ada, leader):
    post(
        client,
        f"/backoffice/staff/{leader.id}/limits",
        {"refund_limit": "1,000,000", "write_off_limit": "0"},
    )
    change = waiting_change(leader)

    response = post(client, f"/backoffice/staff/{leader.id}/limit-changes/{change.id}/approve")

    assert response.headers["Location"] == f"/backoffice/staff/{leader.id}"
    page = parse(client.get(response.headers["Location"]))
    assert "another administrator must decide it" in banners(page)
    assert limits_of(leader) == (100_000, 50_000)
    with pytest.raises(InvalidRequest):
        staff_admin.reject_limit_change(ada.id, leader.id, change.id)
    assert waiting_change(leader).id == change.id


def test_a_second_admin_approves_and_the_page_shows_who_set_the_limits(
    app, client, ada, bea, leader
):
    post(
        client,
        f"/backoffice/staff/{leader.id}/limits",
        {"refund_limit": "6,000", "write_off_limit": "500"},
    )
    change = waiting_change(leader)
    hers = app.test_client()
    signed_in_session(hers, bea)
    offered = parse(hers.get(f"/backoffice/staff/{leader.id}"))
    assert offered.select_one(
        f'form[action="/backoffice/staff/{leader.id}/limit-changes/{change.id}/approve"]'
    )

    response = post(hers, f"/backoffice/staff/{leader.id}/limit-changes/{change.id}/approve")

    assert response.headers["Location"] == f"/backoffice/staff/{leader.id}"
    assert limits_of(leader) == (600_000, 50_000)
    [row] = audit("staff.limits_changed")
    assert row.actor_id == bea.id
    assert row.before == {
        "refund_limit_pence": 100_000,
        "write_off_limit_pence": 50_000,
        "invoice_limit_pence": 0,
    }
    assert row.after == {
        "refund_limit_pence": 600_000,
        "write_off_limit_pence": 50_000,
        "invoice_limit_pence": 0,
        "requested_by": ada.id,
        "approved_by": bea.id,
        "limit_change_id": change.id,
    }
    page = parse(hers.get(f"/backoffice/staff/{leader.id}"))
    set_by = summary_rows(page)["Limits set by"]
    assert set_by.startswith("Ada Admin on ") and ", approved by Bea Admin on " in set_by
    assert not page.select_one("#limit-change-waiting")
    # Decided once: a second approval is refused.
    with pytest.raises(InvalidRequest, match="already been approved"):
        staff_admin.approve_limit_change(bea.id, leader.id, change.id)


def test_a_second_admin_rejects_and_the_limits_stay(app, client, ada, bea, leader):
    saved = staff_admin.set_limits(
        ada.id, leader.id, refund_limit_pence=900_000, write_off_limit_pence=0
    )
    assert saved.pending
    change = waiting_change(leader)

    staff_admin.reject_limit_change(bea.id, leader.id, change.id)

    assert limits_of(leader) == (100_000, 50_000)
    [row] = audit("staff.limit_change_rejected")
    assert (row.actor_id, row.after["requested_by"], row.after["rejected_by"]) == (
        bea.id,
        ada.id,
        bea.id,
    )
    db.session.expire_all()
    assert db.session.get(StaffLimitChange, change.id).status == LimitChangeStatus.REJECTED


def test_nobody_approves_a_change_to_their_own_limits(app, ada, bea):
    saved = staff_admin.set_limits(
        ada.id, bea.id, refund_limit_pence=900_000, write_off_limit_pence=0
    )
    assert saved.pending

    with pytest.raises(InvalidRequest, match="your own limits"):
        staff_admin.approve_limit_change(bea.id, bea.id, waiting_change(bea).id)
    assert limits_of(bea) == (0, 0)


def test_creating_someone_with_limits_above_the_ceiling_starts_them_at_nothing(
    app, client, ada, bea
):
    """The reproduced attack: a team leader made with GBP 1,000,000 limits by one admin."""
    response = post(
        client,
        "/backoffice/staff/new",
        {
            "full_name": "Tia Leader",
            "email": "tia@council.example",
            "role": "team_leader",
            "refund_limit": "1,000,000",
            "write_off_limit": "1,000,000",
        },
    )

    person = db.session.scalars(
        sa.select(StaffUser).where(StaffUser.full_name == "Tia Leader")
    ).one()
    assert response.headers["Location"] == f"/backoffice/staff/{person.id}"
    assert limits_of(person) == (0, 0)
    [created] = audit("staff.created")
    assert (created.after["refund_limit_pence"], created.after["write_off_limit_pence"]) == (0, 0)
    [requested] = audit("staff.limit_change_requested")
    assert requested.before is None
    assert requested.after["refund_limit_pence"] == 100_000_000

    staff_admin.approve_limit_change(bea.id, person.id, waiting_change(person).id)

    assert limits_of(person) == (100_000_000, 100_000_000)


def test_creating_someone_within_the_ceiling_records_who_set_their_limits(client, ada):
    post(
        client,
        "/backoffice/staff/new",
        {
            "full_name": "Olu Officer",
            "email": "olu@council.example",
            "role": "officer",
            "refund_limit": "250",
            "write_off_limit": "100",
        },
    )

    person = db.session.scalars(
        sa.select(StaffUser).where(StaffUser.full_name == "Olu Officer")
    ).one()
    assert limits_of(person) == (25_000, 10_000)
    [row] = audit("staff.limits_changed")
    assert row.before is None
    assert (row.after["requested_by"], row.after["approved_by"]) == (ada.id, None)
    page = parse(client.get(f"/backoffice/staff/{person.id}"))
    assert summary_rows(page)["Limits set by"].startswith("Ada Admin on ")


def test_a_later_change_replaces_one_still_waiting(app, ada, bea, leader):
    staff_admin.set_limits(ada.id, leader.id, refund_limit_pence=900_000, write_off_limit_pence=0)
    first = waiting_change(leader)

    staff_admin.set_limits(bea.id, leader.id, refund_limit_pence=20_000, write_off_limit_pence=0)

    db.session.expire_all()
    assert db.session.get(StaffLimitChange, first.id).status == LimitChangeStatus.CANCELLED
    assert limits_of(leader) == (20_000, 0)
    with pytest.raises(InvalidRequest, match="already been approved, rejected or replaced"):
        staff_admin.approve_limit_change(bea.id, leader.id, first.id)


def test_the_ceiling_is_a_setting(app, ada, leader):
    app.config["STAFF_LIMIT_CEILING_PENCE"] = 50_000

    saved = staff_admin.set_limits(
        ada.id, leader.id, refund_limit_pence=100_000, write_off_limit_pence=60_000
    )

    assert saved.pending
    assert limits_of(leader) == (100_000, 50_000)


def test_the_ceiling_setting_defaults_to_five_thousand_pounds_and_must_be_a_whole_number():
    base = {"APP_ENV": "test"}
    assert load_config(environ=base)["STAFF_LIMIT_CEILING_PENCE"] == 500_000
    assert (
        load_config(environ={**base, "STAFF_LIMIT_CEILING_PENCE": "0"})["STAFF_LIMIT_CEILING_PENCE"]
        == 0
    )
    with pytest.raises(ConfigError, match="STAFF_LIMIT_CEILING_PENCE must be a whole number"):
        load_config(environ={**base, "STAFF_LIMIT_CEILING_PENCE": "£5,000"})


def test_the_staff_list_names_limit_changes_waiting_for_approval(client, ada, bea, leader):
    staff_admin.set_limits(bea.id, leader.id, refund_limit_pence=900_000, write_off_limit_pence=0)

    page = parse(client.get("/backoffice/staff"))

    box = page.select_one("#limit-changes-waiting")
    assert text(box.select_one("li")) == "Tom Leader : asked for by Bea Admin"
    assert box.select_one("a")["href"] == f"/backoffice/staff/{leader.id}#limit-change-waiting"


def test_a_limit_change_for_someone_else_is_not_found_at_this_persons_address(
    client, ada, bea, leader
):
    staff_admin.set_limits(bea.id, leader.id, refund_limit_pence=900_000, write_off_limit_pence=0)
    change = waiting_change(leader)

    response = post(client, f"/backoffice/staff/{bea.id}/limit-changes/{change.id}/approve")

    assert response.status_code == 404
    assert limits_of(leader) == (100_000, 50_000)


def test_an_invoice_limit_is_set_with_the_other_limits_and_above_the_ceiling_waits(
    app, client, ada, bea, leader
):
    path = f"/backoffice/staff/{leader.id}/limits"
    limits = {"refund_limit": "1000", "write_off_limit": "500"}

    post(client, path, {**limits, "invoice_limit": "2,000"})
    db.session.expire_all()
    assert db.session.get(StaffUser, leader.id).invoice_limit_pence == 200_000

    post(client, path, {**limits, "invoice_limit": "6000"})
    change = waiting_change(leader)
    db.session.expire_all()
    assert db.session.get(StaffUser, leader.id).invoice_limit_pence == 200_000
    assert change.invoice_limit_pence == 600_000

    hers = app.test_client()
    signed_in_session(hers, bea)
    post(hers, f"/backoffice/staff/{leader.id}/limit-changes/{change.id}/approve")
    db.session.expire_all()
    assert db.session.get(StaffUser, leader.id).invoice_limit_pence == 600_000


def test_a_service_department_user_needs_a_department(client, ada):
    department = make_department(name="Trade waste")
    form = {
        "full_name": "Sid Service",
        "email": "sid@council.example",
        "role": "service_department",
        "refund_limit": "0",
        "write_off_limit": "0",
    }

    refused = post(client, "/backoffice/staff/new", {**form, "department": ""})
    added = post(client, "/backoffice/staff/new", {**form, "department": str(department.id)})

    assert refused.status_code == 200
    assert (
        "Select the department a service department user raises invoices for",
        "#department",
    ) in error_summary(parse(refused))
    assert added.status_code == 302
    person = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == "sid@council.example"))
    assert person.department_id == department.id
