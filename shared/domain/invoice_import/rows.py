"""One row of an invoice file read and checked: who the customer is, the invoice it
belongs to and the line it is.

A cell is read the way the layout documents it (docs/invoice-import.md), and each
thing wrong with a row is said in one sentence naming the row, the column and what
was in it: "Row 17: unit_price 'abc' is not an amount of money". Cells from an XLSX
come typed: numbers may be floats (12.5 for £12.50; 0.30000000000000004 for a sum
Excel shows as 0.30 is read as 0.30, but 12.345 is refused), dates may be dates.

What the database knows (departments, income codes, VAT rates) comes in as Facts, so
these rules stay pure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from shared.domain.dates import parse_day
from shared.domain.invoice_import.readers import RawRow
from shared.domain.vat import NoRateInForce, RatePeriod, VatRate, rate_in_force, vat_at
from shared.money import MAX_AMOUNT_PENCE, MoneyFormatError, format_gbp, parse_gbp

PERSON, ORGANISATION = "person", "organisation"
MAX_QUANTITY = 1_000_000
# Excel keeps 12.50 as the double 12.5, and a sum as 0.30000000000000004: a float this
# close to whole pence is that many pence.
_FLOAT_PENCE_TOLERANCE = Decimal("0.000001")
_POSTCODE = re.compile(r"^(?:[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}|GIR0AA)$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DIGITS = re.compile(r"^[0-9]+$")
_VAT_WORDS = {rate.value: rate for rate in VatRate}


@dataclass(frozen=True)
class Department:
    id: int
    payment_terms_days: int


@dataclass(frozen=True)
class Facts:
    """What the database knows that the rows are checked against."""

    departments: Mapping[str, Department]  # by code, upper case
    income_codes: Mapping[tuple[int, str], tuple[int, bool]]  # (department, CODE) -> (id, active)
    vat_periods: Sequence[RatePeriod]
    _rates: dict = field(default_factory=dict, compare=False, repr=False)

    def basis_points(self, rate: VatRate, tax_point: date) -> int:
        """The rate in force on the tax point (NoRateInForce if none); remembered,
        as a file's invoices share a handful of dates."""
        key = (rate, tax_point)
        if key not in self._rates:
            self._rates[key] = rate_in_force(self.vat_periods, rate, tax_point)
        return self._rates[key]


@dataclass(frozen=True)
class Customer:
    customer_id: str
    kind: str
    title: str | None
    forename: str | None
    surname: str | None
    organisation_name: str | None
    company_number: str | None
    email: str | None
    mobile_phone: str | None
    line1: str
    line2: str | None
    town: str
    county: str | None
    postcode: str

    def account_fields(self) -> dict[str, str | None]:
        return {
            "kind": self.kind,
            "title": self.title,
            "forename": self.forename,
            "surname": self.surname,
            "organisation_name": self.organisation_name,
            "company_number": self.company_number,
            "email": self.email,
            "mobile_phone": self.mobile_phone,
        }

    def address_fields(self) -> dict[str, str | None]:
        return {
            "line1": self.line1,
            "line2": self.line2,
            "town": self.town,
            "county": self.county,
            "postcode": self.postcode,
        }


@dataclass(frozen=True)
class Header:
    """What every row of one invoice must agree on."""

    invoice_number: str
    customer_id: str
    department_id: int
    income_code_id: int | None
    issue_date: date
    due_date: date
    description: str
    purchase_order: str | None


@dataclass(frozen=True)
class Line:
    description: str
    quantity: int
    unit_price_pence: int
    vat_rate: VatRate
    vat_basis_points: int
    net_pence: int
    vat_pence: int


@dataclass(frozen=True)
class ParsedRow:
    number: int
    customer: Customer
    header: Header
    line: Line


class _Row:
    """One row's cells, collecting what is wrong with them."""

    def __init__(self, raw: RawRow) -> None:
        self.number = raw.number
        self.cells = raw.cells
        self.errors: list[str] = []

    def fail(self, message: str) -> None:
        self.errors.append(f"Row {self.number}: {message}")

    def shown(self, column: str) -> str:
        value = self.cells.get(column)
        if isinstance(value, datetime):
            value = value.date()
        return repr(value.isoformat() if isinstance(value, date) else _as_text(value))

    def text(self, column: str, limit: int, *, required: bool = False) -> str | None:
        value = self.cells.get(column)
        if value.__class__ is str:  # nearly every cell: the quick way
            text = value.strip()
            if "  " in text or "\t" in text or "\n" in text or "\r" in text:
                text = " ".join(text.split())
        else:
            if isinstance(value, datetime):
                value = value.date()
            text = " ".join(_as_text(value).split())
        if not text:
            if required:
                self.fail(f"{column} is blank")
            return None
        if len(text) > limit:
            self.fail(f"{column} is {len(text)} characters; at most {limit} fit")
            return None
        return text

    def day(self, column: str, *, required: bool) -> date | None:
        value = self.cells.get(column)
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        text = _as_text(value).strip()
        if not text:
            if required:
                self.fail(f"{column} is blank")
            return None
        try:
            return parse_day(text)
        except ValueError:
            self.fail(f"{column} {self.shown(column)} is not a date like 2026-03-27")
            return None

    def day_quietly(self, column: str) -> date | None:
        """The date in the column if there is one, with nothing said if not (the
        column's own check has said it)."""
        errors = len(self.errors)
        found = self.day(column, required=False)
        del self.errors[errors:]
        return found

    def pence(self, column: str) -> int | None:
        value = self.cells.get(column)
        try:
            return _money(value)
        except _Blank:
            self.fail(f"{column} is blank")
        except _Negative:
            self.fail(f"{column} {self.shown(column)} must not be negative")
        except _TooPrecise:
            self.fail(f"{column} {self.shown(column)} has more than 2 decimal places")
        except _TooMuch:
            self.fail(f"{column} {self.shown(column)} is more than {format_gbp(MAX_AMOUNT_PENCE)}")
        except ValueError:
            self.fail(f"{column} {self.shown(column)} is not an amount of money")
        return None

    def whole(self, column: str, low: int, high: int) -> int | None:
        value = self.cells.get(column)
        number: int | None = None
        if isinstance(value, bool):
            number = None
        elif isinstance(value, int):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        else:
            text = _as_text(value).strip().replace(",", "")
            if not text:
                self.fail(f"{column} is blank")
                return None
            if text.endswith(".0") or text.endswith(".00"):
                text = text.rsplit(".", 1)[0]
            if _DIGITS.match(text) and len(text) <= 9:
                number = int(text)
        if number is None:
            self.fail(f"{column} {self.shown(column)} is not a whole number")
            return None
        if not low <= number <= high:
            self.fail(f"{column} {self.shown(column)} must be between {low:,} and {high:,}")
            return None
        return number


class _Blank(ValueError):
    pass


class _Negative(ValueError):
    pass


class _TooPrecise(ValueError):
    pass


class _TooMuch(ValueError):
    pass


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _money(value: Any) -> int:
    """Pence from a cell: "12.50", "£1,234.50", 12.5, 12; errors as the classes above."""
    if isinstance(value, bool):
        raise ValueError("not money")
    if isinstance(value, int | float | Decimal):
        try:
            amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        except InvalidOperation:
            raise ValueError("not money") from None
        if not amount.is_finite():
            raise ValueError("not money")
        if amount < 0:
            raise _Negative()
        pennies = amount.quantize(Decimal("0.01"))
        if abs(amount - pennies) > (_FLOAT_PENCE_TOLERANCE if isinstance(value, float) else 0):
            raise _TooPrecise()
        if pennies * 100 > MAX_AMOUNT_PENCE:
            raise _TooMuch()
        return int(pennies * 100)
    text = _as_text(value).strip()
    if not text:
        raise _Blank()
    if text.lstrip("£ ").startswith("-") or text.startswith("-"):
        raise _Negative()
    try:
        return parse_gbp(text)
    except MoneyFormatError as exc:
        message = str(exc)
        if "decimal places" in message:
            raise _TooPrecise() from None
        if "or less" in message:
            raise _TooMuch() from None
        raise ValueError(message) from None


def formatted_postcode(text: str) -> str | None:
    """ "sw1a1aa" -> "SW1A 1AA"; None if it is not the shape of a UK postcode."""
    key = re.sub(r"[^A-Z0-9]", "", text.upper())
    if not _POSTCODE.match(key):
        return None
    return f"{key[:-3]} {key[-3:]}"


def _customer(row: _Row) -> Customer | None:
    before = len(row.errors)
    customer_id = row.text("customer_id", 40, required=True)
    kind_text = (row.text("customer_kind", 20, required=True) or "").lower()
    kind = kind_text if kind_text in (PERSON, ORGANISATION) else None
    if kind_text and kind is None:
        row.fail(f"customer_kind {row.shown('customer_kind')} is not person or organisation")
    title = row.text("title", 20)
    forename = row.text("forename", 100)
    surname = row.text("surname", 100, required=kind == PERSON)
    organisation = row.text("organisation_name", 200, required=kind == ORGANISATION)
    company = row.text("company_number", 20)
    if company is not None:
        company = company.replace(" ", "").upper()
        if len(company) > 8:
            row.fail(f"company_number {row.shown('company_number')} is longer than 8 characters")
    email = row.text("email", 254)
    if email and not _EMAIL.match(email):
        row.fail(f"email {row.shown('email')} is not an email address")
    mobile = row.text("mobile", 20)
    line1 = row.text("address_line1", 120, required=True)
    line2 = row.text("address_line2", 120)
    town = row.text("town", 80, required=True)
    county = row.text("county", 80)
    postcode_text = row.text("postcode", 20, required=True)
    postcode = formatted_postcode(postcode_text) if postcode_text else None
    if postcode_text and postcode is None:
        row.fail(f"postcode {row.shown('postcode')} is not a UK postcode")
    if len(row.errors) > before:
        return None
    person = kind == PERSON
    return Customer(
        customer_id=customer_id,
        kind=kind,
        title=title if person else None,
        forename=forename if person else None,
        surname=surname if person else None,
        organisation_name=None if person else organisation,
        company_number=None if person else company,
        email=email,
        mobile_phone=mobile,
        line1=line1,
        line2=line2,
        town=town,
        county=county,
        postcode=postcode,
    )


def _header(row: _Row, facts: Facts, customer_id: str | None) -> Header | None:
    before = len(row.errors)
    number_text = row.text("invoice_number", 40, required=True)
    number = "".join((number_text or "").split()).upper()
    if len(number) > 20:
        row.fail(f"invoice_number {row.shown('invoice_number')} is longer than 20 characters")
    code = (row.text("department_code", 20, required=True) or "").upper()
    department = facts.departments.get(code)
    if code and department is None:
        row.fail(f"department_code {row.shown('department_code')} is not a department's code")
    income_code_id = None
    income = row.text("income_code", 20)
    if income and department is not None:
        found = facts.income_codes.get((department.id, income.upper()))
        if found is None:
            row.fail(f"income_code {row.shown('income_code')} is not one of {code}'s income codes")
        elif not found[1]:
            row.fail(f"income_code {row.shown('income_code')} is retired")
        else:
            income_code_id = found[0]
    issued = row.day("issue_date", required=True)
    due = row.day("due_date", required=False)
    if issued and due and due < issued:
        row.fail(f"due_date {row.shown('due_date')} is before the issue_date")
    description = row.text("description", 300, required=True)
    purchase_order = row.text("purchase_order", 40)
    if len(row.errors) > before or customer_id is None:
        return None
    if due is None:
        due = issued + timedelta(days=department.payment_terms_days)
    return Header(
        invoice_number=number,
        customer_id=customer_id,
        department_id=department.id,
        income_code_id=income_code_id,
        issue_date=issued,
        due_date=due,
        description=description,
        purchase_order=purchase_order,
    )


def _line(row: _Row, facts: Facts, issued: date | None) -> Line | None:
    before = len(row.errors)
    description = row.text("line_description", 300, required=True)
    quantity = row.whole("quantity", 1, MAX_QUANTITY)
    unit_price = row.pence("unit_price")
    rate_text = (row.text("vat_rate", 20, required=True) or "").lower()
    rate = _VAT_WORDS.get(rate_text.replace(" ", "_").replace("-", "_"))
    if rate_text and rate is None:
        row.fail(
            f"vat_rate {row.shown('vat_rate')} is not one of {', '.join(r.value for r in VatRate)}"
        )
    basis_points = None
    if rate is not None and issued is not None:
        try:
            basis_points = facts.basis_points(rate, issued)
        except NoRateInForce as exc:
            row.fail(str(exc))
    if len(row.errors) > before or basis_points is None:
        return None
    net = quantity * unit_price
    if net > MAX_AMOUNT_PENCE:
        row.fail(f"the line comes to {format_gbp(net)}, more than {format_gbp(MAX_AMOUNT_PENCE)}")
        return None
    return Line(
        description=description,
        quantity=quantity,
        unit_price_pence=unit_price,
        vat_rate=rate,
        vat_basis_points=basis_points,
        net_pence=net,
        vat_pence=vat_at(net, basis_points),
    )


_CUSTOMER_COLUMNS = (
    "customer_id",
    "customer_kind",
    "title",
    "forename",
    "surname",
    "organisation_name",
    "company_number",
    "address_line1",
    "address_line2",
    "town",
    "county",
    "postcode",
    "email",
    "mobile",
)
_HEADER_COLUMNS = (
    "invoice_number",
    "department_code",
    "income_code",
    "issue_date",
    "due_date",
    "description",
    "purchase_order",
)


class RowParser:
    """parse_row for the rows of one file in order. The rows of an invoice repeat its
    customer's and header's cells, so a row whose cells are the same as the row
    before's reuses what was read from them (only when they were right: a wrong cell
    is reported on every row that has it)."""

    def __init__(self, facts: Facts) -> None:
        self.facts = facts
        self._customer: tuple[tuple, Customer] | None = None
        self._header: tuple[tuple, Header] | None = None

    def parse(self, raw: RawRow) -> ParsedRow | list[str]:
        """The row read and checked, or every sentence saying what is wrong with it."""
        row = _Row(raw)
        get = raw.cells.get
        key = tuple(get(name) for name in _CUSTOMER_COLUMNS)
        if self._customer is not None and self._customer[0] == key:
            customer = self._customer[1]
        else:
            customer = _customer(row)
            self._customer = (key, customer) if customer is not None else None
        key = (customer.customer_id if customer else None, *(get(n) for n in _HEADER_COLUMNS))
        if self._header is not None and self._header[0] == key:
            header = self._header[1]
        else:
            header = _header(row, self.facts, key[0])
            self._header = (key, header) if header is not None else None
        issued = header.issue_date if header else row.day_quietly("issue_date")
        line = _line(row, self.facts, issued)
        if row.errors:
            return row.errors
        return ParsedRow(raw.number, customer, header, line)


def parse_row(raw: RawRow, facts: Facts) -> ParsedRow | list[str]:
    """One row read and checked on its own, or every sentence saying what is wrong."""
    return RowParser(facts).parse(raw)
