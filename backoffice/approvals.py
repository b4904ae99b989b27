"""Refund and write-off requests, and the team leaders' approval queue.

A write-off is posted at once while the requester's running total on the account
stays within their delegated limit; above it, it waits here for a team leader who
is not the requester. Every refund waits here, for a team leader who neither asked
for it nor created the credit it pays out; unverified credit cannot be refunded.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextArea, GovTextInput
from wtforms import RadioField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from backoffice import bp
from backoffice.auth import current_staff, requires
from backoffice.casework import case_or_404, invoice_or_404, pounds, staff_actor, today
from backoffice.forms import strip_whitespace
from shared.domain import approvals as rules
from shared.domain.permissions import Permission
from shared.models import ApprovalKind
from shared.money import format_gbp
from shared.services import approval_queues, approvals
from shared.services.errors import Forbidden, InvalidRequest, NotFound
from shared.services.ledger import UnverifiedCredit
from shared.widgets import GovRadioInput

QUEUE = "backoffice.approval_queue"
MINE = "backoffice.my_requests"


def _reason_field(message: str) -> TextAreaField:
    return TextAreaField(
        "Reason",
        validators=[
            DataRequired(message),
            Length(max=2000, message="Reason must be 2,000 characters or fewer"),
        ],
        widget=GovTextArea(),
    )


class WriteOffForm(FlaskForm):
    reason_code = RadioField(
        "Why is it being written off?",
        choices=[SelectChoice(code, words) for code, words in rules.WRITE_OFF_REASONS.items()],
        validate_choice=False,
        validators=[DataRequired("Select why the debt is being written off")],
        widget=GovRadioInput(),
    )
    amount = StringField(
        "Amount to write off",
        filters=[strip_whitespace],
        validators=[
            DataRequired("Enter the amount to write off"),
            pounds("Amount to write off"),
        ],
        widget=GovTextInput(),
    )
    reason = _reason_field("Enter why the debt is being written off")
    submit = SubmitField("Write off", widget=GovSubmitInput())

    def validate_reason_code(self, field):
        if field.data not in rules.WRITE_OFF_REASONS:
            raise ValidationError("Select why the debt is being written off")


class RefundForm(FlaskForm):
    source = RadioField(
        "Which payment or credit is being refunded?",
        validate_choice=False,
        validators=[DataRequired("Select the payment or credit to refund")],
        widget=GovRadioInput(),
    )
    route = RadioField(
        "How does the money go back?",
        choices=[SelectChoice(code, words) for code, words in rules.REFUND_ROUTES.items()],
        validate_choice=False,
        validators=[DataRequired("Select how the money goes back")],
        widget=GovRadioInput(),
    )
    amount = StringField(
        "Amount to refund",
        filters=[strip_whitespace],
        validators=[DataRequired("Enter the amount to refund"), pounds("Amount to refund")],
        widget=GovTextInput(),
    )
    reason = _reason_field("Enter why the refund is needed")
    submit = SubmitField("Request refund", widget=GovSubmitInput())

    def validate_source(self, field):
        if field.data not in {choice.value for choice in self.source.choices}:
            raise ValidationError("Select the payment or credit to refund")

    def validate_route(self, field):
        if field.data not in rules.REFUND_ROUTES:
            raise ValidationError("Select how the money goes back")
        if field.data == rules.CARD and self.source.data not in self.card_sources:
            raise ValidationError(approvals.NOT_A_CARD_PAYMENT)

    # Set by the view: the source choices that were online card payments.
    card_sources: frozenset[str] = frozenset()


APPROVE, REJECT = "approve", "reject"


class DecisionForm(FlaskForm):
    """One request's decision: approve, or reject with the reason (GOV.UK radios with a
    conditional reason; without JavaScript the reason box is simply always shown)."""

    decision = RadioField(
        "Your decision",
        choices=[SelectChoice(APPROVE, "Approve"), SelectChoice(REJECT, "Reject")],
        validate_choice=False,
        description=(
            "Approving posts it to the account at once. Rejecting needs your reason, "
            "which goes on the account’s timeline"
        ),
        validators=[DataRequired("Select whether to approve or reject the request")],
        widget=GovRadioInput(),
    )
    note = TextAreaField(
        "Why are you rejecting it?",
        filters=[strip_whitespace],
        validators=[Length(max=2000, message="Reason must be 2,000 characters or fewer")],
        widget=GovTextArea(),
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())

    def validate_decision(self, field):
        if field.data not in (APPROVE, REJECT):
            raise ValidationError("Select whether to approve or reject the request")

    def validate_note(self, field):
        if self.decision.data == REJECT and not field.data:
            raise ValidationError("Enter why the request is rejected")


def _done(outcome: approvals.Outcome, what: str) -> None:
    if outcome.posted:
        flash(f"{what} made", "success")
    elif outcome.request is not None and outcome.request.kind == ApprovalKind.REFUND:
        flash(
            f"{what} has been sent to a team leader to approve: every refund needs a second person"
        )
    else:
        flash(
            f"{what} takes your total of these on this account to "
            f"{format_gbp(outcome.running_total_pence)}, above your limit, so it has been sent "
            "to a team leader to approve"
        )


@bp.route("/accounts/<reference>/invoices/<number>/write-off", methods=["GET", "POST"])
@requires(Permission.REQUEST_WRITE_OFF)
def request_write_off(reference: str, number: str):
    case = case_or_404(reference)
    invoice = invoice_or_404(case, number)
    form = WriteOffForm()
    if form.validate_on_submit():
        try:
            outcome = approvals.request_write_off(
                invoice_id=invoice.id,
                amount_pence=form.amount.pence,
                reason_code=form.reason_code.data,
                reason=form.reason.data,
                actor=staff_actor(),
            )
        except InvalidRequest as exc:
            form.amount.errors.append(str(exc))
        else:
            _done(outcome, f"Write-off of {format_gbp(form.amount.pence)} on {invoice.number}")
            return redirect(url_for("backoffice.case_view", reference=case.reference))
    return render_template(
        "backoffice/approvals/write_off.html", form=form, case=case, invoice=invoice
    )


@bp.route("/accounts/<reference>/refunds/new", methods=["GET", "POST"])
@requires(Permission.REQUEST_REFUND)
def request_refund(reference: str):
    case = case_or_404(reference)
    credits = approval_queues.refundable_credits(case.id)
    form = RefundForm()
    form.source.choices = [
        SelectChoice(
            str(c.entry_id),
            f"{c.words}, {c.effective_date:%-d %B %Y}: {format_gbp(c.available_pence)} "
            + ("unallocated, not verified yet" if c.unverified else "refundable"),
        )
        for c in credits
    ]
    form.card_sources = frozenset(str(c.entry_id) for c in credits if c.card)
    if credits and form.validate_on_submit():
        try:
            outcome = approvals.request_refund(
                source_entry_id=int(form.source.data),
                amount_pence=form.amount.pence,
                route=form.route.data,
                reason=form.reason.data,
                actor=staff_actor(),
            )
        except UnverifiedCredit as exc:
            form.source.errors.append(str(exc))
        except InvalidRequest as exc:
            form.amount.errors.append(str(exc))
        else:
            _done(outcome, f"Refund of {format_gbp(form.amount.pence)}")
            return redirect(url_for("backoffice.case_view", reference=case.reference))
    return render_template(
        "backoffice/approvals/refund.html", form=form, case=case, credits=credits
    )


def _queue_page(form: DecisionForm | None = None, deciding: int | None = None):
    return render_template(
        "backoffice/approvals/queue.html",
        items=approval_queues.pending_queue(today()),
        form=form or DecisionForm(formdata=None),
        blank_form=DecisionForm(formdata=None),
        deciding=deciding,
        me=current_staff().id,
    )


@bp.get("/approvals")
@requires(Permission.APPROVE)
def approval_queue():
    return _queue_page()


@bp.post("/approvals/<int:approval_id>/decide")
@requires(Permission.APPROVE)
def decide_request(approval_id: int):
    form = DecisionForm()
    if not form.validate_on_submit():
        return _queue_page(form, approval_id)
    try:
        if form.decision.data == APPROVE:
            decision = approvals.approve(request_id=approval_id, actor=staff_actor())
        else:
            approvals.reject(request_id=approval_id, note=form.note.data, actor=staff_actor())
    except NotFound:
        abort(404)
    except (Forbidden, InvalidRequest) as exc:
        flash(str(exc), "error")
    else:
        if form.decision.data == REJECT:
            flash(f"Request {approval_id} rejected", "success")
        elif decision.changed:
            flash(f"Request {approval_id} approved and posted", "success")
        else:
            flash(f"Request {approval_id} was already approved, so nothing changed")
    return redirect(url_for(QUEUE))


@bp.get("/approvals/mine")
@requires(Permission.REQUEST_REFUND)
def my_requests():
    return render_template(
        "backoffice/approvals/mine.html",
        items=approval_queues.pending_for(current_staff().id, today()),
    )


@bp.post("/approvals/<int:approval_id>/withdraw")
@requires(Permission.REQUEST_REFUND)
def withdraw_request(approval_id: int):
    form = FlaskForm()
    if form.validate_on_submit():
        try:
            approvals.withdraw(request_id=approval_id, actor=staff_actor())
        except NotFound:
            abort(404)
        except (Forbidden, InvalidRequest) as exc:
            flash(str(exc), "error")
        else:
            flash(f"Request {approval_id} withdrawn", "success")
    return redirect(url_for(MINE))
