"""Signing officers in and out: a password, then a code from an authenticator app.

Sign-in is two steps. The password step (check_staff_password) only says who
someone claims to be; they are signed in once the code step accepts a code
from the app they enrolled at first sign-in (confirm_enrolment) or since
(verify_code). Wrong passwords and wrong codes count towards the same lockout,
and a correct password alone never resets that count, so knowing the password
does not buy unlimited guesses at the code.

Someone whose password an administrator made (must_change_password: a new
account, or a reset) is not signed in by the code step: they choose their own
password next (choose_new_password), and only that signs them in. The new
password comes after the code, not before it: after a reset the person still has
their authenticator app, so whoever learnt the temporary password (it went by
email) cannot also replace the password without the owner's phone; a new person
sets up their app first, then chooses their password.

Every signed-in session carries the person's session_version; bumping it
(sign_out_everywhere here, and deactivation, new passwords and role changes in
shared/services/staff_admin.py) ends every session they have. Each session also
has a server-side record (shared/services/web_sessions.py): signing out ends this
browser's, signing out everywhere ends them all, so no copy of a cookie outlives them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

import sqlalchemy as sa
from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from shared.domain import two_factor
from shared.domain.two_factor import CodeOutcome
from shared.extensions import db
from shared.models import ActorType, StaffUser, WebSessionEnd, WebSessionKind
from shared.models.base import utcnow
from shared.services import web_sessions
from shared.services.actors import Actor, staff
from shared.services.errors import InvalidRequest, ServiceError
from shared.services.history import record_audit
from shared.services.portal_accounts import password_problem
from shared.services.unit_of_work import use_case

MAX_FAILED_SIGN_INS = 5
LOCKOUT = timedelta(minutes=15)

SIGN_IN_AGAIN = "Your sign-in has expired. Sign in again"


class AccountLocked(ServiceError):
    """Too many wrong passwords or codes: every sign-in is refused until `until`."""

    def __init__(self, until: datetime) -> None:
        super().__init__(
            "Your account is locked because of too many failed sign-in attempts. "
            "Wait 15 minutes and try again, or ask an administrator for help"
        )
        self.until = until


class CodeRefused(ServiceError):
    """The authenticator code was wrong or had already been used."""

    def __init__(self, outcome: CodeOutcome) -> None:
        message = {
            CodeOutcome.REPLAYED: (
                "That code has already been used. Wait for your app to show a new code"
            ),
        }.get(outcome, "The code is not correct. Check your app and try again")
        super().__init__(message)
        self.outcome = outcome


@dataclass(frozen=True)
class Enrolment:
    """What the set-up page shows: the secret (to type in) and the URI (for the QR code)."""

    secret: str
    uri: str


@cache
def _decoy_hash() -> str:
    # Same method and cost as real hashes, so checking an unknown email
    # takes as long as checking a known one (no account enumeration by timing).
    return generate_password_hash("decoy password that matches nobody")


def _locked(user: StaffUser, now: datetime) -> bool:
    return user.locked_until is not None and user.locked_until > now


def _by_email(email: str) -> StaffUser | None:
    return db.session.scalars(
        sa.select(StaffUser)
        .where(sa.func.lower(StaffUser.email) == email.strip().lower())
        .with_for_update()
    ).one_or_none()


def _locked_row(staff_id: int) -> StaffUser | None:
    return db.session.scalar(sa.select(StaffUser).where(StaffUser.id == staff_id).with_for_update())


def _count_failure(user: StaffUser, actor: Actor, action: str, after: dict, now: datetime) -> bool:
    """Count one failed attempt; lock the account at the limit. True if it is now locked."""
    user.failed_sign_ins += 1
    record_audit(
        actor,
        action,
        "staff_user",
        user.id,
        after={**after, "failed_sign_ins": user.failed_sign_ins},
    )
    if user.failed_sign_ins < MAX_FAILED_SIGN_INS:
        return False
    # A fresh count after the lock, so the next mistake does not relock at once.
    user.locked_until = now + LOCKOUT
    user.failed_sign_ins = 0
    record_audit(
        actor,
        "staff.locked",
        "staff_user",
        user.id,
        after={"locked_until": user.locked_until.isoformat()},
    )
    return True


# --- step 1: the password ----------------------------------------------------------


@use_case
def check_staff_password(
    email: str, password: str, *, source_ip: str | None = None
) -> StaffUser | None:
    """The active officer with this email and password, or None; every attempt is audited.

    Raises AccountLocked only when the password was right: a wrong password
    gets the same None whether the account exists, is locked or not, so
    nobody can learn which addresses have accounts by locking them.
    """
    user = _by_email(email)
    password_hash = user.password_hash if user is not None else _decoy_hash()
    password_ok = check_password_hash(password_hash, password)
    now = utcnow()
    if user is None or not user.active:
        # An unknown email has no actor to name; the system records the attempt.
        actor = (
            Actor(ActorType.SYSTEM, None, source_ip) if user is None else staff(user.id, source_ip)
        )
        record_audit(actor, "staff.sign_in_failed", "staff_user", None if user is None else user.id)
        db.session.commit()
        return None
    actor = staff(user.id, source_ip)
    if _locked(user, now):
        if password_ok:
            record_audit(actor, "staff.sign_in_refused_locked", "staff_user", user.id)
            db.session.commit()
            raise AccountLocked(user.locked_until)
        record_audit(actor, "staff.sign_in_failed", "staff_user", user.id)
        db.session.commit()
        return None
    if not password_ok:
        _count_failure(user, actor, "staff.sign_in_failed", {"step": "password"}, now)
        db.session.commit()
        return None
    # Not signed in yet, and the failure count stays: see the module docstring.
    record_audit(actor, "staff.password_accepted", "staff_user", user.id)
    db.session.commit()
    return user


@use_case
def record_throttled_sign_in(*, source_ip: str | None) -> None:
    """Audit a password attempt refused unchecked because its address has failed too
    often: the security team's sign of someone trying password after password."""
    actor = Actor(ActorType.SYSTEM, None, source_ip)
    record_audit(actor, "staff.sign_in_throttled", "staff_user", None)
    db.session.commit()


# --- step 2: the authenticator code ------------------------------------------------


def _half_signed_in(staff_id: int, session_version: int) -> StaffUser:
    """The person between the two steps, if nothing has changed since the password step."""
    user = _locked_row(staff_id)
    if user is None or not user.active or user.session_version != session_version:
        raise InvalidRequest(SIGN_IN_AGAIN)
    return user


@use_case
def begin_enrolment(
    staff_id: int, session_version: int, *, source_ip: str | None = None
) -> Enrolment:
    """The secret to put in an authenticator app, made on the first visit and kept until used."""
    user = _half_signed_in(staff_id, session_version)
    if user.totp_enrolled:
        raise InvalidRequest(SIGN_IN_AGAIN)
    if user.totp_secret is None:
        # Kept, not remade on every visit: reloading the page must not change
        # the QR code someone has already scanned.
        user.totp_secret = two_factor.new_secret()
        record_audit(
            staff(user.id, source_ip), "staff.two_factor_setup_started", "staff_user", user.id
        )
        db.session.commit()
    issuer = str(current_app.config["COUNCIL_NAME"])
    return Enrolment(
        user.totp_secret, two_factor.provisioning_uri(user.totp_secret, user.email, issuer)
    )


def _accept_code(user: StaffUser, code: str, actor: Actor, *, enrolling: bool) -> StaffUser:
    now = utcnow()
    if _locked(user, now):
        record_audit(actor, "staff.sign_in_refused_locked", "staff_user", user.id)
        db.session.commit()
        raise AccountLocked(user.locked_until)
    check = two_factor.check_code(user.totp_secret, code, time.time(), user.totp_last_step)
    if check.outcome != CodeOutcome.ACCEPTED:
        step = "enrolment" if enrolling else "code"
        if _count_failure(
            user, actor, "staff.two_factor_failed", {"step": step, "reason": check.outcome}, now
        ):
            db.session.commit()
            raise AccountLocked(user.locked_until)
        db.session.commit()
        raise CodeRefused(check.outcome)
    user.totp_last_step = check.step
    user.failed_sign_ins = 0
    user.locked_until = None
    if enrolling:
        user.totp_enrolled_at = now
        record_audit(actor, "staff.two_factor_enrolled", "staff_user", user.id)
    if user.must_change_password:
        # Not signed in yet: choose_new_password finishes it.
        record_audit(actor, "staff.code_accepted_password_change_due", "staff_user", user.id)
    else:
        user.last_signed_in_at = now
        record_audit(actor, "staff.signed_in", "staff_user", user.id)
    db.session.commit()
    return user


@use_case
def confirm_enrolment(
    staff_id: int, session_version: int, code: str, *, source_ip: str | None = None
) -> StaffUser:
    """Finish setting up the app with a code it shows; that also signs the person in."""
    user = _half_signed_in(staff_id, session_version)
    if user.totp_enrolled or user.totp_secret is None:
        raise InvalidRequest(SIGN_IN_AGAIN)
    return _accept_code(user, code, staff(user.id, source_ip), enrolling=True)


@use_case
def verify_code(
    staff_id: int, session_version: int, code: str, *, source_ip: str | None = None
) -> StaffUser:
    """Sign in someone whose password was right, with the current code from their app."""
    user = _half_signed_in(staff_id, session_version)
    if not user.totp_enrolled:
        raise InvalidRequest(SIGN_IN_AGAIN)
    return _accept_code(user, code, staff(user.id, source_ip), enrolling=False)


# --- step 3, after a temporary password: choosing one's own ----------------------

SAME_AS_TEMPORARY = "Choose a password different from the temporary one you were sent"


@use_case
def choose_new_password(
    staff_id: int, session_version: int, password: str, *, source_ip: str | None = None
) -> StaffUser:
    """Replace a temporary password with one the person chose; that signs them in.

    Only for someone who has just given the temporary password and a code from
    their app (the view checks the code step; this checks the flag and version).
    """
    user = _half_signed_in(staff_id, session_version)
    if not user.must_change_password or not user.totp_enrolled:
        raise InvalidRequest(SIGN_IN_AGAIN)
    problem = password_problem(password)
    if problem:
        raise InvalidRequest(problem)
    if check_password_hash(user.password_hash, password):
        raise InvalidRequest(SAME_AS_TEMPORARY)
    actor = staff(user.id, source_ip)
    user.password_hash = generate_password_hash(password)
    user.must_change_password = False
    user.last_signed_in_at = utcnow()
    record_audit(actor, "staff.password_changed", "staff_user", user.id)
    record_audit(actor, "staff.signed_in", "staff_user", user.id)
    db.session.commit()
    return user


# --- signing out -------------------------------------------------------------------


@use_case
def record_sign_out(
    staff_id: int, *, source_ip: str | None = None, session_token: str | None = None
) -> None:
    """End this browser's session record for good and audit that someone signed out."""
    web_sessions.end(WebSessionKind.STAFF, session_token, WebSessionEnd.SIGNED_OUT)
    record_audit(staff(staff_id, source_ip), "staff.signed_out", "staff_user", staff_id)
    db.session.commit()


@use_case
def sign_out_everywhere(staff_id: int, *, source_ip: str | None = None) -> None:
    """End every session this person has, on every device."""
    user = _locked_row(staff_id)
    if user is None:
        return
    before = user.session_version
    user.session_version += 1
    web_sessions.end_all(WebSessionKind.STAFF, staff_id, WebSessionEnd.SIGNED_OUT_EVERYWHERE)
    record_audit(
        staff(staff_id, source_ip),
        "staff.signed_out_everywhere",
        "staff_user",
        staff_id,
        before={"session_version": before},
        after={"session_version": user.session_version},
    )
    db.session.commit()
