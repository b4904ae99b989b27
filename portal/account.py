"""'Your account': a signed-in debtor's balance, invoices, payments, PDFs,
contact details and paying by card.

Every page looks the account up among the accounts linked to the login, so
someone else's reference or invoice number is a 404 exactly like one that
does not exist (never a 403, which would confirm it exists).
"""

from __future__ import annotations

from flask import (
    Response,
    flash,
    redirect,
    request,
    url_for,
)
from werkzeug.exceptions import NotFound

from portal import bp
from portal.account_forms import bill_items
from portal.auth import current_portal_user, login_required
from portal.common import (
    actor,
    found,
    go_to_checkout,
    linked_account,
    private,
    render,
    today,
    viewer,
)
from portal.forms import amount_form
from shared import pdf
from shared.forms.contact import ContactDetailsForm
from shared.models import CheckoutStatus
from shared.services import account_view, bill_lookup, card_payments
from shared.services.card_payments import CheckoutRequest
from shared.services.contact_details import update_contact_details
from shared.services.errors import InvalidRequest
from shared.services.unit_of_work import read_only


def _reference(text: str) -> str:
    return bill_lookup.normalise_reference(text)


@bp.get("/account")
@read_only
@login_required
@private
def account_home():
    accounts = account_view.linked_accounts(viewer())
    if len(accounts) == 1:
        return redirect(url_for("portal.account_detail", reference=accounts[0].reference))
    return render("portal/account/choose.html", accounts=accounts)


@bp.get("/account/<reference>")
@read_only
@login_required
@private
def account_detail(reference: str):
    page = found(account_view.account_page(viewer(), _reference(reference), today()))
    return render("portal/account/detail.html", page=page, account=page.account)


@bp.get("/account/<reference>/invoices/<number>")
@read_only
@login_required
@private
def invoice_detail(reference: str, number: str):
    page = found(
        account_view.invoice_page(viewer(), _reference(reference), _reference(number), today())
    )
    return render("portal/account/invoice.html", page=page, account=page.account)


def _pdf_response(body: bytes, filename: str) -> Response:
    return Response(
        body,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get("/account/<reference>/statement.pdf")
@read_only
@login_required
@private
def statement_pdf(reference: str):
    statement = found(account_view.statement(viewer(), _reference(reference)))
    body = pdf.statement_pdf(statement, today=today())
    return _pdf_response(body, f"statement-{statement.account.reference}.pdf")


@bp.get("/account/<reference>/invoices/<number>.pdf")
@read_only
@login_required
@private
def invoice_pdf(reference: str, number: str):
    page = found(
        account_view.invoice_page(viewer(), _reference(reference), _reference(number), today())
    )
    address = account_view.primary_address_lines(page.account.id)
    body = pdf.invoice_pdf(page, address)
    return _pdf_response(body, f"invoice-{page.invoice.number}.pdf")


@bp.route("/account/<reference>/contact", methods=["GET", "POST"])
@login_required
@private
def contact_details(reference: str):
    account = linked_account(reference)
    form = ContactDetailsForm()
    if request.method == "GET":
        form.fill_from(account)
    elif form.validate_on_submit():
        try:
            changed = update_contact_details(account.id, form.changes(), actor())
        except InvalidRequest as exc:
            form.preferred_channel.errors.append(str(exc))
        else:
            flash(
                "Your contact details have been updated"
                if changed
                else "Your contact details have not changed",
                "success",
            )
            return redirect(url_for("portal.account_detail", reference=account.reference))
    return render("portal/account/contact.html", form=form, account=account)


# --- paying when signed in -------------------------------------------------------------


@bp.route("/account/<reference>/pay", methods=["GET", "POST"])
@login_required
@private
def account_pay(reference: str):
    account = linked_account(reference)
    items = bill_items(account_view.open_invoices(account.id, today()))
    total = sum(item.outstanding_pence for item in items)
    if total < card_payments.MINIMUM_CARD_PAYMENT_PENCE:
        return render("portal/account/nothing_to_pay.html", account=account, total=total)
    form = amount_form(items)
    if form.submission_key.data is None:
        form.submission_key.data = card_payments.new_submission_key()
    if form.validate_on_submit():
        try:
            checkout = _begin_checkout(account.id, form)
        except InvalidRequest as exc:
            # Something changed since the page was shown (say, a payment arrived).
            form.first_amount_field().errors.append(str(exc))
        else:
            return go_to_checkout(
                checkout,
                return_to=(
                    "portal.account_pay_return",
                    {"reference": account.reference, "checkout": checkout.reference},
                ),
                cancel_url=url_for(
                    "portal.account_pay", reference=account.reference, _external=True
                ),
                unavailable=lambda: render(
                    "portal/account/pay_unavailable.html", 503, account=account
                ),
            )
    return render(
        "portal/account/pay.html",
        form=form,
        items=items,
        account=account,
        receipt_email=current_portal_user().email,
    )


def _begin_checkout(account_id: int, form):
    user = current_portal_user()
    request_ = CheckoutRequest(
        account_id,
        form.allocations(),
        form.submission_key.data,
        portal_user_id=user.id,
        receipt_email=user.email,
    )
    return card_payments.checkout_for_submission(request_, actor())


@bp.get("/account/<reference>/pay/return/<checkout>")
@login_required
@private
def account_pay_return(reference: str, checkout: str):
    account = linked_account(reference)
    found = bill_lookup.checkout_by_reference(checkout)
    # Only a payment to this (linked) account: anyone else's reference is not found.
    if found is None or found.account_id != account.id:
        raise NotFound()
    return render(
        "portal/account/pay_return.html",
        checkout=found,
        account=account,
        paid=found.status == CheckoutStatus.PAID,
        not_taken=found.status
        in {CheckoutStatus.FAILED, CheckoutStatus.EXPIRED, CheckoutStatus.ERROR},
    )
