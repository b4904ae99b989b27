"""Rows for the Bacs file tests, inserted directly (mandates and collections are other
services' work): an account with a mandate in a given state, its advance notice, and
a scheduled collection of an invoice. No tests here."""

from __future__ import annotations

import itertools
from datetime import date

from shared.extensions import db
from shared.models import (
    AdvanceNotice,
    Collection,
    CollectionStatus,
    Invoice,
    Mandate,
    MandateSource,
    MandateStatus,
    ModulusOutcome,
)
from shared.services.directdebit.bank_details import BankDetails, seal
from tests.factories import make_account, make_department

_seq = itertools.count(1)

# Processing day Thursday 18 June 2026 (TODAY, the frozen Wednesday, is its input day).
PROCESSING_DAY = date(2026, 6, 18)
ENTRY_DAY = date(2026, 6, 19)


def make_mandate(
    status: MandateStatus = MandateStatus.ACTIVE,
    *,
    account=None,
    lodged_on: date | None = date(2026, 6, 1),
    holder: str = "ALEX SMITH",
    sort_code: str = "112233",
    account_number: str = "12345678",
    **kw,
) -> Mandate:
    account = account or make_account()
    n = next(_seq)
    mandate = Mandate(
        account_id=account.id,
        reference=kw.pop("reference", f"{account.reference}-{n:02d}"[:18]),
        account_holder_name=holder,
        bank_details_encrypted=seal(BankDetails(sort_code, account_number)),
        account_ending=account_number[-2:],
        modulus_outcome=ModulusOutcome.VALID,
        source=MandateSource.PORTAL,
        status=status,
        lodged_on=lodged_on if status in (MandateStatus.ACTIVE, MandateStatus.SUBMITTED) else None,
        **kw,
    )
    db.session.add(mandate)
    db.session.commit()
    return mandate


def make_collection(
    mandate: Mandate,
    *,
    pence: int = 2_500,
    entry_day: date = ENTRY_DAY,
    code: str = "17",
    earliest: date | None = date(2026, 6, 15),
    status: CollectionStatus = CollectionStatus.SCHEDULED,
) -> Collection:
    n = next(_seq)
    department = make_department()
    invoice = Invoice(
        number=f"BACS{n:06d}",
        account_id=mandate.account_id,
        department_id=department.id,
        issue_date=date(2026, 5, 1),
        due_date=entry_day,
        description="Trade waste",
        net_pence=pence,
        vat_pence=0,
        total_pence=pence,
    )
    db.session.add(invoice)
    db.session.flush()
    notice_id = None
    if earliest is not None:
        notice = AdvanceNotice(
            mandate_id=mandate.id,
            account_id=mandate.account_id,
            kind="first",
            description="First collection",
            schedule=[{"date": entry_day.isoformat(), "amount_pence": pence}],
            counts_from=date(2026, 6, 1),
            earliest_entry_day=earliest,
        )
        db.session.add(notice)
        db.session.flush()
        notice_id = notice.id
    collection = Collection(
        mandate_id=mandate.id,
        invoice_id=invoice.id,
        amount_pence=pence,
        transaction_code=code,
        collection_date=entry_day,
        status=status,
        advance_notice_id=notice_id,
    )
    db.session.add(collection)
    db.session.commit()
    return collection
