"""Portal logins: proving who you are with a code sent to a contact point already on
file, creating a login, linking more debtor accounts to it, signing in and
resetting a forgotten password.

A login only ever sees the debtor accounts it has linked, and a link is only
made after someone entered a code sent to that account's own email address or
mobile number. Messages are written to the outbox in the same transaction as
the change that caused them; the dispatcher delivers them after commit.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.security import check_password_hash, generate_password_hash

from shared.extensions import db
from shared.models import (
    ActorType,
    Channel,
    CodePurpose,
    DebtorAccount,
    OutboxChannel,
    OutboxMessage,
    PortalOneTimeCode,
    PortalRelationship,
    PortalUser,
    PortalUserAccount,
    WebSessionEnd,
    WebSessionKind,
    postcode_key,
)
from shared.models.base import utcnow
from shared.services import reads, web_sessions
from shared.services.actors import Actor, portal_user
from shared.services.bill_lookup import normalise_reference
from shared.services.errors import Conflict, InvalidRequest, ServiceError
from shared.services.history import record_audit, record_timeline
from shared.services.unit_of_work import use_case

CODE_LIFETIME = timedelta(minutes=15)
MAX_WRONG_CODES = 5
# After the right code, how long the person has to finish the journey.
VERIFIED_CODE_LIFETIME = timedelta(minutes=30)
MAX_FAILED_SIGN_INS = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256
VERIFY_EMAIL_MAX_AGE = 24 * 60 * 60
RESET_PASSWORD_MAX_AGE = 60 * 60

# The paths the emailed links open (portal/auth.py serves them).
VERIFY_EMAIL_PATH = "/account/verify-email/"
RESET_PASSWORD_PATH = "/reset-password/"

_VERIFY_SALT = "portal-verify-email"
_RESET_SALT = "portal-reset-password"

# The passwords people try first; with the length rule this stops the obvious ones.
COMMON_PASSWORDS = frozenset(
    {
        "password123",
        "password1234",
        "passw0rd123",
        "1234567890",
        "12345678910",
        "0123456789",
        "qwertyuiop",
        "qwerty12345",
        "qwerty123456",
        "1q2w3e4r5t",
        "iloveyou123",
        "football123",
        "letmein1234",
        "welcome123",
        "abcdefghij",
        "abc1234567",
        "trustno1234",
        "monkey12345",
        "sunshine123",
        "princess123",
        "changeme123",
        "administrator",
        "borsetshire",
        "council123",
        "councilpassword",
    }
)

CHANNEL_WORDS = {Channel.EMAIL: "email", Channel.SMS: "text message"}


class CodeCheck(enum.StrEnum):
    """What check_code found; only CORRECT lets the journey go on."""

    CORRECT = "correct"
    WRONG = "wrong"
    EXPIRED = "expired"
    TOO_MANY_TRIES = "too_many_tries"


class AccountLocked(ServiceError):
    """Too many wrong passwords: the login refuses every sign-in until `until`."""

    def __init__(self, until: datetime) -> None:
        super().__init__("Your account is locked. Wait 15 minutes and try again")
        self.until = until


@dataclass(frozen=True)
class ContactPoint:
    """Somewhere on file a code can go, as the person is shown it."""

    channel: Channel
    masked: str


@dataclass(frozen=True)
class Candidate:
    """A debtor account matched by reference and postcode, and where a code could go."""

    account_id: int
    contact_points: list[ContactPoint]


# --- rules (pure) -------------------------------------------------------------------


def mask_email(email: str) -> str:
    """Enough to recognise your own address, not enough to learn someone else's."""
    local, _, domain = email.strip().partition("@")
    return f"{local[:1]}***@{domain}"


def mask_mobile(number: str) -> str:
    """A UK mobile as 07*** ***123, whether stored as 07... or +447..."""
    digits = re.sub(r"\D", "", number)
    if digits.startswith("44"):
        digits = "0" + digits[2:]
    return f"{digits[:2]}*** ***{digits[-3:]}"


def password_problem(password: str) -> str | None:
    """Why a new password will not do, as a GOV.UK error message, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Password must be {MIN_PASSWORD_LENGTH} characters or more"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Password must be {MAX_PASSWORD_LENGTH} characters or fewer"
    if len(set(password)) == 1 or password.strip().lower() in COMMON_PASSWORDS:
        return "Choose a password that is harder to guess"
    return None


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def is_local_path(target: str | None) -> bool:
    """Whether `target` stays on this site (a path, not //host or a full URL)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return False
    return not any(ch in target for ch in "\r\n\t\\")


# --- finding the account and sending a code ------------------------------------------


def start_link(reference: str, postcode: str) -> Candidate | None:
    """The account with this reference, if the postcode matches; None for any mismatch."""
    key = normalise_reference(reference)
    wanted = postcode_key(postcode)
    if not key or not wanted:
        return None
    account = db.session.scalar(sa.select(DebtorAccount).where(DebtorAccount.reference == key))
    if account is None:
        return None
    address = account.primary_address
    if address is None or address.postcode_key != wanted:
        return None
    return Candidate(account.id, contact_points(account.id))


def contact_points(account_id: int) -> list[ContactPoint]:
    """The email address and mobile number on file for the account, masked."""
    account = db.session.get(DebtorAccount, account_id)
    points = []
    if account is not None and account.email:
        points.append(ContactPoint(Channel.EMAIL, mask_email(account.email)))
    if account is not None and account.mobile_phone:
        points.append(ContactPoint(Channel.SMS, mask_mobile(account.mobile_phone)))
    return points


def _code_hash(salt: str, code: str) -> str:
    # Keyed with the app secret: a copy of the table alone is not enough to
    # try all million codes offline.
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, f"{salt}:{code}".encode(), hashlib.sha256).hexdigest()


def _actor(portal_user_id: int | None, source_ip: str | None) -> Actor:
    if portal_user_id is None:
        return Actor(ActorType.SYSTEM, None, source_ip)
    return portal_user(portal_user_id, source_ip)


@use_case
def send_code(
    account_id: int,
    channel: Channel,
    purpose: CodePurpose,
    *,
    portal_user_id: int | None = None,
    source_ip: str | None = None,
) -> int:
    """Make a 6-digit code and put it in the outbox to the account's email or mobile."""
    account = db.session.get(DebtorAccount, account_id)
    if account is None:
        raise InvalidRequest("There is no such account")
    recipient = {Channel.EMAIL: account.email, Channel.SMS: account.mobile_phone}.get(channel)
    if not recipient:
        raise InvalidRequest("Select where we should send a security code")
    code = f"{secrets.randbelow(1_000_000):06d}"
    salt = secrets.token_hex(16)
    row = PortalOneTimeCode(
        account_id=account_id,
        portal_user_id=portal_user_id,
        purpose=purpose,
        channel=channel,
        salt=salt,
        code_hash=_code_hash(salt, code),
        expires_at=utcnow() + CODE_LIFETIME,
    )
    db.session.add(row)
    db.session.flush()
    minutes = int(CODE_LIFETIME.total_seconds() // 60)
    council = current_app.config["COUNCIL_NAME"]
    if channel == Channel.EMAIL:
        message = OutboxMessage(
            account_id=account_id,
            channel=OutboxChannel.EMAIL,
            template="portal_one_time_code",
            recipient=recipient,
            subject=f"Your {council} security code",
            body=(
                f"Your security code is {code}\n\n"
                f"It expires in {minutes} minutes. If you did not ask for it, "
                f"ignore this email and phone us on {current_app.config['COUNCIL_PHONE']}."
            ),
        )
    else:
        message = OutboxMessage(
            account_id=account_id,
            channel=OutboxChannel.SMS,
            template="portal_one_time_code",
            recipient=recipient,
            body=f"{code} is your {council} security code. It expires in {minutes} minutes.",
        )
    message.dedupe_key = f"portal-code:{row.id}"
    db.session.add(message)
    db.session.flush()
    actor = _actor(portal_user_id, source_ip)
    event = record_timeline(account_id, actor, f"Security code sent by {CHANNEL_WORDS[channel]}")
    event.outbox_message_id = message.id
    record_audit(
        actor,
        "portal.code_sent",
        "portal_one_time_code",
        row.id,
        account_id=account_id,
        after={"channel": channel.value, "purpose": purpose.value},
    )
    db.session.commit()
    return row.id


@use_case
def check_code(code_id: int, code: str, *, source_ip: str | None = None) -> str:
    """Compare a typed code with the stored hash; a CodeCheck value says how it went."""
    row = db.session.scalar(
        sa.select(PortalOneTimeCode).where(PortalOneTimeCode.id == code_id).with_for_update()
    )
    if row is None or row.used_at is not None:
        return CodeCheck.EXPIRED
    if row.verified_at is not None:
        return CodeCheck.CORRECT
    if row.wrong_attempts >= MAX_WRONG_CODES:
        return CodeCheck.TOO_MANY_TRIES
    if row.expires_at <= utcnow():
        return CodeCheck.EXPIRED
    actor = _actor(row.portal_user_id, source_ip)
    if hmac.compare_digest(row.code_hash, _code_hash(row.salt, code.strip())):
        row.verified_at = utcnow()
        record_audit(
            actor, "portal.code_verified", "portal_one_time_code", row.id, account_id=row.account_id
        )
        db.session.commit()
        return CodeCheck.CORRECT
    row.wrong_attempts += 1
    record_audit(
        actor,
        "portal.code_rejected",
        "portal_one_time_code",
        row.id,
        account_id=row.account_id,
        after={"wrong_attempts": row.wrong_attempts},
    )
    if row.wrong_attempts >= MAX_WRONG_CODES:
        record_timeline(
            row.account_id, actor, "Security code entered wrongly 5 times and cancelled"
        )
        db.session.commit()
        return CodeCheck.TOO_MANY_TRIES
    db.session.commit()
    return CodeCheck.WRONG


def _spend_code(code_id: int, purpose: CodePurpose, portal_user_id: int | None):
    row = db.session.scalar(
        sa.select(PortalOneTimeCode).where(PortalOneTimeCode.id == code_id).with_for_update()
    )
    if (
        row is None
        or row.purpose != purpose
        or row.portal_user_id != portal_user_id
        or row.verified_at is None
        or row.used_at is not None
        or row.verified_at + VERIFIED_CODE_LIFETIME <= utcnow()
    ):
        raise InvalidRequest("Your security code has expired. Start again")
    row.used_at = utcnow()
    return row


# --- creating a login and linking accounts -------------------------------------------


def _user_by_email(email: str, *, lock: bool = False) -> PortalUser | None:
    query = sa.select(PortalUser).where(PortalUser.email == normalise_email(email))
    if lock:
        query = query.with_for_update()
    return db.session.scalar(query)


def email_in_use(email: str) -> bool:
    """Whether a login already has this email address."""
    return _user_by_email(email) is not None


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(str(current_app.config["SECRET_KEY"]), salt=salt)


def _link(path: str, token: str) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL']}{path}{token}"


def _send_verify_email(user: PortalUser, account_id: int | None) -> None:
    token = _serializer(_VERIFY_SALT).dumps({"u": user.id, "e": user.email})
    db.session.add(
        OutboxMessage(
            account_id=account_id,
            channel=OutboxChannel.EMAIL,
            template="portal_verify_email",
            recipient=user.email,
            subject="Confirm your email address",
            body=(
                "Confirm the email address for your account by opening this link:\n\n"
                f"{_link(VERIFY_EMAIL_PATH, token)}\n\nThe link works for 24 hours."
            ),
            dedupe_key=f"portal-verify-email:{user.id}:{secrets.token_hex(8)}",
        )
    )


@use_case
def create_login(
    code_id: int, email: str, password: str, *, source_ip: str | None = None
) -> PortalUser:
    """Make a login for the person who entered the code, linked to that debtor account."""
    problem = password_problem(password)
    if problem:
        raise InvalidRequest(problem)
    code = _spend_code(code_id, CodePurpose.CREATE_LOGIN, None)
    _refuse_if_deceased(code.account_id)
    if email_in_use(email):
        raise Conflict("You already have an account with this email address. Sign in instead")
    user = PortalUser(email=normalise_email(email), password_hash=generate_password_hash(password))
    db.session.add(user)
    try:
        db.session.flush()
    except sa.exc.IntegrityError:
        # Someone made a login with this email between the check and the insert.
        raise Conflict(
            "You already have an account with this email address. Sign in instead"
        ) from None
    link = PortalUserAccount(
        portal_user_id=user.id,
        account_id=code.account_id,
        relationship_to_debtor=PortalRelationship.SELF,
        verified_via=code.channel,
    )
    db.session.add(link)
    _send_verify_email(user, code.account_id)
    actor = portal_user(user.id, source_ip)
    record_timeline(code.account_id, actor, "Portal login created")
    record_audit(
        actor,
        "portal.login_created",
        "portal_user",
        user.id,
        account_id=code.account_id,
        after={"email": user.email, "verified_via": code.channel.value},
    )
    db.session.commit()
    return user


@use_case
def link_account(
    code_id: int,
    portal_user_id: int,
    relationship: PortalRelationship,
    *,
    source_ip: str | None = None,
) -> PortalUserAccount:
    """Let a signed-in login see the debtor account it proved access to with the code."""
    code = _spend_code(code_id, CodePurpose.LINK_ACCOUNT, portal_user_id)
    _refuse_if_deceased(code.account_id)
    if code.account_id in linked_account_ids(portal_user_id):
        raise Conflict("This account is already linked to your login")
    link = PortalUserAccount(
        portal_user_id=portal_user_id,
        account_id=code.account_id,
        relationship_to_debtor=PortalRelationship(relationship),
        verified_via=code.channel,
    )
    db.session.add(link)
    db.session.flush()
    actor = portal_user(portal_user_id, source_ip)
    wording = relationship_wording(link.relationship_to_debtor)
    record_timeline(code.account_id, actor, f"Portal login linked to this account ({wording})")
    record_audit(
        actor,
        "portal.account_linked",
        "portal_user_account",
        link.id,
        account_id=code.account_id,
        after={
            "portal_user_id": portal_user_id,
            "relationship": link.relationship_to_debtor.value,
            "verified_via": code.channel.value,
        },
    )
    db.session.commit()
    return link


def _refuse_if_deceased(account_id: int) -> None:
    """Nobody gains online access to a deceased debtor's account (shared/services/
    hold_effects.py ends what there was): the estate is dealt with by an officer."""
    if db.session.scalar(sa.select(DebtorAccount.deceased).where(DebtorAccount.id == account_id)):
        raise InvalidRequest(
            "We cannot give online access to this account. Please contact us about it"
        )


def relationship_wording(relationship: PortalRelationship) -> str:
    return {
        PortalRelationship.SELF: "their own account",
        PortalRelationship.POWER_OF_ATTORNEY: "power of attorney",
        PortalRelationship.DEPUTY: "deputy",
        PortalRelationship.APPOINTEE: "appointee",
        PortalRelationship.OTHER: "other",
    }[relationship]


def linked_account_ids(portal_user_id: int) -> list[int]:
    """The debtor accounts this login may see, in the order they were linked."""
    return list(
        db.session.scalars(
            sa.select(PortalUserAccount.account_id)
            .where(
                PortalUserAccount.portal_user_id == portal_user_id,
                PortalUserAccount.access_ended_at.is_(None),  # ended when the debtor died
            )
            .order_by(PortalUserAccount.id)
        )
    )


# --- signing in ----------------------------------------------------------------------


@cache
def _decoy_hash() -> str:
    # Same method and cost as real hashes, so an unknown email takes as long
    # to refuse as a wrong password (no finding out who has a login by timing).
    return generate_password_hash("decoy password that matches nobody")


@use_case
def authenticate(email: str, password: str, source_ip: str | None = None) -> PortalUser | None:
    """The login with this email and password, or None; raises AccountLocked when locked."""
    user = _user_by_email(email, lock=True)
    password_ok = check_password_hash(
        user.password_hash if user is not None else _decoy_hash(), password
    )
    now = utcnow()
    if user is None:
        record_audit(
            Actor(ActorType.SYSTEM, None, source_ip), "portal.sign_in_failed", "portal_user", None
        )
        db.session.commit()
        return None
    actor = portal_user(user.id, source_ip)
    if user.locked_until is not None and user.locked_until > now:
        record_audit(actor, "portal.sign_in_refused_locked", "portal_user", user.id)
        db.session.commit()
        raise AccountLocked(user.locked_until)
    if not password_ok:
        user.failed_sign_ins += 1
        record_audit(
            actor,
            "portal.sign_in_failed",
            "portal_user",
            user.id,
            after={"failed_sign_ins": user.failed_sign_ins},
        )
        if user.failed_sign_ins >= MAX_FAILED_SIGN_INS:
            # A fresh count after the lock, so the next mistake does not relock at once.
            user.locked_until = now + LOCKOUT
            user.failed_sign_ins = 0
            record_audit(
                actor,
                "portal.locked",
                "portal_user",
                user.id,
                after={"locked_until": user.locked_until.isoformat()},
            )
            db.session.commit()
            raise AccountLocked(user.locked_until)
        db.session.commit()
        return None
    user.failed_sign_ins = 0
    user.locked_until = None
    user.last_signed_in_at = now
    record_audit(actor, "portal.signed_in", "portal_user", user.id)
    db.session.commit()
    return user


@use_case
def record_sign_out(
    portal_user_id: int, *, source_ip: str | None = None, session_token: str | None = None
) -> None:
    """End this browser's session record for good and audit that someone signed out."""
    web_sessions.end(WebSessionKind.PORTAL, session_token, WebSessionEnd.SIGNED_OUT)
    actor = portal_user(portal_user_id, source_ip)
    record_audit(actor, "portal.signed_out", "portal_user", portal_user_id)
    db.session.commit()


# --- email verification and forgotten passwords --------------------------------------


@use_case
def verify_email(token: str, *, source_ip: str | None = None) -> PortalUser | None:
    """Mark the login's email as confirmed if the link is genuine, recent and still current."""
    try:
        data = _serializer(_VERIFY_SALT).loads(token, max_age=VERIFY_EMAIL_MAX_AGE)
    except BadSignature:  # SignatureExpired is a BadSignature too
        return None
    user = db.session.get(PortalUser, data.get("u")) if isinstance(data, dict) else None
    if user is None or user.email != data.get("e"):
        return None
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
        record_audit(
            portal_user(user.id, source_ip), "portal.email_verified", "portal_user", user.id
        )
        db.session.commit()
    return user


def _fingerprint(password_hash: str) -> str:
    # Changes with every new password, so a reset link works once.
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def password_stamp(user: PortalUser) -> str:
    """Kept in a signed-in session: a new password gives a new stamp, which ends
    every session signed in with the old one (the hash itself never leaves us)."""
    return _stamp(user.password_hash)


def _stamp(password_hash: str) -> str:
    return _fingerprint(password_hash)[:8]


@dataclass(frozen=True)
class SignedInLogin:
    """Who a signed-in request belongs to: all a page needs of the login."""

    id: int
    email: str
    password_stamp: str


_SIGNED_IN_LOGIN = sa.select(
    PortalUser.__table__.c.email, PortalUser.__table__.c.password_hash
).where(PortalUser.__table__.c.id == sa.bindparam("user_id"))


def signed_in_login(user_id: int) -> SignedInLogin | None:
    """The login behind a session, read on every signed-in page: two columns by primary
    key on the session's connection, not a whole ORM object through the identity map."""
    row = reads.rows(_SIGNED_IN_LOGIN, {"user_id": user_id}).one_or_none()
    if row is None:
        return None
    return SignedInLogin(user_id, row.email, _stamp(row.password_hash))


@use_case
def request_password_reset(email: str, *, source_ip: str | None = None) -> None:
    """Email a reset link if a login has this address; say nothing either way."""
    user = _user_by_email(email)
    if user is None:
        record_audit(
            Actor(ActorType.SYSTEM, None, source_ip),
            "portal.password_reset_requested",
            "portal_user",
            None,
        )
        db.session.commit()
        return
    token = _serializer(_RESET_SALT).dumps({"u": user.id, "f": _fingerprint(user.password_hash)})
    db.session.add(
        OutboxMessage(
            channel=OutboxChannel.EMAIL,
            template="portal_reset_password",
            recipient=user.email,
            subject="Reset your password",
            body=(
                "Someone asked to reset the password for your account. To choose a new one, "
                f"open this link:\n\n{_link(RESET_PASSWORD_PATH, token)}\n\n"
                "The link works once, for 1 hour. If you did not ask, ignore this email."
            ),
            dedupe_key=f"portal-reset:{user.id}:{secrets.token_hex(8)}",
        )
    )
    record_audit(
        portal_user(user.id, source_ip), "portal.password_reset_requested", "portal_user", user.id
    )
    db.session.commit()


def _user_for_reset(token: str) -> PortalUser | None:
    try:
        data = _serializer(_RESET_SALT).loads(token, max_age=RESET_PASSWORD_MAX_AGE)
    except BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    user = db.session.get(PortalUser, data.get("u"))
    if user is None or not hmac.compare_digest(
        _fingerprint(user.password_hash), str(data.get("f"))
    ):
        return None
    return user


def reset_link_valid(token: str) -> bool:
    """Whether a reset link can still be used (checked before showing its form)."""
    return _user_for_reset(token) is not None


@use_case
def reset_password(token: str, password: str, *, source_ip: str | None = None) -> PortalUser:
    """Set a new password from a reset link; the link stops working once used."""
    problem = password_problem(password)
    if problem:
        raise InvalidRequest(problem)
    user = _user_for_reset(token)
    if user is None:
        raise InvalidRequest("The link has expired or has already been used")
    user.password_hash = generate_password_hash(password)
    user.failed_sign_ins = 0
    user.locked_until = None
    if user.email_verified_at is None:
        # The link reached them, so the address works.
        user.email_verified_at = utcnow()
    # Whoever the person feared knew the old password is signed out everywhere.
    web_sessions.end_all(WebSessionKind.PORTAL, user.id, WebSessionEnd.PASSWORD_CHANGED)
    record_audit(portal_user(user.id, source_ip), "portal.password_reset", "portal_user", user.id)
    db.session.commit()
    return user
