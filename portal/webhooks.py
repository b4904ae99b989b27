"""Provider callbacks. Not part of the portal's pages: no session, no CSRF token
(the provider's signature is the authentication), JSON in and out."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify, request
from twilio.request_validator import RequestValidator

from shared.domain.numbers import parse_whole_number
from shared.integrations.payments import InvalidWebhook, app_gateway
from shared.integrations.sms import TWILIO_STATUS_PATH, twilio_status_url
from shared.services import card_payments, message_status

bp = Blueprint("webhooks", __name__)
log = logging.getLogger(__name__)


@bp.post("/webhooks/stripe")
def stripe_webhook():
    payload = request.get_data(cache=False)
    try:
        event = app_gateway(current_app).parse_webhook(
            payload, request.headers.get("Stripe-Signature", "")
        )
    except InvalidWebhook as exc:
        # Forged, altered, replayed (older than 5 minutes) or dated more than 5 minutes
        # ahead: refuse, change nothing.
        log.warning("rejected Stripe webhook: %s", exc)
        return jsonify(error="invalid signature"), 400
    # A busy database is a 503 with Retry-After (shared/web.py) and any other failure
    # a 500: either way the provider retries the delivery later. A paid event that
    # does not match its checkout is acknowledged (200) but posts nothing.
    outcome = card_payments.apply_provider_event(event)
    return jsonify(received=True, outcome=outcome), 200


@bp.post(TWILIO_STATUS_PATH)
def twilio_status():
    form = request.form.to_dict()
    # Twilio signs the URL it was given, which behind a proxy is not request.url.
    valid = RequestValidator(str(current_app.config["TWILIO_AUTH_TOKEN"])).validate(
        twilio_status_url(current_app.config),
        form,
        request.headers.get("X-Twilio-Signature", ""),
    )
    if not valid:
        # Not a malformed request but an unauthenticated one: 403, as Twilio's own
        # examples answer, so a forger learns nothing from the difference.
        log.warning("rejected Twilio status callback for %s", form.get("MessageSid"))
        return jsonify(error="invalid signature"), 403
    code = form.get("ErrorCode")
    outcome = message_status.apply_sms_status(
        form.get("MessageSid", ""),
        form.get("MessageStatus", ""),
        parse_whole_number(code or ""),
    )
    return jsonify(received=True, outcome=outcome), 200
