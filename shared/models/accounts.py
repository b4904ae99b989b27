"""Debtor accounts, their addresses, service departments and portal users."""

from __future__ import annotations

import enum
import re
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.domain.names import display_name
from shared.extensions import db
from shared.models.base import created_at_column, enum_type, utcnow


class DebtorKind(enum.StrEnum):
    PERSON = "person"
    ORGANISATION = "organisation"


class Channel(enum.StrEnum):
    """How a debtor prefers to hear from us."""

    EMAIL = "email"
    SMS = "sms"
    POST = "post"


class BreathingSpaceType(enum.StrEnum):
    STANDARD = "standard"  # up to 60 days
    MENTAL_HEALTH_CRISIS = "mental_health_crisis"  # treatment plus 30 days


class DebtorAccount(db.Model):
    """Someone (a person or an organisation) who owes, or has owed, the council money."""

    __tablename__ = "debtor_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(sa.String(12), unique=True)
    kind: Mapped[DebtorKind] = mapped_column(enum_type(DebtorKind, "debtor_kind"))
    title: Mapped[str | None] = mapped_column(sa.String(20))
    forename: Mapped[str | None] = mapped_column(sa.String(100))
    surname: Mapped[str | None] = mapped_column(sa.String(100), index=True)
    organisation_name: Mapped[str | None] = mapped_column(sa.String(200), index=True)
    # Not unique: two accounts may share a company in error, and the duplicate check
    # (shared/services/debtor_accounts.py) warns of it through this index.
    company_number: Mapped[str | None] = mapped_column(sa.String(8), index=True)
    # The council finance system's customer id: how invoices imported from it find
    # the account (unique; none for accounts the finance system does not know).
    finance_customer_id: Mapped[str | None] = mapped_column(sa.String(40))
    email: Mapped[str | None] = mapped_column(sa.String(254), index=True)
    mobile_phone: Mapped[str | None] = mapped_column(sa.String(20), index=True)
    other_phone: Mapped[str | None] = mapped_column(sa.String(20))

    preferred_channel: Mapped[Channel] = mapped_column(
        enum_type(Channel, "channel"), default=Channel.POST
    )
    consent_email: Mapped[bool] = mapped_column(default=False)
    consent_sms: Mapped[bool] = mapped_column(default=False)
    consent_updated_at: Mapped[datetime | None] = mapped_column(sa.DateTime())
    # "en" or "cy" (shared.models.Language; no CHECK, see migration 0027): letters,
    # emails and texts go in Welsh where the debtor asked for Welsh and a template has
    # a Welsh version (Welsh Language Standards).
    language: Mapped[str] = mapped_column(sa.String(2), default="en", server_default="en")

    vulnerable: Mapped[bool] = mapped_column(default=False)
    vulnerability_reason: Mapped[str | None] = mapped_column(sa.Text)
    vulnerability_review_date: Mapped[date | None] = mapped_column(sa.Date)

    breathing_space_type: Mapped[BreathingSpaceType | None] = mapped_column(
        enum_type(BreathingSpaceType, "breathing_space_type")
    )
    breathing_space_start: Mapped[date | None] = mapped_column(sa.Date)
    breathing_space_end: Mapped[date | None] = mapped_column(sa.Date)
    breathing_space_reference: Mapped[str | None] = mapped_column(sa.String(40))

    deceased: Mapped[bool] = mapped_column(default=False)
    date_of_death: Mapped[date | None] = mapped_column(sa.Date)

    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(), default=utcnow, onupdate=utcnow)

    addresses: Mapped[list[Address]] = relationship(
        back_populates="account", order_by="Address.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.CheckConstraint(
            "(kind = 'person' AND surname IS NOT NULL) OR "
            "(kind = 'organisation' AND organisation_name IS NOT NULL)",
            name="name_present",
        ),
        sa.CheckConstraint(
            "breathing_space_type IS NULL OR breathing_space_start IS NOT NULL",
            name="breathing_space_has_start",
        ),
        # An index, not a table constraint: SQLite adds it without rebuilding the table.
        sa.Index("uq_debtor_accounts_finance_customer_id", "finance_customer_id", unique=True),
    )

    @property
    def display_name(self) -> str:
        return display_name(
            self.kind, self.title, self.forename, self.surname, self.organisation_name
        )

    @property
    def primary_address(self) -> Address | None:
        for address in self.addresses:
            if address.is_primary:
                return address
        return self.addresses[0] if self.addresses else None

    def in_breathing_space(self, on: date) -> bool:
        if self.breathing_space_type is None or self.breathing_space_start is None:
            return False
        if on < self.breathing_space_start:
            return False
        return self.breathing_space_end is None or on <= self.breathing_space_end


# Case search (shared/services/case_search.py): name prefixes compared in lower
# case (text_pattern_ops so PostgreSQL answers LIKE 'smi%' from the index
# whatever the collation), email exactly in lower case, phones with the
# spaces they are stored with taken out. Migration 0005 creates these.
for _name, _column in (
    ("ix_debtor_accounts_lower_surname", DebtorAccount.surname),
    ("ix_debtor_accounts_lower_organisation_name", DebtorAccount.organisation_name),
):
    sa.Index(
        _name,
        sa.func.lower(_column).label("lower_key"),
        postgresql_ops={"lower_key": "text_pattern_ops"},
    )
sa.Index("ix_debtor_accounts_lower_email", sa.func.lower(DebtorAccount.email))
sa.Index("ix_debtor_accounts_mobile_digits", sa.func.replace(DebtorAccount.mobile_phone, " ", ""))
sa.Index("ix_debtor_accounts_other_digits", sa.func.replace(DebtorAccount.other_phone, " ", ""))


_POSTCODE_KEY = re.compile(r"[^A-Z0-9]")


def postcode_key(postcode: str) -> str:
    """The form postcodes are compared in: upper case, no spaces ("sw1a 1aa" -> "SW1A1AA")."""
    return _POSTCODE_KEY.sub("", (postcode or "").upper())


class Address(db.Model):
    __tablename__ = "addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("debtor_accounts.id"), index=True)
    line1: Mapped[str] = mapped_column(sa.String(120))
    line2: Mapped[str | None] = mapped_column(sa.String(120))
    town: Mapped[str] = mapped_column(sa.String(80))
    county: Mapped[str | None] = mapped_column(sa.String(80))
    postcode: Mapped[str] = mapped_column(sa.String(8))
    postcode_key: Mapped[str] = mapped_column(sa.String(7), index=True)
    is_primary: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = created_at_column()

    account: Mapped[DebtorAccount] = relationship(back_populates="addresses")

    def lines(self) -> list[str]:
        return [p for p in (self.line1, self.line2, self.town, self.county, self.postcode) if p]


class ServiceDepartment(db.Model):
    """A council service that raises invoices (trade waste, adult social care, ...)."""

    __tablename__ = "service_departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    cost_centre: Mapped[str | None] = mapped_column(sa.String(20))
    # Commercial debts may carry Late Payment Act interest and compensation.
    is_commercial: Mapped[bool] = mapped_column(default=False)
    contact_email: Mapped[str | None] = mapped_column(sa.String(254))
    contact_phone: Mapped[str | None] = mapped_column(sa.String(20))
    # Days from issue to due date on the department's invoices (its payment terms).
    payment_terms_days: Mapped[int] = mapped_column(default=30, server_default="30")
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        sa.CheckConstraint(
            "payment_terms_days BETWEEN 0 AND 365", name="payment_terms_days_in_range"
        ),
    )


class PortalRelationship(enum.StrEnum):
    """Why a portal login may see an account."""

    SELF = "self"
    POWER_OF_ATTORNEY = "power_of_attorney"
    DEPUTY = "deputy"
    APPOINTEE = "appointee"
    OTHER = "other"


class PortalUser(db.Model):
    """A member of the public's login to the portal."""

    __tablename__ = "portal_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    email_verified_at: Mapped[datetime | None] = mapped_column(sa.DateTime())
    failed_sign_ins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(sa.DateTime())
    last_signed_in_at: Mapped[datetime | None] = mapped_column(sa.DateTime())
    created_at: Mapped[datetime] = created_at_column()

    links: Mapped[list[PortalUserAccount]] = relationship(back_populates="portal_user")


class PortalUserAccount(db.Model):
    """A verified link between a portal login and a debtor account."""

    __tablename__ = "portal_user_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    portal_user_id: Mapped[int] = mapped_column(sa.ForeignKey("portal_users.id"), index=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("debtor_accounts.id"), index=True)
    relationship_to_debtor: Mapped[PortalRelationship] = mapped_column(
        enum_type(PortalRelationship, "portal_relationship"), default=PortalRelationship.SELF
    )
    verified_via: Mapped[Channel] = mapped_column(enum_type(Channel, "verified_channel"))
    linked_at: Mapped[datetime] = created_at_column()
    # Access ends (the row is kept, for the record) when the debtor dies: a power of
    # attorney ends with the death, and nobody signs in as the deceased.
    access_ended_at: Mapped[datetime | None] = mapped_column(sa.DateTime())
    access_ended_by_hold_id: Mapped[int | None] = mapped_column(sa.ForeignKey("account_holds.id"))

    portal_user: Mapped[PortalUser] = relationship(back_populates="links")
    account: Mapped[DebtorAccount] = relationship()

    __table_args__ = (sa.UniqueConstraint("portal_user_id", "account_id"),)
