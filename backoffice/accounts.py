"""Officers create a debtor account, and edit an account's details.

Creating promises that nobody opens a second account for a debtor the council
already has without seeing it first: when the details look like existing accounts
(same name and postcode, email, mobile or phone, company number, finance system
customer id) the officer is shown them, with why each matched, and either opens
one or creates the new account anyway. "Anyway" carries the ids shown; the service
checks again and shows the list again if another has appeared meanwhile.

Editing changes the names, the kind's own fields, the address, contact details,
consent and finance system customer id, with the officer's reason on the timeline.
The form's checks are the service's (shared.domain.debtor_details, and the contact
details rules of shared.forms.contact), so each problem is shown on its field at once.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextArea, GovTextInput
from wtforms import (
    HiddenField,
    RadioField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from backoffice import bp
from backoffice.auth import requires
from backoffice.casework import case_or_404, staff_actor
from backoffice.forms import strip_whitespace
from shared.domain import debtor_details as rules
from shared.domain.numbers import parse_whole_number
from shared.domain.permissions import Permission
from shared.forms.contact import ContactDetailsForm
from shared.services import debtor_accounts
from shared.services.debtor_accounts import DetailsRefused, UnacknowledgedDuplicates
from shared.services.errors import InvalidRequest
from shared.widgets import GovRadioInput

KIND_CHOICES = [
    SelectChoice(rules.PERSON, "A person"),
    SelectChoice(rules.ORGANISATION, "An organisation"),
]
# The order fields appear on the page, which the error summary follows.
PAGE_ORDER = (
    "kind",
    "title",
    "forename",
    "surname",
    "organisation_name",
    "company_number",
    "line1",
    "line2",
    "town",
    "county",
    "postcode",
    "email",
    "mobile_phone",
    "other_phone",
    "preferred_channel",
    "consents",
    "finance_customer_id",
    "note",
)
# Fields a browser sends that are not the debtor's details.
NOT_DETAILS = ("csrf_token", "submit", "acknowledged", "decision", "note")


def _text(label: str, *, description: str | None = None) -> StringField:
    # Lengths and shapes are checked by shared.domain.debtor_details (see validate).
    return StringField(
        label, description=description, filters=[strip_whitespace], widget=GovTextInput()
    )


class AccountForm(ContactDetailsForm):
    """The debtor's details; the contact details fields and their checks are the
    contact details form's."""

    kind = RadioField(
        "Is the debtor a person or an organisation?",
        choices=KIND_CHOICES,
        validate_choice=False,
        widget=GovRadioInput(),
    )
    title = _text("Title (optional)", description="For example, Mr, Mrs, Ms or Dr")
    forename = _text("First name (optional)")
    surname = _text("Last name")
    organisation_name = _text("Organisation name")
    company_number = _text(
        "Company number (optional)",
        description="From Companies House, for a company or LLP: 8 characters, "
        "like 01234567 or SC123456",
    )
    line1 = _text("Address line 1")
    line2 = _text("Address line 2 (optional)")
    town = _text("Town or city")
    county = _text("County (optional)")
    postcode = _text("Postcode")
    finance_customer_id = _text(
        "Finance system customer id (optional)",
        description="The customer's id in the council's finance system, if it has one. "
        "Invoices imported from the finance system find the account by it",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The contact details fields were declared first (on the base form); the error
        # summary lists problems in _fields' order, so put it in the page's.
        order = {name: i for i, name in enumerate(PAGE_ORDER)}
        self._fields = dict(
            sorted(self._fields.items(), key=lambda item: order.get(item[0], len(order)))
        )

    def details(self) -> rules.DebtorDetails:
        consents = set(self.consents.data or ())
        return rules.DebtorDetails(
            kind=self.kind.data or "",
            title=self.title.data,
            forename=self.forename.data,
            surname=self.surname.data,
            organisation_name=self.organisation_name.data,
            company_number=self.company_number.data,
            line1=self.line1.data,
            line2=self.line2.data,
            town=self.town.data,
            county=self.county.data,
            postcode=self.postcode.data,
            email=self.email.data,
            mobile_phone=self.mobile_phone.data,
            other_phone=self.other_phone.data,
            preferred_channel=self.preferred_channel.data or "",
            consent_email="email" in consents,
            consent_sms="sms" in consents,
            finance_customer_id=self.finance_customer_id.data,
        )

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        problems = rules.details_problems(rules.tidy(self.details()))
        return self.show_problems(problems) and valid

    def show_problems(self, problems: dict[str, str]) -> bool:
        """Put each problem on its field (one message a field); False if there were any."""
        for name, message in problems.items():
            field = self._fields.get(name)
            if field is not None and not field.errors:
                field.errors = [message]
        return not problems

    def fill_from(self, details: rules.DebtorDetails) -> None:
        for name in PAGE_ORDER:
            if name in self._fields and hasattr(details, name):
                self._fields[name].data = getattr(details, name)
        self.consents.data = [
            name
            for name, given in (("email", details.consent_email), ("sms", details.consent_sms))
            if given
        ]

    def carried(self) -> list[tuple[str, str]]:
        """The details as hidden fields, so the duplicates page can send them back."""
        pairs = []
        for name, field in self._fields.items():
            if name in NOT_DETAILS:
                continue
            values = field.data if isinstance(field.data, list) else [field.data]
            pairs += [(name, value) for value in values if value]
        return pairs


class NewAccountForm(AccountForm):
    # Sent by the duplicates page: the ids the officer was shown, and what they chose.
    acknowledged = SelectMultipleField(validate_choice=False)
    decision = HiddenField()
    submit = SubmitField("Continue", widget=GovSubmitInput())

    def acknowledged_ids(self) -> list[int]:
        ids = (parse_whole_number(v) for v in self.acknowledged.data or ())
        return [i for i in ids if i is not None]


class EditAccountForm(AccountForm):
    note = TextAreaField(
        "Why are the details changing?",
        description="For example, name misspelt when the account was opened, or the debtor's "
        "letter of 3 March 2026",
        filters=[strip_whitespace],
        validators=[
            DataRequired(debtor_accounts.NEEDS_NOTE),
            Length(
                max=debtor_accounts.MAX_NOTE, message="The note must be 2,000 characters or fewer"
            ),
        ],
        widget=GovTextArea(),
    )
    submit = SubmitField("Save details", widget=GovSubmitInput())


def _case_url(reference: str) -> str:
    return url_for("backoffice.case_view", reference=reference)


@bp.route("/accounts/new", methods=["GET", "POST"])
@requires(Permission.MANAGE_ACCOUNTS)
def create_account():
    form = NewAccountForm()
    if form.validate_on_submit() and form.decision.data != "change":
        acknowledged = form.acknowledged_ids()
        try:
            created = debtor_accounts.create_account(
                form.details(), staff_actor(), acknowledged_duplicate_ids=acknowledged
            )
        except UnacknowledgedDuplicates as exc:
            return render_template(
                "backoffice/accounts/duplicates.html",
                form=form,
                duplicates=exc.duplicates,
                checked_again=bool(acknowledged),
                case_url=_case_url,
            )
        except DetailsRefused as exc:
            form.show_problems(exc.problems)
        else:
            flash(f"Account {created.reference} created for {created.name}", "success")
            return redirect(_case_url(created.reference))
    return render_template(
        "backoffice/accounts/form.html",
        form=form,
        case=None,
        heading="Create an account",
        action=url_for("backoffice.create_account"),
        back=url_for("backoffice.search"),
    )


@bp.route("/accounts/<reference>/details/edit", methods=["GET", "POST"])
@requires(Permission.MANAGE_ACCOUNTS)
def edit_account_details(reference: str):
    case = case_or_404(reference)
    details = debtor_accounts.current_details(case.id)
    if details is None:
        abort(404)
    form = EditAccountForm()
    if not form.is_submitted():
        form.fill_from(details)
    elif form.validate_on_submit():
        try:
            changed = debtor_accounts.update_account(
                case.id, form.details(), staff_actor(), note=form.note.data
            )
        except DetailsRefused as exc:
            form.show_problems(exc.problems)
        except InvalidRequest as exc:
            form.note.errors = [str(exc)]
        else:
            flash("Account details updated" if changed else "Nothing was changed", "success")
            return redirect(_case_url(case.reference))
    return render_template(
        "backoffice/accounts/form.html",
        form=form,
        case=case,
        heading="Edit account details",
        action=url_for("backoffice.edit_account_details", reference=case.reference),
        back=_case_url(case.reference),
    )
