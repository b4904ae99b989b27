"""An administrator managing staff: adding people, roles, delegated limits, deactivation,
and resetting a forgotten password or a lost authenticator app.

Each change is one transaction with an audit row naming the administrator and
the values before and after. Changes that alter what someone may do, or how
they sign in, bump their session_version so every session they have ends and
the next one starts under the new rules.

An administrator cannot change their own access (role, limits, status,
password, authenticator app): another administrator must. So there is always at
least one administrator, a stolen session cannot be used to lock out its owner,
and nobody raises their own limits.

Administrators administer; they never learn a usable password. A new person's
temporary password, and one made by a reset, goes by email to that person's own
address (through the outbox) and is never shown on screen; it only gets them as
far as choosing their own password at sign-in (must_change_password,
shared/services/staff_auth.py).

Every delegated-limit change, and the limits someone is created with, is a
StaffLimitChange row and an audit row naming who asked and who approved. A
change that raises a limit above STAFF_LIMIT_CEILING_PENCE waits for a
different administrator (shared/domain/staff_limits.py); until then the old
limits apply.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from werkzeug.security import generate_password_hash

from shared.domain.permissions import Permission, role_has
from shared.domain.staff_limits import Limits, needs_second_admin
from shared.extensions import db
from shared.models import (
    LimitChangeStatus,
    OutboxChannel,
    OutboxMessage,
    ServiceDepartment,
    StaffLimitChange,
    StaffRole,
    StaffUser,
)
from shared.models.base import utcnow
from shared.services.actors import Actor, staff
from shared.services.errors import Conflict, Forbidden, InvalidRequest, NotFound
from shared.services.history import record_audit
from shared.services.unit_of_work import use_case

# Delegated limits are checked against amounts in pence held in 32-bit integer
# columns; a million pounds is far above any council's scheme of delegation.
MAX_LIMIT_PENCE = 100_000_000

# Letters and digits nobody confuses when reading a password aloud or from a
# screen (no 0/o, 1/l/i).
_PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"

EMAIL_IN_USE = "A member of staff already has this email address"
SELECT_DEPARTMENT = "Select the department a service department user raises invoices for"


# The path of the back-office sign-in page (backoffice/auth.py), for the email.
SIGN_IN_PATH = "/backoffice/sign-in"


@dataclass(frozen=True)
class LimitsSaved:
    """What saving someone's limits did: applied at once, or waiting for approval."""

    user: StaffUser
    pending: bool


@dataclass(frozen=True)
class LimitChangeView:
    """One limit change as the staff pages show it, with names rather than ids."""

    id: int
    staff_user_id: int
    refund_limit_pence: int
    write_off_limit_pence: int
    status: LimitChangeStatus
    requested_by_id: int
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    invoice_limit_pence: int | None = None  # None on changes from before invoice limits


def temporary_password() -> str:
    """Four groups of four from a 31-character alphabet: about 79 bits, easy to read out.

    It always meets the portal's password rules (portal_accounts.password_problem),
    which a test checks.
    """
    groups = ("".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(4)) for _ in range(4))
    return "-".join(groups)


def limit_problem(pence: int) -> str | None:
    """Why a delegated limit will not do, as a GOV.UK error message, or None."""
    if pence < 0:
        return "Limit must be £0 or more"
    if pence > MAX_LIMIT_PENCE:
        return "Limit must be £1,000,000 or less"
    return None


def _admin(actor_id: int, source_ip: str | None) -> Actor:
    admin = db.session.get(StaffUser, actor_id)
    if admin is None or not admin.active or not role_has(admin.role, Permission.MANAGE_STAFF):
        raise Forbidden("You do not have permission to manage staff")
    return staff(admin.id, source_ip)


NOT_YOURSELF = "You cannot {what} your own account. Ask another administrator"


def _not_yourself(user: StaffUser, actor: Actor, what: str) -> None:
    if user.id == actor.id:
        raise InvalidRequest(NOT_YOURSELF.format(what=what))


def _target(staff_id: int) -> StaffUser:
    user = db.session.scalar(sa.select(StaffUser).where(StaffUser.id == staff_id).with_for_update())
    if user is None:
        raise NotFound("There is no such member of staff")
    return user


def _check_limits(*limits_pence: int) -> None:
    for pence in limits_pence:
        problem = limit_problem(pence)
        if problem:
            raise InvalidRequest(problem)


def limit_ceiling_pence() -> int:
    """The highest limit one administrator may set alone (STAFF_LIMIT_CEILING_PENCE)."""
    return int(current_app.config["STAFF_LIMIT_CEILING_PENCE"])


def _email_temporary_password(user: StaffUser, password: str, *, reset: bool) -> None:
    """Put the temporary password in the outbox to the person's own address.

    Only they see it: the administrator who made it never does, so cannot sign in
    as them. It works once, to reach "choose a new password" at sign-in.
    """
    council = current_app.config["COUNCIL_NAME"]
    what = "reset your password" if reset else "made you an account"
    app_step = "" if user.totp_enrolled else ", then set up an authenticator app on your phone"
    db.session.add(
        OutboxMessage(
            channel=OutboxChannel.EMAIL,
            template="staff_temporary_password",
            recipient=user.email,
            subject=f"Your {council} back-office sign-in",
            body=(
                f"An administrator has {what} on the {council} income recovery back office.\n\n"
                f"Sign in at {current_app.config['PUBLIC_BASE_URL']}{SIGN_IN_PATH} with this "
                f"email address and this temporary password:\n\n{password}\n\n"
                f"You will choose your own password when you sign in{app_step}. "
                "If you did not expect this email, tell your manager straight away."
            ),
            # session_version changes with every reset, so each email is its own.
            dedupe_key=f"staff-temporary-password:{user.id}:{user.session_version}",
        )
    )


def _limits(user: StaffUser) -> Limits:
    return Limits(user.refund_limit_pence, user.write_off_limit_pence, user.invoice_limit_pence)


def _change_limits(change: StaffLimitChange, user: StaffUser) -> Limits:
    """The limits a change names; one from before invoice limits leaves that one as is."""
    invoice = change.invoice_limit_pence
    return Limits(
        change.refund_limit_pence,
        change.write_off_limit_pence,
        user.invoice_limit_pence if invoice is None else invoice,
    )


def _limits_dict(limits: Limits | None) -> dict | None:
    if limits is None:
        return None
    return {
        "refund_limit_pence": limits.refund_pence,
        "write_off_limit_pence": limits.write_off_pence,
        "invoice_limit_pence": limits.invoice_pence,
    }


def _department_for(role: StaffRole, department_id: int | None) -> int | None:
    """The department a service-department user raises invoices for (required, and it
    must exist); other roles have none."""
    if role != StaffRole.SERVICE_DEPARTMENT:
        return None
    if department_id is None or db.session.get(ServiceDepartment, department_id) is None:
        raise InvalidRequest(SELECT_DEPARTMENT)
    return department_id


def departments() -> list[tuple[int, str]]:
    """Every service department (id, name), for choosing a service-department user's."""
    return [
        (d.id, d.name)
        for d in db.session.scalars(sa.select(ServiceDepartment).order_by(ServiceDepartment.name))
    ]


def _pending_change(staff_id: int) -> StaffLimitChange | None:
    return db.session.scalar(
        sa.select(StaffLimitChange)
        .where(
            StaffLimitChange.staff_user_id == staff_id,
            StaffLimitChange.status == LimitChangeStatus.PENDING,
        )
        .with_for_update()
    )


def _propose_limits(
    user: StaffUser, actor: Actor, wanted: Limits, *, creating: bool
) -> StaffLimitChange:
    """Record a change to `user`'s limits: applied now, or pending a second administrator."""
    before = None if creating else _limits(user)
    now = utcnow()
    pending = needs_second_admin(before, wanted, limit_ceiling_pence())
    change = StaffLimitChange(
        staff_user_id=user.id,
        refund_limit_before_pence=None if before is None else before.refund_pence,
        write_off_limit_before_pence=None if before is None else before.write_off_pence,
        refund_limit_pence=wanted.refund_pence,
        write_off_limit_pence=wanted.write_off_pence,
        invoice_limit_before_pence=None if before is None else before.invoice_pence,
        invoice_limit_pence=wanted.invoice_pence,
        status=LimitChangeStatus.PENDING if pending else LimitChangeStatus.APPLIED,
        requested_by_id=actor.id,
        created_at=now,
        decided_at=None if pending else now,
    )
    db.session.add(change)
    db.session.flush()
    if pending:
        record_audit(
            actor,
            "staff.limit_change_requested",
            "staff_user",
            user.id,
            before=_limits_dict(before),
            after={
                **_limits_dict(wanted),
                "requested_by": actor.id,
                "limit_change_id": change.id,
                "ceiling_pence": limit_ceiling_pence(),
            },
        )
        return change
    user.refund_limit_pence = wanted.refund_pence
    user.write_off_limit_pence = wanted.write_off_pence
    user.invoice_limit_pence = wanted.invoice_pence
    _audit_applied(actor, user.id, change, before, requested_by=actor.id, approved_by=None)
    return change


def _audit_applied(
    actor: Actor,
    staff_id: int,
    change: StaffLimitChange,
    before: Limits | None,
    *,
    requested_by: int,
    approved_by: int | None,
) -> None:
    after = Limits(
        change.refund_limit_pence, change.write_off_limit_pence, change.invoice_limit_pence or 0
    )
    record_audit(
        actor,
        "staff.limits_changed",
        "staff_user",
        staff_id,
        before=_limits_dict(before),
        after={
            **_limits_dict(after),
            "requested_by": requested_by,
            "approved_by": approved_by,
            "limit_change_id": change.id,
        },
    )


def list_staff() -> list[StaffUser]:
    """Everyone, active people first, by name."""
    return list(
        db.session.scalars(
            sa.select(StaffUser).order_by(
                StaffUser.active.desc(), sa.func.lower(StaffUser.full_name), StaffUser.id
            )
        )
    )


def get_staff(staff_id: int) -> StaffUser:
    """One member of staff, or NotFound."""
    user = db.session.get(StaffUser, staff_id)
    if user is None:
        raise NotFound("There is no such member of staff")
    return user


@use_case
def create_staff(
    actor_id: int,
    *,
    email: str,
    full_name: str,
    role: StaffRole,
    refund_limit_pence: int = 0,
    write_off_limit_pence: int = 0,
    invoice_limit_pence: int = 0,
    department_id: int | None = None,
    source_ip: str | None = None,
) -> LimitsSaved:
    """Add a member of staff and email them a temporary password to change at first sign-in.

    Limits above the ceiling wait for a second administrator: the person starts
    with none, and `pending` says so. A service-department user needs their department.
    """
    actor = _admin(actor_id, source_ip)
    _check_limits(refund_limit_pence, write_off_limit_pence, invoice_limit_pence)
    department_id = _department_for(StaffRole(role), department_id)
    email = email.strip().lower()
    taken = db.session.scalar(
        sa.select(sa.func.count()).where(sa.func.lower(StaffUser.email) == email)
    )
    if taken:
        raise Conflict(EMAIL_IN_USE)
    password = temporary_password()
    wanted = Limits(refund_limit_pence, write_off_limit_pence, invoice_limit_pence)
    # Limits that need a second administrator start at nothing until approved.
    at_once = not needs_second_admin(None, wanted, limit_ceiling_pence())
    user = StaffUser(
        email=email,
        full_name=full_name.strip(),
        role=StaffRole(role),
        password_hash=generate_password_hash(password),
        must_change_password=True,
        refund_limit_pence=refund_limit_pence if at_once else 0,
        write_off_limit_pence=write_off_limit_pence if at_once else 0,
        invoice_limit_pence=invoice_limit_pence if at_once else 0,
        department_id=department_id,
    )
    db.session.add(user)
    try:
        db.session.flush()
    except sa.exc.IntegrityError:
        # Someone added the same address between the check and the insert.
        raise Conflict(EMAIL_IN_USE) from None
    record_audit(
        actor,
        "staff.created",
        "staff_user",
        user.id,
        after={
            "email": user.email,
            "full_name": user.full_name,
            "role": user.role.value,
            "refund_limit_pence": user.refund_limit_pence,
            "write_off_limit_pence": user.write_off_limit_pence,
            "invoice_limit_pence": user.invoice_limit_pence,
            "department_id": user.department_id,
        },
    )
    change = _propose_limits(user, actor, wanted, creating=True)
    _email_temporary_password(user, password, reset=False)
    db.session.commit()
    return LimitsSaved(user, change.status == LimitChangeStatus.PENDING)


@use_case
def change_role(
    actor_id: int,
    staff_id: int,
    role: StaffRole,
    *,
    department_id: int | None = None,
    source_ip: str | None = None,
) -> StaffUser:
    """Give someone a different role (a service-department user: and their department);
    their sessions end so the new one applies at once."""
    actor = _admin(actor_id, source_ip)
    user = _target(staff_id)
    role = StaffRole(role)
    department_id = _department_for(role, department_id) or (
        None if role == StaffRole.SERVICE_DEPARTMENT else user.department_id
    )
    if user.role == role and user.department_id == department_id:
        return user
    _not_yourself(user, actor, "change the role of")
    before = {"role": user.role.value}
    after = {"role": role.value}
    if StaffRole.SERVICE_DEPARTMENT in (user.role, role):
        before["department_id"], after["department_id"] = user.department_id, department_id
    user.role = role
    user.department_id = department_id
    user.session_version += 1
    record_audit(actor, "staff.role_changed", "staff_user", user.id, before=before, after=after)
    db.session.commit()
    return user


# The team an officer works in, for the officer activity report (StaffUser.team).
MAX_TEAM = 60


def clean_team(text: str | None) -> str | None:
    """A team name as stored: spaces trimmed and runs of them made one, so "Adult  care "
    and "Adult care" are one team in the report; None (no team) when blank."""
    return " ".join((text or "").split()) or None


def team_problem(text: str | None) -> str | None:
    """Why a team name will not do, as a GOV.UK error message, or None."""
    team = clean_team(text)
    if team is None:
        return None
    if len(team) > MAX_TEAM:
        return f"Team must be {MAX_TEAM} characters or fewer"
    if any(not ch.isprintable() for ch in team):
        return "Team must only include letters, numbers, spaces and punctuation"
    return None


def teams_in_use() -> list[str]:
    """The teams people are in now, by name: offered as a hint so one team is not
    typed two ways."""
    return list(
        db.session.scalars(
            sa.select(StaffUser.team)
            .where(StaffUser.team.is_not(None))
            .group_by(StaffUser.team)
            .order_by(sa.func.lower(StaffUser.team))
        )
    )


@use_case
def set_team(
    actor_id: int, staff_id: int, team: str | None, *, source_ip: str | None = None
) -> StaffUser:
    """Put someone in a team (blank: no team). A label for reports, not access, so an
    administrator may set their own and no session ends."""
    actor = _admin(actor_id, source_ip)
    problem = team_problem(team)
    if problem is not None:
        raise InvalidRequest(problem)
    user = _target(staff_id)
    team = clean_team(team)
    if user.team == team:
        return user
    before, user.team = user.team, team
    record_audit(
        actor,
        "staff.team_changed",
        "staff_user",
        user.id,
        before={"team": before},
        after={"team": team},
    )
    db.session.commit()
    return user


@use_case
def set_limits(
    actor_id: int,
    staff_id: int,
    *,
    refund_limit_pence: int,
    write_off_limit_pence: int,
    invoice_limit_pence: int | None = None,
    source_ip: str | None = None,
) -> LimitsSaved:
    """Set the most someone may refund or write off without another person's approval,
    and the largest invoice they may issue unchecked (None: leave it as it is).

    Never your own. Raising a limit above the ceiling waits for a second
    administrator; any change replaces one still waiting.
    """
    actor = _admin(actor_id, source_ip)
    user = _target(staff_id)
    if invoice_limit_pence is None:
        invoice_limit_pence = user.invoice_limit_pence
    _check_limits(refund_limit_pence, write_off_limit_pence, invoice_limit_pence)
    _not_yourself(user, actor, "change the limits of")
    wanted = Limits(refund_limit_pence, write_off_limit_pence, invoice_limit_pence)
    waiting = _pending_change(user.id)
    if wanted == _limits(user) or (waiting is not None and wanted == _change_limits(waiting, user)):
        # Nothing new: saving the form unchanged neither audits nor cancels anything.
        return LimitsSaved(user, waiting is not None)
    if waiting is not None:
        waiting.status = LimitChangeStatus.CANCELLED
        waiting.decided_at = utcnow()
        record_audit(
            actor,
            "staff.limit_change_cancelled",
            "staff_user",
            user.id,
            after={"limit_change_id": waiting.id, "replaced": True},
        )
    change = _propose_limits(user, actor, wanted, creating=False)
    db.session.commit()
    return LimitsSaved(user, change.status == LimitChangeStatus.PENDING)


NOT_PENDING = "This limit change has already been approved, rejected or replaced"


def _decidable(actor: Actor, staff_id: int, change_id: int) -> tuple[StaffUser, StaffLimitChange]:
    """The waiting change to `staff_id`'s limits and that person, both locked, if `actor`
    may decide it."""
    found = db.session.get(StaffLimitChange, change_id)
    if found is None or found.staff_user_id != staff_id:
        raise NotFound("There is no such limit change")
    # The person first, then the change: the same order as set_limits, so the
    # two never wait for each other.
    user = _target(found.staff_user_id)
    change = db.session.scalar(
        sa.select(StaffLimitChange)
        .where(StaffLimitChange.id == change_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if change.status != LimitChangeStatus.PENDING:
        raise InvalidRequest(NOT_PENDING)
    if change.requested_by_id == actor.id:
        raise InvalidRequest(
            "You asked for this limit change, so another administrator must decide it"
        )
    if user.id == actor.id:
        raise InvalidRequest(
            "You cannot decide a change to your own limits. Ask another administrator"
        )
    return user, change


@use_case
def approve_limit_change(
    actor_id: int, staff_id: int, change_id: int, *, source_ip: str | None = None
) -> StaffUser:
    """A second administrator approves a waiting limit change; it applies from now."""
    actor = _admin(actor_id, source_ip)
    user, change = _decidable(actor, staff_id, change_id)
    before = _limits(user)
    user.refund_limit_pence = change.refund_limit_pence
    user.write_off_limit_pence = change.write_off_limit_pence
    user.invoice_limit_pence = _change_limits(change, user).invoice_pence
    change.status = LimitChangeStatus.APPLIED
    change.decided_by_id = actor.id
    change.decided_at = utcnow()
    _audit_applied(
        actor, user.id, change, before, requested_by=change.requested_by_id, approved_by=actor.id
    )
    db.session.commit()
    return user


@use_case
def reject_limit_change(
    actor_id: int, staff_id: int, change_id: int, *, source_ip: str | None = None
) -> StaffUser:
    """A second administrator turns down a waiting limit change; the limits stay as they are."""
    actor = _admin(actor_id, source_ip)
    user, change = _decidable(actor, staff_id, change_id)
    change.status = LimitChangeStatus.REJECTED
    change.decided_by_id = actor.id
    change.decided_at = utcnow()
    record_audit(
        actor,
        "staff.limit_change_rejected",
        "staff_user",
        user.id,
        before=_limits_dict(_limits(user)),
        after={
            **_limits_dict(_change_limits(change, user)),
            "requested_by": change.requested_by_id,
            "rejected_by": actor.id,
            "limit_change_id": change.id,
        },
    )
    db.session.commit()
    return user


def _change_views(*conditions) -> list[LimitChangeView]:
    requester = sa.orm.aliased(StaffUser)
    decider = sa.orm.aliased(StaffUser)
    rows = db.session.execute(
        sa.select(StaffLimitChange, requester.full_name, decider.full_name)
        .join(requester, requester.id == StaffLimitChange.requested_by_id)
        .outerjoin(decider, decider.id == StaffLimitChange.decided_by_id)
        .where(*conditions)
        .order_by(StaffLimitChange.id.desc())
    ).all()
    return [
        LimitChangeView(
            id=change.id,
            staff_user_id=change.staff_user_id,
            refund_limit_pence=change.refund_limit_pence,
            write_off_limit_pence=change.write_off_limit_pence,
            status=change.status,
            requested_by_id=change.requested_by_id,
            requested_by=requested_by,
            requested_at=change.created_at,
            decided_by=decided_by,
            decided_at=change.decided_at,
            invoice_limit_pence=change.invoice_limit_pence,
        )
        for change, requested_by, decided_by in rows
    ]


def waiting_limit_changes() -> list[LimitChangeView]:
    """Every limit change waiting for a second administrator, newest first."""
    return _change_views(StaffLimitChange.status == LimitChangeStatus.PENDING)


def limit_changes_for(staff_id: int) -> tuple[LimitChangeView | None, LimitChangeView | None]:
    """(the change that set their current limits, the change waiting for approval), each
    or None: None for the first means limits set before changes were recorded."""
    views = _change_views(
        StaffLimitChange.staff_user_id == staff_id,
        StaffLimitChange.status.in_([LimitChangeStatus.APPLIED, LimitChangeStatus.PENDING]),
    )
    applied = next((v for v in views if v.status == LimitChangeStatus.APPLIED), None)
    waiting = next((v for v in views if v.status == LimitChangeStatus.PENDING), None)
    return applied, waiting


@use_case
def deactivate(actor_id: int, staff_id: int, *, source_ip: str | None = None) -> StaffUser:
    """Stop someone signing in and end their sessions; their history stays."""
    actor = _admin(actor_id, source_ip)
    user = _target(staff_id)
    _not_yourself(user, actor, "deactivate")
    if not user.active:
        return user
    user.active = False
    user.session_version += 1
    record_audit(
        actor,
        "staff.deactivated",
        "staff_user",
        user.id,
        before={"active": True},
        after={"active": False},
    )
    db.session.commit()
    return user


@use_case
def reactivate(actor_id: int, staff_id: int, *, source_ip: str | None = None) -> StaffUser:
    """Let a deactivated person sign in again."""
    actor = _admin(actor_id, source_ip)
    user = _target(staff_id)
    if user.active:
        return user
    user.active = True
    record_audit(
        actor,
        "staff.reactivated",
        "staff_user",
        user.id,
        before={"active": False},
        after={"active": True},
    )
    db.session.commit()
    return user


@use_case
def reset_two_factor(actor_id: int, staff_id: int, *, source_ip: str | None = None) -> StaffUser:
    """Forget someone's authenticator app (lost or replaced); they set one up at next sign-in."""
    actor = _admin(actor_id, source_ip)
    user = _target(staff_id)
    _not_yourself(user, actor, "reset two-factor authentication for")
    before = {"enrolled": user.totp_enrolled}
    user.totp_secret = None
    user.totp_enrolled_at = None
    user.totp_last_step = None
    user.session_version += 1
    record_audit(
        actor,
        "staff.two_factor_reset",
        "staff_user",
        user.id,
        before=before,
        after={"enrolled": False},
    )
    db.session.commit()
    return user


@use_case
def reset_password(actor_id: int, staff_id: int, *, source_ip: str | None = None) -> StaffUser:
    """Email someone a new temporary password to change at sign-in (and unlock them);
    their sessions end."""
    actor = _admin(actor_id, source_ip)
    user = _target(staff_id)
    _not_yourself(user, actor, "reset the password of")
    password = temporary_password()
    user.password_hash = generate_password_hash(password)
    user.must_change_password = True
    user.failed_sign_ins = 0
    user.locked_until = None
    user.session_version += 1
    record_audit(
        actor, "staff.password_reset", "staff_user", user.id, after={"emailed_to": user.email}
    )
    _email_temporary_password(user, password, reset=True)
    db.session.commit()
    return user
