"""What an invoice import needs from the database, read set-based: the small tables
whole (departments, income codes, VAT rates), the large ones a chunk of keys at a
time (invoice numbers, finance customer ids), never a query per row."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import sqlalchemy as sa

from shared.domain.invoice_import import Department, Facts
from shared.domain.vat import RatePeriod, VatRate
from shared.extensions import db
from shared.models import (
    Address,
    DebtorAccount,
    IncomeCode,
    Invoice,
    ServiceDepartment,
    VatRatePeriod,
)

CHUNK = 2_000


def chunks(values: Iterable, size: int = CHUNK) -> Iterator[list]:
    chunk: list = []
    for value in values:
        chunk.append(value)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def facts() -> Facts:
    """Departments by code, income codes by (department, code), every VAT period: three
    small reads (VAT periods straight from VatRatePeriod: one query for the whole file,
    not shared.services.vat_rates.basis_points_on's one a line)."""
    departments = {
        code.upper(): Department(department_id, terms)
        for department_id, code, terms in db.session.execute(
            sa.select(
                ServiceDepartment.id, ServiceDepartment.code, ServiceDepartment.payment_terms_days
            )
        )
    }
    income_codes = {
        (department_id, code.upper()): (code_id, active)
        for code_id, department_id, code, active in db.session.execute(
            sa.select(IncomeCode.id, IncomeCode.department_id, IncomeCode.code, IncomeCode.active)
        )
    }
    periods = [
        RatePeriod(VatRate(rate), valid_from, basis_points)
        for rate, valid_from, basis_points in db.session.execute(
            sa.select(VatRatePeriod.rate, VatRatePeriod.valid_from, VatRatePeriod.basis_points)
        )
    ]
    return Facts(departments=departments, income_codes=income_codes, vat_periods=periods)


@dataclass(frozen=True, slots=True)
class Existing:
    """An invoice number already taken: by which finance customer, for how much."""

    finance_customer_id: str | None
    account_reference: str
    total_pence: int


def existing_invoices(numbers: list[str]) -> dict[str, Existing]:
    """The invoices already stored with any of these numbers (one chunk's worth)."""
    rows = db.session.execute(
        sa.select(
            Invoice.number,
            DebtorAccount.finance_customer_id,
            DebtorAccount.reference,
            Invoice.total_pence,
        )
        .join(DebtorAccount, DebtorAccount.id == Invoice.account_id)
        .where(Invoice.number.in_(numbers))
    )
    return {
        number: Existing(customer, reference, total) for number, customer, reference, total in rows
    }


ACCOUNT_COLUMNS = (
    "kind",
    "title",
    "forename",
    "surname",
    "organisation_name",
    "company_number",
    "email",
    "mobile_phone",
)
ADDRESS_COLUMNS = ("line1", "line2", "town", "county", "postcode")


@dataclass(frozen=True, slots=True)
class KnownAccount:
    account_id: int
    reference: str
    fields: dict[str, str | None]
    address_id: int | None  # the primary address, if it has one
    address: dict[str, str | None]


def accounts_by_customer_id(customer_ids: list[str]) -> dict[str, KnownAccount]:
    """The accounts with these finance customer ids, with what the import may update:
    their name and contact fields and primary address (two queries a chunk)."""
    columns = [getattr(DebtorAccount, name) for name in ACCOUNT_COLUMNS]
    found: dict[str, tuple] = {}
    for row in db.session.execute(
        sa.select(
            DebtorAccount.finance_customer_id, DebtorAccount.id, DebtorAccount.reference, *columns
        ).where(DebtorAccount.finance_customer_id.in_(customer_ids))
    ):
        customer_id, account_id, reference, *values = row
        fields = {
            name: (value.value if hasattr(value, "value") else value)
            for name, value in zip(ACCOUNT_COLUMNS, values, strict=True)
        }
        found[customer_id] = (account_id, reference, fields)
    addresses: dict[int, tuple[int, dict]] = {}
    ids = [account_id for account_id, _, _ in found.values()]
    if ids:
        rows = db.session.execute(
            sa.select(
                Address.account_id, Address.id, *(getattr(Address, c) for c in ADDRESS_COLUMNS)
            )
            .where(Address.account_id.in_(ids))
            # The primary address first, then the oldest (as DebtorAccount.primary_address).
            .order_by(Address.account_id, Address.is_primary.desc(), Address.id)
        )
        for account_id, address_id, *values in rows:
            if account_id not in addresses:
                addresses[account_id] = (
                    address_id,
                    dict(zip(ADDRESS_COLUMNS, values, strict=True)),
                )
    return {
        customer_id: KnownAccount(
            account_id,
            reference,
            fields,
            *(addresses.get(account_id) or (None, {})),
        )
        for customer_id, (account_id, reference, fields) in found.items()
    }
