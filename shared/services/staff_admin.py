"""An administrator managing staff: adding people, roles, delegated limits, deactivation,
and resetting a forgotten password or a lost authenticator app.

Each change is one transaction with an audit row naming the administrator and
the values before and after. Changes that alter what someone may do, or how
they sign in, bump their session_version so every session they have ends and
the next one starts under the new rules.

An administrator cannot change their own access (role, status, password,
authenticator app): another administrator must. So there is always at least
one administrator, and a stolen session cannot be used to lock out its owner.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from shared.domain.permissions import Permission, role_has
from shared.extensions import db
from shared.models import StaffRole, StaffUser
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


@dataclass(frozen=True)
class NewPassword:
    """A person and the temporary password to give them; it is shown once, never stored."""

    user: StaffUser
    password: str


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


def _check_limits(refund_limit_pence: int, write_off_limit_pence: int) -> None:
    for pence in (refund_limit_pence, write_off_limit_pence):
        problem = limit_problem(pence)
        if problem:
            raise InvalidRequest(problem)


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
    source_ip: str | None = None,
) -> NewPassword:
    """Add a member of staff with a temporary password; they set up two-factor at first sign-in."""
    actor = _admin(actor_id, source_ip)
    _check_limits(refund_limit_pence, write_off_limit_pence)
    email = email.strip().lower()
    taken = db.session.scalar(
        sa.select(sa.func.count()).where(sa.func.lower(StaffUser.email) == email)
    )
    if taken:
        raise Conflict(EMAIL_IN_USE)
    password = temporary_password()
    user = StaffUser(
        email=email,
        full_name=full_name.strip(),
        role=StaffRole(role),
        password_hash=generate_password_hash(password),
        refund_limit_pence=refund_limit_pence,
        write_off_limit_pence=write_off_limit_pence,
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
        },
    )
    db.session.commit()
    return NewPassword(user, password)


@use_case
def change_role(
    actor_id: int, staff_id: int, role: StaffRole, *, source_ip: str | None = None
) -> StaffUser:
    """Give someone a different role; their sessions end so the new one applies at once."""
    actor = _admin(actor_id, source_ip)
    user = _target(staff_id)
    role = StaffRole(role)
    if user.role == role:
        return user
    _not_yourself(user, actor, "change the role of")
    before = user.role.value
    user.role = role
    user.session_version += 1
    record_audit(
        actor,
        "staff.role_changed",
        "staff_user",
        user.id,
        before={"role": before},
        after={"role": role.value},
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
    source_ip: str | None = None,
) -> StaffUser:
    """Set the most someone may refund or write off without another person's approval."""
    actor = _admin(actor_id, source_ip)
    _check_limits(refund_limit_pence, write_off_limit_pence)
    user = _target(staff_id)
    before = {
        "refund_limit_pence": user.refund_limit_pence,
        "write_off_limit_pence": user.write_off_limit_pence,
    }
    after = {
        "refund_limit_pence": refund_limit_pence,
        "write_off_limit_pence": write_off_limit_pence,
    }
    if before == after:
        return user
    user.refund_limit_pence = refund_limit_pence
    user.write_off_limit_pence = write_off_limit_pence
    record_audit(actor, "staff.limits_changed", "staff_user", user.id, before=before, after=after)
    db.session.commit()
    return user


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
def reset_password(actor_id: int, staff_id: int, *, source_ip: str | None = None) -> NewPassword:
    """Give someone a new temporary password (and unlock them); their sessions end."""
    actor = _admin(actor_id, source_ip)
    user = _target(staff_id)
    _not_yourself(user, actor, "reset the password of")
    password = temporary_password()
    user.password_hash = generate_password_hash(password)
    user.failed_sign_ins = 0
    user.locked_until = None
    user.session_version += 1
    record_audit(actor, "staff.password_reset", "staff_user", user.id)
    db.session.commit()
    return NewPassword(user, password)
