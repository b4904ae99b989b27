"""Officers create debtor accounts, after seeing the accounts that look like the same
debtor, and edit an account's details.

Creating: the likely duplicates (shared.domain.debtor_details says what counts and
why) are found with one set-based query over indexed keys (names and organisation
names at the postcode, email in lower case, phone digits, company number, finance
customer id), so the check stays quick however many accounts there are. The officer
must have seen every one: `create_account` takes the ids they were shown and refuses
(UnacknowledgedDuplicates, with the list as it is now) if any it finds was not among
them. The check runs after the account number's row lock is taken, so two officers
creating the same debtor at once are serialised and the second sees the first.

Editing: names, the kind's own fields, the finance system's customer id, and the
contact details and address as shared/services/contact_details.py changes them (a
new address becomes the primary one; the old is kept). One use case, one commit: the
change, a timeline entry naming what changed (not the values) and an audit row with
the values before and after.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass, replace

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from shared import clock
from shared.domain import debtor_details as rules
from shared.domain.debtor_details import DebtorDetails
from shared.domain.names import display_name
from shared.extensions import db
from shared.models import ActorType, Address, Channel, DebtorAccount, DebtorKind, postcode_key
from shared.services import contact_details
from shared.services.actors import Actor
from shared.services.contact_details import (
    NEEDS_EMAIL,
    NEEDS_MOBILE,
    AddressChange,
    ContactChanges,
    PhoneNumberError,
    normalise_uk_phone,
)
from shared.services.errors import Conflict, InvalidRequest, NotFound
from shared.services.history import record_audit, record_timeline
from shared.services.numbering import next_number
from shared.services.unit_of_work import use_case

ACCOUNT_PREFIX = "A"  # "A00001234", as the demo's references
# More candidates than this from one key is a key many accounts share (a council's own
# phone number typed as the debtor's, a block of flats full of organisations): the
# first are compared, so the check stays bounded, and the other keys still count.
MAX_CANDIDATES = 100
MAX_NOTE = contact_details.MAX_NOTE
NEEDS_NOTE = "Enter why the details are changing"

# The account's own fields an edit may change, with what the timeline calls them.
IDENTITY_WORDS = {
    "kind": "type",
    "title": "name",
    "forename": "name",
    "surname": "name",
    "organisation_name": "name",
    "company_number": "company number",
    "finance_customer_id": "finance system customer id",
}


class DetailsRefused(InvalidRequest):
    """The details will not do; `problems` has each field's problem in GOV.UK words."""

    def __init__(self, problems: dict[str, str]):
        super().__init__(next(iter(problems.values())))
        self.problems = problems


@dataclass(frozen=True)
class LikelyDuplicate:
    account_id: int
    reference: str
    name: str
    address: str | None  # the primary address, in words
    reasons: tuple[str, ...]  # shared.domain.debtor_details.REASONS, surest first

    @property
    def why(self) -> str:
        """ "Same name and postcode, same email" """
        words = ", ".join(self.reasons)
        return words[:1].upper() + words[1:]


class UnacknowledgedDuplicates(Conflict):
    """Accounts that look like the debtor exist that the officer has not been shown."""

    def __init__(self, duplicates: list[LikelyDuplicate]):
        super().__init__(
            "Accounts that look like the same debtor exist: "
            + ", ".join(d.reference for d in duplicates)
        )
        self.duplicates = duplicates


@dataclass(frozen=True)
class CreatedAccount:
    id: int
    reference: str
    name: str


# --- checking the details -----------------------------------------------------------


def checked(details: DebtorDetails) -> DebtorDetails:
    """The details tidied, phones checked and grouped as they are stored; raises
    DetailsRefused with every field's problem."""
    details = rules.tidy(details)
    problems = rules.details_problems(details)
    phones = {}
    for name, mobile in (("mobile_phone", True), ("other_phone", False)):
        value = getattr(details, name)
        if value:
            try:
                phones[name] = normalise_uk_phone(value, mobile=mobile)
            except PhoneNumberError as exc:
                problems[name] = str(exc)
    details = replace(details, **phones)
    if details.preferred_channel == Channel.EMAIL and not details.email:
        problems.setdefault("email", NEEDS_EMAIL)
    if details.preferred_channel == Channel.SMS and not details.mobile_phone:
        problems.setdefault("mobile_phone", NEEDS_MOBILE)
    if problems:
        raise DetailsRefused(problems)
    return details


def _taken_finance_id(finance_customer_id: str | None, account_id: int | None) -> None:
    if not finance_customer_id:
        return
    holder = db.session.scalar(
        sa.select(DebtorAccount.reference).where(
            DebtorAccount.finance_customer_id == finance_customer_id,
            DebtorAccount.id != (account_id or -1),
        )
    )
    if holder is not None:
        raise DetailsRefused({"finance_customer_id": _finance_id_taken(holder)})


def _finance_id_taken(reference: str) -> str:
    return f"Account {reference} already has this finance system customer id"


# --- likely duplicates --------------------------------------------------------------


def _keys(details: DebtorDetails) -> rules.MatchKeys:
    return rules.match_keys(
        kind=details.kind,
        forename=details.forename,
        surname=details.surname,
        organisation_name=details.organisation_name,
        postcodes=[details.postcode] if details.postcode else [],
        email=details.email,
        mobile_phone=details.mobile_phone,
        other_phone=details.other_phone,
        company_number=details.company_number,
        finance_customer_id=details.finance_customer_id,
    )


def _no_spaces(column):
    # The phone indexes' expression (migration 0005): stored numbers keep their spaces.
    return sa.func.replace(column, " ", "")


def _candidate_ids(details: DebtorDetails, keys: rules.MatchKeys) -> sa.Select | None:
    """Ids of the accounts sharing any key with `keys`: a union of index lookups (an OR
    across tables would make PostgreSQL read every account). Names and emails go to
    the database as typed, so both sides are lower-cased by the same lower()."""
    parts = []
    at_postcode = sa.select(Address.account_id).join(
        DebtorAccount, DebtorAccount.id == Address.account_id
    )
    for key in keys.postcodes:
        if keys.kind == rules.ORGANISATION and keys.organisation:
            # Organisation names are compared with "Ltd" and "Limited" alike, so every
            # organisation at the postcode is a candidate (a handful).
            parts.append(
                at_postcode.where(
                    Address.postcode_key == key, DebtorAccount.kind == DebtorKind.ORGANISATION
                )
            )
        elif keys.kind == rules.PERSON and details.surname:
            parts.append(
                at_postcode.where(
                    Address.postcode_key == key,
                    sa.func.lower(DebtorAccount.surname) == sa.func.lower(details.surname),
                )
            )
    if details.email:
        parts.append(
            sa.select(DebtorAccount.id).where(
                sa.func.lower(DebtorAccount.email) == sa.func.lower(details.email)
            )
        )
    for digits in sorted(keys.phones):
        parts.append(
            sa.select(DebtorAccount.id).where(_no_spaces(DebtorAccount.mobile_phone) == digits)
        )
        parts.append(
            sa.select(DebtorAccount.id).where(_no_spaces(DebtorAccount.other_phone) == digits)
        )
    if keys.company_number:
        parts.append(
            sa.select(DebtorAccount.id).where(DebtorAccount.company_number == keys.company_number)
        )
    if keys.finance_customer_id:
        parts.append(
            sa.select(DebtorAccount.id).where(
                DebtorAccount.finance_customer_id == keys.finance_customer_id
            )
        )
    if not parts:
        return None
    # Each lookup bounded on its own, so a crowded postcode cannot crowd out an exact
    # match on another key (SQLite takes LIMIT in a union only inside a subquery).
    return sa.union(*(sa.select(p.limit(MAX_CANDIDATES).subquery().c[0]) for p in parts))


def _duplicates(details: DebtorDetails) -> list[LikelyDuplicate]:
    keys = _keys(details)
    union = _candidate_ids(details, keys)
    if union is None:
        return []
    ids = union.subquery()
    accounts = db.session.execute(
        sa.select(
            DebtorAccount.id,
            DebtorAccount.reference,
            DebtorAccount.kind,
            DebtorAccount.title,
            DebtorAccount.forename,
            DebtorAccount.surname,
            DebtorAccount.organisation_name,
            DebtorAccount.email,
            DebtorAccount.mobile_phone,
            DebtorAccount.other_phone,
            DebtorAccount.company_number,
            DebtorAccount.finance_customer_id,
        )
        .where(DebtorAccount.id.in_(sa.select(ids.c[0])))
        .order_by(DebtorAccount.id)
    ).all()
    if not accounts:
        return []
    addresses: dict[int, list] = {}
    for address in db.session.execute(
        sa.select(
            Address.account_id,
            Address.line1,
            Address.line2,
            Address.town,
            Address.county,
            Address.postcode,
            Address.postcode_key,
        )
        .where(Address.account_id.in_([a.id for a in accounts]))
        .order_by(Address.account_id, Address.is_primary.desc(), Address.id)
    ):
        addresses.setdefault(address.account_id, []).append(address)
    found = []
    for row in accounts:
        held = addresses.get(row.id, [])
        reasons = rules.duplicate_reasons(
            keys,
            rules.match_keys(
                kind=row.kind,
                forename=row.forename,
                surname=row.surname,
                organisation_name=row.organisation_name,
                postcodes=[a.postcode_key for a in held],
                email=row.email,
                mobile_phone=row.mobile_phone,
                other_phone=row.other_phone,
                company_number=row.company_number,
                finance_customer_id=row.finance_customer_id,
            ),
        )
        if reasons:
            found.append(
                LikelyDuplicate(
                    account_id=row.id,
                    reference=row.reference,
                    name=display_name(
                        row.kind, row.title, row.forename, row.surname, row.organisation_name
                    ),
                    address=_words(held[0]) if held else None,
                    reasons=reasons,
                )
            )
    # The surest first: most reasons, then the strongest reason, then the oldest account.
    found.sort(key=lambda d: (-len(d.reasons), rules.REASONS.index(d.reasons[0]), d.account_id))
    return found


def _words(address) -> str:
    parts = (address.line1, address.line2, address.town, address.county, address.postcode)
    return ", ".join(p for p in parts if p)


def find_likely_duplicates(details: DebtorDetails) -> list[LikelyDuplicate]:
    """Existing accounts that are likely to be the debtor `details` describe, surest
    first, each with why it matched (read-only)."""
    details = rules.tidy(details)
    phones = {}
    for name in ("mobile_phone", "other_phone"):
        # Not a phone number (left as typed): nobody else's either.
        with contextlib.suppress(PhoneNumberError):
            phones[name] = normalise_uk_phone(getattr(details, name) or "")
    return _duplicates(replace(details, **phones))


# --- creating -----------------------------------------------------------------------


def _contact_changes(details: DebtorDetails) -> ContactChanges:
    return ContactChanges(
        email=details.email,
        mobile_phone=details.mobile_phone,
        other_phone=details.other_phone,
        preferred_channel=Channel(details.preferred_channel),
        consent_email=details.consent_email,
        consent_sms=details.consent_sms,
        address=AddressChange(
            line1=details.line1 or "",
            line2=details.line2,
            town=details.town or "",
            county=details.county,
            postcode=details.postcode or "",
        ),
    )


def _flush_or_refuse() -> None:
    """Flush; a finance customer id another transaction took meanwhile is the officer's
    field error, not a server error (the unique index is the last word)."""
    try:
        db.session.flush()
    except IntegrityError as exc:
        if "finance_customer_id" not in str(exc.orig):
            raise
        raise DetailsRefused(
            {"finance_customer_id": "Another account has just been given this customer id"}
        ) from None


def _identity(details: DebtorDetails) -> dict:
    return {
        "kind": DebtorKind(details.kind),
        "title": details.title,
        "forename": details.forename,
        "surname": details.surname,
        "organisation_name": details.organisation_name,
        "company_number": details.company_number,
        "finance_customer_id": details.finance_customer_id,
    }


def _plain(value):
    return value.value if isinstance(value, Channel | DebtorKind) else value


@use_case
def create_account(
    details: DebtorDetails, actor: Actor, *, acknowledged_duplicate_ids: Iterable[int] = ()
) -> CreatedAccount:
    """Open a new debtor account with its reference; refuse (UnacknowledgedDuplicates)
    while any likely duplicate found now is not among those the officer was shown."""
    details = checked(details)
    # The number's row lock first: a concurrent creation of the same debtor commits
    # before this check runs, and is found by it.
    reference = next_number("account", ACCOUNT_PREFIX, DebtorAccount.reference)
    _taken_finance_id(details.finance_customer_id, None)
    duplicates = _duplicates(details)
    seen = set(acknowledged_duplicate_ids)
    if any(d.account_id not in seen for d in duplicates):
        raise UnacknowledgedDuplicates(duplicates)
    account = DebtorAccount(reference=reference, **_identity(details))
    changes = _contact_changes(details)
    address = changes.address.normalised()
    account.email = changes.email
    account.mobile_phone = changes.mobile_phone
    account.other_phone = changes.other_phone
    account.preferred_channel = changes.preferred_channel
    account.consent_email = changes.consent_email
    account.consent_sms = changes.consent_sms
    if changes.consent_email or changes.consent_sms:
        account.consent_updated_at = clock.utcnow()
    account.addresses.append(
        Address(
            line1=address.line1,
            line2=address.line2,
            town=address.town,
            county=address.county,
            postcode=address.postcode,
            postcode_key=postcode_key(address.postcode),
            is_primary=True,
        )
    )
    db.session.add(account)
    _flush_or_refuse()
    created = CreatedAccount(account.id, reference, account.display_name)
    detail = None
    if duplicates:
        detail = "Created although these accounts looked like the same debtor: " + "; ".join(
            f"{d.reference} ({', '.join(d.reasons)})" for d in duplicates
        )
    record_timeline(account.id, actor, "Account created", detail=detail)
    after = {name: _plain(value) for name, value in _identity(details).items()}
    after |= {
        "email": changes.email,
        "mobile_phone": changes.mobile_phone,
        "other_phone": changes.other_phone,
        "preferred_channel": changes.preferred_channel.value,
        "consent_email": changes.consent_email,
        "consent_sms": changes.consent_sms,
        "address": address.words(),
        "acknowledged_duplicates": [d.reference for d in duplicates],
    }
    record_audit(
        actor,
        "account.created",
        "debtor_account",
        account.id,
        account_id=account.id,
        after=after,
    )
    db.session.commit()
    return created


# --- editing ------------------------------------------------------------------------


def current_details(account_id: int) -> DebtorDetails | None:
    """What the account holds now, in the shape the edit form is filled from."""
    account = db.session.get(DebtorAccount, account_id)
    contact = contact_details.current_details(account_id)
    if account is None or contact is None:
        return None
    address = contact.address
    return DebtorDetails(
        kind=DebtorKind(account.kind).value,
        title=account.title,
        forename=account.forename,
        surname=account.surname,
        organisation_name=account.organisation_name,
        company_number=account.company_number,
        line1=address.line1 if address else None,
        line2=address.line2 if address else None,
        town=address.town if address else None,
        county=address.county if address else None,
        postcode=address.postcode if address else None,
        email=contact.email,
        mobile_phone=contact.mobile_phone,
        other_phone=contact.other_phone,
        preferred_channel=contact.preferred_channel.value,
        consent_email=contact.consent_email,
        consent_sms=contact.consent_sms,
        finance_customer_id=account.finance_customer_id,
    )


@use_case
def update_account(
    account_id: int, details: DebtorDetails, actor: Actor, *, note: str | None = None
) -> list[str]:
    """Save an account's edited details; return the names of the fields that changed.

    A member of staff says why (`note`: "name misspelt when the account was opened",
    "letter from the debtor of 3 March"), which goes on the timeline and in the
    audit row.
    """
    details = checked(details)
    note = (note or "").strip() or None
    if actor.type == ActorType.STAFF and note is None:
        raise DetailsRefused({"note": NEEDS_NOTE})
    if note is not None and len(note) > MAX_NOTE:
        raise DetailsRefused({"note": f"The note must be {MAX_NOTE:,} characters or fewer"})
    account = db.session.execute(
        sa.select(DebtorAccount).where(DebtorAccount.id == account_id).with_for_update()
    ).scalar_one_or_none()
    if account is None:
        raise NotFound(f"No debtor account {account_id}")
    wanted = _identity(details)
    if wanted["finance_customer_id"] != account.finance_customer_id:
        _taken_finance_id(details.finance_customer_id, account.id)
    changed = [name for name, value in wanted.items() if getattr(account, name) != value]
    before = {name: _plain(getattr(account, name)) for name in changed}
    after = {name: _plain(wanted[name]) for name in changed}
    for name in changed:
        setattr(account, name, wanted[name])
    _flush_or_refuse()  # before the contact changes' reads flush it unguarded
    contact_changed, contact_before, contact_after = contact_details.apply_contact_changes(
        account, _contact_changes(details)
    )
    if not changed and not contact_changed:
        db.session.rollback()  # releases the row lock; nothing to record
        return []
    before |= contact_before
    after |= contact_after
    words = [IDENTITY_WORDS[name] for name in changed]
    words += [contact_details.FIELD_WORDS[name] for name in contact_changed]
    summary = "Account details updated: " + ", ".join(dict.fromkeys(words))
    record_timeline(account.id, actor, summary, detail=note)
    if note is not None:
        after["note"] = note
    record_audit(
        actor,
        "account.details_updated",
        "debtor_account",
        account.id,
        account_id=account.id,
        before=before,
        after=after,
    )
    db.session.commit()
    return changed + contact_changed
