"""Payment plans in the back office: the queue of plans awaiting a decision, the
plan page where an officer approves, rejects or counter-offers, the queue of
broken plans to review, and each department's plan policy.

Who may decide a plan over the team-leader total is the service's rule
(shared.services.plans); a refusal comes back as a message on the plan page.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextArea, GovTextInput
from wtforms import RadioField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from backoffice import bp
from backoffice.auth import requires
from backoffice.casework import a_date, pounds, staff_actor, today
from backoffice.forms import strip_whitespace
from shared.domain.numbers import MAX_DIGITS, parse_whole_number
from shared.domain.permissions import Permission
from shared.models import Frequency
from shared.money import MoneyFormatError, format_gbp, parse_gbp
from shared.services.errors import Forbidden, InvalidRequest, NotFound
from shared.services.plans import decisions, policy, queues
from shared.services.plans.terms import START_WITHIN_DAYS, Terms
from shared.widgets import GovRadioInput

QUEUE = "backoffice.plan_queue"
BROKEN = "backoffice.broken_plans"
POLICIES = "backoffice.plan_policies"
FREQUENCY_LABELS = {
    Frequency.WEEKLY: "Weekly",
    Frequency.FORTNIGHTLY: "Fortnightly",
    Frequency.FOUR_WEEKLY: "Every four weeks",
    Frequency.MONTHLY: "Monthly",
}


def whole_number(label: str, minimum: int):
    """Validate a whole number of at least `minimum`; kept as an int on `field.number`."""

    def check(form, field):
        field.number = None
        if not field.data:
            return
        text = field.data.strip()
        if text.startswith("-") and parse_whole_number(text[1:]) is not None:
            raise ValidationError(f"{label} must be {minimum} or more")
        number = parse_whole_number(text)
        if number is None:
            digits = text.replace(",", "")
            if digits.isascii() and digits.isdigit():
                raise ValidationError(f"{label} must be {10**MAX_DIGITS - 1:,} or fewer")
            raise ValidationError(f"{label} must be a whole number, like 12")
        if number < minimum:
            raise ValidationError(f"{label} must be {minimum} or more")
        field.number = number

    return check


def pounds_at_least(label: str, minimum_pence: int):
    """Validate an amount in pounds of at least `minimum_pence`; kept on `field.pence`."""

    def check(form, field):
        field.pence = None
        if not field.data:
            return
        least = "£0" if minimum_pence == 0 else format_gbp(minimum_pence)
        if field.data.startswith("-"):
            raise ValidationError(f"{label} must be {least} or more")
        try:
            pence = parse_gbp(field.data)
        except MoneyFormatError as exc:
            raise ValidationError(str(exc).replace("Amount", label, 1)) from None
        if pence < minimum_pence:
            more = "more than £0" if minimum_pence == 1 else f"{least} or more"
            raise ValidationError(f"{label} must be {more}")
        field.pence = pence

    return check


def _reason(label: str, message: str, hint: str = "") -> TextAreaField:
    return TextAreaField(
        label,
        description=hint,
        filters=[strip_whitespace],
        validators=[
            DataRequired(message),
            Length(max=2000, message="Reason must be 2,000 characters or fewer"),
        ],
        widget=GovTextArea(),
    )


class ApproveForm(FlaskForm):
    approve_note = TextAreaField(
        "Note (optional)",
        filters=[strip_whitespace],
        validators=[Length(max=2000, message="Note must be 2,000 characters or fewer")],
        widget=GovTextArea(),
    )
    approve = SubmitField("Approve plan", widget=GovSubmitInput())


class RejectForm(FlaskForm):
    reject_reason = _reason(
        "Why are you rejecting it?",
        "Enter why the plan is rejected (the debtor sees it)",
        "The debtor sees this reason",
    )
    reject = SubmitField("Reject plan", widget=GovSubmitInput())


class CounterOfferForm(FlaskForm):
    frequency = RadioField(
        "How often",
        choices=[SelectChoice(f.value, words) for f, words in FREQUENCY_LABELS.items()],
        validate_choice=False,
        validators=[DataRequired("Select how often they pay")],
        widget=GovRadioInput(),
    )
    instalment_amount = StringField(
        "Amount of each payment",
        description="Or leave blank and give the number of payments",
        filters=[strip_whitespace],
        validators=[pounds("Amount of each payment")],
        widget=GovTextInput(),
    )
    instalment_count = StringField(
        "Number of payments",
        description="Or leave blank and give the amount of each payment",
        filters=[strip_whitespace],
        validators=[whole_number("Number of payments", 1)],
        widget=GovTextInput(),
    )
    first_payment = StringField(
        "First payment date",
        description=f"For example, 27/3/2026. Within {START_WITHIN_DAYS} days",
        filters=[strip_whitespace],
        validators=[DataRequired("Enter the first payment date"), a_date("First payment date")],
        widget=GovTextInput(),
    )
    counter_reason = _reason(
        "Why are you offering different terms?",
        "Enter why you are offering different terms (the debtor sees it)",
        "The debtor sees this reason",
    )
    counter_offer = SubmitField("Make counter-offer", widget=GovSubmitInput())

    def validate_frequency(self, field):
        if field.data not in {f.value for f in Frequency}:
            raise ValidationError("Select how often they pay")

    def validate_instalment_count(self, field):
        if bool(self.instalment_amount.data) == bool(field.data):
            raise ValidationError(
                "Enter either the amount of each payment or the number of payments"
            )

    def terms(self) -> Terms:
        return Terms(
            Frequency(self.frequency.data),
            self.first_payment.parsed,
            instalment_pence=self.instalment_amount.pence,
            count=getattr(self.instalment_count, "number", None),
        )


class ReviewForm(FlaskForm):
    note = TextAreaField(
        "Note (optional)",
        filters=[strip_whitespace],
        validators=[Length(max=2000, message="Note must be 2,000 characters or fewer")],
        widget=GovTextArea(),
    )
    submit = SubmitField("Mark as reviewed", widget=GovSubmitInput())


def _months_field(label: str, minimum: int, hint: str) -> StringField:
    return StringField(
        label,
        description=hint,
        filters=[strip_whitespace],
        validators=[DataRequired(f"Enter the {label.lower()}"), whole_number(label, minimum)],
        widget=GovTextInput(),
    )


def _pounds_field(label: str, minimum_pence: int, hint: str) -> StringField:
    return StringField(
        label,
        description=hint,
        filters=[strip_whitespace],
        validators=[
            DataRequired(f"Enter the {label.lower()}"),
            pounds_at_least(label, minimum_pence),
        ],
        widget=GovTextInput(),
    )


class PolicyForm(FlaskForm):
    max_length_months = _months_field(
        "Maximum length in months", 1, "Longer plans are referred to an officer"
    )
    min_instalment = _pounds_field(
        "Minimum instalment", 1, "Smaller regular payments are referred to an officer"
    )
    max_auto_approve = _pounds_field(
        "Maximum for automatic approval", 0, "Plans for more than this are referred to an officer"
    )
    no_broken_plan_within_months = _months_field(
        "No broken plan within this many months",
        0,
        "Refer anyone whose last plan broke more recently. Enter 0 to never refer for this",
    )
    refer_if_legal = RadioField(
        "Refer plans covering debts with legal or enforcement?",
        choices=[SelectChoice("yes", "Yes"), SelectChoice("no", "No")],
        validate_choice=False,
        validators=[DataRequired("Select whether to refer plans covering debts with legal")],
        widget=GovRadioInput(),
    )
    income_expenditure_above = _pounds_field(
        "Ask for income and expenditure above",
        0,
        "Plans for more than this need an income and expenditure statement",
    )
    team_leader_above = _pounds_field(
        "Team leader decides above", 0, "Plans for more than this must be decided by a team leader"
    )
    submit = SubmitField("Save policy", widget=GovSubmitInput())

    def validate_refer_if_legal(self, field):
        if field.data not in ("yes", "no"):
            raise ValidationError("Select whether to refer plans covering debts with legal")

    def values(self) -> policy.PolicyValues:
        return policy.PolicyValues(
            max_length_months=self.max_length_months.number,
            min_instalment_pence=self.min_instalment.pence,
            max_auto_approve_pence=self.max_auto_approve.pence,
            no_broken_plan_within_months=self.no_broken_plan_within_months.number,
            refer_if_legal=self.refer_if_legal.data == "yes",
            income_expenditure_above_pence=self.income_expenditure_above.pence,
            team_leader_above_pence=self.team_leader_above.pence,
        )

    @classmethod
    def filled_from(cls, values: policy.PolicyValues) -> PolicyForm:
        def money(pence: int) -> str:
            return format_gbp(pence, symbol=False)

        return cls(
            formdata=None,
            data={
                "max_length_months": str(values.max_length_months),
                "min_instalment": money(values.min_instalment_pence),
                "max_auto_approve": money(values.max_auto_approve_pence),
                "no_broken_plan_within_months": str(values.no_broken_plan_within_months),
                "refer_if_legal": "yes" if values.refer_if_legal else "no",
                "income_expenditure_above": money(values.income_expenditure_above_pence),
                "team_leader_above": money(values.team_leader_above_pence),
            },
        )


POLICY_FIELDS = {
    "max_length_months": "max_length_months",
    "min_instalment_pence": "min_instalment",
    "max_auto_approve_pence": "max_auto_approve",
    "no_broken_plan_within_months": "no_broken_plan_within_months",
    "income_expenditure_above_pence": "income_expenditure_above",
    "team_leader_above_pence": "team_leader_above",
}


# --- the queues ---------------------------------------------------------------------------------


@bp.get("/plans")
@requires(Permission.VIEW_CASES)
def plan_queue():
    after = queues.parse_queue_cursor(request.args.get("after"))
    return render_template(
        "backoffice/plans/queue.html", page=queues.awaiting_decision(today(), after=after)
    )


@bp.get("/plans/broken")
@requires(Permission.VIEW_CASES)
def broken_plans():
    after = queues.parse_queue_cursor(request.args.get("after"))
    return render_template(
        "backoffice/plans/broken.html",
        page=queues.broken_to_review(today(), after=after),
        form=ReviewForm(formdata=None),
    )


@bp.post("/plans/<int:arrangement_id>/reviewed")
@requires(Permission.DECIDE_PLANS)
def review_broken_plan(arrangement_id: int):
    form = ReviewForm()
    if form.validate_on_submit():
        try:
            decisions.review_broken(arrangement_id, form.note.data, staff_actor())
        except NotFound:
            abort(404)
        except (Forbidden, InvalidRequest) as exc:
            flash(str(exc), "error")
        else:
            flash(f"Broken plan {arrangement_id} marked as reviewed", "success")
    else:
        flash(next(iter(form.errors.values()))[0], "error")
    # The first page, whichever page the form was on: the plan has left the queue, and
    # the longest broken of those left are what to look at next.
    return redirect(url_for(BROKEN))


# --- one plan -----------------------------------------------------------------------------------


def _plan_page(
    arrangement_id: int,
    *,
    approve_form: ApproveForm | None = None,
    reject_form: RejectForm | None = None,
    counter_form: CounterOfferForm | None = None,
    problem: str | None = None,
):
    try:
        page = queues.plan_page(arrangement_id)
    except NotFound:
        abort(404)
    arrangement = page.arrangement
    if counter_form is None:
        counter_form = CounterOfferForm(
            formdata=None, data={"frequency": arrangement.frequency.value}
        )
    errors = [{"text": problem, "href": "#decide"}] if problem else []
    for form in (approve_form, reject_form, counter_form):
        if form is not None:
            errors += [
                {"text": messages[0], "href": f"#{name}"}
                for name, messages in form.errors.items()
                if messages and name != "csrf_token"
            ]
    return render_template(
        "backoffice/plans/detail.html",
        page=page,
        arrangement=arrangement,
        errors=errors,
        approve_form=approve_form or ApproveForm(formdata=None),
        reject_form=reject_form or RejectForm(formdata=None),
        counter_form=counter_form,
        frequency_labels={f.value: words for f, words in FREQUENCY_LABELS.items()},
    )


@bp.get("/plans/<int:arrangement_id>")
@requires(Permission.VIEW_CASES)
def plan_detail(arrangement_id: int):
    return _plan_page(arrangement_id)


@bp.post("/plans/<int:arrangement_id>/approve")
@requires(Permission.DECIDE_PLANS)
def approve_plan(arrangement_id: int):
    form = ApproveForm()
    if form.validate_on_submit():
        try:
            arrangement = decisions.approve(
                arrangement_id=arrangement_id, actor=staff_actor(), note=form.approve_note.data
            )
        except NotFound:
            abort(404)
        except (Forbidden, InvalidRequest) as exc:
            return _plan_page(arrangement_id, approve_form=form, problem=str(exc))
        flash(
            f"Payment plan of {format_gbp(arrangement.total_pence)} approved: it is now active",
            "success",
        )
        return redirect(url_for(QUEUE))
    return _plan_page(arrangement_id, approve_form=form)


@bp.post("/plans/<int:arrangement_id>/reject")
@requires(Permission.DECIDE_PLANS)
def reject_plan(arrangement_id: int):
    form = RejectForm()
    if form.validate_on_submit():
        try:
            arrangement = decisions.reject(
                arrangement_id=arrangement_id, reason=form.reject_reason.data, actor=staff_actor()
            )
        except NotFound:
            abort(404)
        except (Forbidden, InvalidRequest) as exc:
            return _plan_page(arrangement_id, reject_form=form, problem=str(exc))
        flash(
            f"Payment plan of {format_gbp(arrangement.total_pence)} rejected: "
            "the debtor has been told why",
            "success",
        )
        return redirect(url_for(QUEUE))
    return _plan_page(arrangement_id, reject_form=form)


@bp.post("/plans/<int:arrangement_id>/counter-offer")
@requires(Permission.DECIDE_PLANS)
def counter_offer_plan(arrangement_id: int):
    form = CounterOfferForm()
    if form.validate_on_submit():
        try:
            decisions.counter_offer(
                arrangement_id=arrangement_id,
                terms=form.terms(),
                reason=form.counter_reason.data,
                actor=staff_actor(),
                today=today(),
            )
        except NotFound:
            abort(404)
        except (Forbidden, InvalidRequest) as exc:
            return _plan_page(arrangement_id, counter_form=form, problem=str(exc))
        flash("Counter-offer sent: the debtor can accept or decline it", "success")
        return redirect(url_for(QUEUE))
    return _plan_page(arrangement_id, counter_form=form)


# --- policy -------------------------------------------------------------------------------------


@bp.get("/admin/plan-policies")
@requires(Permission.MANAGE_PLAN_POLICY)
def plan_policies():
    return render_template("backoffice/plans/policies.html", policies=policy.department_policies())


@bp.route("/admin/plan-policies/<int:department_id>", methods=["GET", "POST"])
@requires(Permission.MANAGE_PLAN_POLICY)
def edit_plan_policy(department_id: int):
    try:
        current = policy.department_policy(department_id)
    except NotFound:
        abort(404)
    form = PolicyForm() if request.method == "POST" else PolicyForm.filled_from(current.values)
    if form.validate_on_submit():
        values = form.values()
        problems = policy.policy_problems(values)
        for name, message in problems.items():
            form[POLICY_FIELDS[name]].errors.append(message)
        if not problems:
            try:
                policy.save_policy(department_id, values, staff_actor())
            except (Forbidden, InvalidRequest) as exc:
                form.max_length_months.errors.append(str(exc))
            else:
                flash(f"Payment plan policy for {current.department_name} saved", "success")
                return redirect(url_for(POLICIES))
    return render_template("backoffice/plans/policy.html", form=form, policy=current)
