"""The role -> permission table, written out here as the issue states it."""

from __future__ import annotations

import pytest

from shared.domain.permissions import (
    ROLE_PERMISSIONS,
    Permission,
    permissions_for,
    role_has,
    roles_with,
)
from shared.models import StaffRole

P = Permission


def test_every_staff_role_has_an_entry_and_the_table_names_no_other_role():
    assert set(ROLE_PERMISSIONS) == {role.value for role in StaffRole}


def test_an_officer_views_works_cases_and_requests_refunds_and_write_offs():
    assert permissions_for(StaffRole.OFFICER) == {
        P.VIEW_CASES,
        P.WORK_CASES,
        P.REQUEST_REFUND,
        P.REQUEST_WRITE_OFF,
        P.REFER,
        P.DECIDE_PLANS,
        P.MANAGE_ACCOUNTS,
        P.RAISE_INVOICES,
        P.CHECK_INVOICES,
        P.IMPORT_INVOICES,
        P.TAKE_DIRECT_DEBITS,
        P.WORK_BACS_REPORTS,
        P.RELEASE_PRINT_BATCHES,
        P.SEND_CORRESPONDENCE,
        P.RECORD_LEGAL_STEPS,
        P.VIEW_OWN_ACTIVITY,
    }


def test_a_team_leader_also_approves_exports_releases_files_runs_dunning_and_reads_reports():
    assert permissions_for(StaffRole.TEAM_LEADER) == permissions_for(StaffRole.OFFICER) | {
        P.APPROVE,
        P.EXPORT_JOURNAL,
        P.RELEASE_BACS_FILES,
        P.RUN_DUNNING,
        P.VIEW_REPORTS,
    }


def test_a_service_department_user_only_raises_invoices():
    assert permissions_for(StaffRole.SERVICE_DEPARTMENT) == {P.RAISE_INVOICES}


def test_an_admin_manages_staff_reads_cases_the_audit_log_and_reports_but_touches_no_money():
    assert permissions_for(StaffRole.ADMIN) == {
        P.MANAGE_STAFF,
        P.VIEW_AUDIT,
        P.VIEW_CASES,
        P.MANAGE_PLAN_POLICY,
        P.MANAGE_FINANCE_SETTINGS,
        P.MANAGE_DUNNING,
        P.VIEW_REPORTS,
        P.SET_COLLECTION_TARGETS,
    }


def test_an_auditor_only_reads_cases_the_audit_log_and_reports():
    assert permissions_for(StaffRole.AUDITOR) == {P.VIEW_CASES, P.VIEW_AUDIT, P.VIEW_REPORTS}


@pytest.mark.parametrize(
    "permission",
    [
        P.WORK_CASES,
        P.REQUEST_REFUND,
        P.REQUEST_WRITE_OFF,
        P.REFER,
        P.APPROVE,
        P.MANAGE_STAFF,
        P.DECIDE_PLANS,
        P.MANAGE_PLAN_POLICY,
    ],
)
def test_an_auditor_cannot_change_anything(permission):
    assert not role_has(StaffRole.AUDITOR, permission)


def test_only_team_leaders_approve_and_only_admins_manage_staff():
    assert roles_with(P.APPROVE) == ["team_leader"]
    assert roles_with(P.MANAGE_STAFF) == ["admin"]


def test_every_permission_is_held_by_some_role():
    assert {p for granted in ROLE_PERMISSIONS.values() for p in granted} == set(Permission)


def test_role_has_needs_every_permission_named():
    assert role_has("team_leader", P.VIEW_CASES, P.APPROVE)
    assert not role_has("officer", P.VIEW_CASES, P.APPROVE)


def test_naming_no_permission_means_any_known_role():
    assert all(role_has(role) for role in StaffRole)


@pytest.mark.parametrize("role", ["", "superuser", "ADMIN", None])
def test_an_unknown_role_has_no_permissions_at_all(role):
    assert permissions_for(role) == frozenset()
    assert not role_has(role)
    assert not role_has(role, P.VIEW_CASES)


def test_the_domain_module_imports_neither_flask_nor_sqlalchemy():
    import ast
    from pathlib import Path

    import shared.domain.permissions as module

    tree = ast.parse(Path(module.__file__).read_text())
    imported = {
        (node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert not imported & {"flask", "sqlalchemy", "shared"}
