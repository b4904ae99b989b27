"""The Stripe stand-in (devtools/stripe_standin.py) driven by the real stripe SDK.

Each xdist worker starts its own stand-in process on a free port with its own
state file (--state-file), so workers never share localstripe's pickle; the
state is wiped (DELETE /_config/data) before every test. Webhooks go to a small
HTTP receiver in a thread of the test process.
"""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import stripe
from bs4 import BeautifulSoup

from shared.integrations.payments import (
    InvalidWebhook,
    PaymentGateway,
    PaymentGatewayError,
)
from tests.stripe_fixtures import SECRET_KEY, WEBHOOK_SECRET, free_port, press

SUCCESS_URL = "http://127.0.0.1:5000/pay/done?session_id={CHECKOUT_SESSION_ID}"
CANCEL_URL = "http://127.0.0.1:5000/pay/cancelled"


def create_session(gateway: PaymentGateway, amount_pence: int = 12_345, **overrides):
    params = {
        "reference": "CHK-0001",
        "amount_pence": amount_pence,
        "description": "Council tax arrears",
        "success_url": SUCCESS_URL,
        "cancel_url": CANCEL_URL,
        "metadata": {"account": "A1001", "checkout": "17"},
        "customer_email": "payer@example.org",
        "idempotency_key": f"checkout-{time.monotonic_ns()}",
    }
    params.update(overrides)
    return gateway.create_checkout_session(**params)


def session_id_in(location: str) -> str:
    return parse_qs(urlsplit(location).query)["session_id"][0]


def test_a_checkout_session_is_created_open_with_its_metadata_and_can_be_retrieved(gateway):
    session = create_session(gateway)

    assert session.id.startswith("cs_test_")
    assert session.status == "open"
    assert session.payment_status == "unpaid"
    assert session.amount_total == 12_345
    assert session.metadata == {"account": "A1001", "checkout": "17", "reference": "CHK-0001"}
    assert session.url.endswith(f"/checkout/{session.id}")
    assert gateway.retrieve_checkout_session(session.id) == session
    intent = gateway.retrieve_payment_intent(session.payment_intent_id)
    assert (intent.amount, intent.currency) == (12_345, "gbp")
    assert intent.metadata["reference"] == "CHK-0001"
    assert intent.status == "requires_payment_method"


def test_the_hosted_page_shows_the_amount_in_pounds_with_pay_decline_and_cancel(gateway):
    session = create_session(gateway, amount_pence=123_456)

    page = BeautifulSoup(requests.get(session.url, timeout=10).text, "html.parser")

    assert "£1,234.56" in page.title.text
    buttons = {b["value"] for b in page.find_all("button")}
    assert {"pay", "decline", "cancel", "pay-delayed"} <= buttons


def test_paying_redirects_to_the_success_url_after_a_signed_completed_webhook(gateway, receiver):
    session = create_session(gateway)

    response = press(session.url, "pay")

    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith("http://127.0.0.1:5000/pay/done?")
    assert session_id_in(location) == session.id
    # Delivered before the redirect, not some time after it.
    assert receiver.types() == ["checkout.session.completed", "payment_intent.succeeded"]
    headers, body = receiver.received[0]
    event = gateway.parse_webhook(body, headers["Stripe-Signature"])
    assert event["id"].startswith("evt_")
    assert event["data"]["object"]["id"] == session.id
    assert event["data"]["object"]["payment_status"] == "paid"
    assert event["data"]["object"]["metadata"]["reference"] == "CHK-0001"
    paid = gateway.retrieve_checkout_session(session.id)
    assert (paid.status, paid.payment_status) == ("complete", "paid")
    assert gateway.retrieve_payment_intent(session.payment_intent_id).status == "succeeded"


def test_a_declined_card_sends_payment_failed_and_leaves_the_session_open_and_unpaid(
    gateway, receiver
):
    session = create_session(gateway)

    response = press(session.url, "decline")

    assert response.status_code == 402
    assert "Your card was declined" in response.text
    assert receiver.types() == ["payment_intent.payment_failed"]
    headers, body = receiver.received[0]
    event = gateway.parse_webhook(body, headers["Stripe-Signature"])
    assert event["data"]["object"]["id"] == session.payment_intent_id
    still = gateway.retrieve_checkout_session(session.id)
    assert (still.status, still.payment_status) == ("open", "unpaid")
    intent = gateway.retrieve_payment_intent(session.payment_intent_id)
    assert intent.status == "requires_payment_method"
    assert intent.last_payment_error_code == "card_declined"


def test_paying_again_after_a_decline_succeeds(gateway, receiver):
    session = create_session(gateway)
    press(session.url, "decline")

    response = press(session.url, "pay")

    assert response.status_code == 303
    assert gateway.retrieve_checkout_session(session.id).payment_status == "paid"
    assert gateway.retrieve_payment_intent(session.payment_intent_id).status == "succeeded"
    assert receiver.types()[-2:] == ["checkout.session.completed", "payment_intent.succeeded"]


def test_cancelling_redirects_to_the_cancel_url_and_leaves_the_session_open(gateway, receiver):
    session = create_session(gateway)

    response = press(session.url, "cancel")

    assert response.status_code == 303
    assert response.headers["Location"] == CANCEL_URL
    assert gateway.retrieve_checkout_session(session.id).status == "open"
    assert receiver.types() == []


def test_a_delayed_payment_completes_unpaid_then_sends_async_payment_succeeded(gateway, receiver):
    session = create_session(gateway)

    response = press(session.url, "pay-delayed")

    assert response.status_code == 303
    headers, body = receiver.wait_for("checkout.session.completed")[0]
    completed = gateway.parse_webhook(body, headers["Stripe-Signature"])
    assert completed["data"]["object"]["payment_status"] == "unpaid"
    assert gateway.retrieve_payment_intent(session.payment_intent_id).status == "processing"
    assert receiver.wait_for("checkout.session.async_payment_succeeded")
    assert gateway.retrieve_checkout_session(session.id).payment_status == "paid"
    assert gateway.retrieve_payment_intent(session.payment_intent_id).status == "succeeded"


def test_an_expired_session_cannot_be_paid(gateway, receiver):
    session = create_session(gateway)

    expired = gateway.expire_checkout_session(session.id)

    assert expired.status == "expired"
    assert requests.get(session.url, timeout=10).status_code == 410
    assert receiver.wait_for("checkout.session.expired")
    with pytest.raises(PaymentGatewayError) as error:
        gateway.expire_checkout_session(session.id)
    assert error.value.transient is False


def test_resending_delivers_the_same_completed_event_again(gateway, base_url, receiver):
    session = create_session(gateway)
    press(session.url, "pay")

    requests.post(
        f"{base_url}/_config/checkout/sessions/{session.id}/resend",
        data={"times": "4", "type": "checkout.session.completed"},
        timeout=20,
    ).raise_for_status()

    deliveries = receiver.wait_for("checkout.session.completed", count=5)
    assert len(deliveries) == 5
    assert len({json.loads(body)["id"] for _h, body in deliveries}) == 1
    for headers, body in deliveries:
        gateway.parse_webhook(body, headers["Stripe-Signature"])


def test_a_failed_webhook_delivery_is_retried_in_the_background(gateway, receiver):
    session = create_session(gateway)
    receiver.fail_next = 2

    response = press(session.url, "pay")

    assert response.status_code == 303  # the redirect does not wait for the retries
    assert len(receiver.wait_for("checkout.session.completed")) == 1
    assert len(receiver.wait_for("payment_intent.succeeded")) == 1


def test_a_forged_webhook_signature_is_rejected(gateway, receiver):
    session = create_session(gateway)
    press(session.url, "pay")
    headers, body = receiver.received[0]

    tampered = body.replace(b'"paid"', b'"unpaid"', 1)
    with pytest.raises(InvalidWebhook):
        gateway.parse_webhook(tampered, headers["Stripe-Signature"])
    other_secret = stripe.WebhookSignature.generate_signature_header(body.decode(), "whsec_other")
    with pytest.raises(InvalidWebhook):
        gateway.parse_webhook(body, other_secret)
    with pytest.raises(InvalidWebhook):
        gateway.parse_webhook(body, "")


def test_a_webhook_signed_more_than_five_minutes_ago_is_rejected(gateway):
    payload = json.dumps({"id": "evt_1", "object": "event", "type": "checkout.session.completed"})
    stale = stripe.WebhookSignature.generate_signature_header(
        payload, WEBHOOK_SECRET, timestamp=int(time.time()) - 301
    )
    fresh = stripe.WebhookSignature.generate_signature_header(
        payload, WEBHOOK_SECRET, timestamp=int(time.time()) - 250
    )

    with pytest.raises(InvalidWebhook, match="tolerance"):
        gateway.parse_webhook(payload.encode(), stale)
    assert gateway.parse_webhook(payload.encode(), fresh)["id"] == "evt_1"


@pytest.mark.parametrize("amount_pence", [0, -100, 29])
def test_an_amount_below_thirty_pence_is_a_permanent_gateway_error(gateway, amount_pence):
    with pytest.raises(PaymentGatewayError) as error:
        create_session(gateway, amount_pence=amount_pence)

    assert error.value.transient is False
    assert error.value.http_status == 400


def test_an_unknown_currency_is_an_invalid_request_for_the_sdk(base_url):
    client = stripe.StripeClient(SECRET_KEY, base_addresses={"api": base_url})
    line_item = {
        "price_data": {"currency": "xyz", "unit_amount": 500, "product_data": {"name": "x"}},
        "quantity": 1,
    }

    with pytest.raises(stripe.InvalidRequestError) as error:
        client.v1.checkout.sessions.create(
            params={"mode": "payment", "line_items": [line_item], "success_url": SUCCESS_URL}
        )

    assert error.value.param == "line_items[0][price_data][currency]"


def test_a_request_without_the_secret_key_is_refused(base_url):
    response = requests.post(f"{base_url}/v1/checkout/sessions", data={"mode": "payment"})

    assert response.status_code == 401


def test_an_unreachable_stand_in_is_a_transient_gateway_error():
    gateway = PaymentGateway(
        SECRET_KEY,
        api_base=f"http://127.0.0.1:{free_port()}",
        webhook_secret=WEBHOOK_SECRET,
        max_network_retries=0,
    )

    with pytest.raises(PaymentGatewayError) as error:
        gateway.retrieve_checkout_session("cs_test_nothing")

    assert error.value.transient is True


def test_the_same_idempotency_key_returns_the_same_session(gateway):
    first = create_session(gateway, idempotency_key="pay-form-abc")
    again = create_session(gateway, idempotency_key="pay-form-abc")

    assert again.id == first.id
    with pytest.raises(PaymentGatewayError) as error:
        create_session(gateway, amount_pence=999, idempotency_key="pay-form-abc")
    assert error.value.transient is False


def test_a_paid_session_can_be_refunded_in_part(gateway):
    session = create_session(gateway, amount_pence=5_000)
    press(session.url, "pay")

    refund_id = gateway.refund(session.payment_intent_id, 1_500, idempotency_key="refund-1")

    assert refund_id.startswith("re_")
    again = gateway.refund(session.payment_intent_id, 1_500, idempotency_key="refund-1")
    assert again == refund_id


def test_an_unpaid_session_cannot_be_refunded(gateway):
    session = create_session(gateway)
    press(session.url, "decline")

    with pytest.raises(PaymentGatewayError) as error:
        gateway.refund(session.payment_intent_id, 100, idempotency_key="refund-2")

    assert error.value.transient is False
