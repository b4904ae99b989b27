"""Provider callbacks. Not part of the portal's pages: no session, no CSRF token
(the provider's signature is the authentication), JSON in and out."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify, request
from twilio.request_validator import RequestValidator

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
        # Forged, altered or replayed (older than 5 minutes): refuse, change nothing.
        log.warning("rejected Stripe webhook: %s", exc)
        return jsonify(error="invalid signature"), 400
    # Any failure below is a 500, so the provider retries the delivery later.
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
        log.warning("rejected Twilio status callback for %s", form.get("MessageSid"))
        return jsonify(error="invalid signature"), 400
    code = form.get("ErrorCode")
    outcome = message_status.apply_sms_status(
        form.get("MessageSid", ""),
        form.get("MessageStatus", ""),
        int(code) if code and code.isdigit() else None,
    )
    return jsonify(received=True, outcome=outcome), 200
