"""'Set up a payment plan': a signed-in debtor proposes an instalment plan for one of
their linked accounts, and answers an officer's counter-offer.

One question a page. The answers so far (invoice ids, frequency, an amount or a
count, a date, the I&E statement's id, how to pay) live in the Flask session
under SESSION_KEY, for one account at a time; "Send" checks them all again
through the plans service, which decides or refers the plan. Every page looks
the account (and any plan) up among the login's linked accounts, so anyone
else's is a 404.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import flash, redirect, request, session, url_for
from werkzeug.exceptions import NotFound

from portal import bp
from portal.auth import login_required
from portal.common import actor, found, linked_account, private, render, today, viewer
from portal.plan_forms import (
    ACCEPT,
    DECLINE,
    SAVE,
    AmountForm,
    CounterOfferForm,
    FrequencyForm,
    PaymentRouteForm,
    SendForm,
    StartDateForm,
    bills_form,
    frequency_words,
    statement_form,
)
from shared.domain import schedules
from shared.domain.income_expenditure import SECTIONS
from shared.models import ArrangementStatus, Frequency, PaymentRoute
from shared.services.errors import InvalidRequest
from shared.services.plans import commands, hints, reads, wording
from shared.services.plans.terms import START_WITHIN_DAYS, Terms

SESSION_KEY = "payment_plan"
STEPS = ("bills", "frequency", "amount", "start", "statement", "route", "check")
# Answers that depend on which bills are in the plan, dropped when the bills change.
_AMOUNT_ANSWERS = ("instalment_pence", "count")


# --- the answers so far ----------------------------------------------------------------------


def _answers(account_id: int) -> dict:
    answers = session.get(SESSION_KEY) or {}
    return dict(answers) if answers.get("account_id") == account_id else {"account_id": account_id}


def _save(account_id: int, **changes) -> dict:
    answers = _answers(account_id)
    answers.pop("created_id", None)  # new answers: a new plan, not the one just sent
    answers.update(changes)
    session[SESSION_KEY] = answers
    return answers


def _terms(answers: dict) -> Terms:
    return Terms(
        Frequency(answers["frequency"]),
        date.fromisoformat(answers["start"]),
        instalment_pence=answers.get("instalment_pence"),
        count=answers.get("count"),
    )


def _needs_statement(account_id: int, answers: dict) -> bool:
    try:
        return reads.income_expenditure_needed(account_id, answers.get("invoice_ids") or [])
    except InvalidRequest:
        return False  # the bills are no longer plannable: the bills page will say so


def _first_unanswered(account_id: int, answers: dict) -> str:
    if not answers.get("invoice_ids"):
        return "bills"
    if not answers.get("frequency"):
        return "frequency"
    if not (answers.get("instalment_pence") or answers.get("count")):
        return "amount"
    if not answers.get("start"):
        return "start"
    if not answers.get("ie_statement_id") and _needs_statement(account_id, answers):
        return "statement"
    if not answers.get("route"):
        return "route"
    return "check"


def _step_url(step: str, reference: str) -> str:
    return url_for(f"portal.plan_{step}", reference=reference)


def _earlier_step_missing(step: str, account, answers: dict):
    """A redirect to the first unanswered step if it comes before `step`, else None."""
    missing = _first_unanswered(account.id, answers)
    if STEPS.index(missing) < STEPS.index(step):
        return redirect(_step_url(missing, account.reference))
    return None


def _back(step: str, account, answers: dict) -> str:
    earlier = STEPS[: STEPS.index(step)]
    for candidate in reversed(earlier):
        if candidate == "statement" and not _needs_statement(account.id, answers):
            continue
        return _step_url(candidate, account.reference)
    return url_for("portal.account_detail", reference=account.reference)


def _page(template: str, step: str, account, so_far: dict, status: int = 200, **context):
    return render(
        f"portal/plans/{template}",
        status,
        account=account,
        back_url=_back(step, account, so_far),
        **context,
    )


def _total(account_id: int, invoice_ids) -> int:
    wanted = {int(i) for i in invoice_ids}
    return sum(
        d.outstanding_pence for d in reads.plannable_debts(account_id) if d.invoice_id in wanted
    )


# --- 1. which bills --------------------------------------------------------------------------


@bp.route("/account/<reference>/plan/bills", methods=["GET", "POST"])
@login_required
@private
def plan_bills(reference: str):
    account = linked_account(reference)
    answers = _answers(account.id)
    debts = reads.plannable_debts(account.id)
    if not debts:
        return render("portal/plans/nothing_to_plan.html", account=account)
    form = bills_form(debts)
    if request.method == "GET":
        available = {str(d.invoice_id) for d in debts}
        earlier = [str(i) for i in answers.get("invoice_ids") or [] if str(i) in available]
        form.invoices.data = earlier or [str(d.invoice_id) for d in debts]
    elif form.validate_on_submit():
        chosen = form.invoice_ids()
        changes = {"invoice_ids": chosen}
        if sorted(chosen) != sorted(answers.get("invoice_ids") or []):
            answers = {k: v for k, v in answers.items() if k not in _AMOUNT_ANSWERS}
            session[SESSION_KEY] = answers
        _save(account.id, **changes)
        return redirect(_step_url("frequency", account.reference))
    return _page("bills.html", "bills", account, answers, form=form, debts=debts)


# --- 2. how often ----------------------------------------------------------------------------


@bp.route("/account/<reference>/plan/frequency", methods=["GET", "POST"])
@login_required
@private
def plan_frequency(reference: str):
    account = linked_account(reference)
    answers = _answers(account.id)
    if (missing := _earlier_step_missing("frequency", account, answers)) is not None:
        return missing
    form = FrequencyForm()
    if request.method == "GET":
        form.frequency.data = answers.get("frequency")
    elif form.validate_on_submit():
        _save(account.id, frequency=form.frequency.data)
        return redirect(_step_url("amount", account.reference))
    return _page("frequency.html", "frequency", account, answers, form=form)


# --- 3. how much -----------------------------------------------------------------------------


@bp.route("/account/<reference>/plan/amount", methods=["GET", "POST"])
@login_required
@private
def plan_amount(reference: str):
    account = linked_account(reference)
    answers = _answers(account.id)
    if (missing := _earlier_step_missing("amount", account, answers)) is not None:
        return missing
    total = _total(account.id, answers["invoice_ids"])
    form = AmountForm()
    form.total_pence = total
    if request.method == "GET":
        form.fill_from(answers)
    elif form.validate_on_submit():
        _save(account.id, **form.answers())
        return redirect(_step_url("start", account.reference))
    return _page(
        "amount.html",
        "amount",
        account,
        answers,
        form=form,
        total=total,
        how_often=frequency_words(answers["frequency"]),
        hints=_hints_for_bills(account.id, answers),
    )


def _hints_for_bills(account_id: int, answers: dict):
    """What the rules would approve at once for these bills, or None if they can no
    longer be planned (the bills page says so when they are next sent)."""
    try:
        return hints.for_bills(account_id, answers["invoice_ids"], answers["frequency"], today())
    except InvalidRequest:
        return None


# --- 4. first payment date -------------------------------------------------------------------


@bp.route("/account/<reference>/plan/start", methods=["GET", "POST"])
@login_required
@private
def plan_start(reference: str):
    account = linked_account(reference)
    answers = _answers(account.id)
    if (missing := _earlier_step_missing("start", account, answers)) is not None:
        return missing
    form = StartDateForm()
    form.today = today()
    if request.method == "GET" and answers.get("start"):
        form.fill_from(date.fromisoformat(answers["start"]))
    elif request.method == "POST" and form.validate_on_submit():
        answers = _save(account.id, start=form.chosen.isoformat())
        return redirect(_step_url(_first_unanswered(account.id, answers), account.reference))
    return _page(
        "start.html",
        "start",
        account,
        answers,
        form=form,
        latest=form.today + timedelta(days=START_WITHIN_DAYS),
    )


# --- 5. income and expenditure ---------------------------------------------------------------


@bp.route("/account/<reference>/plan/income-and-spending", methods=["GET", "POST"])
@login_required
@private
def plan_statement(reference: str):
    account = linked_account(reference)
    answers = _answers(account.id)
    if (missing := _earlier_step_missing("statement", account, answers)) is not None:
        return missing
    if not _needs_statement(account.id, answers):
        return redirect(_step_url("route", account.reference))
    form = statement_form()
    draft = reads.latest_draft(account.id)
    if request.method == "GET":
        sent = answers.get("ie_statement_id")
        if sent:
            form.fill_from(dict(reads.submitted_statement(sent, account.id).amounts))
        elif draft is not None:
            form.fill_from(draft.items or {})
    elif form.validate_on_submit():
        submit = request.form.get("action") != SAVE
        try:
            row = commands.save_statement(
                account_id=account.id,
                amounts=form.amounts(),
                actor=actor(),
                submit=submit,
                statement_id=draft.id if draft is not None else None,
            )
        except InvalidRequest as exc:
            form[next(iter(form.amounts()))].errors.append(str(exc))
        else:
            if not submit:
                return render("portal/plans/statement_saved.html", account=account)
            _save(account.id, ie_statement_id=row.id)
            return redirect(_step_url("route", account.reference))
    return _page("statement.html", "statement", account, answers, form=form)


# --- 6. how to pay ---------------------------------------------------------------------------


@bp.route("/account/<reference>/plan/how-to-pay", methods=["GET", "POST"])
@login_required
@private
def plan_route(reference: str):
    account = linked_account(reference)
    answers = _answers(account.id)
    if (missing := _earlier_step_missing("route", account, answers)) is not None:
        return missing
    form = PaymentRouteForm()
    if request.method == "GET":
        form.route.data = answers.get("route")
    elif form.validate_on_submit():
        _save(account.id, route=form.route.data)
        return redirect(_step_url("check", account.reference))
    return _page("route.html", "route", account, answers, form=form)


# --- 7. check and send -----------------------------------------------------------------------


def _statement_summary(account_id: int, statement_id: int | None):
    statement = reads.submitted_statement(statement_id, account_id)
    if statement is None:
        return None
    return {
        "sections": [(title, statement.section_total(key)) for key, title in SECTIONS.items()],
        "disposable_pence": statement.disposable_income_pence,
    }


@bp.route("/account/<reference>/plan/check", methods=["GET", "POST"])
@login_required
@private
def plan_check(reference: str):
    account = linked_account(reference)
    answers = _answers(account.id)
    created = answers.get("created_id")
    if created and reads.debtor_plan(created, [account.id]) is not None:
        # "Send" pressed again after the plan was made: show that plan, make no other.
        return redirect(url_for("portal.plan_done", reference=account.reference, plan_id=created))
    if (missing := _earlier_step_missing("check", account, answers)) is not None:
        return missing
    form = SendForm()
    problem = None
    if form.validate_on_submit():
        try:
            arrangement = commands.propose(
                account_id=account.id,
                invoice_ids=answers["invoice_ids"],
                terms=_terms(answers),
                payment_route=PaymentRoute(answers["route"]),
                actor=actor(),
                ie_statement_id=answers.get("ie_statement_id"),
                today=today(),
            )
        except InvalidRequest as exc:
            # A second tab or a double click got there first: show the plan it made.
            earlier = reads.live_plan_covering(account.id, answers["invoice_ids"])
            if earlier is not None and earlier.proposed_by_portal_user_id == viewer():
                arrangement = earlier
            else:
                problem = str(exc)
                arrangement = None
        if arrangement is not None:
            session[SESSION_KEY] = {"account_id": account.id, "created_id": arrangement.id}
            return redirect(
                url_for("portal.plan_done", reference=account.reference, plan_id=arrangement.id)
            )
    preview = None
    if problem is None:
        try:
            preview = reads.preview(
                account.id,
                answers["invoice_ids"],
                _terms(answers),
                ie_statement_id=answers.get("ie_statement_id"),
                today=today(),
            )
        except InvalidRequest as exc:
            problem = str(exc)
    outlook = None
    if preview is not None:
        outlook = hints.for_proposal(
            account.id, preview, ie_statement_id=answers.get("ie_statement_id"), today=today()
        )
    return _page(
        "check.html",
        "check",
        account,
        answers,
        200 if problem is None else 400,
        form=form,
        preview=preview,
        outlook=outlook,
        problem=problem,
        answers=answers,
        how_often=frequency_words(answers["frequency"]),
        by_direct_debit=answers["route"] == PaymentRoute.DIRECT_DEBIT.value,
        statement=_statement_summary(account.id, answers.get("ie_statement_id")),
    )


# --- 8. done, and the answer to a counter-offer ----------------------------------------------


def _plan_of(account, plan_id: int):
    return found(reads.debtor_plan(plan_id, [account.id]))


@bp.get("/account/<reference>/plan/<int:plan_id>/confirmation")
@login_required
@private
def plan_done(reference: str, plan_id: int):
    account = linked_account(reference)
    arrangement = _plan_of(account, plan_id)
    if arrangement.status == ArrangementStatus.COUNTER_OFFERED:
        return redirect(
            url_for("portal.plan_counter_offer", reference=account.reference, plan_id=plan_id)
        )
    schedule = list(arrangement.instalments)
    return render(
        "portal/plans/done.html",
        account=account,
        plan=arrangement,
        active=arrangement.status == ArrangementStatus.ACTIVE,
        summary=wording.schedule_words(schedule, arrangement.frequency.value) if schedule else "",
        first=schedule[0] if schedule else None,
        by_direct_debit=arrangement.payment_route == PaymentRoute.DIRECT_DEBIT,
    )


def _original_summary(arrangement) -> str | None:
    original = arrangement.original_terms or {}
    try:
        schedule = schedules.build_schedule(
            arrangement.total_pence,
            original["frequency"],
            date.fromisoformat(original["start"]),
            instalment_pence=original.get("instalment_pence"),
            count=original.get("count"),
        )
    except (KeyError, ValueError):
        return None
    return wording.schedule_words(schedule, original["frequency"])


@bp.route("/account/<reference>/plan/<int:plan_id>/counter-offer", methods=["GET", "POST"])
@login_required
@private
def plan_counter_offer(reference: str, plan_id: int):
    account = linked_account(reference)
    arrangement = _plan_of(account, plan_id)
    form = CounterOfferForm()
    if form.validate_on_submit():
        decision = request.form.get("decision")
        # The account was found among the login's linked accounts, so this is theirs.
        account_ids = [account.id]
        try:
            if decision == ACCEPT:
                commands.accept_counter_offer(
                    arrangement_id=arrangement.id, account_ids=account_ids, actor=actor()
                )
                return redirect(
                    url_for("portal.plan_done", reference=account.reference, plan_id=plan_id)
                )
            if decision == DECLINE:
                commands.decline_counter_offer(
                    arrangement_id=arrangement.id, account_ids=account_ids, actor=actor()
                )
                flash(
                    "You have declined the offer. The bills are no longer in a payment plan",
                    "success",
                )
                return redirect(url_for("portal.account_detail", reference=account.reference))
        except InvalidRequest as exc:
            flash(str(exc), "error")
            return redirect(url_for("portal.account_detail", reference=account.reference))
    if arrangement.status != ArrangementStatus.COUNTER_OFFERED:
        if arrangement.status == ArrangementStatus.ACTIVE:
            return redirect(
                url_for("portal.plan_done", reference=account.reference, plan_id=plan_id)
            )
        raise NotFound()
    schedule = list(arrangement.instalments)
    return render(
        "portal/plans/counter_offer.html",
        account=account,
        plan=arrangement,
        form=form,
        schedule=schedule,
        offer_summary=wording.schedule_words(schedule, arrangement.frequency.value),
        original_summary=_original_summary(arrangement),
        ACCEPT=ACCEPT,
        DECLINE=DECLINE,
    )
