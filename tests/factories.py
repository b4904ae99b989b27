"""Small builders for test data. They insert directly, not through services,
so a test of a service does not depend on another service."""

from __future__ import annotations

import itertools

from werkzeug.security import generate_password_hash

from shared.extensions import db
from shared.models import (
    Address,
    Channel,
    DebtorAccount,
    DebtorKind,
    PortalRelationship,
    PortalUser,
    PortalUserAccount,
    ServiceDepartment,
    StaffRole,
    StaffUser,
    postcode_key,
)

_seq = itertools.count(1)
# Hashing is deliberately slow; tests share one hash per password.
_HASHES: dict[str, str] = {}


def password_hash(password: str) -> str:
    if password not in _HASHES:
        _HASHES[password] = generate_password_hash(password)
    return _HASHES[password]


def make_department(code: str | None = None, **kw) -> ServiceDepartment:
    n = next(_seq)
    dept = ServiceDepartment(code=code or f"DEPT{n}", name=kw.pop("name", f"Department {n}"), **kw)
    db.session.add(dept)
    db.session.commit()
    return dept


def make_account(*, surname: str = "Smith", postcode: str = "AB1 2CD", **kw) -> DebtorAccount:
    n = next(_seq)
    account = DebtorAccount(
        reference=kw.pop("reference", f"T{n:08d}"),
        kind=kw.pop("kind", DebtorKind.PERSON),
        forename=kw.pop("forename", "Alex"),
        surname=surname,
        **kw,
    )
    account.addresses.append(
        Address(
            line1=f"{n} High Street",
            town="Ambridge",
            postcode=postcode,
            postcode_key=postcode_key(postcode),
            is_primary=True,
        )
    )
    db.session.add(account)
    db.session.commit()
    return account


def make_staff(
    role: StaffRole = StaffRole.OFFICER, *, password: str = "correct horse battery", **kw
) -> StaffUser:
    n = next(_seq)
    user = StaffUser(
        email=kw.pop("email", f"staff{n}@council.example"),
        full_name=kw.pop("full_name", f"Staff Member {n}"),
        role=role,
        password_hash=password_hash(password),
        **kw,
    )
    db.session.add(user)
    db.session.commit()
    return user


def make_portal_login(
    *accounts, email: str = "debtor@example.com", password: str = "a long password"
) -> PortalUser:
    """A verified portal login with `accounts` linked to it (as the debtor themself)."""
    user = PortalUser(email=email, password_hash=password_hash(password))
    db.session.add(user)
    db.session.flush()
    for account in accounts:
        db.session.add(
            PortalUserAccount(
                portal_user_id=user.id,
                account_id=account.id,
                relationship_to_debtor=PortalRelationship.SELF,
                verified_via=Channel.EMAIL,
            )
        )
    db.session.commit()
    return user
