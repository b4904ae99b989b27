"""Administrators manage staff: the list, adding someone, and one person's role, delegated
limits, status, password and authenticator app. Every change goes through
shared/services/staff_admin.py, which audits it with the values before and after.

No page shows a password: temporary ones are emailed to their owner. Nobody
changes their own access or limits, and a limit above the ceiling waits on the
person's page until a different administrator approves or rejects it."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from backoffice import bp
from backoffice.auth import current_staff, requires
from backoffice.staff_forms import (
    ROLE_HINTS,
    ROLE_LABELS,
    AddStaffForm,
    LimitsForm,
    RoleForm,
    TeamForm,
    chosen_department,
    pounds,
    set_departments,
)
from shared.domain.permissions import Permission
from shared.models import StaffRole
from shared.money import format_gbp
from shared.services import staff_admin
from shared.services.errors import Conflict, InvalidRequest, NotFound


def _role_items(form_role) -> list[dict]:
    # Hints under each role, so the choice says what it allows.
    return [
        {
            "value": role.value,
            "text": ROLE_LABELS[role],
            "hint": {"text": ROLE_HINTS[role]},
            "checked": form_role.data == role.value,
        }
        for role in StaffRole
    ]


def _person(staff_id: int):
    try:
        return staff_admin.get_staff(staff_id)
    except NotFound:
        abort(404)


def _detail(staff_id: int):
    return redirect(url_for("backoffice.staff_detail", staff_id=staff_id))


def _waiting(name: str) -> str:
    ceiling = format_gbp(staff_admin.limit_ceiling_pence())
    return (
        f"{name}’s limits are above the {ceiling} one administrator can set alone, "
        "so they wait for another administrator to approve them"
    )


def _context() -> dict:
    return {
        "role_labels": ROLE_LABELS,
        "me": current_staff(),
        "ceiling_pence": staff_admin.limit_ceiling_pence(),
    }


@bp.get("/staff")
@requires(Permission.MANAGE_STAFF)
def staff_list():
    return render_template(
        "backoffice/staff/list.html",
        people=staff_admin.list_staff(),
        waiting=staff_admin.waiting_limit_changes(),
        **_context(),
    )


@bp.route("/staff/new", methods=["GET", "POST"])
@requires(Permission.MANAGE_STAFF)
def add_staff():
    form = AddStaffForm()
    set_departments(form, staff_admin.departments())
    if request.method == "GET":
        form.refund_limit.data = form.write_off_limit.data = form.invoice_limit.data = "0"
    if form.validate_on_submit():
        try:
            created = staff_admin.create_staff(
                current_staff().id,
                email=form.email.data,
                full_name=form.full_name.data,
                role=StaffRole(form.role.data),
                refund_limit_pence=form.refund_limit.pence,
                write_off_limit_pence=form.write_off_limit.pence,
                invoice_limit_pence=form.invoice_limit.pence or 0,
                department_id=chosen_department(form),
                source_ip=request.remote_addr,
            )
        except Conflict as exc:
            form.email.errors.append(str(exc))
        except InvalidRequest as exc:
            form.department.errors.append(str(exc))
        else:
            person = created.user
            flash(
                f"{person.full_name} is added. We have emailed a temporary password to "
                f"{person.email}; they choose their own password when they first sign in",
                "success",
            )
            if created.pending:
                flash(_waiting(person.full_name), "success")
            return _detail(person.id)
    return render_template(
        "backoffice/staff/new.html", form=form, role_items=_role_items(form.role), **_context()
    )


@bp.get("/staff/<int:staff_id>")
@requires(Permission.MANAGE_STAFF)
def staff_detail(staff_id: int):
    person = _person(staff_id)
    limits_set, limits_waiting = staff_admin.limit_changes_for(person.id)
    return render_template(
        "backoffice/staff/detail.html",
        person=person,
        limits_set=limits_set,
        limits_waiting=limits_waiting,
        **_context(),
    )


@bp.route("/staff/<int:staff_id>/role", methods=["GET", "POST"])
@requires(Permission.MANAGE_STAFF)
def change_role(staff_id: int):
    person = _person(staff_id)
    form = RoleForm(
        data={"role": person.role.value, "department": str(person.department_id or "")}
        if request.method == "GET"
        else None
    )
    set_departments(form, staff_admin.departments())
    if form.validate_on_submit():
        try:
            staff_admin.change_role(
                current_staff().id,
                staff_id,
                StaffRole(form.role.data),
                department_id=chosen_department(form),
                source_ip=request.remote_addr,
            )
        except InvalidRequest as exc:
            field = form.department if str(exc) == staff_admin.SELECT_DEPARTMENT else form.role
            field.errors.append(str(exc))
        else:
            flash(f"{person.full_name}’s role is now {ROLE_LABELS[person.role]}", "success")
            return _detail(staff_id)
    return render_template(
        "backoffice/staff/role.html",
        form=form,
        person=person,
        role_items=_role_items(form.role),
        **_context(),
    )


@bp.route("/staff/<int:staff_id>/team", methods=["GET", "POST"])
@requires(Permission.MANAGE_STAFF)
def change_team(staff_id: int):
    person = _person(staff_id)
    form = TeamForm(data={"team": person.team or ""} if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            staff_admin.set_team(
                current_staff().id, staff_id, form.team.data, source_ip=request.remote_addr
            )
        except InvalidRequest as exc:
            form.team.errors.append(str(exc))
        else:
            done = f"is now in {person.team}" if person.team else "is not in a team"
            flash(f"{person.full_name} {done}", "success")
            return _detail(staff_id)
    return render_template(
        "backoffice/staff/team.html",
        form=form,
        person=person,
        teams=staff_admin.teams_in_use(),
        **_context(),
    )


@bp.route("/staff/<int:staff_id>/limits", methods=["GET", "POST"])
@requires(Permission.MANAGE_STAFF)
def change_limits(staff_id: int):
    person = _person(staff_id)
    form = LimitsForm()
    if request.method == "GET":
        form.refund_limit.data = pounds(person.refund_limit_pence)
        form.write_off_limit.data = pounds(person.write_off_limit_pence)
        form.invoice_limit.data = pounds(person.invoice_limit_pence)
    if form.validate_on_submit():
        try:
            saved = staff_admin.set_limits(
                current_staff().id,
                staff_id,
                refund_limit_pence=form.refund_limit.pence,
                write_off_limit_pence=form.write_off_limit.pence,
                invoice_limit_pence=form.invoice_limit.pence,
                source_ip=request.remote_addr,
            )
        except InvalidRequest as exc:
            form.refund_limit.errors.append(str(exc))
        else:
            if saved.pending:
                flash(_waiting(person.full_name), "success")
            else:
                flash(f"{person.full_name}’s limits are saved", "success")
            return _detail(staff_id)
    return render_template("backoffice/staff/limits.html", form=form, person=person, **_context())


def _decide(staff_id: int, change_id: int, decide, done: str):
    """Approve or reject a waiting limit change, then back to the person's page."""
    _person(staff_id)
    try:
        person = decide(current_staff().id, staff_id, change_id, source_ip=request.remote_addr)
    except NotFound:
        abort(404)
    except InvalidRequest as exc:
        flash(str(exc))
    else:
        flash(done.format(name=person.full_name), "success")
    return _detail(staff_id)


@bp.post("/staff/<int:staff_id>/limit-changes/<int:change_id>/approve")
@requires(Permission.MANAGE_STAFF)
def approve_limit_change(staff_id: int, change_id: int):
    return _decide(
        staff_id,
        change_id,
        staff_admin.approve_limit_change,
        "You approved the change: {name}’s new limits apply from now",
    )


@bp.post("/staff/<int:staff_id>/limit-changes/<int:change_id>/reject")
@requires(Permission.MANAGE_STAFF)
def reject_limit_change(staff_id: int, change_id: int):
    return _decide(
        staff_id,
        change_id,
        staff_admin.reject_limit_change,
        "You rejected the change: {name}’s limits stay as they were",
    )


def _action(staff_id: int, change, done: str):
    """Run one of the button actions on the detail page, then go back to it."""
    _person(staff_id)
    try:
        person = change(current_staff().id, staff_id, source_ip=request.remote_addr)
    except InvalidRequest as exc:
        flash(str(exc))
    else:
        flash(done.format(name=person.full_name), "success")
    return _detail(staff_id)


@bp.post("/staff/<int:staff_id>/deactivate")
@requires(Permission.MANAGE_STAFF)
def deactivate_staff(staff_id: int):
    return _action(
        staff_id, staff_admin.deactivate, "{name} is deactivated and has been signed out"
    )


@bp.post("/staff/<int:staff_id>/reactivate")
@requires(Permission.MANAGE_STAFF)
def reactivate_staff(staff_id: int):
    return _action(staff_id, staff_admin.reactivate, "{name} can sign in again")


@bp.post("/staff/<int:staff_id>/reset-two-factor")
@requires(Permission.MANAGE_STAFF)
def reset_two_factor(staff_id: int):
    return _action(
        staff_id,
        staff_admin.reset_two_factor,
        "{name} will set up an authenticator app the next time they sign in",
    )


@bp.post("/staff/<int:staff_id>/reset-password")
@requires(Permission.MANAGE_STAFF)
def reset_password(staff_id: int):
    return _action(
        staff_id,
        staff_admin.reset_password,
        "We have emailed {name} a temporary password and signed them out everywhere; "
        "they choose their own password when they next sign in",
    )
