"""Administrators set each department's collection-rate target for this financial year
and the next (TODAY is 17 June 2026: 2026 to 2027, and 2027 to 2028). A target is a
percentage with up to two decimals; anything else is a field error that saves nothing;
a save over a newer one is refused; every change is audited; the collection report
measures against it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from shared.models import AuditLog, CollectionTarget, StaffRole
from shared.reports.base import parse_filters
from shared.reports.collection import build
from shared.services import actors, collection_targets
from shared.services.errors import Conflict
from tests.factories import make_department, make_staff
from tests.frozen_clock import TODAY, frozen_clock
from tests.views.conftest import signed_in_session
from tests.views.pages import csrf_token, error_summary, inline_errors, parse, text, title

pytestmark = frozen_clock

INDEX = "/backoffice/reports/collection-targets"


@pytest.fixture
def admin(client, db):
    user = make_staff(StaffRole.ADMIN, full_name="Ada Admin")
    signed_in_session(client, user)
    return user


@pytest.fixture
def waste(db):
    return make_department(code="TW", name="Trade waste")


def edit_path(department, year=2026) -> str:
    return f"{INDEX}/{department.id}/{year}"


def post(client, path, **fields):
    return client.post(path, data={"csrf_token": csrf_token(client, path), **fields})


def stored(db) -> list[tuple[int, int, int, int]]:
    db.session.expire_all()
    return [
        (t.department_id, t.financial_year, t.target_basis_points, t.version)
        for t in db.session.scalars(sa.select(CollectionTarget).order_by(CollectionTarget.id))
    ]


def audit(db) -> list[AuditLog]:
    db.session.expire_all()
    return db.session.scalars(
        sa.select(AuditLog).where(AuditLog.object_type == "collection_target").order_by(AuditLog.id)
    ).all()


def test_the_list_shows_each_department_this_year_and_next(client, db, admin, waste):
    care = make_department(code="ASC", name="Adult social care")
    collection_targets.set_target(waste.id, 2026, 9250, 0, actors.staff(admin.id))

    page = parse(client.get(INDEX))

    assert title(page).startswith("Collection targets")
    headers = [text(th) for th in page.select("#targets thead th")]
    assert "2026 to 2027" in headers and "2027 to 2028" in headers
    rows = {
        text(r.select_one("th")): [text(td) for td in r.select("td")]
        for r in page.select("#targets tbody tr")
    }
    assert rows["Trade waste (TW)"][0] == "92.5%"
    assert rows["Trade waste (TW)"][2] == "Not set"
    assert rows["Adult social care (ASC)"][0] == "Not set"
    links = [a["href"] for a in page.select("#targets tbody a")]
    assert edit_path(care, 2027) in links and edit_path(waste, 2026) in links


def test_an_administrator_sets_a_target_and_it_is_audited(client, db, admin, waste):
    page = parse(client.get(edit_path(waste)))
    assert page.select_one("input[name=target]")["value"] == ""
    assert page.select_one("input[name=version]")["value"] == "0"

    response = post(client, edit_path(waste), target="92.5", version="0")

    assert response.status_code == 302 and response.location.endswith(INDEX)
    assert stored(db) == [(waste.id, 2026, 9250, 1)]
    [row] = audit(db)
    assert row.action == "collection_target.set" and row.actor_id == admin.id
    assert row.after == {
        "department_id": waste.id,
        "financial_year": 2026,
        "target_basis_points": 9250,
        "version": 1,
    }


def test_changing_a_target_bumps_its_version_and_audits_before_and_after(client, db, admin, waste):
    collection_targets.set_target(waste.id, 2027, 9000, 0, actors.staff(admin.id))
    page = parse(client.get(edit_path(waste, 2027)))
    assert page.select_one("input[name=target]")["value"] == "90"
    assert "The target now is 90%, set by Ada Admin" in text(page)

    post(client, edit_path(waste, 2027), target="95.25%", version="1")

    assert stored(db) == [(waste.id, 2027, 9525, 2)]
    change = audit(db)[-1]
    assert change.action == "collection_target.changed"
    assert change.before["target_basis_points"] == 9000
    assert change.after["target_basis_points"] == 9525


@pytest.mark.parametrize(
    "typed, message",
    [
        ("", "Enter the target as a percentage, like 92.5"),
        ("ninety", "Enter the target as a percentage from 0 to 100, like 92.5"),
        ("-5", "The target cannot be negative: enter a percentage from 0 to 100"),
        ("100.5", "The target must be 100% or less"),
        ("250", "The target must be 100% or less"),
        ("92.555", "Enter the target with at most 2 decimal places, like 92.55"),
        ("٩٠", "Enter the target as a percentage from 0 to 100, like 92.5"),
    ],
)
def test_a_target_that_will_not_do_is_a_field_error_and_nothing_is_saved(
    client, db, admin, waste, typed, message
):
    response = post(client, edit_path(waste), target=typed, version="0")

    assert response.status_code == 200
    page = parse(response)
    assert title(page).startswith("Error:")
    assert inline_errors(page) == {"target": message}
    assert error_summary(page) == [(message, "#target")]
    assert stored(db) == [] and audit(db) == []


def test_saving_over_a_newer_target_is_refused_and_shows_it(client, db, admin, waste):
    form = parse(client.get(edit_path(waste)))
    version = form.select_one("input[name=version]")["value"]
    other = make_staff(StaffRole.ADMIN, full_name="Other Admin")
    collection_targets.set_target(waste.id, 2026, 9000, 0, actors.staff(other.id))

    response = post(client, edit_path(waste), target="80", version=version)

    page = parse(response)
    assert response.status_code == 200
    [(message, _href)] = error_summary(page)
    assert message.startswith("Someone else changed the 2026 to 2027 target for Trade waste")
    assert page.select_one("input[name=target]")["value"] == "90"
    assert page.select_one("input[name=version]")["value"] == "1"
    assert stored(db) == [(waste.id, 2026, 9000, 1)]
    assert len(audit(db)) == 1  # only the other administrator's


def test_years_other_than_this_and_next_are_not_pages(client, admin, waste):
    assert client.get(edit_path(waste, 2025)).status_code == 404
    assert client.get(edit_path(waste, 2028)).status_code == 404
    assert client.get(f"{INDEX}/999999/2026").status_code == 404


@pytest.mark.parametrize("role", [StaffRole.OFFICER, StaffRole.TEAM_LEADER, StaffRole.AUDITOR])
def test_only_an_administrator_may_see_or_set_targets(client, db, waste, role):
    signed_in_session(client, make_staff(role))
    assert client.get(INDEX).status_code == 403
    assert client.get(edit_path(waste)).status_code == 403


# --- the service ------------------------------------------------------------------------------


@pytest.fixture
def actor(db):
    return actors.staff(make_staff(StaffRole.ADMIN).id)


@pytest.mark.parametrize(
    "year, basis_points, field, message",
    [
        (2025, 9000, "financial_year", "Targets can be set for 2026 to 2027 or 2027 to 2028 only"),
        (2028, 9000, "financial_year", "Targets can be set for 2026 to 2027 or 2027 to 2028 only"),
        (2026, 10001, "target", "The target must be a percentage from 0 to 100"),
        (2026, -1, "target", "The target must be a percentage from 0 to 100"),
    ],
)
def test_the_service_refuses_a_year_or_target_out_of_range(
    db, waste, actor, year, basis_points, field, message
):
    with pytest.raises(collection_targets.TargetRefused) as refused:
        collection_targets.set_target(waste.id, year, basis_points, 0, actor)
    assert refused.value.field == field
    assert str(refused.value).startswith(message)
    assert stored(db) == [] and audit(db) == []


def test_the_service_refuses_a_stale_version_and_changes_nothing(db, waste, actor):
    collection_targets.set_target(waste.id, 2026, 9000, 0, actor)
    collection_targets.set_target(waste.id, 2026, 9100, 1, actor)

    with pytest.raises(Conflict):
        collection_targets.set_target(waste.id, 2026, 9900, 1, actor)
    with pytest.raises(Conflict):
        collection_targets.set_target(waste.id, 2026, 9900, 0, actor)  # "create" again
    assert stored(db) == [(waste.id, 2026, 9100, 2)]
    assert [a.action for a in audit(db)] == [
        "collection_target.set",
        "collection_target.changed",
    ]


def test_the_same_target_again_is_no_new_version_and_no_audit_row(db, waste, actor):
    collection_targets.set_target(waste.id, 2026, 9000, 0, actor)
    same = collection_targets.set_target(waste.id, 2026, 9000, 1, actor)
    assert same.version == 1
    assert len(audit(db)) == 1


def test_the_collection_report_measures_against_the_target_set(db, waste, actor):
    collection_targets.set_target(waste.id, 2026, 9250, 0, actor)
    filters, _ = parse_filters({"department": "TW"}, today=TODAY, department_codes=lambda: {"TW"})
    result = build(filters)
    departments = next(t for t in result.tables if t.key == "departments")
    assert departments.rows[0]["target"] == 9250
    assert [f.value for f in result.figures if f.label.startswith("Target")] == [9250]
