"""Production refuses the local demo's settings (APP_ENV=production).

The defaults are published in the README; shared/config.py calls
refuse_demo_settings once every setting has been parsed.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from shared.config import (
    GL_CODE_SETTINGS,
    _default,
    _digits,
    _resolve_sqlite_path,
)
from shared.config_bacs import bacs_demo_settings
from shared.config_types import ConfigError

_LOOPBACK_NAMES = frozenset({"localhost", "ip6-localhost", "ip6-loopback"})


def _is_loopback(host: str | None) -> bool:
    """127.x, ::1, 0.0.0.0 and localhost: an address that only means this machine."""
    import ipaddress

    if not host:
        return False
    host = host.strip("[]").lower()
    if host in _LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def refuse_demo_settings(config: dict[str, object]) -> None:
    """Stop a production start on any setting that only makes sense for the local demo.

    The defaults are published in the README, so a production app running on
    them can be fooled by anyone (a webhook signed with the published secret
    clears a bill unpaid), or quietly sends payments, texts and email to stand-ins
    that go nowhere. Each refusal is one line naming the setting and what to do.
    """
    for name, problem, remedy in _demo_settings(config):
        raise ConfigError(f"{name} {problem}: {remedy} in production")


def _demo_settings(config: dict[str, object]):
    text = {name: str(config.get(name) or "").strip() for name in _CHECKED_AS_TEXT}
    database = str(config["SQLALCHEMY_DATABASE_URI"])
    if database == _resolve_sqlite_path(_default("DATABASE_URL")):
        yield (
            "DATABASE_URL",
            "is the demo's SQLite file under instance/",
            "set DATABASE_URL to the council's PostgreSQL database (postgresql://...)",
        )
    redis = urlsplit(str(config["REDIS_URL"]))
    if _is_loopback(redis.hostname) and redis.port == 6390:
        yield (
            "REDIS_URL",
            "points at the demo's embedded Redis (port 6390)",
            "set REDIS_URL to the production Redis",
        )
    public = urlsplit(text["PUBLIC_BASE_URL"])
    if _is_loopback(public.hostname) or not public.hostname:
        yield (
            "PUBLIC_BASE_URL",
            f"is {text['PUBLIC_BASE_URL']!r}, which only works on this machine",
            "set PUBLIC_BASE_URL to the portal's public https:// address",
        )
    elif public.scheme != "https":
        yield (
            "PUBLIC_BASE_URL",
            "is not an https:// address",
            "set PUBLIC_BASE_URL to the portal's public https:// address",
        )
    for name, what in (
        ("COUNCIL_NAME", "the council's name"),
        ("COUNCIL_PHONE", "the recovery team's phone number"),
        ("COUNCIL_EMAIL", "the recovery team's email address"),
        ("MAIL_FROM", "the From: address of the council's email"),
    ):
        if text[name] == _default(name):
            yield name, f"is the demo council's ({text[name]})", f"set {name} to {what}"
    # Printed on every invoice: the demo's would have debtors pay an account that is not
    # the council's, and quote a VAT number that is not its own.
    for name, what in (
        ("COUNCIL_ADDRESS", "the council's postal address"),
        ("COUNCIL_VAT_NUMBER", "the council's VAT registration number"),
        ("COUNCIL_BANK_ACCOUNT_NAME", "the name on the council's bank account"),
        ("COUNCIL_BANK_SORT_CODE", "the sort code of the council's bank account"),
        ("COUNCIL_BANK_ACCOUNT_NUMBER", "the council's bank account number"),
    ):
        if name in config and _digits(str(config[name])) == _digits(_default(name)):
            yield name, f"is the demo council's ({config[name]})", f"set {name} to {what}"
    # The journal to the general ledger posts to these: the demo's codes are not the
    # council's chart of accounts, and a journal on them would post to the wrong accounts.
    for name in GL_CODE_SETTINGS:
        if name in config and str(config[name]) == _default(name):
            yield (
                name,
                f"is the demo's general-ledger code ({config[name]})",
                f"set {name} to the code in the council's chart of accounts",
            )
    yield from _provider_settings(text)
    yield from bacs_demo_settings(config)
    if _is_loopback(text["SMTP_HOST"]) and config["SMTP_PORT"] == int(_default("SMTP_PORT")):
        yield (
            "SMTP_HOST",
            f"and SMTP_PORT point at the local email capture ({text['SMTP_HOST']}:"
            f"{config['SMTP_PORT']}), which delivers nothing",
            "set SMTP_HOST and SMTP_PORT to the council's mail relay",
        )


def _provider_settings(text: dict[str, str]):
    stripe_key, webhook = text["STRIPE_SECRET_KEY"], text["STRIPE_WEBHOOK_SECRET"]
    if not stripe_key or stripe_key == _default("STRIPE_SECRET_KEY"):
        yield (
            "STRIPE_SECRET_KEY",
            "is the local stand-in's key" if stripe_key else "is not set",
            "set the live secret key from the Stripe dashboard",
        )
    if not webhook or webhook == _default("STRIPE_WEBHOOK_SECRET"):
        yield (
            "STRIPE_WEBHOOK_SECRET",
            "is the development secret published in the README" if webhook else "is not set",
            "set the signing secret of the Stripe webhook endpoint (whsec_...)",
        )
    for name, provider in (("STRIPE_API_BASE", "Stripe"), ("TWILIO_API_BASE", "Twilio")):
        # Empty means the provider's real API.
        value = text[name]
        if value and (value == _default(name) or _is_loopback(urlsplit(value).hostname)):
            yield (
                name,
                f"points at a local stand-in ({value})",
                f"leave {name} empty to use {provider}'s API",
            )
    for name, what, demo in (
        ("TWILIO_ACCOUNT_SID", "the account SID from the Twilio console", "the stand-in's"),
        ("TWILIO_AUTH_TOKEN", "the auth token from the Twilio console", "the stand-in's"),
        ("TWILIO_FROM_NUMBER", "the council's sender number or id", "a fictional number"),
    ):
        value = text[name]
        if not value or value == _default(name):
            yield name, f"is {demo} ({value})" if value else "is not set", f"set {what}"


_CHECKED_AS_TEXT = (
    "PUBLIC_BASE_URL",
    "COUNCIL_NAME",
    "COUNCIL_PHONE",
    "COUNCIL_EMAIL",
    "MAIL_FROM",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "STRIPE_API_BASE",
    "TWILIO_API_BASE",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_FROM_NUMBER",
    "SMTP_HOST",
)
