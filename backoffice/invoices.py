"""Raising an invoice, and the checking queue.

An officer raises an invoice from the account's page; a service-department user finds
the account by reference or name first (seeing only its name, reference and postcode).
The draft page shows the lines with VAT as it will be charged, a PDF preview marked
DRAFT, and what can happen next: issue it (an officer within their invoice limit),
send it for checking, or cancel it. Lines are added and removed with plain forms, no
JavaScript. The checking queue lists invoices waiting, oldest first; a checker (never
the raiser) issues one or returns it with a note. Every change goes through
shared/services/invoices/, which refuses a stale or repeated submission.
"""

from __future__ import annotations

from flask import abort, flash, g, make_response, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import HiddenField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from backoffice import bp
from backoffice.auth import current_staff, requires
from backoffice.casework import a_date, case_or_404, pounds, staff_actor
from shared import clock
from shared.domain.invoice_checks import SERVICE_DEPARTMENT
from shared.domain.numbers import parse_whole_number
from shared.domain.permissions import Permission, role_has
from shared.forms.validators import strip_whitespace
from shared.services.errors import Conflict, Forbidden, InvalidRequest, NotFound, ServiceError
from shared.services.invoices import checking, drafts, issuing, reads
from shared.services.invoices.documents import draft_preview_pdf


def _known(message: str):
    def check(form, field):
        if (field.data or "") not in {c.value for c in field.choices}:
            raise ValidationError(message)

    return check


def _not_past(form, field):
    parsed = getattr(field, "parsed", None)
    if parsed is not None and parsed < clock.today():
        raise ValidationError("Due date must be today or in the future")


class DetailsForm(FlaskForm):
    income_code = SelectField(
        "Income code",
        description="Where the income is booked: the department's cost centre and ledger code",
        validate_choice=False,
        validators=[_known("Select an income code")],
        widget=GovSelect(),
    )
    description = TextAreaField(
        "Description the debtor will read",
        filters=[strip_whitespace],
        validators=[
            DataRequired("Enter a description the debtor will read"),
            Length(
                max=drafts.MAX_DESCRIPTION, message="Description must be 300 characters or fewer"
            ),
        ],
        widget=GovTextArea(),
    )
    purchase_order = StringField(
        "Purchase order number (optional)",
        description="If the organisation gave you one, it is printed on the invoice",
        filters=[strip_whitespace],
        validators=[
            Optional(),
            Length(
                max=drafts.MAX_PURCHASE_ORDER,
                message="Purchase order number must be 40 characters or fewer",
            ),
        ],
        widget=GovTextInput(),
    )
    due_date = StringField(
        "Due date (optional)",
        description="Leave blank to use the department's payment terms from the day it is "
        "issued. For example, 27/3/2027",
        filters=[strip_whitespace],
        validators=[a_date("Due date"), _not_past],
        widget=GovTextInput(),
    )
    submit = SubmitField("Save and continue", widget=GovSubmitInput())

    def set_codes(self, choices: list[reads.IncomeCodeChoice]) -> None:
        self.code_departments = {str(c.id): c.department_id for c in choices}
        self.income_code.choices = [SelectChoice("", "Choose an income code")] + [
            SelectChoice(str(c.id), c.label) for c in choices
        ]

    def details(self) -> drafts.DraftDetails:
        code_id = parse_whole_number(self.income_code.data or "")
        return drafts.DraftDetails(
            department_id=self.code_departments.get(self.income_code.data or ""),
            income_code_id=code_id,
            description=self.description.data or "",
            purchase_order=self.purchase_order.data or None,
            due_date=getattr(self.due_date, "parsed", None),
        )


def _quantity(form, field):
    field.number = parse_whole_number(field.data or "", max_digits=6)
    if field.number is None or field.number <= 0:
        raise ValidationError("Quantity must be a whole number, 1 or more")
    if field.number > drafts.MAX_QUANTITY:
        raise ValidationError(f"Quantity must be {drafts.MAX_QUANTITY:,} or fewer")


class LineForm(FlaskForm):
    version = HiddenField()
    line_description = StringField(
        "What the line is for",
        filters=[strip_whitespace],
        validators=[
            DataRequired("Enter what the line is for"),
            Length(
                max=drafts.MAX_DESCRIPTION, message="Description must be 300 characters or fewer"
            ),
        ],
        widget=GovTextInput(),
    )
    quantity = StringField(
        "Quantity",
        filters=[strip_whitespace],
        validators=[DataRequired("Enter a quantity"), _quantity],
        widget=GovTextInput(),
    )
    unit_price = StringField(
        "Unit price",
        description="Before VAT",
        filters=[strip_whitespace],
        validators=[DataRequired("Enter a unit price"), pounds("Unit price")],
        widget=GovTextInput(),
    )
    vat_rate = SelectField(
        "VAT rate",
        choices=[SelectChoice(r.value, drafts.VAT_CHOICE_WORDS[r]) for r in drafts.VAT_CHOICES],
        validate_choice=False,
        validators=[_known("Select a VAT rate")],
        widget=GovSelect(),
    )
    submit = SubmitField("Add line", widget=GovSubmitInput())

    def line(self) -> drafts.LineDetails:
        return drafts.LineDetails(
            description=self.line_description.data or "",
            quantity=getattr(self.quantity, "number", None),
            unit_price_pence=getattr(self.unit_price, "pence", None),
            vat_rate=self.vat_rate.data,
        )


class ReturnForm(FlaskForm):
    version = HiddenField()
    note = TextAreaField(
        "What needs to change",
        description="The raiser reads this on their draft",
        filters=[strip_whitespace],
        validators=[
            DataRequired("Enter what the raiser needs to change"),
            Length(max=checking.MAX_NOTE, message="Note must be 1,000 characters or fewer"),
        ],
        widget=GovTextArea(),
    )
    submit = SubmitField("Return to the raiser", widget=GovSubmitInput())


def _version() -> int:
    return parse_whole_number(request.form.get("version", ""), max_digits=9) or 0


def _draft_url(draft_id: int) -> str:
    return url_for("backoffice.invoice_draft", draft_id=draft_id)


def _draft_or_404(draft_id: int) -> reads.DraftView:
    view = reads.draft_view(draft_id, current_staff().id)
    if view is None:
        abort(404)
    return view


def _is_service_user() -> bool:
    return current_staff().role == SERVICE_DEPARTMENT


@bp.app_context_processor
def _invoice_counts() -> dict[str, object]:
    """Counts for the navigation, looked up only when the layout asks, and only for
    someone signed in (the error pages use the same layout)."""

    def counts() -> dict[str, int | None]:
        user = g.get("staff_user")
        if user is None:
            return {"drafts": None, "to_check": None}
        try:
            to_check = (
                reads.waiting_count(exclude_raised_by=user.id)
                if role_has(user.role, Permission.CHECK_INVOICES)
                and user.role != SERVICE_DEPARTMENT
                else None
            )
            mine = (
                reads.open_draft_count(user.id)
                if role_has(user.role, Permission.RAISE_INVOICES)
                else None
            )
        except Exception:  # an error page after a database failure still renders
            return {"drafts": None, "to_check": None}
        return {"drafts": mine, "to_check": to_check}

    return {"invoice_counts": counts}


# --- raising ----------------------------------------------------------------------------


@bp.get("/invoices/find-account")
@requires(Permission.RAISE_INVOICES)
def find_account_to_invoice():
    text = request.args.get("q", "").strip()[:100]
    found = reads.find_accounts(text) if text else None
    return render_template("backoffice/invoices/find_account.html", q=text, found=found)


@bp.route("/accounts/<reference>/invoices/new", methods=["GET", "POST"])
@requires(Permission.RAISE_INVOICES)
def raise_invoice(reference: str):
    case = case_or_404(reference)
    account = reads.account_for_raising(case.reference)
    form = DetailsForm()
    form.set_codes(reads.income_code_choices(current_staff().id))
    if form.validate_on_submit():
        try:
            draft = drafts.start_draft(case.id, form.details(), staff_actor())
        except Forbidden as exc:
            form.income_code.errors.append(str(exc))
        except InvalidRequest as exc:
            form.income_code.errors.append(str(exc))
        else:
            flash("Invoice started. Add its lines, then issue it or send it for checking")
            return redirect(_draft_url(draft.id))
    back = (
        url_for("backoffice.find_account_to_invoice")
        if _is_service_user()
        else url_for("backoffice.case_view", reference=case.reference)
    )
    return render_template(
        "backoffice/invoices/details.html",
        form=form,
        account=account,
        action=url_for("backoffice.raise_invoice", reference=case.reference),
        heading="Raise an invoice",
        back=back,
    )


@bp.route("/invoices/drafts/<int:draft_id>/details", methods=["GET", "POST"])
@requires(Permission.RAISE_INVOICES)
def edit_invoice_draft(draft_id: int):
    view = _draft_or_404(draft_id)
    form = DetailsForm(
        data={
            "income_code": str(view.income_code_id),
            "description": view.description,
            "purchase_order": view.purchase_order or "",
            "due_date": view.due_date.strftime("%-d/%-m/%Y") if view.due_date else "",
        }
        if request.method == "GET"
        else None
    )
    form.set_codes(reads.income_code_choices(current_staff().id))
    if form.validate_on_submit():
        try:
            drafts.change_details(draft_id, _version(), form.details(), staff_actor())
        except NotFound:
            abort(404)
        except ServiceError as exc:
            form.income_code.errors.append(str(exc))
        else:
            flash("Invoice details saved")
            return redirect(_draft_url(draft_id))
    return render_template(
        "backoffice/invoices/details.html",
        form=form,
        account=reads.AccountFound(
            view.account_reference, view.account_name, view.account_postcode
        ),
        action=url_for("backoffice.edit_invoice_draft", draft_id=draft_id),
        heading="Change the invoice details",
        back=_draft_url(draft_id),
        version=view.version,
    )


@bp.route("/invoices/drafts/<int:draft_id>", methods=["GET", "POST"])
@requires(Permission.RAISE_INVOICES)
def invoice_draft(draft_id: int):
    """The draft; its POST adds a line."""
    view = _draft_or_404(draft_id)
    form = LineForm()
    if request.method == "GET":
        form.quantity.data = "1"
        form.vat_rate.data = drafts.VAT_CHOICES[0].value
    if form.validate_on_submit():
        try:
            drafts.add_line(draft_id, _version(), form.line(), staff_actor())
        except NotFound:
            abort(404)
        except ServiceError as exc:
            form.line_description.errors.append(str(exc))
        else:
            flash("Line added")
            return redirect(_draft_url(draft_id) + "#lines")
    me = current_staff()
    return render_template(
        "backoffice/invoices/draft.html",
        draft=view,
        form=form,
        mine=view.raised_by_id == me.id,
        may_issue=view.may_issue_unchecked(me.id),
    )


ACTIONS = {
    "send": (drafts.send_for_checking, "Invoice sent for checking"),
    "issue": (issuing.issue_unchecked, "Invoice issued"),
    "cancel": (drafts.cancel, "Invoice cancelled. Nothing was sent or put on the account"),
}


@bp.post("/invoices/drafts/<int:draft_id>/action")
@requires(Permission.RAISE_INVOICES)
def invoice_draft_action(draft_id: int):
    """Remove a line, send for checking, issue or cancel: one button each on the draft."""
    _draft_or_404(draft_id)
    action = request.form.get("action", "")
    try:
        if action.startswith("remove-"):
            line_no = parse_whole_number(action.removeprefix("remove-"), max_digits=4)
            if line_no is None:
                raise InvalidRequest("Choose a line to remove")
            drafts.remove_line(draft_id, _version(), line_no, staff_actor())
            flash("Line removed")
        elif action in ACTIONS:
            use_case, done = ACTIONS[action]
            result = use_case(draft_id, _version(), staff_actor())
            if action == "issue":
                done = f"Invoice {result.number} issued and sent to the debtor"
            flash(done, "success")
        else:
            raise InvalidRequest("Choose what to do with the invoice")
    except NotFound:
        abort(404)
    except (Conflict, Forbidden, InvalidRequest) as exc:
        flash(str(exc))
    return redirect(_draft_url(draft_id))


@bp.get("/invoices/drafts/<int:draft_id>/preview.pdf")
@requires(Permission.RAISE_INVOICES)
def preview_invoice_draft(draft_id: int):
    view = _draft_or_404(draft_id)
    response = make_response(draft_preview_pdf(view))
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="draft-invoice-{view.id}.pdf"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/invoices/drafts")
@requires(Permission.RAISE_INVOICES)
def my_invoice_drafts():
    open_, done = reads.my_drafts(current_staff().id)
    return render_template(
        "backoffice/invoices/mine.html",
        open_drafts=open_,
        done=done,
        service_user=_is_service_user(),
    )


# --- checking ---------------------------------------------------------------------------


@bp.get("/invoices/checking")
@requires(Permission.CHECK_INVOICES)
def invoice_checking_queue():
    return render_template(
        "backoffice/invoices/queue.html", rows=reads.checking_queue(), me=current_staff()
    )


@bp.route("/invoices/checking/<int:draft_id>", methods=["GET", "POST"])
@requires(Permission.CHECK_INVOICES)
def check_invoice(draft_id: int):
    """The invoice to check; its POST issues it (action=issue) or returns it with a note."""
    view = _draft_or_404(draft_id)
    form = ReturnForm()
    if request.method == "POST":
        try:
            if request.form.get("action") == "issue":
                invoice = checking.issue_checked(draft_id, _version(), staff_actor())
                flash(f"Invoice {invoice.number} issued and sent to the debtor", "success")
                return redirect(url_for("backoffice.invoice_checking_queue"))
            if form.validate_on_submit():
                checking.return_to_raiser(draft_id, _version(), form.note.data, staff_actor())
                flash(f"Invoice returned to {view.raised_by_name}", "success")
                return redirect(url_for("backoffice.invoice_checking_queue"))
        except NotFound:
            abort(404)
        except ServiceError as exc:
            flash(str(exc))
            return redirect(url_for("backoffice.check_invoice", draft_id=draft_id))
    me = current_staff()
    return render_template(
        "backoffice/invoices/check.html",
        draft=view,
        form=form,
        may_check=view.may_check(me.id, me.role.value),
    )
