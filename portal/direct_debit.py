"""Direct Debit in the portal: sign up (for a payment plan or future invoices), see,
change bank details, cancel.

Sign-up is one question a page, as the payment plan journey is: start (what a Direct
Debit is, the Guarantee, the council's details, what it is for), bank details, "are
you the only person needed to authorise" (no: the paper form), check your answers,
confirmation. The answers live in the Flask session under SESSION_KEY for one account
at a time, and the bank details only as a sealed token (bank_details.seal): never in
a URL, never readable in the cookie, and dropped as soon as the mandate is made or the
payer is sent to the paper form. Every page looks the account up among the login's
linked accounts, so anyone else's account or mandate is a 404. Nothing needs
JavaScript.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, request, session, url_for

from portal import bp
from portal.auth import login_required
from portal.common import actor, found, linked_account, private, render
from portal.direct_debit_forms import (
    YES,
    AuthoriseForm,
    BankDetailsForm,
    CancelForm,
    ChangeForm,
    ConfirmForm,
    purpose_form,
)
from shared.domain.bacs import guarantee
from shared.models.directdebit import MandateSource
from shared.models.encrypted import UndecryptableValue
from shared.services.directdebit import bank_details, mandates
from shared.services.directdebit.mandates_checks import MandateRefused, check_bank_details
from shared.services.errors import Conflict, InvalidRequest, NotFound

SESSION_KEY = "direct_debit"
STEPS = ("start", "bank_details", "authorise", "check")
CANCELLED_ONLINE = "Cancelled by the payer online"
_MAX_ID = 2**31 - 1


# --- the answers so far ----------------------------------------------------------------------


def _answers(account_id: int) -> dict:
    answers = session.get(SESSION_KEY) or {}
    return dict(answers) if answers.get("account_id") == account_id else {"account_id": account_id}


def _save(account_id: int, **changes) -> dict:
    answers = _answers(account_id)
    answers.pop("created_id", None)
    answers.update(changes)
    session[SESSION_KEY] = answers
    return answers


def _forget_bank_details(account_id: int, **keep) -> None:
    session[SESSION_KEY] = {"account_id": account_id, **keep}


def _first_unanswered(answers: dict) -> str:
    if "purpose" not in answers:
        return "start"
    if not answers.get("sealed"):
        return "bank_details"
    if answers.get("sole_signatory") is not True:
        return "authorise"
    return "check"


def _step_url(step: str, reference: str) -> str:
    return url_for(f"portal.direct_debit_{step}", reference=reference)


def _earlier_step_missing(step: str, account, answers: dict):
    missing = _first_unanswered(answers)
    if STEPS.index(missing) < STEPS.index(step):
        return redirect(_step_url(missing, account.reference))
    return None


def _back(step: str, account) -> str:
    index = STEPS.index(step)
    if index == 0:
        return url_for("portal.account_detail", reference=account.reference)
    return _step_url(STEPS[index - 1], account.reference)


def _guarantee() -> tuple[str, ...]:
    config = current_app.config
    return guarantee.paragraphs(
        config["COUNCIL_NAME"], int(config["BACS_ADVANCE_NOTICE_WORKING_DAYS"])
    )


def _page(template: str, step: str, account, status: int = 200, **context):
    context.setdefault("back_url", _back(step, account))
    return render(
        f"portal/direct_debit/{template}",
        status,
        account=account,
        guarantee_heading=guarantee.HEADING,
        guarantee=_guarantee(),
        council_address=current_app.config.get("COUNCIL_ADDRESS_LINES") or [],
        **context,
    )


def _mandate_of(account, mandate_id: int) -> mandates.MandateView:
    if mandate_id > _MAX_ID:
        raise NotFound()
    return found(mandates.mandate_on_account(mandate_id, account.id))


# --- 1. start: what a Direct Debit is, and what this one is for --------------------------------


@bp.route("/account/<reference>/direct-debit/set-up", methods=["GET", "POST"])
@login_required
@private
def direct_debit_start(reference: str):
    account = linked_account(reference)
    live = mandates.live_mandate(account.id)
    if live is not None:
        return _page("already.html", "start", account, mandate=live)
    plans = mandates.plans_to_collect(account.id)
    form = purpose_form(plans)
    answers = _answers(account.id)
    if request.method == "GET":
        wanted = request.args.get("plan", "")
        if f"plan-{wanted}" in {c.value for c in form.purpose.choices}:
            form.purpose.data = f"plan-{wanted}"
        else:
            form.purpose.data = answers.get("purpose") or (
                f"plan-{plans[0][0]}" if len(plans) == 1 else None
            )
    elif form.validate_on_submit():
        _save(account.id, purpose=form.purpose.data, plan_id=form.plan_id())
        return redirect(_step_url("bank_details", account.reference))
    return _page("start.html", "start", account, form=form)


# --- 2. bank details -------------------------------------------------------------------------


@bp.route("/account/<reference>/direct-debit/bank-details", methods=["GET", "POST"])
@login_required
@private
def direct_debit_bank_details(reference: str):
    account = linked_account(reference)
    answers = _answers(account.id)
    if (missing := _earlier_step_missing("bank_details", account, answers)) is not None:
        return missing
    form = BankDetailsForm()
    if request.method == "GET":
        form.holder_name.data = answers.get("holder_name")
    elif form.validate_on_submit():
        checked = check_bank_details(
            form.holder_name.data, form.sort_code.data, form.account_number.data
        )
        if checked.problems:
            form.put_problems(checked.problems)
        else:
            _save(
                account.id,
                holder_name=checked.holder_name,
                sealed=bank_details.seal(checked.details),
                could_not_check=checked.modulus_outcome.value == "could_not_check",
            )
            return redirect(_step_url("authorise", account.reference))
    status = 400 if form.errors else 200
    return _page("bank_details.html", "bank_details", account, status, form=form)


# --- 3. the only person needed to authorise ----------------------------------------------------


@bp.route("/account/<reference>/direct-debit/authorise", methods=["GET", "POST"])
@login_required
@private
def direct_debit_authorise(reference: str):
    account = linked_account(reference)
    answers = _answers(account.id)
    if (missing := _earlier_step_missing("authorise", account, answers)) is not None:
        return missing
    form = AuthoriseForm()
    if request.method == "GET" and answers.get("sole_signatory") is True:
        form.sole_signatory.data = YES
    elif form.validate_on_submit():
        if form.sole_signatory.data != YES:
            # The paperless route ends here: nothing of the bank details is kept.
            _forget_bank_details(account.id)
            return redirect(url_for("portal.direct_debit_paper_form", reference=account.reference))
        _save(account.id, sole_signatory=True)
        return redirect(_step_url("check", account.reference))
    return _page("authorise.html", "authorise", account, form=form)


@bp.get("/account/<reference>/direct-debit/paper-form")
@login_required
@private
def direct_debit_paper_form(reference: str):
    account = linked_account(reference)
    return _page("paper_form.html", "authorise", account)


# --- 4. check your answers and confirm ---------------------------------------------------------


@bp.route("/account/<reference>/direct-debit/check", methods=["GET", "POST"])
@login_required
@private
def direct_debit_check(reference: str):
    account = linked_account(reference)
    answers = _answers(account.id)
    created = answers.get("created_id")
    if created:
        # "Confirm" pressed again after the mandate was made: show it, make no other.
        return redirect(_done_url(account, created))
    if (missing := _earlier_step_missing("check", account, answers)) is not None:
        return missing
    try:
        details = bank_details.open_sealed(answers["sealed"])
    except (UndecryptableValue, ValueError):
        # Sealed under a key since retired: ask for the details again.
        _save(account.id, sealed=None)
        return redirect(_step_url("bank_details", account.reference))
    form = ConfirmForm()
    problem = None
    if form.validate_on_submit():
        try:
            mandate = mandates.sign_up(
                actor(),
                account.id,
                holder_name=answers["holder_name"],
                sort_code=details.sort_code,
                account_number=details.account_number,
                sole_signatory=True,
                source=MandateSource.PORTAL,
                collects_invoices=answers.get("plan_id") is None,
                for_plan_id=answers.get("plan_id"),
                replaces=None,
            )
        except MandateRefused as exc:
            problem = str(exc)
        except (Conflict, InvalidRequest) as exc:
            live = mandates.live_mandate(account.id)
            if live is not None:
                # A second tab or a double click got there first: show what it made.
                _forget_bank_details(account.id, created_id=live.id)
                return redirect(_done_url(account, live.id))
            problem = str(exc)
        else:
            _forget_bank_details(account.id, created_id=mandate.id)
            return redirect(_done_url(account, mandate.id))
    plans = dict(mandates.plans_to_collect(account.id))
    return _page(
        "check.html",
        "check",
        account,
        200 if problem is None else 400,
        form=form,
        problem=problem,
        holder_name=answers["holder_name"],
        masked_sort_code=details.masked_sort_code,
        masked_account=details.masked_account,
        could_not_check=answers.get("could_not_check", False),
        purpose_words=plans.get(answers.get("plan_id"), "Bills on this account as they fall due"),
    )


def _done_url(account, mandate_id: int) -> str:
    return url_for(
        "portal.direct_debit_done", reference=account.reference, mandate_id=int(mandate_id)
    )


@bp.get("/account/<reference>/direct-debit/<int:mandate_id>/confirmation")
@login_required
@private
def direct_debit_done(reference: str, mandate_id: int):
    account = linked_account(reference)
    mandate = _mandate_of(account, mandate_id)
    return render(
        "portal/direct_debit/done.html",
        account=account,
        mandate=mandate,
        notice_days=int(current_app.config["BACS_ADVANCE_NOTICE_WORKING_DAYS"]),
    )


# --- change bank details, cancel -------------------------------------------------------------


def _account_page(account, message: str):
    flash(message, "success")
    return redirect(url_for("portal.account_detail", reference=account.reference))


@bp.route("/account/<reference>/direct-debit/<int:mandate_id>/change", methods=["GET", "POST"])
@login_required
@private
def direct_debit_change(reference: str, mandate_id: int):
    account = linked_account(reference)
    mandate = _mandate_of(account, mandate_id)
    form = ChangeForm()
    if request.method == "GET" and not mandate.is_live:
        return _account_page(account, f"Direct Debit {mandate.reference} is no longer active")
    if request.method == "GET":
        form.version.data = str(mandate.version)
        form.holder_name.data = mandate.holder_name
    elif form.validate_on_submit():
        if form.sole_signatory.data != YES:
            return redirect(url_for("portal.direct_debit_paper_form", reference=account.reference))
        try:
            new = mandates.change_bank_details(
                actor(),
                mandate.id,
                form.expected_version(),
                holder_name=form.holder_name.data,
                sort_code=form.sort_code.data,
                account_number=form.account_number.data,
                sole_signatory=True,
                source=MandateSource.PORTAL,
                account_id=account.id,
            )
        except MandateRefused as exc:
            form.put_problems(exc.problems)
        except (Conflict, InvalidRequest) as exc:
            live = mandates.live_mandate(account.id)
            if live is not None and live.id != mandate.id:
                return redirect(_done_url(account, live.id))  # the first click's mandate
            form.sole_signatory.errors = [str(exc)]
        else:
            return redirect(_done_url(account, new.id))
    return _page(
        "change.html",
        "start",
        account,
        400 if form.errors else 200,
        form=form,
        mandate=mandate,
        back_url=url_for("portal.account_detail", reference=account.reference),
    )


@bp.route("/account/<reference>/direct-debit/<int:mandate_id>/cancel", methods=["GET", "POST"])
@login_required
@private
def direct_debit_cancel(reference: str, mandate_id: int):
    account = linked_account(reference)
    mandate = _mandate_of(account, mandate_id)
    if not mandate.is_live:
        # Already cancelled (by the first of two clicks, say): nothing more to do.
        return _account_page(account, f"Your Direct Debit {mandate.reference} is cancelled")
    form = CancelForm()
    if request.method == "GET":
        form.version.data = str(mandate.version)
    elif form.validate_on_submit():
        try:
            mandates.cancel(
                actor(),
                mandate.id,
                form.expected_version(),
                CANCELLED_ONLINE,
                account_id=account.id,
            )
        except (Conflict, InvalidRequest) as exc:
            flash(str(exc), "error")
        else:
            flash(f"Your Direct Debit {mandate.reference} is cancelled", "success")
        return redirect(url_for("portal.account_detail", reference=account.reference))
    return _page(
        "cancel.html",
        "start",
        account,
        form=form,
        mandate=mandate,
        back_url=url_for("portal.account_detail", reference=account.reference),
    )


@bp.app_template_global()
def has_live_direct_debit(account_id: int) -> bool:
    """For the plan journey's last page: whether the account's Direct Debit is set up."""
    return mandates.live_mandate(account_id) is not None
