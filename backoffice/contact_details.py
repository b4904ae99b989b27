"""An officer updates a debtor's contact details, preferences and address on their behalf.

The form is the portal's contact details form (shared.forms.contact: the same
validators and channel checks) with the address and a note of how the debtor
asked for the change; the change is the portal's use case too, with the
officer as the actor.
"""

from __future__ import annotations

from dataclasses import replace

from flask import abort, flash, redirect, render_template, url_for
from govuk_frontend_wtf.wtforms_widgets import GovTextArea, GovTextInput
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from backoffice import bp
from backoffice.auth import requires
from backoffice.casework import case_or_404, staff_actor
from backoffice.forms import strip_whitespace
from shared.domain.permissions import Permission
from shared.forms.contact import ContactDetailsForm
from shared.forms.validators import uk_postcode
from shared.services import contact_details
from shared.services.contact_details import AddressChange
from shared.services.errors import InvalidRequest


def _address_line(label: str, max_length: int) -> StringField:
    return StringField(
        label,
        filters=[strip_whitespace],
        validators=[
            Length(max=max_length, message=f"{label} must be {max_length} characters or fewer")
        ],
        widget=GovTextInput(),
    )


class StaffContactDetailsForm(ContactDetailsForm):
    line1 = _address_line("Address line 1", 120)
    line2 = _address_line("Address line 2 (optional)", 120)
    town = _address_line("Town or city", 80)
    county = _address_line("County (optional)", 80)
    postcode = StringField(
        "Postcode", filters=[strip_whitespace], validators=[uk_postcode], widget=GovTextInput()
    )
    note = TextAreaField(
        "How did the debtor ask for this change?",
        description="For example, phone call from the debtor, or their letter of 3 March 2026",
        filters=[strip_whitespace],
        validators=[
            DataRequired(contact_details.NEEDS_NOTE),
            Length(
                max=contact_details.MAX_NOTE, message="The note must be 2,000 characters or fewer"
            ),
        ],
        widget=GovTextArea(),
    )

    # Whether the account has an address now: if so, it can be changed but not emptied.
    had_address = False

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        address = (self.line1, self.line2, self.town, self.county, self.postcode)
        if self.had_address or any(field.data for field in address):
            for field, message in (
                (self.line1, "Enter the first line of the address"),
                (self.town, "Enter the town or city"),
                (self.postcode, "Enter the postcode"),
            ):
                if not field.data and not field.errors:
                    field.errors.append(message)
                    valid = False
        return valid

    def changes(self) -> contact_details.ContactChanges:
        address = None
        if self.line1.data:
            address = AddressChange(
                line1=self.line1.data,
                line2=self.line2.data or None,
                town=self.town.data,
                county=self.county.data or None,
                postcode=self.postcode.data,
            )
        return replace(super().changes(), address=address)

    def fill_from(self, details: contact_details.ContactDetails) -> None:
        super().fill_from(details)
        if details.address is not None:
            self.line1.data = details.address.line1
            self.line2.data = details.address.line2
            self.town.data = details.address.town
            self.county.data = details.address.county
            self.postcode.data = details.address.postcode


@bp.route("/accounts/<reference>/contact-details", methods=["GET", "POST"])
@requires(Permission.WORK_CASES)
def update_contact_details(reference: str):
    case = case_or_404(reference)
    details = contact_details.current_details(case.id)
    if details is None:
        abort(404)
    form = StaffContactDetailsForm()
    form.had_address = details.address is not None
    if not form.is_submitted():
        form.fill_from(details)
    elif form.validate_on_submit():
        try:
            changed = contact_details.update_contact_details(
                case.id, form.changes(), staff_actor(), note=form.note.data
            )
        except InvalidRequest as exc:
            form.note.errors.append(str(exc))
        else:
            flash(
                "Contact details updated" if changed else "Nothing was changed",
                "success",
            )
            return redirect(url_for("backoffice.case_view", reference=case.reference))
    return render_template(
        "backoffice/contact_details/edit.html",
        form=form,
        case=case,
        back=url_for("backoffice.case_view", reference=case.reference),
    )
