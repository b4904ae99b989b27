"""Paying a council bill without an account: find the bill, choose how much, pay by card.

The browser's session holds only which account and invoices were found and
which checkouts it started, never anything about the debtor. The return page
only reports what the provider's webhook has recorded; money reaches the
ledger from the webhook (or reconciliation), never from this page.
"""

from __future__ import annotations

import functools
from datetime import date

from flask import current_app, redirect, render_template, request, session, url_for
from werkzeug.exceptions import NotFound

from portal import bp
from portal.forms import AmountForm, FindBillForm, amount_form
from shared.integrations.payments import app_gateway
from shared.models import ActorType, CheckoutStatus
from shared.money import format_gbp
from shared.ratelimit import Limit, limiter_for
from shared.services import bill_lookup, card_payments
from shared.services.actors import Actor
from shared.services.card_payments import CheckoutRequest, CheckoutUnavailable
from shared.services.errors import InvalidRequest

SESSION_KEY = "quick_pay"
# Enough for a payer who tries a few times; older return pages are forgotten.
_CHECKOUTS_REMEMBERED = 10

LOOKUPS_PER_IP = Limit("pay-find-ip", 10, 15 * 60)
FAILED_LOOKUPS_PER_REFERENCE = Limit("pay-find-reference", 5, 15 * 60)

_STILL_PAYABLE = {CheckoutStatus.CREATED, CheckoutStatus.OPENING, CheckoutStatus.OPEN}
_UNDER_WAY = {CheckoutStatus.PROCESSING, CheckoutStatus.PAID}

NOT_FOUND = (
    "We could not find a bill with those details. "
    "Check your invoice number or account reference and postcode"
)
TOO_MANY_TRIES = "You have tried too many times. Wait 15 minutes and try again"


def _private(view):
    # Invoice details and payment references: not for a shared computer's cache
    # or the Back button after the payer has gone.
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        response = current_app.make_response(view(*args, **kwargs))
        response.headers["Cache-Control"] = "no-store"
        return response

    return wrapper


def _render(template: str, status: int = 200, **context):
    context.setdefault("minimum", card_payments.MINIMUM_CARD_PAYMENT_PENCE)
    return render_template(template, gbp=format_gbp, long_date=_long_date, **context), status


def _long_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"  # GOV.UK style: 31 January 2026


@bp.route("/pay", methods=["GET", "POST"])
@_private
def pay_find():
    form = FindBillForm()
    if not form.validate_on_submit():
        return _render("portal/pay/find.html", form=form)
    limiter = limiter_for(current_app)
    reference = bill_lookup.normalise_reference(form.reference.data)
    if not limiter.hit(LOOKUPS_PER_IP, request.remote_addr or "") or limiter.exceeded(
        FAILED_LOOKUPS_PER_REFERENCE, reference
    ):
        form.reference.errors.append(TOO_MANY_TRIES)
        return _render("portal/pay/find.html", 429, form=form)
    found = bill_lookup.find_bill(reference, form.postcode.data)
    if found is None:
        limiter.hit(FAILED_LOOKUPS_PER_REFERENCE, reference)
        # On the first field, so the error summary has somewhere to link; the
        # wording never says which of the two was wrong.
        form.reference.errors.append(NOT_FOUND)
        return _render("portal/pay/find.html", form=form)
    bill = {"account_id": found.account_id, "invoice_ids": found.invoice_ids}
    earlier_checkouts = (session.get(SESSION_KEY) or {}).get("checkouts")
    if earlier_checkouts:
        # Kept from an earlier bill, so that payment's return page still opens.
        bill["checkouts"] = earlier_checkouts
    session[SESSION_KEY] = bill
    return redirect(url_for("portal.pay_amount"))


@bp.route("/pay/amount", methods=["GET", "POST"])
@_private
def pay_amount():
    bill = session.get(SESSION_KEY) or {}
    if "account_id" not in bill:
        return redirect(url_for("portal.pay_find"))
    items = bill_lookup.bill_items(bill["account_id"], bill["invoice_ids"])
    total = sum(item.outstanding_pence for item in items)
    if total < card_payments.MINIMUM_CARD_PAYMENT_PENCE:
        return _render("portal/pay/nothing_to_pay.html", items=items, total=total)
    form = amount_form(items)
    if form.submission_key.data is None:
        form.submission_key.data = card_payments.new_submission_key()
    if form.validate_on_submit():
        try:
            checkout = _begin_checkout(bill["account_id"], form)
        except InvalidRequest as exc:
            # Something changed since the page was shown (say, a payment arrived).
            _first_field(form).errors.append(str(exc))
        else:
            _remember_checkout(checkout.reference)
            if checkout.status in _UNDER_WAY:
                # The same form sent again after paying: show how that payment went.
                return redirect(url_for("portal.pay_return", reference=checkout.reference))
            try:
                checkout = card_payments.open_checkout(
                    checkout.id,
                    app_gateway(current_app),
                    success_url=url_for(
                        "portal.pay_return", reference=checkout.reference, _external=True
                    ),
                    cancel_url=url_for("portal.pay_amount", _external=True),
                )
            except CheckoutUnavailable:
                current_app.logger.warning("card checkout %s not opened", checkout.reference)
                return _render("portal/pay/unavailable.html", 503)
            return redirect(checkout.provider_session_url, 303)
    return _render("portal/pay/amount.html", form=form, items=items)


def _begin_checkout(account_id: int, form: AmountForm):
    request_ = CheckoutRequest(
        account_id,
        form.allocations(),
        form.submission_key.data,
        receipt_email=form.receipt_email.data or None,
    )
    actor = Actor(ActorType.SYSTEM, None, request.remote_addr)
    checkout = card_payments.begin_checkout(request_, actor)
    if _same_choice(checkout, request_) and checkout.status in _STILL_PAYABLE | _UNDER_WAY:
        return checkout
    # The key came back with a different choice (the payer went Back to an old
    # copy of the form and changed it) or a checkout that can no longer be
    # paid: that is a new payment, not a resubmission.
    fresh = CheckoutRequest(
        account_id,
        request_.allocations,
        card_payments.new_submission_key(),
        receipt_email=request_.receipt_email,
    )
    return card_payments.begin_checkout(fresh, actor)


def _same_choice(checkout, request_: CheckoutRequest) -> bool:
    return (
        checkout.account_id == request_.account_id
        and [tuple(a) for a in checkout.allocations] == [tuple(a) for a in request_.allocations]
        and checkout.receipt_email == request_.receipt_email
    )


def _first_field(form: AmountForm):
    return next(field for field in form if field.type not in {"CSRFTokenField", "HiddenField"})


def _remember_checkout(reference: str) -> None:
    bill = dict(session.get(SESSION_KEY) or {})
    earlier = [r for r in bill.get("checkouts", []) if r != reference]
    bill["checkouts"] = [*earlier, reference][-_CHECKOUTS_REMEMBERED:]
    session[SESSION_KEY] = bill


@bp.get("/pay/return/<reference>")
@_private
def pay_return(reference: str):
    # Only the browser that started the payment may see how it went.
    if reference not in (session.get(SESSION_KEY) or {}).get("checkouts", []):
        raise NotFound()
    checkout = bill_lookup.checkout_by_reference(reference)
    if checkout is None:
        raise NotFound()
    template = {
        CheckoutStatus.PAID: "portal/pay/paid.html",
        CheckoutStatus.FAILED: "portal/pay/not_taken.html",
        CheckoutStatus.EXPIRED: "portal/pay/not_taken.html",
        CheckoutStatus.ERROR: "portal/pay/not_taken.html",
    }.get(checkout.status, "portal/pay/confirming.html")
    return _render(template, checkout=checkout)
