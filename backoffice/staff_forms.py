"""Forms an administrator uses to manage staff, and the one a member of staff uses to
replace a temporary password at sign-in."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovPasswordInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import PasswordField, RadioField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from backoffice.forms import email_shape, strip_whitespace
from shared.models import StaffRole
from shared.money import MoneyFormatError, format_gbp, parse_gbp
from shared.services.portal_accounts import password_problem
from shared.services.staff_admin import MAX_TEAM, limit_problem, team_problem
from shared.widgets import GovRadioInput

ROLE_LABELS = {
    StaffRole.OFFICER: "Recovery officer",
    StaffRole.TEAM_LEADER: "Team leader",
    StaffRole.ADMIN: "Administrator",
    StaffRole.AUDITOR: "Auditor",
    StaffRole.SERVICE_DEPARTMENT: "Service department user",
}

ROLE_HINTS = {
    StaffRole.OFFICER: "Works cases and asks for refunds and write-offs",
    StaffRole.TEAM_LEADER: "Works cases and approves other people's refunds and write-offs",
    StaffRole.ADMIN: "Manages staff, roles and limits; can look at cases but not change them",
    StaffRole.AUDITOR: "Reads cases and the audit log; changes nothing",
    StaffRole.SERVICE_DEPARTMENT: (
        "Raises invoices for one department, each checked before it goes out; sees nothing else"
    ),
}


class PoundsField(StringField):
    """An amount in pounds typed by a person, kept as integer pence in `pence`."""

    pence: int | None = None


def delegated_limit(name: str):
    """Validate a limit in pounds (parse_gbp) and store it in pence on the field."""

    def check(form, field):
        field.pence = None
        text = field.data or ""
        if text.strip().startswith("-"):
            raise ValidationError(f"{name} must be £0 or more")
        try:
            pence = parse_gbp(text)
        except MoneyFormatError as exc:
            message = str(exc)
            if message == "Enter an amount":
                raise ValidationError(f"Enter a {name.lower()}") from None
            raise ValidationError(message.replace("Amount", name, 1)) from None
        problem = limit_problem(pence)
        if problem:
            raise ValidationError(problem.replace("Limit", name, 1))
        field.pence = pence

    return check


def pounds(pence: int) -> str:
    """What a limit field shows for an amount already set: 1,234.56, no £ (the field has one)."""
    return format_gbp(pence, symbol=False)


def one_of_the_roles(form, field):
    # In place of WTForms' "Not a valid choice", which is not GOV.UK wording.
    if field.data not in {role.value for role in StaffRole}:
        raise ValidationError("Select a role")


def _role_field():
    return RadioField(
        "Role",
        choices=[SelectChoice(role.value, ROLE_LABELS[role]) for role in StaffRole],
        validate_choice=False,
        validators=[DataRequired("Select a role"), one_of_the_roles],
        widget=GovRadioInput(),
    )


def _limit_field(label: str):
    # Made per form, in page order: WTForms orders fields (and so the error
    # summary) by when each was created.
    return PoundsField(label, validators=[delegated_limit(label)], widget=GovTextInput())


def _department_field():
    return SelectField(
        "Department (service department users only)",
        description="The one department a service department user raises invoices for",
        choices=[],
        validate_choice=False,
        widget=GovSelect(),
    )


def _optional_limit_field(label: str):
    """A limit that may be left blank (pence None): £0 for someone new, and unchanged
    for someone who has one."""
    check = delegated_limit("Invoice limit")

    def optional(form, field):
        field.pence = None
        if (field.data or "").strip():
            check(form, field)

    return PoundsField(label, validators=[optional], widget=GovTextInput())


class AddStaffForm(FlaskForm):
    full_name = StringField(
        "Full name",
        filters=[strip_whitespace],
        validators=[
            DataRequired("Enter their full name"),
            Length(max=120, message="Full name must be 120 characters or fewer"),
        ],
        widget=GovTextInput(),
    )
    email = StringField(
        "Email address",
        filters=[strip_whitespace],
        validators=[
            DataRequired("Enter their email address"),
            Length(max=254, message="Email address must be 254 characters or fewer"),
            email_shape,
        ],
        widget=GovTextInput(),
    )
    role = _role_field()
    department = _department_field()
    refund_limit = _limit_field("Refund limit")
    write_off_limit = _limit_field("Write-off limit")
    invoice_limit = _optional_limit_field("Invoice limit (optional)")
    submit = SubmitField("Add member of staff", widget=GovSubmitInput())


class RoleForm(FlaskForm):
    role = _role_field()
    department = _department_field()
    submit = SubmitField("Save role", widget=GovSubmitInput())


class LimitsForm(FlaskForm):
    refund_limit = _limit_field("Refund limit")
    write_off_limit = _limit_field("Write-off limit")
    invoice_limit = _optional_limit_field("Invoice limit (optional)")
    submit = SubmitField("Save limits", widget=GovSubmitInput())


def team_name(form, field):
    problem = team_problem(field.data)
    if problem:
        raise ValidationError(problem)


class TeamForm(FlaskForm):
    # Trimmed, with runs of spaces made one, by the service (clean_team) too.
    team = StringField(
        "Team",
        filters=[strip_whitespace],
        description=(
            f"The team they work in, as the officer activity report groups people "
            f"({MAX_TEAM} characters at most). Leave it blank for no team."
        ),
        validators=[team_name],
        widget=GovTextInput(),
    )
    submit = SubmitField("Save team", widget=GovSubmitInput())


def set_departments(form, departments: list[tuple[int, str]]) -> None:
    """The department choices (a service-department user's), from the database."""
    form.department.choices = [SelectChoice("", "Not a service department user")] + [
        SelectChoice(str(i), name) for i, name in departments
    ]


def chosen_department(form) -> int | None:
    """The department chosen, if it is one of the choices offered."""
    data = form.department.data or ""
    offered = {c.value for c in form.department.choices or []}
    return int(data) if data and data in offered and data.isdigit() else None


def good_password(form, field):
    problem = password_problem(field.data or "")
    if field.data and problem:
        raise ValidationError(problem)


def same_as_password(form, field):
    if form.password.data and field.data and field.data != form.password.data:
        raise ValidationError("Passwords do not match")


class NewPasswordForm(FlaskForm):
    """Choosing one's own password in place of the temporary one, at sign-in."""

    # Not stripped: spaces can be part of a password.
    password = PasswordField(
        "Create a password",
        description="Your password must be at least 10 characters long",
        validators=[DataRequired("Enter a password"), good_password],
        widget=GovPasswordInput(),
    )
    confirm = PasswordField(
        "Confirm your password",
        validators=[DataRequired("Confirm your password"), same_as_password],
        widget=GovPasswordInput(),
    )
    submit = SubmitField("Save password and continue", widget=GovSubmitInput())
