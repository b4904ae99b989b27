"""What every case-work view shares: the account a page is about, who is acting, and
form validators for pounds and dates that keep the parsed value on the field."""

from __future__ import annotations

from datetime import date

from flask import abort, request
from wtforms.validators import ValidationError

from backoffice.auth import current_staff
from shared import clock
from shared.domain.dates import parse_day
from shared.money import MoneyFormatError, parse_gbp
from shared.services import account_view, actors, contacts
from shared.services.actors import Actor
from shared.services.bill_lookup import normalise_reference


def today() -> date:
    """The business day (England's date), as the services count it."""
    return clock.today()


def case_or_404(reference: str) -> contacts.CaseHeading:
    """The account a page is about, by the reference in its URL (any case or spacing)."""
    case = contacts.case_heading(normalise_reference(reference))
    if case is None:
        abort(404)
    return case


def invoice_or_404(case: contacts.CaseHeading, number: str) -> account_view.InvoiceRow:
    """An invoice of the case's account by the number in the URL; anyone else's is a 404."""
    invoice = account_view.invoice_row(case.id, normalise_reference(number), today())
    if invoice is None:
        abort(404)
    return invoice


def staff_actor() -> Actor:
    return actors.staff(current_staff().id, request.remote_addr)


def pounds(label: str):
    """Validate an amount typed in pounds; the pence are kept on `field.pence`."""

    def check(form, field):
        field.pence = None
        if field.data:
            try:
                field.pence = parse_gbp(field.data)
            except MoneyFormatError as exc:
                raise ValidationError(str(exc)) from None
            if field.pence == 0:
                raise ValidationError(f"{label} must be more than £0")

    return check


def a_date(label: str):
    """Validate a date as people type it (shared.domain.dates); kept on `field.parsed`."""

    def check(form, field):
        field.parsed = None
        if field.data:
            try:
                field.parsed = parse_day(field.data)
            except ValueError:
                raise ValidationError(f"{label} must be a real date, like 27/3/2026") from None

    return check
