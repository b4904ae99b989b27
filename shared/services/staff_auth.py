"""Checking an officer's password. Two-factor, lockout and idle timeout join this
module with the back-office access issue."""

from __future__ import annotations

from functools import cache

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from shared.extensions import db
from shared.models import ActorType, StaffUser
from shared.models.base import utcnow
from shared.services.actors import Actor, staff
from shared.services.history import record_audit
from shared.services.unit_of_work import use_case


@cache
def _decoy_hash() -> str:
    # Same method and cost as real hashes, so checking an unknown email
    # takes as long as checking a known one (no account enumeration by timing).
    return generate_password_hash("decoy password that matches nobody")


@use_case
def check_staff_password(
    email: str, password: str, *, source_ip: str | None = None
) -> StaffUser | None:
    """The active officer with this email and password, or None; either way it is audited."""
    user = db.session.scalars(
        sa.select(StaffUser).where(sa.func.lower(StaffUser.email) == email.strip().lower())
    ).one_or_none()
    password_hash = user.password_hash if user is not None else _decoy_hash()
    password_ok = check_password_hash(password_hash, password)
    if user is None or not user.active or not password_ok:
        # An unknown email has no actor to name; the system records the attempt.
        actor = (
            Actor(ActorType.SYSTEM, None, source_ip) if user is None else staff(user.id, source_ip)
        )
        record_audit(
            actor,
            "staff.sign_in_failed",
            "staff_user",
            None if user is None else user.id,
        )
        db.session.commit()
        return None
    user.last_signed_in_at = utcnow()
    record_audit(staff(user.id, source_ip), "staff.signed_in", "staff_user", user.id)
    db.session.commit()
    return user
