"""Local Stripe stand-in: localstripe plus Checkout Sessions and a hosted test pay page.

    python -m devtools.stripe_standin --port 8420                # what `make run` starts
    python -m devtools.stripe_standin --port 0 --state-file X    # tests: one per worker

localstripe (PyPI) implements Customers, PaymentIntents, Refunds and signed webhooks
but not Stripe Checkout, which is how the portal takes card payments. This module
runs localstripe's own aiohttp routes in a new application and adds:

- POST /v1/checkout/sessions, GET /v1/checkout/sessions/{id},
  POST /v1/checkout/sessions/{id}/expire   (Stripe-shaped, Bearer secret key)
- GET /checkout/{id}: the hosted test pay page (Pay, Pay (delayed), Decline, Cancel)
- POST /_config/checkout/sessions/{id}/resend: deliver the session's events again
- GET /_config/deliveries: the last webhook delivery attempts (for debugging)
- Idempotency-Key handling for every POST /v1/... (localstripe ignores the header)

Each Checkout Session owns a real localstripe PaymentIntent, so the normal
/v1/payment_intents and /v1/refunds routes see the payment. Webhook endpoints are
registered the localstripe way (POST /_config/webhooks/<name> with url and secret)
and every event, localstripe's own included, is delivered by this module: signed
like Stripe, sent before the pay page redirects (so a test sees it at once), and
retried in the background when the endpoint fails. See docs/stripe-standin.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import os
import sys
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from jinja2 import Environment, FileSystemLoader, select_autoescape
from localstripe import resources as ls_resources
from localstripe import server as ls_server
from localstripe import webhooks as ls_webhooks
from localstripe.errors import UserError
from localstripe.resources import Charge, Event, PaymentIntent, PaymentMethod, StripeObject, store

from shared.config import SETTINGS

# Where the portal receives Stripe webhooks; --app-webhook registers it at start-up.
from shared.integrations.payments import WEBHOOK_PATH as APP_WEBHOOK_PATH

logger = logging.getLogger("stripe_standin")

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates" / "devtools"
# localstripe hard-codes this path; --state-file moves it so tests can run one
# stand-in per xdist worker without sharing (and clobbering) one pickle.
DEFAULT_STATE_FILE = "/tmp/localstripe.pickle"
DEFAULT_PORT = 8420

# Stripe's hosted page test cards, as localstripe's canonical test payment methods.
CARD_SUCCEEDS = "pm_card_visa"
CARD_DECLINED = "pm_card_chargeCustomerFail"

# Stripe rejects a session whose total is below the smallest chargeable amount.
MINIMUM_AMOUNT = {"gbp": 30, "eur": 50, "usd": 50}
CURRENCIES = frozenset(
    {"gbp", "eur", "usd", "aud", "cad", "chf", "czk", "dkk", "hkd", "huf", "jpy", "nok", "nzd"}
)
CURRENCY_SYMBOLS = {"gbp": "£", "eur": "€", "usd": "$"}
SESSION_PARAMS = frozenset(
    {
        "mode",
        "currency",
        "line_items",
        "success_url",
        "cancel_url",
        "client_reference_id",
        "metadata",
        "payment_intent_data",
        "customer_email",
        "expires_at",
        "payment_method_types",
        "locale",
        "submit_type",
    }
)
# Stripe: a session lasts 24 hours by default and may be set to 30 minutes to 24 hours.
SESSION_MIN_LIFETIME = 30 * 60
SESSION_MAX_LIFETIME = 24 * 60 * 60


# --- state file ---------------------------------------------------------------------------------


def use_state_file(path: str) -> None:
    """Point localstripe's Store at `path` instead of its fixed /tmp/localstripe.pickle."""
    import pickle

    def try_load_from_disk(self) -> None:
        try:
            with open(path, "rb") as f:
                old = pickle.load(f)
        except (FileNotFoundError, EOFError):
            return
        except (pickle.UnpicklingError, AttributeError, ImportError) as exc:
            # A state file from an older version of this module: start empty, say so.
            logger.warning("ignoring unreadable state file %s (%s)", path, exc)
            return
        self.clear()
        self.update(old)

    def dump_to_disk(self) -> None:
        # Write then rename: a stand-in killed mid-write must not leave half a pickle.
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "wb") as f:
            pickle.dump(dict(self), f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)

    ls_resources.Store.try_load_from_disk = try_load_from_disk
    ls_resources.Store.dump_to_disk = dump_to_disk


# --- errors -------------------------------------------------------------------------------------


def invalid(message: str, param: str | None = None, code: str = "parameter_invalid") -> UserError:
    """A Stripe-shaped 400 that the SDK raises as stripe.InvalidRequestError."""
    contents: dict[str, Any] = {"code": code}
    if param:
        contents["param"] = param
    return UserError(400, message, contents)


def _int_param(value: Any, param: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return int(value)
    raise invalid(f"Invalid integer: {value}", param, "parameter_invalid_integer")


def _str_param(value: Any, param: str, *, max_length: int = 5000) -> str:
    if not isinstance(value, str) or not value:
        raise invalid(f"Invalid string: {value!r}", param, "parameter_invalid_string")
    if len(value) > max_length:
        raise invalid(f"{param} must be at most {max_length} characters", param)
    return value


def _url_param(value: Any, param: str) -> str:
    url = _str_param(value, param, max_length=5000)
    if not url.startswith(("http://", "https://")):
        raise invalid("Not a valid URL", param, "url_invalid")
    return url


def _metadata_param(value: Any, param: str) -> dict[str, str]:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise invalid("Invalid object", param, "parameter_invalid_object")
    if len(value) > 50:
        raise invalid("Metadata can have at most 50 keys", param)
    for key, item in value.items():
        if not isinstance(item, str) or len(key) > 40 or len(item) > 500:
            raise invalid(
                "Metadata keys are at most 40 characters and values strings of at most 500",
                f"{param}[{key}]",
            )
    return dict(value)


def _money(amount: int, currency: str) -> str:
    symbol = CURRENCY_SYMBOLS.get(currency)
    whole = f"{amount // 100:,}.{amount % 100:02d}"
    return f"{symbol}{whole}" if symbol else f"{whole} {currency.upper()}"


# --- the Checkout Session model -----------------------------------------------------------------


class CheckoutSession(StripeObject):
    """A Stripe Checkout Session (mode=payment only), kept in localstripe's store.

    Public attributes are exported as the API object; `_`-prefixed ones are ours.
    """

    object = "checkout.session"
    _id_prefix = "cs_test_"

    def __init__(self, public_url: str = "", **params: Any) -> None:
        unknown = sorted(set(params) - SESSION_PARAMS)
        if unknown:
            raise invalid(f"Received unknown parameter: {unknown[0]}", unknown[0])

        mode = params.get("mode")
        if mode is None:
            raise invalid("Missing required param: mode.", "mode", "parameter_missing")
        if mode != "payment":
            raise invalid(f"The stand-in supports mode=payment only, not {mode!r}", "mode")

        methods = params.get("payment_method_types")
        if methods is not None and methods != ["card"]:
            raise invalid(
                "The stand-in supports payment_method_types=[card] only", "payment_method_types"
            )

        top_currency = params.get("currency")
        if top_currency is not None:
            top_currency = self._currency(top_currency, "currency")

        items = params.get("line_items")
        if not isinstance(items, list) or not items:
            raise invalid("Missing required param: line_items.", "line_items", "parameter_missing")
        line_items, total, currency = self._line_items(items, top_currency)

        minimum = MINIMUM_AMOUNT.get(currency, 1)
        if total < minimum:
            raise invalid(
                "The Checkout Session's total amount due must add up to at least "
                f"{_money(minimum, currency)} {currency}",
                "line_items",
                "amount_too_small",
            )
        if total > 99_999_999:
            raise invalid(
                "Amount must be no more than 999,999.99", "line_items", "amount_too_large"
            )

        success_url = params.get("success_url")
        if success_url is None:
            raise invalid(
                "Missing required param: success_url.", "success_url", "parameter_missing"
            )
        success_url = _url_param(success_url, "success_url")
        cancel_url = params.get("cancel_url")
        if cancel_url is not None:
            cancel_url = _url_param(cancel_url, "cancel_url")

        client_reference_id = params.get("client_reference_id")
        if client_reference_id is not None:
            client_reference_id = _str_param(
                client_reference_id, "client_reference_id", max_length=200
            )
        customer_email = params.get("customer_email")
        if customer_email is not None:
            customer_email = _str_param(customer_email, "customer_email", max_length=800)
            if "@" not in customer_email:
                raise invalid("Invalid email address", "customer_email", "email_invalid")
        metadata = _metadata_param(params.get("metadata"), "metadata")

        pi_data = params.get("payment_intent_data") or {}
        if not isinstance(pi_data, dict):
            raise invalid("Invalid object", "payment_intent_data", "parameter_invalid_object")
        extra = sorted(set(pi_data) - {"metadata", "description"})
        if extra:
            raise invalid(
                f"Received unknown parameter: payment_intent_data[{extra[0]}]",
                f"payment_intent_data[{extra[0]}]",
            )
        pi_metadata = _metadata_param(pi_data.get("metadata"), "payment_intent_data[metadata]")
        pi_description = pi_data.get("description")
        if pi_description is not None:
            pi_description = _str_param(
                pi_description, "payment_intent_data[description]", max_length=1000
            )

        now = int(time.time())
        expires_at = params.get("expires_at")
        if expires_at is None:
            expires_at = now + SESSION_MAX_LIFETIME
        else:
            expires_at = _int_param(expires_at, "expires_at")
            if not now + SESSION_MIN_LIFETIME - 5 <= expires_at <= now + SESSION_MAX_LIFETIME + 5:
                raise invalid(
                    "The `expires_at` timestamp must be between 30 minutes and 24 hours "
                    "from Checkout Session creation.",
                    "expires_at",
                )

        # All validation is done: from here on, objects are stored.
        intent = PaymentIntent(
            amount=total,
            currency=currency,
            metadata=pi_metadata,
            payment_method_types=["card"],
        )
        intent.description = pi_description
        super().__init__()

        self.mode = "payment"
        self.currency = currency
        self.amount_subtotal = total
        self.amount_total = total
        self.status = "open"
        self.payment_status = "unpaid"
        self.payment_intent = intent.id
        self.payment_method_types = ["card"]
        self.metadata = metadata
        self.client_reference_id = client_reference_id
        self.customer = None
        self.customer_email = customer_email
        self.customer_details = {"email": customer_email} if customer_email else None
        self.success_url = success_url
        self.cancel_url = cancel_url
        self.expires_at = expires_at
        self.locale = params.get("locale")
        self.submit_type = params.get("submit_type")
        self.ui_mode = "hosted"
        self.url = f"{public_url}/checkout/{self.id}"
        self._line_items = line_items
        # Ids of the events sent about this session (and its PaymentIntent), for resend.
        self._event_ids: list[str] = []

    @staticmethod
    def _currency(value: Any, param: str) -> str:
        if not isinstance(value, str) or value.lower() not in CURRENCIES:
            raise invalid(f"Invalid currency: {value}", param, "invalid_currency")
        return value.lower()

    @classmethod
    def _line_items(
        cls, items: list, currency: str | None
    ) -> tuple[list[dict[str, Any]], int, str]:
        result = []
        total = 0
        for index, item in enumerate(items):
            where = f"line_items[{index}]"
            if not isinstance(item, dict):
                raise invalid("Invalid object", where, "parameter_invalid_object")
            if "price" in item:
                raise invalid(
                    "The stand-in supports price_data only, not Price ids", f"{where}[price]"
                )
            unknown = sorted(set(item) - {"price_data", "quantity"})
            if unknown:
                raise invalid(
                    f"Received unknown parameter: {where}[{unknown[0]}]", f"{where}[{unknown[0]}]"
                )
            price = item.get("price_data")
            if not isinstance(price, dict):
                raise invalid(
                    f"Missing required param: {where}[price_data].",
                    f"{where}[price_data]",
                    "parameter_missing",
                )
            item_currency = cls._currency(price.get("currency"), f"{where}[price_data][currency]")
            if currency is not None and item_currency != currency:
                raise invalid(
                    "All line items must use the same currency",
                    f"{where}[price_data][currency]",
                )
            currency = item_currency
            unit_amount = _int_param(price.get("unit_amount"), f"{where}[price_data][unit_amount]")
            if unit_amount <= 0:
                raise invalid(
                    "This value must be greater than or equal to 1.",
                    f"{where}[price_data][unit_amount]",
                    "parameter_invalid_integer",
                )
            product = price.get("product_data")
            if not isinstance(product, dict) or not product.get("name"):
                raise invalid(
                    f"Missing required param: {where}[price_data][product_data][name].",
                    f"{where}[price_data][product_data][name]",
                    "parameter_missing",
                )
            quantity = _int_param(item.get("quantity"), f"{where}[quantity]")
            if quantity < 1:
                raise invalid(
                    "This value must be greater than or equal to 1.",
                    f"{where}[quantity]",
                    "parameter_invalid_integer",
                )
            result.append(
                {
                    "description": str(product["name"]),
                    "unit_amount": unit_amount,
                    "quantity": quantity,
                    "amount_total": unit_amount * quantity,
                }
            )
            total += unit_amount * quantity
        assert currency is not None
        return result, total, currency

    @classmethod
    def _api_retrieve(cls, id: str) -> CheckoutSession:
        obj = store.get(cls.object + ":" + id)
        if obj is None:
            raise UserError(
                404,
                f"No such checkout.session: '{id}'",
                {"code": "resource_missing", "param": "id"},
            )
        return obj

    @classmethod
    def _api_update(cls, id, **data):
        raise UserError(405, "Method Not Allowed")

    @classmethod
    def _api_delete(cls, id):
        raise UserError(405, "Method Not Allowed")


# --- webhook delivery ---------------------------------------------------------------------------


class WebhookDispatcher:
    """Signs and posts events to the endpoints registered with POST /_config/webhooks/<name>.

    localstripe's own sender fires once, a second later, with no retry; this one
    delivers at once when asked to (deliver_now), and retries a failed endpoint in
    the background with growing delays, re-signing each attempt as Stripe does.
    """

    def __init__(self, *, timeout: float, retry_delays: tuple[float, ...]) -> None:
        self.timeout = timeout
        self.retry_delays = retry_delays
        self.attempts: deque[dict[str, Any]] = deque(maxlen=500)
        self._client: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task] = set()

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._client is not None:
            await self._client.close()

    def _spawn(self, coro) -> None:
        # Keep a reference: the event loop holds only weak ones to tasks.
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    def _endpoints(event_type: str) -> list[tuple[str, Any]]:
        return [
            (name, hook)
            for name, hook in ls_webhooks._webhooks.items()
            if hook.events is None or event_type in hook.events
        ]

    @staticmethod
    def payload(event: Event) -> bytes:
        return json.dumps(event._export(), indent=2, sort_keys=True).encode("utf-8")

    async def _post(self, name: str, hook: Any, event: Event, payload: bytes, attempt: int) -> bool:
        if self._client is None:
            self._client = aiohttp.ClientSession()
        timestamp = int(time.time())
        signature = hmac.new(
            hook.secret.encode("utf-8"), b"%d.%s" % (timestamp, payload), hashlib.sha256
        ).hexdigest()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": f"t={timestamp},v1={signature}",
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks) stand-in",
        }
        try:
            async with self._client.post(
                hook.url,
                data=payload,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
            ) as response:
                await response.read()
                ok = 200 <= response.status < 300
                outcome = f"HTTP {response.status}"
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            ok, outcome = False, f"{type(exc).__name__}: {exc}"
        self.attempts.append(
            {
                "event": event.id,
                "type": event.type,
                "endpoint": name,
                "url": hook.url,
                "attempt": attempt,
                "ok": ok,
                "outcome": outcome,
                "at": timestamp,
            }
        )
        log = logger.info if ok else logger.warning
        log("webhook %s %s -> %s (%s): %s", event.type, event.id, name, hook.url, outcome)
        return ok

    async def deliver_now(self, events: list[Event]) -> list[dict[str, Any]]:
        """Post each event to each endpoint in turn; failures are retried in the background."""
        results = []
        for event in events:
            payload = self.payload(event)
            for name, hook in self._endpoints(event.type):
                ok = await self._post(name, hook, event, payload, attempt=1)
                results.append({"event": event.id, "type": event.type, "endpoint": name, "ok": ok})
                if not ok:
                    self._spawn(self._retry(name, hook, event, payload))
        return results

    def schedule(self, event: Event, delay: float) -> None:
        self._spawn(self._later([event], delay))

    async def _later(self, events: list[Event], delay: float) -> None:
        await asyncio.sleep(delay)
        await self.deliver_now(events)

    async def _retry(self, name: str, hook: Any, event: Event, payload: bytes) -> None:
        for attempt, delay in enumerate(self.retry_delays, start=2):
            await asyncio.sleep(delay)
            if ls_webhooks._webhooks.get(name) is not hook:
                return  # endpoint re-registered or removed meanwhile
            if await self._post(name, hook, event, payload, attempt):
                return
        logger.error(
            "webhook %s %s -> %s: gave up after %d attempts",
            event.type,
            event.id,
            name,
            len(self.retry_delays) + 1,
        )


# localstripe's resources call schedule_webhook(event) when something happens (e.g. a
# PaymentIntent succeeds). While a pay-page handler runs, those events are collected so
# they can be sent in order after checkout.session.completed and before the redirect;
# otherwise they go out a second later like localstripe's own sender (so the API
# response reaches the caller first).
_collector: list[Event] | None = None
_dispatcher: WebhookDispatcher | None = None


def _schedule_webhook(event: Event) -> None:
    if _collector is not None:
        _collector.append(event)
    elif _dispatcher is not None:
        _dispatcher.schedule(event, delay=1.0)


@contextlib.contextmanager
def collecting_events() -> Iterator[list[Event]]:
    global _collector
    events: list[Event] = []
    previous, _collector = _collector, events
    try:
        yield events
    finally:
        _collector = previous


ls_resources.schedule_webhook = _schedule_webhook


def _event(event_type: str, session: CheckoutSession) -> Event:
    event = Event(event_type, session)
    # Stripe's current API version shape; localstripe stamps a 2017 one.
    event.api_version = "2024-06-20"
    session._event_ids.append(event.id)
    return event


def _attach(events: list[Event], session: CheckoutSession) -> list[Event]:
    session._event_ids.extend(e.id for e in events)
    return events


# --- payments on the hosted page ----------------------------------------------------------------


def _start_attempt(intent: PaymentIntent, card: str) -> None:
    """Give the PaymentIntent a fresh test card; a declined attempt left a failed charge."""
    method = PaymentMethod._api_retrieve(card)
    intent.payment_method = method.id
    intent.latest_charge = None
    intent.next_action = None
    intent._authentication_failed = False


def _charge(intent: PaymentIntent, card: str) -> None:
    _start_attempt(intent, card)
    # localstripe raises the card error (402) after recording it on the
    # PaymentIntent and reporting payment_intent.payment_failed: that is the
    # outcome we want, not an error of the page.
    with contextlib.suppress(UserError):
        intent._confirm(on_failure_now=intent._report_failure)


def _success_url(session: CheckoutSession) -> str:
    return session.success_url.replace("{CHECKOUT_SESSION_ID}", session.id)


def _expire(session: CheckoutSession) -> Event:
    session.status = "expired"
    intent = PaymentIntent._api_retrieve(session.payment_intent)
    if intent.status != "succeeded":
        intent._canceled = True
    return _event("checkout.session.expired", session)


def _expire_if_due(session: CheckoutSession) -> None:
    if session.status == "open" and time.time() >= session.expires_at:
        assert _dispatcher is not None
        _dispatcher.schedule(_expire(session), delay=0)
        store.dump_to_disk()


# --- HTTP handlers ------------------------------------------------------------------------------


def json_response(obj: Any, status: int = 200) -> web.Response:
    return ls_server.json_response(obj, status=status)


async def create_session(request: web.Request) -> web.Response:
    data = await ls_server.get_post_data(request) or {}
    data = dict(data)
    expand = data.pop("expand", None)
    session = CheckoutSession(public_url=request.app["public_url"], **data)
    return json_response(session._export(expand=expand))


async def retrieve_session(request: web.Request) -> web.Response:
    session = CheckoutSession._api_retrieve(request.match_info["id"])
    _expire_if_due(session)
    expand = ls_server.unflatten_data(request.query).get("expand")
    return json_response(session._export(expand=expand))


async def expire_session(request: web.Request) -> web.Response:
    session = CheckoutSession._api_retrieve(request.match_info["id"])
    _expire_if_due(session)
    if session.status != "open":
        raise invalid(
            'Only Checkout Sessions with a status in ["open"] can be expired.',
            code="checkout_session_not_open",
        )
    request.app["dispatcher"].schedule(_expire(session), delay=0)
    return json_response(session._export())


async def list_line_items(request: web.Request) -> web.Response:
    session = CheckoutSession._api_retrieve(request.match_info["id"])
    data = [
        {"object": "item", "id": f"li_{session.id[8:]}_{i}", "currency": session.currency, **item}
        for i, item in enumerate(session._line_items)
    ]
    return json_response(
        {
            "object": "list",
            "data": data,
            "has_more": False,
            "url": f"/v1/checkout/sessions/{session.id}/line_items",
        }
    )


def _page(request: web.Request, state: str, session: CheckoutSession | None, status: int = 200):
    template = request.app["templates"].get_template("stripe_checkout.html")
    context: dict[str, Any] = {"state": state, "session": session}
    if session is not None:
        context["amount"] = _money(session.amount_total, session.currency)
        context["items"] = [
            {**item, "amount": _money(item["amount_total"], session.currency)}
            for item in session._line_items
        ]
        intent = PaymentIntent._api_retrieve(session.payment_intent)
        context["error"] = (intent.last_payment_error or {}).get("message")
        context["success_url"] = _success_url(session)
    return web.Response(text=template.render(**context), status=status, content_type="text/html")


def _hosted_session(request: web.Request) -> CheckoutSession:
    try:
        session = CheckoutSession._api_retrieve(request.match_info["id"])
    except UserError:
        raise web.HTTPNotFound(text="No such checkout page.") from None
    _expire_if_due(session)
    return session


async def hosted_page(request: web.Request) -> web.Response:
    session = _hosted_session(request)
    if session.status == "expired":
        return _page(request, "expired", session, status=410)
    if session.status == "complete":
        return _page(request, "complete", session)
    return _page(request, "open", session)


def _open_or_page(request: web.Request) -> CheckoutSession | web.Response:
    session = _hosted_session(request)
    if session.status == "expired":
        return _page(request, "expired", session, status=410)
    if session.status == "complete":
        return _page(request, "complete", session, status=409)
    return session


async def hosted_pay(request: web.Request) -> web.Response:
    session = _open_or_page(request)
    if isinstance(session, web.Response):
        return session
    intent = PaymentIntent._api_retrieve(session.payment_intent)
    with collecting_events() as intent_events:
        _charge(intent, CARD_SUCCEEDS)
    session.status = "complete"
    session.payment_status = "paid"
    events = [_event("checkout.session.completed", session), *_attach(intent_events, session)]
    await request.app["dispatcher"].deliver_now(events)
    raise web.HTTPSeeOther(_success_url(session))


async def hosted_decline(request: web.Request) -> web.Response:
    session = _open_or_page(request)
    if isinstance(session, web.Response):
        return session
    intent = PaymentIntent._api_retrieve(session.payment_intent)
    with collecting_events() as intent_events:
        _charge(intent, CARD_DECLINED)
    await request.app["dispatcher"].deliver_now(_attach(intent_events, session))
    return _page(request, "declined", session, status=402)


async def hosted_cancel(request: web.Request) -> web.Response:
    session = _hosted_session(request)
    # Stripe leaves the session open when the payer goes back; it expires later.
    if session.cancel_url:
        raise web.HTTPSeeOther(session.cancel_url)
    raise web.HTTPSeeOther(f"/checkout/{session.id}")


async def hosted_pay_delayed(request: web.Request) -> web.Response:
    """Completed now, paid later: the async-payment flow (e.g. a bank debit clearing)."""
    session = _open_or_page(request)
    if isinstance(session, web.Response):
        return session
    succeed = request.match_info["outcome"] == "succeeds"
    intent = PaymentIntent._api_retrieve(session.payment_intent)
    _start_attempt(intent, CARD_SUCCEEDS)
    # A charge that is still pending makes localstripe report the intent as processing.
    charge = Charge(amount=intent.amount, currency=intent.currency, source=intent.payment_method)
    charge.payment_intent = intent.id
    intent.latest_charge = charge
    session.status = "complete"
    session.payment_status = "unpaid"
    dispatcher: WebhookDispatcher = request.app["dispatcher"]
    await dispatcher.deliver_now([_event("checkout.session.completed", session)])

    async def settle() -> None:
        await asyncio.sleep(request.app["async_delay"])
        with collecting_events() as intent_events:
            if succeed:
                charge._initialize_charge(on_success=intent._on_success)
                session.payment_status = "paid"
                kind = "checkout.session.async_payment_succeeded"
            else:
                charge._set_auth_failure()
                intent._report_async_failure()
                kind = "checkout.session.async_payment_failed"
        events = [_event(kind, session), *_attach(intent_events, session)]
        store.dump_to_disk()
        await dispatcher.deliver_now(events)

    dispatcher._spawn(settle())
    raise web.HTTPSeeOther(_success_url(session))


async def resend_events(request: web.Request) -> web.Response:
    """Deliver a session's events again (`times` times): Stripe does deliver more than once."""
    session = CheckoutSession._api_retrieve(request.match_info["id"])
    data = dict(await ls_server.get_post_data(request) or {})
    data.update(request.query)
    times = _int_param(data.get("times", "1"), "times")
    only = data.get("type")
    events = [Event._api_retrieve(i) for i in session._event_ids]
    if only:
        events = [e for e in events if e.type == only]
    results = []
    for _ in range(max(times, 0)):
        results += await request.app["dispatcher"].deliver_now(events)
    return json_response({"delivered": results})


async def list_deliveries(request: web.Request) -> web.Response:
    return json_response({"attempts": list(request.app["dispatcher"].attempts)})


# --- middlewares --------------------------------------------------------------------------------


@web.middleware
async def auth_middleware(request: web.Request, handler):
    # The hosted page is opened by a browser with no API key, like Stripe's own:
    # the unguessable session id in its address is what protects it.
    if request.path.startswith("/checkout/") or request.path == "/favicon.ico":
        return await handler(request)
    return await ls_server.auth_middleware(request, handler)


async def no_favicon(_request: web.Request) -> web.Response:
    # Browsers ask for one on the hosted page; answer, so they log no error.
    return web.Response(status=204)


@web.middleware
async def idempotency_middleware(request: web.Request, handler):
    """Honour Idempotency-Key on POST /v1/... as Stripe does (localstripe ignores it).

    The same key with the same body replays the first successful response; the same
    key with a different body is an idempotency_error. Only successes are kept, so a
    failed request can be retried with its key.
    """
    key = request.headers.get("Idempotency-Key")
    if request.method != "POST" or not key or not request.path.startswith("/v1/"):
        return await handler(request)
    body = await request.read()
    fingerprint = hashlib.sha256(request.path.encode() + b"\n" + body).hexdigest()
    # Not "object:id"-shaped like localstripe's keys, so no list endpoint returns it.
    store_key = f"idempotency-key/{key}"
    saved = store.get(store_key)
    if saved is not None:
        if saved["fingerprint"] != fingerprint:
            return json_response(
                {
                    "error": {
                        "type": "idempotency_error",
                        "message": "Keys for idempotent requests can only be used with the "
                        "same parameters they were first used with.",
                    }
                },
                status=400,
            )
        return web.Response(
            body=saved["body"],
            status=saved["status"],
            content_type="application/json",
            headers={"Idempotent-Replayed": "true", "Idempotency-Key": key},
        )
    response = await handler(request)
    if isinstance(response, web.Response) and 200 <= response.status < 300 and response.body:
        store[store_key] = {
            "fingerprint": fingerprint,
            "status": response.status,
            "body": bytes(response.body),
        }
    return response


@web.middleware
async def crash_middleware(request: web.Request, handler):
    # A bug here should look like a Stripe 500 to the SDK (an APIError), not an HTML page.
    try:
        return await handler(request)
    except (web.HTTPException, UserError):
        raise
    except Exception:
        logger.exception("stand-in error on %s %s", request.method, request.path)
        return json_response(
            {"error": {"type": "api_error", "message": "Stand-in internal error"}}, status=500
        )


# --- the application ----------------------------------------------------------------------------


def build_app(
    *,
    public_url: str,
    async_delay: float = 3.0,
    webhook_timeout: float = 5.0,
    retry_delays: tuple[float, ...] = (1, 5, 30, 120, 600),
) -> web.Application:
    """localstripe's routes and middlewares plus the Checkout Session routes."""
    global _dispatcher
    dispatcher = WebhookDispatcher(timeout=webhook_timeout, retry_delays=retry_delays)
    _dispatcher = dispatcher
    app = web.Application(
        middlewares=[
            ls_server.error_middleware,
            crash_middleware,
            auth_middleware,
            idempotency_middleware,
            ls_server.save_store_middleware,
        ]
    )
    app["public_url"] = public_url.rstrip("/")
    app["async_delay"] = async_delay
    app["dispatcher"] = dispatcher
    app["templates"] = Environment(
        loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"])
    )
    app.on_response_prepare.append(ls_server.add_cors_headers)

    async def close_dispatcher(_app: web.Application) -> None:
        await dispatcher.close()

    app.on_cleanup.append(close_dispatcher)

    router = app.router
    router.add_post("/v1/checkout/sessions", create_session)
    router.add_get("/v1/checkout/sessions/{id}", retrieve_session)
    router.add_post("/v1/checkout/sessions/{id}/expire", expire_session)
    router.add_get("/v1/checkout/sessions/{id}/line_items", list_line_items)
    router.add_get("/checkout/{id}", hosted_page)
    router.add_get("/favicon.ico", no_favicon)
    router.add_post("/checkout/{id}/pay", hosted_pay)
    router.add_post("/checkout/{id}/pay-delayed/{outcome:succeeds|fails}", hosted_pay_delayed)
    router.add_post("/checkout/{id}/decline", hosted_decline)
    router.add_post("/checkout/{id}/cancel", hosted_cancel)
    router.add_post("/_config/checkout/sessions/{id}/resend", resend_events)
    router.add_get("/_config/deliveries", list_deliveries)
    for route in ls_server.app.router.routes():
        router.add_route(route.method, route.resource.canonical, route.handler)
    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.stripe_standin", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument(
        "--public-url", help="address the hosted pay page is reached at (default: host and port)"
    )
    parser.add_argument("--state-file", default=DEFAULT_STATE_FILE)
    parser.add_argument("--from-scratch", action="store_true", help="ignore the saved state")
    parser.add_argument(
        "--async-delay", type=float, default=3.0, help="seconds before a delayed payment settles"
    )
    parser.add_argument(
        "--webhook-timeout", type=float, default=5.0, help="seconds to wait for one delivery"
    )
    parser.add_argument(
        "--webhook-retry-delays",
        default="1,5,30,120,600",
        help="comma-separated seconds between retries of a failed delivery",
    )
    parser.add_argument(
        "--app-webhook",
        action="store_true",
        help=f"register PUBLIC_BASE_URL{APP_WEBHOOK_PATH} signed with STRIPE_WEBHOOK_SECRET",
    )
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="stripe-standin %(levelname)s %(message)s")
    use_state_file(args.state_file)
    if not args.from_scratch:
        store.try_load_from_disk()

    if args.app_webhook:
        defaults = {s.name: s.default for s in SETTINGS}
        base = (os.environ.get("PUBLIC_BASE_URL") or defaults["PUBLIC_BASE_URL"]).rstrip("/")
        secret = os.environ.get("STRIPE_WEBHOOK_SECRET") or defaults["STRIPE_WEBHOOK_SECRET"]
        ls_webhooks.register_webhook("app", base + APP_WEBHOOK_PATH, secret, None)
        logger.info("webhooks go to %s", base + APP_WEBHOOK_PATH)

    runner_app = build_app(
        public_url=args.public_url or f"http://{args.host}:{args.port}",
        async_delay=args.async_delay,
        webhook_timeout=args.webhook_timeout,
        retry_delays=tuple(float(d) for d in args.webhook_retry_delays.split(",") if d.strip()),
    )
    access = logging.getLogger("aiohttp.access")
    web.run_app(runner_app, host=args.host, port=args.port, access_log=access, print=None)
    return 0


if __name__ == "__main__":
    # Re-import under the package name so pickled CheckoutSessions name
    # devtools.stripe_standin.CheckoutSession, not __main__.CheckoutSession.
    from devtools.stripe_standin import main as _main

    sys.exit(_main())
