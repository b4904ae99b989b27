"""Changing how we contact a debtor: email, phones, preferred channel, consent and
address, by the debtor in the portal or by an officer on their behalf.

One use case, one transaction: the change, a timeline entry naming what
changed (and, from an officer, how the debtor asked for it) and an audit row
with the values before and after.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa

from shared.extensions import db
from shared.models import ActorType, Address, Channel, DebtorAccount, postcode_key
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
    "address": "address",
}

NEEDS_EMAIL = "Enter an email address if you want us to contact you by email"
NEEDS_MOBILE = "Enter a mobile phone number if you want us to contact you by text message"
NEEDS_NOTE = "Enter how the debtor asked for the change"
MAX_NOTE = 2000


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
class AddressChange:
    line1: str
    line2: str | None
    town: str
    county: str | None
    postcode: str

    def normalised(self) -> AddressChange:
        """Trimmed, blanks as None, the postcode in capitals with its space ("SW1A 1AA")."""

        def text(value):
            return " ".join((value or "").split()) or None

        key = postcode_key(self.postcode)
        return AddressChange(
            line1=text(self.line1) or "",
            line2=text(self.line2),
            town=text(self.town) or "",
            county=text(self.county),
            postcode=f"{key[:-3]} {key[-3:]}" if len(key) > 3 else key,
        )

    def words(self) -> str:
        parts = (self.line1, self.line2, self.town, self.county, self.postcode)
        return ", ".join(p for p in parts if p)


@dataclass(frozen=True)
class ContactChanges:
    email: str | None
    mobile_phone: str | None
    other_phone: str | None
    preferred_channel: Channel
    consent_email: bool
    consent_sms: bool
    # None leaves the address as it is (the portal does not change addresses).
    address: AddressChange | None = None


@dataclass(frozen=True)
class ContactDetails:
    """What we hold now, in the shape a contact details form is filled from."""

    email: str | None
    mobile_phone: str | None
    other_phone: str | None
    preferred_channel: Channel
    consent_email: bool
    consent_sms: bool
    address: AddressChange | None


def _primary_address(account_id: int) -> Address | None:
    return db.session.scalar(
        sa.select(Address)
        .where(Address.account_id == account_id)
        .order_by(Address.is_primary.desc(), Address.id)
        .limit(1)
    )


def _as_change(address: Address | None) -> AddressChange | None:
    if address is None:
        return None
    return AddressChange(
        address.line1, address.line2, address.town, address.county, address.postcode
    ).normalised()


def current_details(account_id: int) -> ContactDetails | None:
    """The account's contact details and primary address (None: no such account)."""
    account = db.session.get(DebtorAccount, account_id)
    if account is None:
        return None
    return ContactDetails(
        email=account.email,
        mobile_phone=account.mobile_phone,
        other_phone=account.other_phone,
        preferred_channel=Channel(account.preferred_channel),
        consent_email=bool(account.consent_email),
        consent_sms=bool(account.consent_sms),
        address=_as_change(_primary_address(account_id)),
    )


def check_channel(changes: ContactChanges) -> None:
    """Refuse a preferred channel we would have no way to use."""
    if changes.preferred_channel == Channel.EMAIL and not changes.email:
        raise InvalidRequest(NEEDS_EMAIL)
    if changes.preferred_channel == Channel.SMS and not changes.mobile_phone:
        raise InvalidRequest(NEEDS_MOBILE)


def _check_address(address: AddressChange) -> None:
    if not (address.line1 and address.town and address.postcode):
        raise InvalidRequest("An address needs its first line, town and postcode")


def _value(value):
    return value.value if isinstance(value, Channel) else value


def apply_contact_changes(
    account: DebtorAccount, changes: ContactChanges
) -> tuple[list[str], dict, dict]:
    """Set the contact details that differ on a (locked) account, in the caller's
    transaction: the names of the fields changed, in FIELD_WORDS' order, and their
    values before and after for the audit row (the address in words).

    Checks nothing (the caller has); a new address becomes the primary one and the
    old one is kept, no longer primary. Shared with the officer's edit of a whole
    account (shared/services/debtor_accounts.py).
    """
    new_address = changes.address.normalised() if changes.address is not None else None
    wanted = {
        "email": changes.email or None,
        "mobile_phone": changes.mobile_phone or None,
        "other_phone": changes.other_phone or None,
        "preferred_channel": Channel(changes.preferred_channel),
        "consent_email": bool(changes.consent_email),
        "consent_sms": bool(changes.consent_sms),
    }
    changed = [name for name, value in wanted.items() if getattr(account, name) != value]
    old_address = _primary_address(account.id)
    was = _as_change(old_address)
    if new_address is not None and new_address != was:
        changed.append("address")
    if not changed:
        return [], {}, {}
    before = {name: _value(getattr(account, name)) for name in changed if name in wanted}
    after = {name: _value(wanted[name]) for name in changed if name in wanted}
    for name in after:
        setattr(account, name, wanted[name])
    if {"consent_email", "consent_sms"} & set(changed):
        account.consent_updated_at = utcnow()
    if "address" in changed:
        before["address"] = was.words() if was is not None else None
        after["address"] = new_address.words()
        if old_address is not None:
            old_address.is_primary = False
        db.session.add(
            Address(
                account_id=account.id,
                line1=new_address.line1,
                line2=new_address.line2,
                town=new_address.town,
                county=new_address.county,
                postcode=new_address.postcode,
                postcode_key=postcode_key(new_address.postcode),
                is_primary=True,
            )
        )
    return changed, before, after


@use_case
def update_contact_details(
    account_id: int, changes: ContactChanges, actor: Actor, *, note: str | None = None
) -> list[str]:
    """Save new contact details; return the names of the fields that changed.

    A member of staff changes them on the debtor's behalf and must say how the
    debtor asked (`note`: "phone call from the debtor"), which goes on the
    timeline and in the audit row. A new address becomes the primary one; the
    old one is kept, no longer primary, as the history of where we wrote.
    """
    check_channel(changes)
    note = (note or "").strip() or None
    if actor.type == ActorType.STAFF and note is None:
        raise InvalidRequest(NEEDS_NOTE)
    if note is not None and len(note) > MAX_NOTE:
        raise InvalidRequest(f"The note must be {MAX_NOTE:,} characters or fewer")
    new_address = changes.address.normalised() if changes.address is not None else None
    if new_address is not None:
        _check_address(new_address)
    account = db.session.execute(
        sa.select(DebtorAccount).where(DebtorAccount.id == account_id).with_for_update()
    ).scalar_one_or_none()
    if account is None:
        raise NotFound(f"No debtor account {account_id}")
    changed, before, after = apply_contact_changes(account, changes)
    if not changed:
        db.session.rollback()  # releases the row lock; nothing to record
        return []
    words = ", ".join(FIELD_WORDS[name] for name in changed)
    where = " in the portal" if actor.type == ActorType.PORTAL_USER else ""
    record_timeline(account.id, actor, f"Contact details updated{where}: {words}", detail=note)
    if note is not None:
        after["request_note"] = note
    record_audit(
        actor,
        "account.contact_details_updated",
        "debtor_account",
        account.id,
        account_id=account.id,
        before=before,
        after=after,
    )
    db.session.commit()
    return changed
