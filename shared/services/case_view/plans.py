"""The case page's plans section: the account's payment plans, its Direct Debit
mandates, their latest collections and what Bacs reported about them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from shared.extensions import db
from shared.models import Arrangement, Collection, Mandate
from shared.models.directdebit import LIVE_MANDATE_STATUSES
from shared.services.account_view import FREQUENCY_WORDS
from shared.services.case_view.summary import words
from shared.services.directdebit import returns_queue
from shared.services.directdebit.returns_queue import ItemRow

# The newest collections first: what is coming, what was taken, what came back.
COLLECTIONS_SHOWN = 12
BACS_ITEMS_SHOWN = 10


@dataclass(frozen=True)
class ArrangementLine:
    status: str
    frequency: str
    total_pence: int
    start_date: date
    id: int | None = None  # links to the plan's page


@dataclass(frozen=True)
class MandateLine:
    reference: str
    status: str
    account_ending: str
    created_at: datetime
    id: int | None = None  # for the change and cancel actions
    live: bool = False  # pending, submitted or active: it can be changed or cancelled


@dataclass(frozen=True)
class CollectionLine:
    """A Direct Debit collection under one of the account's mandates."""

    collection_date: date  # the entry day: the day the payer's bank is debited
    amount_pence: int
    transaction_code: str
    status: str
    mandate_reference: str
    return_description: str | None


@dataclass(frozen=True)
class PlansSection:
    arrangements: list[ArrangementLine]
    mandates: list[MandateLine]
    collections: list[CollectionLine]
    # What Bacs reported about the account's mandates and collections, newest first.
    bacs_items: list[ItemRow]


_ACCOUNT_ID = sa.bindparam("account_id")

_ARRANGEMENTS = (
    sa.select(
        Arrangement.status,
        Arrangement.frequency,
        Arrangement.total_pence,
        Arrangement.start_date,
        Arrangement.id,
    )
    .where(Arrangement.account_id == _ACCOUNT_ID)
    .order_by(Arrangement.id.desc())
)

_MANDATES = (
    sa.select(
        Mandate.reference, Mandate.status, Mandate.account_ending, Mandate.created_at, Mandate.id
    )
    .where(Mandate.account_id == _ACCOUNT_ID)
    .order_by(Mandate.id.desc())
)

_COLLECTIONS = (
    sa.select(
        Collection.collection_date,
        Collection.amount_pence,
        Collection.transaction_code,
        Collection.status,
        Collection.return_description,
        Mandate.reference,
    )
    .join(Mandate, Mandate.id == Collection.mandate_id)
    .where(Mandate.account_id == _ACCOUNT_ID)
    .order_by(Collection.collection_date.desc(), Collection.id.desc())
    .limit(COLLECTIONS_SHOWN)
)


def plans_section(account_id: int) -> PlansSection:
    """The account's plans, mandates, latest collections and Bacs reports."""
    params = {"account_id": account_id}
    return PlansSection(
        arrangements=[
            ArrangementLine(
                status=words(r.status),
                frequency=FREQUENCY_WORDS.get(str(r.frequency), str(r.frequency)),
                total_pence=int(r.total_pence),
                start_date=r.start_date,
                id=r.id,
            )
            for r in db.session.execute(_ARRANGEMENTS, params)
        ],
        mandates=[
            MandateLine(
                reference=r.reference,
                status=words(r.status),
                account_ending=r.account_ending,
                created_at=r.created_at,
                id=r.id,
                live=r.status in LIVE_MANDATE_STATUSES,
            )
            for r in db.session.execute(_MANDATES, params)
        ],
        collections=[
            CollectionLine(
                collection_date=r.collection_date,
                amount_pence=int(r.amount_pence),
                transaction_code=r.transaction_code,
                status=words(r.status),
                mandate_reference=r.reference,
                return_description=r.return_description,
            )
            for r in db.session.execute(_COLLECTIONS, params)
        ],
        bacs_items=returns_queue.account_items(account_id, limit=BACS_ITEMS_SHOWN),
    )
