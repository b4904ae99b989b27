"""What every portal journey shares: private pages, rendering, starting a card checkout."""

from __future__ import annotations

import functools

from flask import current_app, redirect, render_template, url_for

from shared.integrations.payments import app_gateway
from shared.services import card_payments
from shared.services.card_payments import CheckoutUnavailable


def private(view):
    """No caching: account details and payment references are not for a shared
    computer's cache or the Back button after the person has gone."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        response = current_app.make_response(view(*args, **kwargs))
        response.headers["Cache-Control"] = "no-store"
        return response

    return wrapper


def render(template: str, status: int = 200, **context):
    context.setdefault("minimum", card_payments.MINIMUM_CARD_PAYMENT_PENCE)
    return render_template(template, **context), status


def go_to_checkout(checkout, *, return_to: tuple[str, dict], cancel_url: str, unavailable):
    """Send the payer to the provider's page for `checkout`, or straight to its return
    page (`return_to`: endpoint and arguments) if it is already paid or being
    confirmed; `unavailable()` makes the page shown when the provider is down."""
    endpoint, arguments = return_to
    if checkout.status in card_payments.UNDER_WAY:
        # The same form sent again after paying: show how that payment went.
        return redirect(url_for(endpoint, **arguments))
    try:
        checkout = card_payments.open_checkout(
            checkout.id,
            app_gateway(current_app),
            success_url=url_for(endpoint, **arguments, _external=True),
            cancel_url=cancel_url,
        )
    except CheckoutUnavailable:
        current_app.logger.warning("card checkout %s not opened", checkout.reference)
        return unavailable()
    return redirect(checkout.provider_session_url, 303)
