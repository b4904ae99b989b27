"""The card payment gateway: Stripe Checkout, behind one small client.

Locally and in tests the same code talks to the stand-in (devtools/stripe_standin.py,
localstripe plus Checkout Sessions) because STRIPE_API_BASE points at it; with
STRIPE_API_BASE empty and a real key it talks to api.stripe.com. Every provider
error becomes a PaymentGatewayError whose `transient` flag tells a job whether
trying again later can help. Amounts are integer pence throughout.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import stripe

# The app's webhook route (portal/webhooks.py); the stand-in's --app-webhook
# registers PUBLIC_BASE_URL + this path.
WEBHOOK_PATH = "/webhooks/stripe"
# Stripe's own default: a signed webhook older than five minutes is a replay.
WEBHOOK_TOLERANCE_SECONDS = 300
CURRENCY = "gbp"
# Connect + read timeout for one API call. The SDK's default (80 s) would hold a
# worker far longer than a payer will wait.
REQUEST_TIMEOUT_SECONDS = 20


class PaymentGatewayError(Exception):
    """The provider refused or could not be reached; `transient` says whether to retry."""

    def __init__(
        self,
        message: str,
        *,
        transient: bool,
        code: str | None = None,
        http_status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.transient = transient
        self.code = code
        self.http_status = http_status


class InvalidWebhook(Exception):
    """A webhook whose signature, timestamp or body cannot be trusted."""


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str | None
    status: str  # open, complete, expired
    payment_status: str  # unpaid, paid, no_payment_required
    payment_intent_id: str | None
    amount_total: int
    metadata: Mapping[str, str] = field(default_factory=dict)
    currency: str | None = None


@dataclass(frozen=True)
class PaymentIntent:
    id: str
    status: str  # requires_payment_method, processing, succeeded, canceled, ...
    amount: int
    currency: str
    metadata: Mapping[str, str] = field(default_factory=dict)
    # The decline reason of the last failed attempt, e.g. "card_declined".
    last_payment_error_code: str | None = None


def _translate(exc: stripe.StripeError) -> PaymentGatewayError:
    status = exc.http_status
    if isinstance(exc, stripe.APIConnectionError | stripe.RateLimitError):
        transient = True
    elif isinstance(exc, stripe.APIError):
        # 5xx, or 409 (a concurrent request with the same idempotency key).
        transient = status is None or status >= 500 or status == 409
    else:
        # Card declined, invalid request, idempotency misuse, bad key: the same
        # request would fail again.
        transient = False
    message = exc.user_message or str(exc) or type(exc).__name__
    return PaymentGatewayError(
        f"{type(exc).__name__}: {message}", transient=transient, code=exc.code, http_status=status
    )


def _str_dict(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in dict(value or {}).items()}


class PaymentGateway:
    """Stripe Checkout for one-off card payments, plus refunds and webhook checks."""

    def __init__(
        self,
        secret_key: str,
        *,
        api_base: str = "",
        webhook_secret: str = "",
        max_network_retries: int = 2,
        timeout: float = REQUEST_TIMEOUT_SECONDS,
    ) -> None:
        if not secret_key:
            raise ValueError("a Stripe secret key is required")
        self.api_base = api_base.rstrip("/")
        self.webhook_secret = webhook_secret
        options: dict[str, Any] = {}
        if self.api_base:
            options["base_addresses"] = {"api": self.api_base}
        self._client = stripe.StripeClient(
            secret_key,
            # The SDK retries connection errors, 409s and 5xx with backoff, reusing
            # the idempotency key, so a retried create cannot make two sessions.
            max_network_retries=max_network_retries,
            http_client=stripe.RequestsClient(timeout=timeout),
            **options,
        )

    @classmethod
    def from_config(cls, config: Mapping[str, Any], **kwargs: Any) -> PaymentGateway:
        """Build from app config (STRIPE_SECRET_KEY, STRIPE_API_BASE, STRIPE_WEBHOOK_SECRET)."""
        return cls(
            str(config["STRIPE_SECRET_KEY"]),
            api_base=str(config.get("STRIPE_API_BASE") or ""),
            webhook_secret=str(config.get("STRIPE_WEBHOOK_SECRET") or ""),
            **kwargs,
        )

    def _call(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except stripe.StripeError as exc:
            raise _translate(exc) from exc

    def create_checkout_session(
        self,
        *,
        reference: str,
        amount_pence: int,
        description: str,
        success_url: str,
        cancel_url: str,
        metadata: Mapping[str, str],
        customer_email: str | None,
        idempotency_key: str,
    ) -> CheckoutSession:
        """Open a hosted card payment page for `amount_pence`; the payer goes to `.url`."""
        if not isinstance(amount_pence, int) or isinstance(amount_pence, bool):
            raise TypeError("amount_pence must be an int (pence)")
        meta = {**_str_dict(metadata), "reference": reference}
        params: dict[str, Any] = {
            "mode": "payment",
            "currency": CURRENCY,
            "line_items": [
                {
                    "price_data": {
                        "currency": CURRENCY,
                        "unit_amount": amount_pence,
                        "product_data": {"name": description},
                    },
                    "quantity": 1,
                }
            ],
            "success_url": success_url,
            "cancel_url": cancel_url,
            "client_reference_id": reference,
            "metadata": meta,
            # Also on the PaymentIntent, so a refund or a payment_intent.* event
            # can be traced back without the session.
            "payment_intent_data": {"metadata": meta, "description": description},
        }
        if customer_email:
            params["customer_email"] = customer_email
        session = self._call(
            self._client.v1.checkout.sessions.create,
            params=params,
            options={"idempotency_key": idempotency_key},
        )
        return self._session(session)

    def retrieve_checkout_session(self, session_id: str) -> CheckoutSession:
        return self._session(self._call(self._client.v1.checkout.sessions.retrieve, session_id))

    def expire_checkout_session(self, session_id: str) -> CheckoutSession:
        """Close an open hosted page so it can no longer be paid."""
        return self._session(self._call(self._client.v1.checkout.sessions.expire, session_id))

    def retrieve_payment_intent(self, payment_intent_id: str) -> PaymentIntent:
        intent = self._call(self._client.v1.payment_intents.retrieve, payment_intent_id).to_dict()
        error = intent.get("last_payment_error") or {}
        return PaymentIntent(
            id=intent["id"],
            status=intent["status"],
            amount=int(intent["amount"]),
            currency=intent["currency"],
            metadata=_str_dict(intent.get("metadata")),
            last_payment_error_code=error.get("code") or error.get("decline_code"),
        )

    def refund(self, payment_intent_id: str, amount_pence: int, idempotency_key: str) -> str:
        """Refund `amount_pence` of a succeeded payment; returns the refund id."""
        if not isinstance(amount_pence, int) or isinstance(amount_pence, bool) or amount_pence <= 0:
            raise ValueError("amount_pence must be a positive int (pence)")
        refund = self._call(
            self._client.v1.refunds.create,
            params={"payment_intent": payment_intent_id, "amount": amount_pence},
            options={"idempotency_key": idempotency_key},
        )
        return str(refund["id"])

    def parse_webhook(self, payload: bytes, signature_header: str | None) -> dict[str, Any]:
        """Verify a Stripe-Signature header and return the event as a plain dict."""
        if not self.webhook_secret:
            raise InvalidWebhook("no STRIPE_WEBHOOK_SECRET configured")
        try:
            stripe.WebhookSignature.verify_header(
                payload,
                signature_header,
                self.webhook_secret,
                tolerance=WEBHOOK_TOLERANCE_SECONDS,
            )
        except stripe.SignatureVerificationError as exc:
            raise InvalidWebhook(str(exc)) from None
        # The SDK refuses only timestamps too old. One far in the future is as
        # untrustworthy (a signature made ahead of time to be replayed later, or a
        # sender whose clock is wrong), so the same tolerance applies both ways.
        latest = time.time() + WEBHOOK_TOLERANCE_SECONDS
        if _signed_at(signature_header or "") > latest:
            raise InvalidWebhook("signature timestamp is in the future beyond the tolerance")
        try:
            event = json.loads(payload)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidWebhook(f"body is not JSON: {exc}") from None
        if not isinstance(event, dict) or event.get("object") != "event" or "type" not in event:
            raise InvalidWebhook("body is not a Stripe event")
        created = event.get("created")
        if created is not None:
            if not isinstance(created, int) or isinstance(created, bool):
                raise InvalidWebhook("event created is not a timestamp")
            if created > latest:
                raise InvalidWebhook("event created is in the future beyond the tolerance")
        return event

    @staticmethod
    def _session(obj: Any) -> CheckoutSession:
        # StripeObject is not a dict in stripe-python 16: read a plain copy.
        session = obj.to_dict()
        intent = session.get("payment_intent")
        if isinstance(intent, Mapping):  # expanded
            intent = intent.get("id")
        return CheckoutSession(
            id=session["id"],
            url=session.get("url"),
            status=session["status"],
            payment_status=session["payment_status"],
            payment_intent_id=intent,
            amount_total=int(session["amount_total"]),
            metadata=_str_dict(session.get("metadata")),
            currency=session.get("currency"),
        )


def _signed_at(header: str) -> int:
    """The latest t= timestamp in a Stripe-Signature header (verified already, so
    the SDK could read one; any other reading is refused as a future one)."""
    stamps = []
    for part in header.split(","):
        key, _, value = part.partition("=")
        if key.strip() == "t":
            try:
                stamps.append(int(value))
            except ValueError:
                return 2**63
    return max(stamps, default=0)


def app_gateway(app) -> PaymentGateway:
    """The app's gateway: one installed in app.extensions["payment_gateway"] (the
    tests install one pointed at the local stand-in), else Stripe from config."""
    gateway = app.extensions.get("payment_gateway")
    return gateway if gateway is not None else PaymentGateway.from_config(app.config)
