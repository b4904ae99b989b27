"""Rows into invoices: the rows of one invoice (same invoice_number) come one after
another and agree on the invoice's header; the rows of one customer (same
customer_id), wherever they are in the file, agree on who the customer is.

An Assembler is fed the file's rows in order and hands back each invoice once its
last row has been seen, so a file is assembled in one pass holding one invoice's
lines at a time. It remembers, per invoice number and per customer, only where they
were first seen (and a fingerprint of the customer's details), not the rows.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from shared.domain.invoice_import.rows import Customer, Header, Line, ParsedRow
from shared.money import MAX_AMOUNT_PENCE, format_gbp

# The column each header field is read from, to name it in a message.
_COLUMN_OF = {
    "customer_id": "customer_id",
    "department_id": "department_code",
    "income_code_id": "income_code",
    "issue_date": "issue_date",
    "due_date": "due_date",
    "description": "description",
    "purchase_order": "purchase_order",
}


@dataclass(frozen=True)
class Invoice:
    """An invoice as the file gives it. (Not slotted, on purpose: the import keeps its
    invoices in a temporary file between the passes, and plain instances unpickle
    several times faster than slotted ones.)"""

    header: Header
    customer: Customer
    lines: tuple[Line, ...]
    first_row: int
    net_pence: int
    vat_pence: int

    @property
    def total_pence(self) -> int:
        return self.net_pence + self.vat_pence

    @classmethod
    def of(cls, header: Header, customer: Customer, lines: tuple[Line, ...], first_row: int):
        net = sum(line.net_pence for line in lines)
        vat = sum(line.vat_pence for line in lines)
        return cls(header, customer, lines, first_row, net, vat)


class Assembler:
    def __init__(self) -> None:
        self._header: Header | None = None
        self._customer: Customer | None = None
        self._lines: list[Line] = []
        self._first_row = 0
        self._previous_row = 0
        self.invoice_rows: dict[str, int] = {}  # invoice number -> its first row
        self._customers: dict[str, tuple[int, int]] = {}  # id -> (fingerprint, first row)

    def add(self, row: ParsedRow) -> tuple[list[str], Invoice | None]:
        """Errors this row brings, and the invoice the row ended (if it started a new one)."""
        errors = self._check_customer(row)
        header = row.header
        if self._header is not None and header.invoice_number == self._header.invoice_number:
            different = [
                _COLUMN_OF[f.name]
                for f in fields(Header)
                if f.name in _COLUMN_OF and getattr(header, f.name) != getattr(self._header, f.name)
            ]
            if "issue_date" in different and "due_date" in different:
                # A due date left to the payment terms moves with the issue date: the
                # issue date is the difference to name.
                different.remove("due_date")
            if different:
                errors.append(
                    f"Row {row.number}: {', '.join(different)} differ"
                    f"{'s' if len(different) == 1 else ''} from row {self._first_row}'s, "
                    f"for the same invoice {header.invoice_number}"
                )
            self._lines.append(row.line)
            self._previous_row = row.number
            return errors, None
        closing_errors, finished = self._close()
        errors = closing_errors + errors
        first = self.invoice_rows.get(header.invoice_number)
        if first is not None:
            errors.append(
                f"Row {row.number}: invoice {header.invoice_number} began at row {first}, "
                f"and other invoices' rows came between: keep an invoice's rows together"
            )
        else:
            self.invoice_rows[header.invoice_number] = row.number
        self._header, self._customer = header, row.customer
        self._lines = [row.line]
        self._first_row = self._previous_row = row.number
        return errors, finished

    def finish(self) -> tuple[list[str], Invoice | None]:
        """The last invoice, once the file has ended."""
        return self._close()

    def _check_customer(self, row: ParsedRow) -> list[str]:
        customer = row.customer
        fingerprint = hash(customer)
        seen = self._customers.get(customer.customer_id)
        if seen is None:
            self._customers[customer.customer_id] = (fingerprint, row.number)
        elif seen[0] != fingerprint:
            return [
                f"Row {row.number}: customer {customer.customer_id}'s name, address or "
                f"contact details differ from row {seen[1]}'s (every row of a customer "
                f"must give the same details)"
            ]
        return []

    def _close(self) -> tuple[list[str], Invoice | None]:
        if self._header is None:
            return [], None
        invoice = Invoice.of(self._header, self._customer, tuple(self._lines), self._first_row)
        self._header, self._customer, self._lines = None, None, []
        total = invoice.total_pence
        if total <= 0:
            return [
                f"Row {invoice.first_row}: invoice {invoice.header.invoice_number} comes to "
                f"{format_gbp(total)}; an invoice must be for more than £0"
            ], None
        if total > MAX_AMOUNT_PENCE:
            return [
                f"Row {invoice.first_row}: invoice {invoice.header.invoice_number} comes to "
                f"{format_gbp(total)}, more than {format_gbp(MAX_AMOUNT_PENCE)}"
            ], None
        return [], invoice
