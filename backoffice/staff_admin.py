"""Administrators manage staff: the list, adding someone, and one person's role, delegated
limits, status, password and authenticator app. Every change goes through
shared/services/staff_admin.py, which audits it with the values before and after."""

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
    pounds,
)
from shared.domain.permissions import Permission
from shared.models import StaffRole
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


def _context() -> dict:
    return {"role_labels": ROLE_LABELS, "me": current_staff()}


@bp.get("/staff")
@requires(Permission.MANAGE_STAFF)
def staff_list():
    return render_template(
        "backoffice/staff/list.html", people=staff_admin.list_staff(), **_context()
    )


@bp.route("/staff/new", methods=["GET", "POST"])
@requires(Permission.MANAGE_STAFF)
def add_staff():
    form = AddStaffForm()
    if request.method == "GET":
        form.refund_limit.data = form.write_off_limit.data = "0"
    if form.validate_on_submit():
        try:
            created = staff_admin.create_staff(
                current_staff().id,
                email=form.email.data,
                full_name=form.full_name.data,
                role=StaffRole(form.role.data),
                refund_limit_pence=form.refund_limit.pence,
                write_off_limit_pence=form.write_off_limit.pence,
                source_ip=request.remote_addr,
            )
        except Conflict as exc:
            form.email.errors.append(str(exc))
        else:
            # Rendered, not redirected: the password must not travel in a URL
            # or sit in the session cookie, and it is never shown again.
            return render_template(
                "backoffice/staff/password.html",
                person=created.user,
                password=created.password,
                heading="Member of staff added",
                **_context(),
            )
    return render_template(
        "backoffice/staff/new.html", form=form, role_items=_role_items(form.role), **_context()
    )


@bp.get("/staff/<int:staff_id>")
@requires(Permission.MANAGE_STAFF)
def staff_detail(staff_id: int):
    return render_template("backoffice/staff/detail.html", person=_person(staff_id), **_context())


@bp.route("/staff/<int:staff_id>/role", methods=["GET", "POST"])
@requires(Permission.MANAGE_STAFF)
def change_role(staff_id: int):
    person = _person(staff_id)
    form = RoleForm(data={"role": person.role.value} if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            staff_admin.change_role(
                current_staff().id,
                staff_id,
                StaffRole(form.role.data),
                source_ip=request.remote_addr,
            )
        except InvalidRequest as exc:
            form.role.errors.append(str(exc))
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


@bp.route("/staff/<int:staff_id>/limits", methods=["GET", "POST"])
@requires(Permission.MANAGE_STAFF)
def change_limits(staff_id: int):
    person = _person(staff_id)
    form = LimitsForm()
    if request.method == "GET":
        form.refund_limit.data = pounds(person.refund_limit_pence)
        form.write_off_limit.data = pounds(person.write_off_limit_pence)
    if form.validate_on_submit():
        try:
            staff_admin.set_limits(
                current_staff().id,
                staff_id,
                refund_limit_pence=form.refund_limit.pence,
                write_off_limit_pence=form.write_off_limit.pence,
                source_ip=request.remote_addr,
            )
        except InvalidRequest as exc:
            form.refund_limit.errors.append(str(exc))
        else:
            flash(f"{person.full_name}’s limits are saved", "success")
            return _detail(staff_id)
    return render_template("backoffice/staff/limits.html", form=form, person=person, **_context())


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
    _person(staff_id)
    try:
        reset = staff_admin.reset_password(
            current_staff().id, staff_id, source_ip=request.remote_addr
        )
    except InvalidRequest as exc:
        flash(str(exc))
        return _detail(staff_id)
    return render_template(
        "backoffice/staff/password.html",
        person=reset.user,
        password=reset.password,
        heading="Password reset",
        **_context(),
    )
