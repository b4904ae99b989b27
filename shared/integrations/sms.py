"""SMS through Twilio's Messages API, behind one small client using the real SDK.

Locally and in tests the same code talks to the fake Twilio API
(devtools/twilio_fake.py) because TWILIO_API_BASE points at it; with
TWILIO_API_BASE empty it talks to api.twilio.com. Every failure becomes an
SmsError whose `transient` flag tells the outbox job whether trying again later
can help, and whose `code` is Twilio's error code when there is one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests
from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

# Connect + read timeout for one API call; the SDK's default is to wait for ever.
REQUEST_TIMEOUT_SECONDS = 20

# Twilio error codes (https://www.twilio.com/docs/api/errors).
OPTED_OUT = 21610  # the recipient replied STOP: never text them until they opt back in
INVALID_NUMBER = 21211
# Our credentials or account are wrong: an operator can fix it, and the message
# should then go, so these are retried rather than failed.
CONFIGURATION_CODES = frozenset({20003, 20005})
RATE_LIMITED = 20429


# Where Twilio reports what happened to each text (portal/webhooks.py serves it).
TWILIO_STATUS_PATH = "/webhooks/twilio/status"


def twilio_status_url(config: Mapping[str, Any]) -> str:
    return f"{config['PUBLIC_BASE_URL']}{TWILIO_STATUS_PATH}"


class SmsError(Exception):
    """Twilio refused the message or could not be reached."""

    def __init__(
        self,
        message: str,
        *,
        transient: bool,
        code: int | None = None,
        http_status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.transient = transient
        self.code = code
        self.http_status = http_status


def _translate(exc: TwilioException) -> SmsError:
    status = getattr(exc, "status", None)
    code = getattr(exc, "code", None)
    text = getattr(exc, "msg", None) or getattr(exc, "detail", None) or getattr(exc, "title", "")
    transient = (
        status is None
        or status >= 500
        or status in (401, 429)
        or code in CONFIGURATION_CODES
        or code == RATE_LIMITED
    )
    # Any other 4xx (opted out, invalid or unreachable number, body too long)
    # would be refused again: a permanent failure.
    return SmsError(
        f"Twilio error {code} (HTTP {status}): {text}",
        transient=transient,
        code=code,
        http_status=status,
    )


class SmsClient:
    """Sends SMS from one number (or alphanumeric sender id) through Twilio."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str,
        *,
        api_base: str = "",
        timeout: float = REQUEST_TIMEOUT_SECONDS,
    ) -> None:
        if not (account_sid and auth_token and from_number):
            raise ValueError("a Twilio account SID, auth token and sender are required")
        self.from_number = from_number
        # environment={}: credentials come only from our settings, never from
        # TWILIO_* variables the SDK would otherwise read on its own.
        self._client = Client(
            account_sid,
            auth_token,
            http_client=TwilioHttpClient(timeout=timeout),
            environment={},
        )
        self.api_base = api_base.rstrip("/")
        if self.api_base:
            self._client.api.base_url = self.api_base

    @classmethod
    def from_config(cls, config: Mapping[str, Any], **kwargs: Any) -> SmsClient:
        """Build from app config (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER,
        TWILIO_API_BASE)."""
        return cls(
            str(config["TWILIO_ACCOUNT_SID"]),
            str(config["TWILIO_AUTH_TOKEN"]),
            str(config["TWILIO_FROM_NUMBER"]),
            api_base=str(config.get("TWILIO_API_BASE") or ""),
            **kwargs,
        )

    def send(self, to: str, body: str, status_callback: str | None = None) -> str:
        """Hand one SMS to Twilio; returns its message SID (SM...)."""
        params: dict[str, Any] = {"to": to, "from_": self.from_number, "body": body}
        if status_callback:
            params["status_callback"] = status_callback
        try:
            message = self._client.messages.create(**params)
        except TwilioException as exc:
            raise _translate(exc) from None
        except requests.RequestException as exc:
            # Refused connection, TLS failure or timeout. After a timeout Twilio may
            # have queued it, so a retry can send it twice; for a security code or
            # a receipt a duplicate is better than nothing.
            raise SmsError(
                f"Twilio unreachable: {type(exc).__name__}: {exc}", transient=True
            ) from None
        return str(message.sid)


def app_sms_client(app) -> SmsClient:
    """The app's SMS client: one installed in app.extensions["sms_client"], else
    Twilio from config."""
    client = app.extensions.get("sms_client")
    return client if client is not None else SmsClient.from_config(app.config)
