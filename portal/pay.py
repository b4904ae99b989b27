"""Paying a council bill without an account: find the bill, choose how much, pay by card.

A bill already paid says so, when, and shows its receipt (what paid it, never who).
The browser's session holds only which account and invoices were found and
which checkouts it started, never anything about the debtor. The return page
only reports what the provider's webhook has recorded; money reaches the
ledger from the webhook (or reconciliation), never from this page.
"""

from __future__ import annotations

from flask import current_app, redirect, request, session, url_for
from werkzeug.exceptions import NotFound

from portal import bp
from portal.common import found, go_to_checkout, private, render, today
from portal.forms import AmountForm, FindBillForm, amount_form
from shared.models import ActorType, CheckoutStatus
from shared.ratelimit import GuessLimits, Limit, limiter_for
from shared.services import bill_lookup, card_payments
from shared.services.actors import Actor
from shared.services.card_payments import CheckoutRequest
from shared.services.errors import InvalidRequest

SESSION_KEY = "quick_pay"
# Enough for a payer who tries a few times; older return pages are forgotten.
_CHECKOUTS_REMEMBERED = 10

# Wrong guesses only: a council office's one address may find many bills. Never per
# reference alone, or five wrong postcodes from anywhere would lock the payer out.
FAILED_LOOKUPS = GuessLimits(
    per_address=Limit("pay-find-failed-ip", 10, 15 * 60),
    per_address_and_reference=Limit("pay-find-failed-ip-reference", 5, 15 * 60),
)

NOT_FOUND = (
    "We could not find a bill with those details. "
    "Check your invoice number or account reference and postcode"
)
TOO_MANY_TRIES = "You have tried too many times. Wait 15 minutes and try again"


@bp.route("/pay", methods=["GET", "POST"])
@private
def pay_find():
    form = FindBillForm()
    if not form.validate_on_submit():
        return render("portal/pay/find.html", form=form)
    limiter = limiter_for(current_app)
    reference = bill_lookup.normalise_reference(form.reference.data)
    address = request.remote_addr or ""
    if FAILED_LOOKUPS.refused(limiter, address, reference):
        form.reference.errors.append(TOO_MANY_TRIES)
        return render("portal/pay/find.html", 429, form=form)
    bill_found = bill_lookup.find_bill(reference, form.postcode.data)
    if bill_found is None:
        FAILED_LOOKUPS.failed(limiter, address, reference)
        # On the first field, so the error summary has somewhere to link; the
        # wording never says which of the two was wrong.
        form.reference.errors.append(NOT_FOUND)
        return render("portal/pay/find.html", form=form)
    bill = {"account_id": bill_found.account_id, "invoice_ids": bill_found.invoice_ids}
    if bill_found.whole_account:
        # The account's reference was proved: its paid bills' receipts may be shown.
        bill["whole_account"] = True
    earlier_checkouts = (session.get(SESSION_KEY) or {}).get("checkouts")
    if earlier_checkouts:
        # Kept from an earlier bill, so that payment's return page still opens.
        bill["checkouts"] = earlier_checkouts
    session[SESSION_KEY] = bill
    return redirect(url_for("portal.pay_amount"))


@bp.route("/pay/amount", methods=["GET", "POST"])
@private
def pay_amount():
    bill = session.get(SESSION_KEY) or {}
    if "account_id" not in bill:
        return redirect(url_for("portal.pay_find"))
    items = bill_lookup.bill_items(bill["account_id"], bill["invoice_ids"])
    total = sum(item.outstanding_pence for item in items)
    if 0 < total < card_payments.MINIMUM_CARD_PAYMENT_PENCE:
        return render("portal/pay/nothing_to_pay.html", items=items, total=total)
    if total == 0:
        return _nothing_to_pay(bill)
    form = amount_form(items)
    if form.submission_key.data is None:
        form.submission_key.data = card_payments.new_submission_key()
    if form.validate_on_submit():
        try:
            checkout = _begin_checkout(bill["account_id"], form)
        except InvalidRequest as exc:
            # Something changed since the page was shown (say, a payment arrived).
            form.first_amount_field().errors.append(str(exc))
        else:
            _remember_checkout(checkout.reference)
            return go_to_checkout(
                checkout,
                return_to=("portal.pay_return", {"reference": checkout.reference}),
                cancel_url=url_for("portal.pay_amount", _external=True),
                unavailable=lambda: render("portal/pay/unavailable.html", 503),
            )
    return render("portal/pay/amount.html", form=form, items=items)


def _nothing_to_pay(bill: dict):
    """The bill found is paid (or cleared some other way): say so, and when."""
    whole_account = bill.get("whole_account", False)
    settled = bill_lookup.settled_bills(
        bill["account_id"], None if whole_account else bill["invoice_ids"], today()
    )
    return render(
        "portal/pay/nothing_to_pay.html",
        total=0,
        bills=settled,
        whole_account=whole_account,
        all_paid=bool(settled) and all(b.status == bill_lookup.PAID for b in settled),
    )


def _may_see(bill: dict, invoice_id: int) -> bool:
    """Whether the look-up that found `bill` proved this invoice: it was the one found,
    or the account's reference was."""
    return bill.get("whole_account", False) or invoice_id in bill.get("invoice_ids", [])


@bp.get("/pay/receipt/<number>")
@private
def pay_receipt(number: str):
    bill = session.get(SESSION_KEY) or {}
    if "account_id" not in bill:
        return redirect(url_for("portal.pay_find"))
    # Another account's invoice, or one this look-up did not prove, is not found.
    invoice_id = found(bill_lookup.invoice_id_of(bill["account_id"], number))
    if not _may_see(bill, invoice_id):
        raise NotFound()
    settled = bill_lookup.settled_bills(bill["account_id"], [invoice_id], today())
    if not settled or not settled[0].has_receipt:
        # Something is owed on it again (say, a payment was returned), or it was
        # never paid: the amount page says what to do.
        return redirect(url_for("portal.pay_amount"))
    return render("portal/pay/receipt.html", paid=settled[0])


def _begin_checkout(account_id: int, form: AmountForm):
    request_ = CheckoutRequest(
        account_id,
        form.allocations(),
        form.submission_key.data,
        receipt_email=form.receipt_email.data or None,
    )
    return card_payments.checkout_for_submission(
        request_, Actor(ActorType.SYSTEM, None, request.remote_addr)
    )


def _remember_checkout(reference: str) -> None:
    bill = dict(session.get(SESSION_KEY) or {})
    earlier = [r for r in bill.get("checkouts", []) if r != reference]
    bill["checkouts"] = [*earlier, reference][-_CHECKOUTS_REMEMBERED:]
    session[SESSION_KEY] = bill


@bp.get("/pay/return/<reference>")
@private
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
    return render(template, checkout=checkout)
