"""What every portal journey shares: private pages, rendering, starting a card checkout,
and who is signed in (their id, their account, the actor they act as, today)."""

from __future__ import annotations

import functools
from datetime import date

from flask import current_app, redirect, render_template, request, url_for
from werkzeug.exceptions import NotFound

from shared import clock
from shared.integrations.payments import app_gateway
from shared.services import account_view, actors, bill_lookup, card_payments
from shared.services.actors import Actor
from shared.services.card_payments import CheckoutUnavailable


def viewer() -> int:
    """The signed-in login's id (behind login_required)."""
    # Imported here: portal.auth imports this module for `private`.
    from portal.auth import current_portal_user

    return current_portal_user().id


def today() -> date:
    """The business day (shared/clock.py), for due dates and what is overdue."""
    return clock.today()


def found(thing):
    """`thing`, or a 404: someone else's account or plan looks like one that does not exist."""
    if thing is None:
        raise NotFound()
    return thing


def linked_account(reference: str):
    """The account with this reference among the signed-in login's linked accounts, or a 404."""
    return found(account_view.find_account(viewer(), bill_lookup.normalise_reference(reference)))


def actor() -> Actor:
    """The signed-in login, as the services record who did something."""
    return actors.portal_user(viewer(), request.remote_addr)


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
