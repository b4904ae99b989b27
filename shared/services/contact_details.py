"""Changing how we contact a debtor: email, phones, preferred channel and consent.

One use case, one transaction: the change, a timeline entry naming what
changed and an audit row with the values before and after.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa

from shared.extensions import db
from shared.models import ActorType, Channel, DebtorAccount
from shared.models.base import utcnow
from shared.services.actors import Actor
from shared.services.errors import InvalidRequest, NotFound
from shared.services.history import record_audit, record_timeline
from shared.services.unit_of_work import use_case

# What each field is called in the timeline, in the order it is listed.
FIELD_WORDS = {
    "email": "email",
    "mobile_phone": "mobile",
    "other_phone": "other phone",
    "preferred_channel": "preferred contact method",
    "consent_email": "email consent",
    "consent_sms": "text message consent",
}

NEEDS_EMAIL = "Enter an email address if you want us to contact you by email"
NEEDS_MOBILE = "Enter a mobile phone number if you want us to contact you by text message"


class PhoneNumberError(ValueError):
    """Not a UK phone number; the message can be shown beside the field."""


_PHONE_PUNCTUATION = re.compile(r"[\s\-().]")


def normalise_uk_phone(text: str, *, mobile: bool = False) -> str:
    """A UK number as we store it ("+44 7700-900123" -> "07700 900123").

    Accepts +44, 0044 or 0 prefixes and common punctuation. Mobiles are 07
    numbers; other numbers may be any 11-digit UK number.
    """
    digits = _PHONE_PUNCTUATION.sub("", text or "")
    for international in ("+44", "0044"):
        if digits.startswith(international):
            # "+44 (0)20 ..." keeps its trunk zero once the brackets are gone.
            digits = "0" + digits[len(international) :].removeprefix("0")
    if not re.fullmatch(r"0\d{10}", digits):
        example = "07700 900 982" if mobile else "01632 960 001"
        what = "mobile phone number" if mobile else "phone number"
        raise PhoneNumberError(f"Enter a UK {what}, like {example}")
    if mobile and not digits.startswith("07"):
        raise PhoneNumberError("Enter a UK mobile phone number, like 07700 900 982")
    return _grouped(digits)


def _grouped(digits: str) -> str:
    # The groupings people expect to see: 020 7946 0123, 0121 496 0123, 01632 960123.
    if digits.startswith("02"):
        return f"{digits[:3]} {digits[3:7]} {digits[7:]}"
    if re.match(r"01\d1|011", digits):
        return f"{digits[:4]} {digits[4:7]} {digits[7:]}"
    return f"{digits[:5]} {digits[5:]}"


@dataclass(frozen=True)
class ContactChanges:
    email: str | None
    mobile_phone: str | None
    other_phone: str | None
    preferred_channel: Channel
    consent_email: bool
    consent_sms: bool


def check_channel(changes: ContactChanges) -> None:
    """Refuse a preferred channel we would have no way to use."""
    if changes.preferred_channel == Channel.EMAIL and not changes.email:
        raise InvalidRequest(NEEDS_EMAIL)
    if changes.preferred_channel == Channel.SMS and not changes.mobile_phone:
        raise InvalidRequest(NEEDS_MOBILE)


def _value(value):
    return value.value if isinstance(value, Channel) else value


@use_case
def update_contact_details(account_id: int, changes: ContactChanges, actor: Actor) -> list[str]:
    """Save new contact details; return the names of the fields that changed."""
    check_channel(changes)
    account = db.session.execute(
        sa.select(DebtorAccount).where(DebtorAccount.id == account_id).with_for_update()
    ).scalar_one_or_none()
    if account is None:
        raise NotFound(f"No debtor account {account_id}")
    wanted = {
        "email": changes.email or None,
        "mobile_phone": changes.mobile_phone or None,
        "other_phone": changes.other_phone or None,
        "preferred_channel": Channel(changes.preferred_channel),
        "consent_email": bool(changes.consent_email),
        "consent_sms": bool(changes.consent_sms),
    }
    changed = [name for name, value in wanted.items() if getattr(account, name) != value]
    if not changed:
        db.session.rollback()  # releases the row lock; nothing to record
        return []
    before = {name: _value(getattr(account, name)) for name in changed}
    for name in changed:
        setattr(account, name, wanted[name])
    if {"consent_email", "consent_sms"} & set(changed):
        account.consent_updated_at = utcnow()
    words = ", ".join(FIELD_WORDS[name] for name in changed)
    where = " in the portal" if actor.type == ActorType.PORTAL_USER else ""
    record_timeline(account.id, actor, f"Contact details updated{where}: {words}")
    record_audit(
        actor,
        "account.contact_details_updated",
        "debtor_account",
        account.id,
        account_id=account.id,
        before=before,
        after={name: _value(wanted[name]) for name in changed},
    )
    db.session.commit()
    return changed
