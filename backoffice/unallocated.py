"""The unallocated payments queue (money that paid no invoice), and allocating a
payment's or credit's unallocated money to the account's invoices by hand."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput
from wtforms import RadioField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired

from backoffice import bp
from backoffice.auth import requires
from backoffice.casework import case_or_404, staff_actor, today
from backoffice.payments import AS_CHOSEN, OLDEST_FIRST, chosen_amounts
from shared.domain.numbers import ascii_digits
from shared.domain.permissions import Permission
from shared.money import format_gbp
from shared.services import account_view, approval_queues, ledger, unallocated
from shared.services.errors import Conflict, InvalidRequest, NotFound
from shared.widgets import GovRadioInput

FROM_QUEUE = "queue"


@bp.get("/unallocated")
@requires(Permission.VIEW_CASES)
def unallocated_queue():
    after = unallocated.parse_cursor(request.args.get("after"))
    return render_template(
        "backoffice/unallocated/queue.html", page=unallocated.queue_page(today(), after=after)
    )


class AllocateForm(FlaskForm):
    # Each choice's value is "<credit entry id>:<unallocated pence as shown>", so the
    # service can refuse if the amount has changed since (the same form sent twice).
    credit = RadioField(
        "Which payment or credit?",
        validate_choice=False,
        validators=[DataRequired("Select the payment or credit to allocate")],
        widget=GovRadioInput(),
    )
    allocation = RadioField(
        "How should it be allocated?",
        choices=[
            # What ledger.allocate does when nobody chose (shared/domain/allocation.py).
            SelectChoice(
                OLDEST_FIRST,
                "The oldest debts first (a payment plan's debts before the rest; disputed "
                "and queried debts left alone)",
            ),
            SelectChoice(AS_CHOSEN, "The invoices I choose"),
        ],
        default=OLDEST_FIRST,
        validate_choice=False,
        widget=GovRadioInput(),
    )
    submit = SubmitField("Allocate", widget=GovSubmitInput())


def _shown(value: str | None) -> tuple[int, int] | None:
    entry_id, _, pence = (value or "").partition(":")
    if not (ascii_digits(entry_id) and ascii_digits(pence)):
        return None
    return int(entry_id), int(pence)


def _chosen_plan(form: AllocateForm, invoices, unallocated_pence: int):
    """The amounts typed against each invoice (None: oldest first) and a message for
    each invoice whose amount will not do; a problem with the total goes on the form."""
    if form.allocation.data != AS_CHOSEN:
        return None, {}
    plan, problems = chosen_amounts(invoices)
    total = sum(p for _, p in plan)
    if not problems and total == 0:
        form.allocation.errors.append("Enter an amount for at least one invoice")
    elif not problems and total > unallocated_pence:
        form.allocation.errors.append(
            f"The amounts add up to {format_gbp(total)}, but only "
            f"{format_gbp(unallocated_pence)} of this payment is unallocated"
        )
    return plan, problems


@bp.route("/accounts/<reference>/allocate", methods=["GET", "POST"])
@requires(Permission.WORK_CASES)
def allocate_credit(reference: str):
    case = case_or_404(reference)
    credits = approval_queues.refundable_credits(case.id)
    invoices = account_view.open_invoices(case.id, today())
    came_from = FROM_QUEUE if request.args.get("from") == FROM_QUEUE else None
    done_url = (
        url_for("backoffice.unallocated_queue")
        if came_from
        else url_for("backoffice.case_view", reference=case.reference)
    )
    form = AllocateForm()
    form.credit.choices = [
        SelectChoice(
            f"{c.entry_id}:{c.available_pence}",
            f"{c.words}, {c.effective_date:%-d %B %Y}: "
            + f"{format_gbp(c.available_pence)} unallocated",
        )
        for c in credits
    ]
    if request.method == "GET":
        wanted = request.args.get("credit", type=int)
        for c in credits:
            if c.entry_id == wanted or len(credits) == 1:
                form.credit.data = f"{c.entry_id}:{c.available_pence}"
    problems: dict[int, str] = {}
    if form.validate_on_submit():
        shown = _shown(form.credit.data)
        if shown is None:
            form.credit.errors.append("Select the payment or credit to allocate")
        elif shown[0] not in {c.entry_id for c in credits}:
            # Fully allocated since the form was shown (or sent twice): nothing to do.
            flash("Nothing was allocated: that payment has no unallocated money left")
            return redirect(done_url)
        elif invoices:
            entry_id, shown_pence = shown
            plan, problems = _chosen_plan(form, invoices, shown_pence)
            if not problems and not form.allocation.errors:
                try:
                    rows = ledger.allocate(
                        credit_entry_id=entry_id,
                        actor=staff_actor(),
                        allocations=plan,
                        expected_available_pence=shown_pence,
                    )
                except Conflict as exc:
                    flash(str(exc))
                    return redirect(done_url)
                except (InvalidRequest, NotFound) as exc:
                    form.allocation.errors.append(str(exc))
                else:
                    allocated = sum(row.amount_pence for row in rows)
                    flash(
                        f"{format_gbp(allocated)} allocated on {case.name}'s account "
                        f"({case.reference})",
                        "success",
                    )
                    return redirect(done_url)
    return render_template(
        "backoffice/unallocated/allocate.html",
        form=form,
        case=case,
        credits=credits,
        invoices=invoices,
        problems=problems,
        typed={i.id: request.form.get(f"invoice_{i.id}", "") for i in invoices},
        came_from=came_from,
        back=done_url,
    )
