"""The audit log for auditors and administrators: filter it, read it, page through it.

A GET form (no CSRF token: reading changes nothing), so a filtered view is a link
an auditor can bookmark or send to a colleague."""

from __future__ import annotations

from dataclasses import dataclass

from flask import render_template, request, url_for
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovSubmitInput, GovTextInput
from wtforms import SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, ValidationError

from backoffice import bp
from backoffice.auth import requires
from backoffice.casework import a_date
from backoffice.forms import strip_whitespace
from shared.domain.permissions import Permission
from shared.models import ActorType
from shared.services.audit_view import AuditFilter, NoSuchAccount, NoSuchStaff, audit_page
from shared.services.bill_lookup import normalise_reference


def _date_field(label: str) -> StringField:
    return StringField(
        label,
        description="For example, 27/3/2026",
        filters=[strip_whitespace],
        validators=[Optional(), a_date(label)],
        widget=GovTextInput(),
    )


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a search form: it reads, never changes anything

    action = StringField(
        "Action starts with",
        description="For example, portal. or staff.role_changed",
        filters=[strip_whitespace],
        validators=[Length(max=80, message="Action must be 80 characters or fewer")],
        widget=GovTextInput(),
    )
    actor_type = SelectField(
        "Done by",
        choices=[
            SelectChoice("", "Anyone"),
            SelectChoice(ActorType.STAFF.value, "Staff"),
            SelectChoice(ActorType.PORTAL_USER.value, "A portal login"),
            SelectChoice(ActorType.SYSTEM.value, "The system"),
        ],
        validate_choice=False,
        widget=GovSelect(),
    )
    staff_email = StringField(
        "Staff email address",
        filters=[strip_whitespace],
        validators=[Length(max=254, message="Email address must be 254 characters or fewer")],
        widget=GovTextInput(),
    )
    account_reference = StringField(
        "Account reference", filters=[strip_whitespace], widget=GovTextInput()
    )
    on_or_after = _date_field("From")
    on_or_before = _date_field("To")
    submit = SubmitField("Apply filters", widget=GovSubmitInput())

    def validate_actor_type(self, field):
        if (field.data or "") not in {c.value for c in field.choices}:
            raise ValidationError("Select who did it")

    def wanted(self) -> AuditFilter:
        return AuditFilter(
            action=self.action.data or "",
            actor_type=ActorType(self.actor_type.data) if self.actor_type.data else None,
            staff_email=self.staff_email.data or "",
            account_reference=normalise_reference(self.account_reference.data or ""),
            on_or_after=getattr(self.on_or_after, "parsed", None),
            on_or_before=getattr(self.on_or_before, "parsed", None),
        )


@dataclass(frozen=True)
class SelectedFilter:
    heading: str
    words: str
    remove_url: str


def _selected_filters(form: AuditFilterForm) -> list[SelectedFilter]:
    """The filters in use, each with a link to the log without it (MOJ's filter tags).

    Removing one starts again from the newest entry, as changing any filter does."""
    selected = []
    for field in form:
        if field.type == "SubmitField" or not field.data or field.errors:
            continue
        words = field.data
        if field.type == "SelectField":
            words = next((c.label for c in field.choices if c.value == field.data), field.data)
        others = {
            name: value
            for name, value in request.args.items()
            if value and name not in {field.name, "before", form.submit.name}
        }
        selected.append(
            SelectedFilter(field.label.text, words, url_for("backoffice.audit_log", **others))
        )
    return selected


@bp.get("/audit")
@requires(Permission.VIEW_AUDIT)
def audit_log():
    form = AuditFilterForm(request.args)
    page = None
    before_id = request.args.get("before", type=int)
    if form.validate():
        try:
            page = audit_page(form.wanted(), before_id=before_id)
        except NoSuchStaff:
            form.staff_email.errors.append("There is no member of staff with that email address")
        except NoSuchAccount:
            form.account_reference.errors.append("There is no account with that reference")
    older = None
    if page is not None and page.older_than is not None:
        args = request.args.to_dict()
        args["before"] = page.older_than
        older = args
    return render_template(
        "backoffice/audit.html",
        form=form,
        page=page,
        older=older,
        selected=_selected_filters(form),
    )
