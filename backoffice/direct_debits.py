"""Direct Debit instructions taken by an officer: by phone (with the read-back script)
or from a signed paper form; a payer's change of bank details or cancellation.

Each page is one form and one service call (shared/services/directdebit/mandates.py),
whose refusals land on the fields they are about. Bank details are only ever shown
masked: the read-back script has the officer read back what they have just typed in
the form on the same page, so nothing is echoed anywhere else. A new instruction
names the live mandate the officer saw (a hidden field), and a change or cancellation
the version they saw, so a double click has one effect.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for

from backoffice import bp
from backoffice.auth import requires
from backoffice.casework import case_or_404, staff_actor
from backoffice.direct_debit_forms import (
    CONFIRMED,
    YES,
    CancelForm,
    ChangeForm,
    number_or_none,
    paper_form,
    phone_form,
)
from shared.domain.bacs import guarantee
from shared.domain.permissions import Permission
from shared.models.directdebit import MandateSource
from shared.services.directdebit import mandates
from shared.services.directdebit.mandates_checks import SOLE_SIGNATORY, MandateRefused
from shared.services.errors import Conflict, Forbidden, InvalidRequest


def _case_url(reference: str) -> str:
    return url_for("backoffice.case_plans", reference=reference)


def _guarantee() -> tuple[str, ...]:
    config = current_app.config
    return guarantee.paragraphs(
        config["COUNCIL_NAME"], int(config["BACS_ADVANCE_NOTICE_WORKING_DAYS"])
    )


def _render(template: str, case, form, status: int | None = None, **context):
    status = status or (400 if form.errors else 200)
    return (
        render_template(
            f"backoffice/direct_debits/{template}",
            case=case,
            form=form,
            back=_case_url(case.reference),
            guarantee_heading=guarantee.HEADING,
            guarantee=_guarantee(),
            notice_days=int(current_app.config["BACS_ADVANCE_NOTICE_WORKING_DAYS"]),
            **context,
        ),
        status,
    )


def _mandate_or_404(case, mandate_id: int) -> mandates.MandateView:
    if mandate_id > 2**31 - 1:
        abort(404)
    mandate = mandates.mandate_on_account(mandate_id, case.id)
    if mandate is None:
        abort(404)
    return mandate


def _set_up(form, case, source: MandateSource):
    """Hand a phone or paper form to sign_up; the new mandate, or None with the
    problems on the form."""
    paper = source == MandateSource.PAPER
    try:
        return mandates.sign_up(
            staff_actor(),
            case.id,
            holder_name=form.holder_name.data,
            sort_code=form.sort_code.data,
            account_number=form.account_number.data,
            sole_signatory=(
                CONFIRMED in (form.signed_by_all.data or [])
                if paper
                else form.sole_signatory.data == YES
            ),
            source=source,
            collects_invoices=form.plan_id() is None,
            for_plan_id=form.plan_id(),
            replaces=number_or_none(form.replaces.data),
            date_signed=getattr(form.date_signed, "parsed", None) if paper else None,
            read_back_confirmed=not paper and CONFIRMED in (form.read_back.data or []),
        )
    except MandateRefused as exc:
        problems = dict(exc.problems)
        if paper and SOLE_SIGNATORY in problems:
            problems["signed_by_all"] = problems.pop(SOLE_SIGNATORY)
        form.put_problems(problems)
    except (Conflict, InvalidRequest, Forbidden) as exc:
        form.purpose.errors = [*form.purpose.errors, str(exc)]
    return None


def _new_instruction(reference: str, source: MandateSource, template: str):
    case = case_or_404(reference)
    plans = mandates.plans_to_collect(case.id)
    form = (paper_form if source == MandateSource.PAPER else phone_form)(plans)
    live = mandates.live_mandate(case.id)
    if request.method == "GET":
        form.replaces.data = str(live.id) if live is not None else ""
        if len(plans) == 1:
            form.purpose.data = f"plan-{plans[0][0]}"
    elif form.validate_on_submit():
        mandate = _set_up(form, case, source)
        if mandate is not None:
            flash(
                f"Direct Debit {mandate.reference} set up, ending {mandate.account_ending}; "
                "the confirmation is on its way to the payer",
                "success",
            )
            return redirect(_case_url(case.reference))
    return _render(template, case, form, live=live)


@bp.route("/accounts/<reference>/direct-debit/phone", methods=["GET", "POST"])
@requires(Permission.TAKE_DIRECT_DEBITS)
def take_direct_debit_by_phone(reference: str):
    return _new_instruction(reference, MandateSource.PHONE, "phone.html")


@bp.route("/accounts/<reference>/direct-debit/paper", methods=["GET", "POST"])
@requires(Permission.TAKE_DIRECT_DEBITS)
def record_paper_direct_debit(reference: str):
    return _new_instruction(reference, MandateSource.PAPER, "paper.html")


@bp.route("/accounts/<reference>/direct-debit/<int:mandate_id>/change", methods=["GET", "POST"])
@requires(Permission.TAKE_DIRECT_DEBITS)
def change_direct_debit(reference: str, mandate_id: int):
    case = case_or_404(reference)
    mandate = _mandate_or_404(case, mandate_id)
    form = ChangeForm()
    if request.method == "GET":
        if not mandate.is_live:
            flash(f"Direct Debit {mandate.reference} is no longer live", "success")
            return redirect(_case_url(case.reference))
        form.version.data = str(mandate.version)
        form.holder_name.data = mandate.holder_name
    elif form.validate_on_submit():
        try:
            new = mandates.change_bank_details(
                staff_actor(),
                mandate.id,
                number_or_none(form.version.data) or -1,
                holder_name=form.holder_name.data,
                sort_code=form.sort_code.data,
                account_number=form.account_number.data,
                sole_signatory=form.sole_signatory.data == YES,
                source=MandateSource.PHONE,
                account_id=case.id,
                read_back_confirmed=CONFIRMED in (form.read_back.data or []),
            )
        except MandateRefused as exc:
            form.put_problems(exc.problems)
        except (Conflict, InvalidRequest, Forbidden) as exc:
            form.holder_name.errors = [*form.holder_name.errors, str(exc)]
        else:
            flash(
                f"Bank details changed: Direct Debit {new.reference} replaces {mandate.reference}",
                "success",
            )
            return redirect(_case_url(case.reference))
    return _render("change.html", case, form, mandate=mandate)


@bp.route("/accounts/<reference>/direct-debit/<int:mandate_id>/cancel", methods=["GET", "POST"])
@requires(Permission.TAKE_DIRECT_DEBITS)
def cancel_direct_debit(reference: str, mandate_id: int):
    case = case_or_404(reference)
    mandate = _mandate_or_404(case, mandate_id)
    if not mandate.is_live:
        flash(f"Direct Debit {mandate.reference} is cancelled", "success")
        return redirect(_case_url(case.reference))
    form = CancelForm()
    if request.method == "GET":
        form.version.data = str(mandate.version)
    elif form.validate_on_submit():
        try:
            mandates.cancel(
                staff_actor(),
                mandate.id,
                number_or_none(form.version.data) or -1,
                form.reason.data,
                account_id=case.id,
            )
        except MandateRefused as exc:
            form.reason.errors = [*form.reason.errors, str(exc)]
        except (Conflict, InvalidRequest, Forbidden) as exc:
            form.reason.errors = [*form.reason.errors, str(exc)]
        else:
            flash(f"Direct Debit {mandate.reference} cancelled", "success")
            return redirect(_case_url(case.reference))
    return _render("cancel.html", case, form, mandate=mandate)
