"""Forms for "Set up a payment plan", one question a page.

Each form reads what the debtor typed into small values (invoice ids, a
frequency string, pence, a date) for the view to keep in the session; the
final "Send" re-checks them all through the plans service.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextInput
from wtforms import Form, FormField, RadioField, SelectMultipleField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired

from shared.domain.income_expenditure import FIELDS, SECTIONS
from shared.domain.numbers import ascii_digits, parse_whole_number
from shared.formatting import long_date
from shared.forms.validators import strip_whitespace
from shared.models import Frequency, PaymentRoute
from shared.money import MoneyFormatError, format_gbp, parse_gbp
from shared.services.plans.reads import Debt
from shared.services.plans.terms import START_WITHIN_DAYS
from shared.services.plans.wording import FREQUENCY_WORDS
from shared.widgets import GovCheckboxesInput, GovRadioInput

MINIMUM_INSTALMENT_PENCE = 100
BY_AMOUNT, BY_COUNT = "amount", "count"


# --- 1. which bills ------------------------------------------------------------------------


def bills_form(debts: Sequence[Debt]) -> FlaskForm:
    class BillsForm(FlaskForm):
        invoices = SelectMultipleField(
            "Which bills do you want to include in the plan?",
            description="Select all that apply",
            choices=[
                SelectChoice(
                    str(d.invoice_id),
                    f"{d.number}: {d.description} ({format_gbp(d.outstanding_pence)} to pay)",
                )
                for d in debts
            ],
            validate_choice=False,
            widget=GovCheckboxesInput(),
        )
        submit = SubmitField("Continue", widget=GovSubmitInput())

        def validate_invoices(self, field):
            allowed = {str(d.invoice_id) for d in debts}
            chosen = [v for v in (field.data or []) if v in allowed]
            if not chosen:
                field.errors.append("Select at least one bill to include in the plan")
                return
            field.data = chosen

        def invoice_ids(self) -> list[int]:
            return [int(v) for v in self.invoices.data]

    return BillsForm()


# --- 2. how often --------------------------------------------------------------------------

FREQUENCY_CHOICES = [
    SelectChoice(Frequency.WEEKLY.value, "Weekly"),
    SelectChoice(Frequency.FORTNIGHTLY.value, "Every two weeks (fortnightly)"),
    SelectChoice(Frequency.FOUR_WEEKLY.value, "Every four weeks"),
    SelectChoice(Frequency.MONTHLY.value, "Monthly"),
]


class FrequencyForm(FlaskForm):
    frequency = RadioField(
        "How often do you want to pay?",
        choices=FREQUENCY_CHOICES,
        validate_choice=False,
        validators=[
            DataRequired("Select how often you want to pay"),
            AnyOf([f.value for f in Frequency], message="Select how often you want to pay"),
        ],
        widget=GovRadioInput(),
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


# --- 3. how much ---------------------------------------------------------------------------


class AmountForm(FlaskForm):
    """An amount each time, or a number of payments; the other box is ignored (both
    boxes show without JavaScript)."""

    total_pence: int = 0

    how = RadioField(
        "How do you want to set your payments?",
        choices=[
            SelectChoice(BY_AMOUNT, "Choose how much to pay each time"),
            SelectChoice(BY_COUNT, "Choose how many payments to make"),
        ],
        validate_choice=False,
        validators=[
            DataRequired("Select how you want to set your payments"),
            AnyOf([BY_AMOUNT, BY_COUNT], message="Select how you want to set your payments"),
        ],
        widget=GovRadioInput(),
    )
    instalment = StringField("Amount each time", filters=[strip_whitespace], widget=GovTextInput())
    count = StringField("Number of payments", filters=[strip_whitespace], widget=GovTextInput())
    submit = SubmitField("Continue", widget=GovSubmitInput())

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        total = self.total_pence
        if self.how.data == BY_AMOUNT:
            try:
                pence = parse_gbp(self.instalment.data or "")
            except MoneyFormatError as exc:
                message = str(exc)
                if message == "Enter an amount":
                    message = "Enter how much you want to pay each time"
                self.instalment.errors.append(message)
                return False
            if pence < MINIMUM_INSTALMENT_PENCE:
                self.instalment.errors.append(
                    f"Amount each time must be {format_gbp(MINIMUM_INSTALMENT_PENCE)} or more"
                )
                return False
            if pence > total:
                self.instalment.errors.append(
                    f"Amount each time must be {format_gbp(total)} or less"
                )
                return False
            return True
        text = (self.count.data or "").strip()
        if not text:
            self.count.errors.append("Enter how many payments you want to make")
            return False
        count = parse_whole_number(text)
        if count is None:
            self.count.errors.append("Number of payments must be a whole number, like 6")
            return False
        # Each payment at least the minimum, so the count can never split a penny.
        most = max(total // MINIMUM_INSTALMENT_PENCE, 1)
        if count < 1:
            self.count.errors.append("Number of payments must be 1 or more")
            return False
        if count > most:
            self.count.errors.append(
                f"Number of payments must be {most} or fewer, so each payment is at least "
                f"{format_gbp(MINIMUM_INSTALMENT_PENCE)}"
            )
            return False
        return True

    def answers(self) -> dict:
        if self.how.data == BY_AMOUNT:
            return {"instalment_pence": parse_gbp(self.instalment.data), "count": None}
        return {"instalment_pence": None, "count": parse_whole_number(self.count.data)}

    def fill_from(self, answers: dict) -> None:
        if answers.get("instalment_pence"):
            self.how.data = BY_AMOUNT
            self.instalment.data = format_gbp(answers["instalment_pence"], symbol=False)
        elif answers.get("count"):
            self.how.data = BY_COUNT
            self.count.data = str(answers["count"])


# --- 4. first payment date -----------------------------------------------------------------

DATE_LABEL = "Date of first payment"


class DateParts(Form):
    day = StringField("Day", filters=[strip_whitespace])
    month = StringField("Month", filters=[strip_whitespace])
    year = StringField("Year", filters=[strip_whitespace])


class StartDateForm(FlaskForm):
    """A GOV.UK date input; `error_parts` says which of day, month and year to mark."""

    today: date = date.min

    start = FormField(DateParts, separator="-")
    submit = SubmitField("Continue", widget=GovSubmitInput())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.error_parts: tuple[str, ...] = ()
        self.date_error: str | None = None
        self.chosen: date | None = None

    def _fail(self, message: str, parts=("day", "month", "year")) -> bool:
        # One message for the whole date, as the GOV.UK date input pattern asks.
        self.date_error = message
        self.error_parts = tuple(parts)
        return False

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        parts = self.start.form
        values = {name: (getattr(parts, name).data or "") for name in ("day", "month", "year")}
        missing = [name for name, value in values.items() if not value]
        if len(missing) == 3:
            return self._fail(f"Enter the {DATE_LABEL.lower()}")
        if missing:
            return self._fail(f"{DATE_LABEL} must include a {' and '.join(missing)}", missing)
        if not all(ascii_digits(value) for value in values.values()) or len(values["year"]) != 4:
            return self._fail(f"{DATE_LABEL} must be a real date")
        try:
            chosen = date(int(values["year"]), int(values["month"]), int(values["day"]))
        except ValueError:
            return self._fail(f"{DATE_LABEL} must be a real date")
        latest = self.today + timedelta(days=START_WITHIN_DAYS)
        if chosen < self.today:
            return self._fail(f"{DATE_LABEL} must be today or in the future")
        if chosen > latest:
            return self._fail(f"{DATE_LABEL} must be on or before {long_date(latest)}")
        self.chosen = chosen
        return True

    def fill_from(self, day: date) -> None:
        parts = self.start.form
        parts.day.data, parts.month.data, parts.year.data = (
            str(day.day),
            str(day.month),
            str(day.year),
        )

    def summary_errors(self) -> dict:
        """The error summary's items (the date links to its first wrong part)."""
        first = self.error_parts[0] if self.error_parts else "day"
        return {
            "titleText": "There is a problem",
            "errorList": [{"text": self.date_error, "href": f"#start-{first}"}],
        }


# --- 5. income and expenditure -------------------------------------------------------------

SAVE, SUBMIT = "save", "submit"


class _StatementBase(FlaskForm):
    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for f in FIELDS:
            field = self[f.key]
            if not field.data:
                continue  # blank is £0
            try:
                parse_gbp(field.data)
            except MoneyFormatError as exc:
                field.errors.append(f"{f.label}: {exc}")
                valid = False
        return valid

    def amounts(self) -> dict[str, int]:
        return {f.key: parse_gbp(self[f.key].data) if self[f.key].data else 0 for f in FIELDS}

    def fill_from(self, amounts: dict) -> None:
        for f in FIELDS:
            pence = amounts.get(f.key) or 0
            self[f.key].data = format_gbp(pence, symbol=False) if pence else ""

    def sections(self):
        """(section title, its fields) in Standard Financial Statement order."""
        return [
            (title, [self[f.key] for f in FIELDS if f.section == key])
            for key, title in SECTIONS.items()
        ]


def statement_form() -> _StatementBase:
    class StatementForm(_StatementBase):
        pass

    for f in FIELDS:
        setattr(
            StatementForm,
            f.key,
            StringField(
                f.label,
                description=f.hint,
                filters=[strip_whitespace],
                widget=GovTextInput(),
            ),
        )
    return StatementForm()


# --- 6. how to pay -------------------------------------------------------------------------


class PaymentRouteForm(FlaskForm):
    route = RadioField(
        "How do you want to pay?",
        choices=[
            SelectChoice(PaymentRoute.DIRECT_DEBIT.value, "Direct Debit"),
            SelectChoice(PaymentRoute.CARD.value, "Debit or credit card"),
        ],
        validate_choice=False,
        validators=[
            DataRequired("Select how you want to pay"),
            AnyOf([r.value for r in PaymentRoute], message="Select how you want to pay"),
        ],
        widget=GovRadioInput(),
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


# --- 7. send; and the answer to a counter-offer --------------------------------------------


class SendForm(FlaskForm):
    """Only the CSRF token: the answers are in the session and are re-checked."""

    submit = SubmitField("Send", widget=GovSubmitInput())


ACCEPT, DECLINE = "accept", "decline"


class CounterOfferForm(FlaskForm):
    """CSRF only; which button was pressed is read from `decision`."""


def frequency_words(value: str) -> str:
    return FREQUENCY_WORDS[Frequency(value)]
