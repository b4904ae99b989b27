"""Finding a debtor's case from the back office's one search box.

Read-only. shared.domain.search_query works out what was typed; each kind is
one query answered by an index (migration 0005 and the unique keys): exact
matches for references, invoice numbers, postcodes, emails and phones, and a
lower-case prefix for names. At most MAX_RESULTS rows come back, each with its
balance summed from the ledger as the account pages do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from shared.domain.names import display_name
from shared.domain.search_query import SearchKind, SearchQuery, parse
from shared.extensions import db
from shared.models import Address, DebtorAccount, Invoice
from shared.services.account_view import _balance_of

MAX_RESULTS = 50


@dataclass(frozen=True)
class CaseRow:
    reference: str
    name: str
    postcode: str | None
    balance_pence: int
    flags: tuple[str, ...]


@dataclass(frozen=True)
class SearchResults:
    query: SearchQuery
    rows: list[CaseRow]
    # True when there were more than MAX_RESULTS matches and only the first are shown.
    more: bool


def _like_prefix(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


_PRIMARY_POSTCODE = (
    sa.select(Address.postcode)
    .where(Address.account_id == DebtorAccount.id)
    .order_by(Address.is_primary.desc(), Address.id)
    .limit(1)
    .correlate(DebtorAccount)
    .scalar_subquery()
)

_COLUMNS = (
    DebtorAccount.reference,
    DebtorAccount.kind,
    DebtorAccount.title,
    DebtorAccount.forename,
    DebtorAccount.surname,
    DebtorAccount.organisation_name,
    DebtorAccount.vulnerable,
    DebtorAccount.deceased,
    DebtorAccount.breathing_space_type,
    DebtorAccount.breathing_space_start,
    DebtorAccount.breathing_space_end,
    _PRIMARY_POSTCODE.label("postcode"),
    _balance_of(DebtorAccount.id).label("balance"),
)
_BASE = sa.select(*_COLUMNS).limit(MAX_RESULTS + 1)

_LOWER_SURNAME = sa.func.lower(DebtorAccount.surname)
_LOWER_ORGANISATION = sa.func.lower(DebtorAccount.organisation_name)

# Built once, values as bind parameters (see account_view: building costs more than running).
# A union, not an OR: each half is one unique-index lookup, where an OR with a
# subquery makes PostgreSQL filter every account.
_BY_REFERENCE = _BASE.where(
    DebtorAccount.id.in_(
        sa.union(
            sa.select(DebtorAccount.id).where(DebtorAccount.reference == sa.bindparam("value")),
            sa.select(Invoice.account_id).where(Invoice.number == sa.bindparam("value")),
        )
    )
).order_by(DebtorAccount.reference)
_BY_POSTCODE = _BASE.where(
    DebtorAccount.id.in_(
        sa.select(Address.account_id).where(Address.postcode_key == sa.bindparam("value"))
    )
).order_by(DebtorAccount.surname, DebtorAccount.forename, DebtorAccount.reference)
_BY_EMAIL = _BASE.where(sa.func.lower(DebtorAccount.email) == sa.bindparam("value")).order_by(
    DebtorAccount.reference
)
_BY_PHONE = _BASE.where(
    sa.or_(
        sa.func.replace(DebtorAccount.mobile_phone, " ", "") == sa.bindparam("value"),
        sa.func.replace(DebtorAccount.other_phone, " ", "") == sa.bindparam("value"),
    )
).order_by(DebtorAccount.reference)
_BY_NAME = _BASE.where(
    sa.or_(
        sa.and_(
            _LOWER_SURNAME.like(sa.bindparam("surname"), escape="\\"),
            sa.func.coalesce(sa.func.lower(DebtorAccount.forename), "").like(
                sa.bindparam("forename"), escape="\\"
            ),
        ),
        _LOWER_ORGANISATION.like(sa.bindparam("whole"), escape="\\"),
    )
).order_by(
    sa.func.coalesce(_LOWER_SURNAME, _LOWER_ORGANISATION),
    DebtorAccount.forename,
    DebtorAccount.reference,
)

_STATEMENTS = {
    SearchKind.REFERENCE: _BY_REFERENCE,
    SearchKind.POSTCODE: _BY_POSTCODE,
    SearchKind.EMAIL: _BY_EMAIL,
    SearchKind.PHONE: _BY_PHONE,
}


def flags_of(row, today: date) -> tuple[str, ...]:
    """The warnings an officer must see before contacting the debtor."""
    flags = []
    if row.deceased:
        flags.append("Deceased")
    if row.breathing_space_type is not None and row.breathing_space_start is not None:
        started = row.breathing_space_start <= today
        if started and (row.breathing_space_end is None or today <= row.breathing_space_end):
            flags.append("Breathing Space")
    if row.vulnerable:
        flags.append("Vulnerable")
    return tuple(flags)


def search(text: str, today: date) -> SearchResults:
    """Accounts matching what an officer typed, at most MAX_RESULTS of them."""
    query = parse(text)
    if query.kind == SearchKind.EMPTY:
        return SearchResults(query, [], False)
    if query.kind == SearchKind.NAME:
        statement = _BY_NAME
        params = {
            "surname": _like_prefix(query.surname),
            "forename": _like_prefix(query.forename),
            "whole": _like_prefix(query.value),
        }
    else:
        statement = _STATEMENTS[query.kind]
        params = {"value": query.value}
    rows = db.session.execute(statement, params).all()
    return SearchResults(
        query=query,
        rows=[
            CaseRow(
                reference=r.reference,
                name=display_name(r.kind, r.title, r.forename, r.surname, r.organisation_name),
                postcode=r.postcode,
                balance_pence=int(r.balance),
                flags=flags_of(r, today),
            )
            for r in rows[:MAX_RESULTS]
        ],
        more=len(rows) > MAX_RESULTS,
    )
