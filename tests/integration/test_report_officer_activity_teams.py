"""An administrator puts someone in a team on the staff page (the team the officer
activity report groups them by): trimmed, at most 60 characters, blank for no team,
audited with the team before and after; bad input is a field error and changes nothing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from shared.extensions import db
from shared.models import ActorType, AuditLog, StaffRole, StaffUser
from shared.reports.base import ReportFilters
from shared.reports.registry import get_report
from shared.services import staff_admin
from shared.services.errors import Forbidden, InvalidRequest
from tests.factories import make_staff
from tests.frozen_clock import TODAY, frozen_clock
from tests.views.conftest import signed_in_session
from tests.views.pages import csrf_token, error_summary, parse, text

pytestmark = frozen_clock


@pytest.fixture
def admin(client):
    person = make_staff(StaffRole.ADMIN, full_name="Ada Admin")
    signed_in_session(client, person)
    return person


@pytest.fixture
def officer(app):
    return make_staff(StaffRole.OFFICER, full_name="Olu Officer")


def set_team(client, staff_id: int, team: str):
    path = f"/backoffice/staff/{staff_id}/team"
    return client.post(path, data={"csrf_token": csrf_token(client, path), "team": team})


def team_of(user) -> str | None:
    db.session.expire_all()
    return db.session.get(StaffUser, user.id).team


def team_audits() -> list[AuditLog]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(AuditLog).where(AuditLog.action == "staff.team_changed").order_by(AuditLog.id)
        )
    )


def test_an_admin_sets_a_team_trimmed_and_audited(client, admin, officer):
    response = set_team(client, officer.id, "  Trade   waste recovery ")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/backoffice/staff/{officer.id}"
    assert team_of(officer) == "Trade waste recovery"
    [audit] = team_audits()
    assert (audit.actor_type, audit.actor_id, audit.object_id) == (
        ActorType.STAFF,
        admin.id,
        str(officer.id),
    )
    assert (audit.before, audit.after) == ({"team": None}, {"team": "Trade waste recovery"})
    page = parse(client.get(f"/backoffice/staff/{officer.id}"))
    assert "Trade waste recovery" in text(page.select_one(".govuk-summary-list"))
    assert "is now in Trade waste recovery" in text(page.select_one(".govuk-notification-banner"))


def test_the_form_shows_the_current_team_and_the_teams_in_use(client, admin, officer):
    make_staff(StaffRole.OFFICER, team="Care recovery")
    set_team(client, officer.id, "Trade waste recovery")
    page = parse(client.get(f"/backoffice/staff/{officer.id}/team"))
    assert page.select_one("input[name=team]")["value"] == "Trade waste recovery"
    assert [text(li) for li in page.select("#teams-in-use li")] == [
        "Care recovery",
        "Trade waste recovery",
    ]


def test_blank_clears_the_team_and_the_same_team_again_changes_nothing(client, admin, officer):
    set_team(client, officer.id, "Care recovery")
    set_team(client, officer.id, "Care recovery ")
    assert len(team_audits()) == 1
    set_team(client, officer.id, "   ")
    assert team_of(officer) is None
    assert team_audits()[-1].after == {"team": None}


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("x" * 61, "Team must be 60 characters or fewer"),
        ("Care\x07recovery", "Team must only include letters, numbers, spaces and punctuation"),
        ("Care\u200brecovery", "Team must only include letters, numbers, spaces and punctuation"),
    ],
)
def test_a_bad_team_is_a_field_error_and_changes_nothing(client, admin, officer, typed, message):
    set_team(client, officer.id, "Care recovery")
    response = set_team(client, officer.id, typed)
    assert response.status_code == 200
    assert error_summary(parse(response)) == [(message, "#team")]
    assert team_of(officer) == "Care recovery"
    assert len(team_audits()) == 1


def test_a_nul_character_is_refused_before_the_form_and_changes_nothing(client, admin, officer):
    # The app refuses NUL in any form (PostgreSQL cannot store it): never a 500.
    set_team(client, officer.id, "Care recovery")
    assert set_team(client, officer.id, "Care\x00recovery").status_code == 400
    assert team_of(officer) == "Care recovery"
    with pytest.raises(InvalidRequest):
        staff_admin.set_team(admin.id, officer.id, "Care\x00recovery")


def test_sixty_characters_after_trimming_will_do(client, admin, officer):
    set_team(client, officer.id, "  " + "y" * 60 + "  ")
    assert team_of(officer) == "y" * 60


def test_only_an_administrator_sets_a_team(app, officer):
    leader = make_staff(StaffRole.TEAM_LEADER)
    with pytest.raises(Forbidden):
        staff_admin.set_team(leader.id, officer.id, "Mine")
    with pytest.raises(InvalidRequest):
        staff_admin.set_team(make_staff(StaffRole.ADMIN).id, officer.id, "z" * 61)
    assert team_of(officer) is None


def test_the_report_groups_people_by_the_team_set(client, admin, officer):
    other = make_staff(StaffRole.OFFICER, full_name="Bea Officer")
    set_team(client, officer.id, "Care recovery")
    result = get_report("officer-activity").build(
        ReportFilters(today=TODAY, as_at=TODAY, date_from=TODAY, date_to=TODAY, financial_year=2026)
    )
    assert [(r["team"], r["officer"]) for r in result.tables[0].rows] == [
        ("Care recovery", "Olu Officer"),
        ("Care recovery", "Care recovery subtotal"),
        ("No team", other.full_name),
        ("No team", "No team subtotal"),
    ]
