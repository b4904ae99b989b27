"""Forms for the signed-in "Your account" pages.

The pay form is quick pay's (portal.forms.amount_form) and the contact details
form is shared with the back office (shared.forms.contact); this module turns
the account's invoices into what the pay form expects.
"""

from __future__ import annotations

from collections.abc import Sequence

from shared.services.account_view import InvoiceRow
from shared.services.bill_lookup import BillItem


def bill_items(invoices: Sequence[InvoiceRow]) -> list[BillItem]:
    """The account's open invoices in the shape quick pay's amount form takes."""
    return [
        BillItem(
            invoice_id=i.id,
            number=i.number,
            description=i.description,
            due_date=i.due_date,
            outstanding_pence=i.outstanding_pence,
        )
        for i in invoices
        if i.outstanding_pence > 0
    ]
