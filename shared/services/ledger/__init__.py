"""Ledger use cases: raise an invoice, record a payment, allocate, credit, write off,
refund, reverse and transfer credit.

Every function here is one transaction. It locks the debtor account row first
(SELECT ... FOR UPDATE on PostgreSQL; SQLite serialises writers anyway), so two
requests for the same account cannot both spend the same credit. Each change
writes its ledger rows, a timeline entry and an audit row, then commits once.
Bad requests raise a ServiceError subclass before anything is written.

The package (one module per kind of change, on the shared pieces in _core.py) is used
as one module: `from shared.services import ledger; ledger.record_payment(...)`.
"""

# VatRate too: callers build LineInput with it.
from shared.domain.vat import VatRate
from shared.services.ledger._core import (
    LineInput,
    PaymentResult,
    Requested,
    UnverifiedCredit,
    lock_account,
)
from shared.services.ledger.corrections import reverse, transfer_credit
from shared.services.ledger.credits import (
    creditable_pence,
    post_credit_note,
    post_write_off,
    raise_credit_note,
    write_off,
)
from shared.services.ledger.invoices import post_invoice, raise_invoice
from shared.services.ledger.payments import allocate, post_payment, record_payment
from shared.services.ledger.refunds import (
    is_unverified,
    post_refund,
    post_refund_returned,
    refund,
    refundable_available,
    refuse_unverified,
)

__all__ = [
    "LineInput",
    "PaymentResult",
    "Requested",
    "UnverifiedCredit",
    "VatRate",
    "allocate",
    "creditable_pence",
    "is_unverified",
    "lock_account",
    "post_credit_note",
    "post_invoice",
    "post_payment",
    "post_refund",
    "post_refund_returned",
    "post_write_off",
    "raise_credit_note",
    "raise_invoice",
    "record_payment",
    "refund",
    "refundable_available",
    "refuse_unverified",
    "reverse",
    "transfer_credit",
    "write_off",
]
