import pytest

from shared.config import DEFAULT_SECRET_KEY, ConfigError, load_config, redact_url
from tests.production_settings import PRODUCTION_ENVIRON


def test_defaults_run_the_embedded_demo():
    config = load_config(environ={})
    assert config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:////")
    assert config["SQLALCHEMY_DATABASE_URI"].endswith("/instance/recovery.db")
    assert config["REDIS_URL"] == "redis://127.0.0.1:6390/0"
    assert config["SESSION_COOKIE_HTTPONLY"] is True


def test_production_refuses_the_default_secret_key():
    with pytest.raises(ConfigError, match="SECRET_KEY is the development default"):
        load_config(environ={"APP_ENV": "production", "SECRET_KEY": DEFAULT_SECRET_KEY})


def test_production_with_a_real_secret_gets_secure_cookies():
    config = load_config(environ={**PRODUCTION_ENVIRON, "SECRET_KEY": "x" * 40})
    assert config["SESSION_COOKIE_SECURE"] is True


# Each: a setting of the local demo (its default, or a stand-in's address) that a
# production start must refuse with one line naming it.
REFUSED_IN_PRODUCTION = [
    ("STRIPE_SECRET_KEY", "sk_test_local", "STRIPE_SECRET_KEY is the local stand-in's key"),
    ("STRIPE_SECRET_KEY", "", "STRIPE_SECRET_KEY is not set"),
    (
        "STRIPE_WEBHOOK_SECRET",
        "whsec_local_development",
        "STRIPE_WEBHOOK_SECRET is the development secret published in the README",
    ),
    ("STRIPE_WEBHOOK_SECRET", "", "STRIPE_WEBHOOK_SECRET is not set"),
    ("STRIPE_API_BASE", "http://127.0.0.1:8420", "STRIPE_API_BASE points at a local stand-in"),
    ("STRIPE_API_BASE", "http://localhost:9999", "STRIPE_API_BASE points at a local stand-in"),
    ("TWILIO_API_BASE", "http://127.0.0.1:8430", "TWILIO_API_BASE points at a local stand-in"),
    ("TWILIO_API_BASE", "http://[::1]:8430/", "TWILIO_API_BASE points at a local stand-in"),
    (
        "TWILIO_ACCOUNT_SID",
        "AClocal00000000000000000000000000",
        "TWILIO_ACCOUNT_SID is the stand-in's",
    ),
    ("TWILIO_AUTH_TOKEN", "local-twilio-token", "TWILIO_AUTH_TOKEN is the stand-in's"),
    ("TWILIO_AUTH_TOKEN", "", "TWILIO_AUTH_TOKEN is not set"),
    ("TWILIO_FROM_NUMBER", "+447700900000", "TWILIO_FROM_NUMBER is a fictional number"),
    ("SMTP_HOST", "127.0.0.1", "SMTP_HOST and SMTP_PORT point at the local email capture"),
    ("SMTP_HOST", "localhost", "SMTP_HOST and SMTP_PORT point at the local email capture"),
    ("PUBLIC_BASE_URL", "http://127.0.0.1:5000", "PUBLIC_BASE_URL is 'http://127.0.0.1:5000'"),
    ("PUBLIC_BASE_URL", "http://pay.example.gov.uk", "PUBLIC_BASE_URL is not an https://"),
    ("REDIS_URL", "redis://127.0.0.1:6390/0", "REDIS_URL points at the demo's embedded Redis"),
    ("DATABASE_URL", "sqlite:///instance/recovery.db", "DATABASE_URL is the demo's SQLite file"),
    ("COUNCIL_NAME", "Borsetshire County Council", "COUNCIL_NAME is the demo council's"),
    ("COUNCIL_PHONE", "0300 123 4567", "COUNCIL_PHONE is the demo council's"),
    ("COUNCIL_EMAIL", "income.recovery@borsetshire.example", "COUNCIL_EMAIL is the demo council's"),
    (
        "MAIL_FROM",
        "Borsetshire Income Recovery <no-reply@borsetshire.example>",
        "MAIL_FROM is the demo council's",
    ),
    ("GL_DEBTORS_CONTROL_CODE", "B4010", "GL_DEBTORS_CONTROL_CODE is the demo's general-ledger"),
    ("GL_BANK_CODE", "B1010", "GL_BANK_CODE is the demo's general-ledger code"),
    ("GL_SUSPENSE_CODE", "B9999", "GL_SUSPENSE_CODE is the demo's general-ledger code"),
]


@pytest.mark.parametrize(
    "name, value, message",
    REFUSED_IN_PRODUCTION,
    ids=[f"{name}={value or 'empty'}" for name, value, _ in REFUSED_IN_PRODUCTION],
)
def test_production_refuses_each_setting_of_the_local_demo_in_one_line(name, value, message):
    with pytest.raises(ConfigError) as raised:
        load_config(environ={**PRODUCTION_ENVIRON, "SMTP_PORT": "8025", name: value})

    text = str(raised.value)
    assert text.startswith(message)
    assert text.endswith("in production") and "\n" not in text


@pytest.mark.parametrize(
    "name, value",
    [
        ("STRIPE_API_BASE", ""),  # the real api.stripe.com
        ("TWILIO_API_BASE", ""),  # the real api.twilio.com
        ("STRIPE_API_BASE", "https://stripe-proxy.council.internal"),
        ("SMTP_HOST", "127.0.0.1"),  # a relay on the host itself, on its own port
        ("REDIS_URL", "redis://127.0.0.1:6379/0"),
        ("DATABASE_URL", "sqlite:////srv/recovery/recovery.db"),
    ],
)
def test_production_accepts_the_real_services_and_addresses_of_its_own(name, value):
    config = load_config(environ={**PRODUCTION_ENVIRON, name: value})

    assert config["APP_ENV"] == "production"


def test_the_demo_and_the_tests_still_start_on_the_defaults_outside_production():
    # The same settings start the demo and the tests without complaint.
    assert load_config(environ={})["STRIPE_WEBHOOK_SECRET"] == "whsec_local_development"
    assert load_config(environ={"APP_ENV": "test"})["SMTP_PORT"] == 8025


@pytest.mark.parametrize(
    "url, message",
    [
        ("mysql://localhost/db", "must start with sqlite:/// or postgresql://"),
        ("postgresql:///nohost", "has no host"),
        ("postgresql://localhost", "has no database name"),
    ],
)
def test_malformed_database_urls_are_named_clearly(url, message):
    with pytest.raises(ConfigError, match=message):
        load_config(environ={"DATABASE_URL": url})


@pytest.mark.parametrize(
    "url, message",
    [
        ("localhost:6379", "must start with redis://"),
        ("redis://localhost:notaport/0", "malformed"),
        ("redis://:6379/0", "no host|malformed"),
    ],
)
def test_malformed_redis_urls_are_named_clearly(url, message):
    with pytest.raises(ConfigError, match=message):
        load_config(environ={"REDIS_URL": url})


def test_postgres_urls_use_the_psycopg3_driver():
    config = load_config(environ={"DATABASE_URL": "postgres://u:p@db.internal:5432/recovery"})
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db.internal:5432/recovery"


def test_passwords_are_hidden_in_messages():
    assert redact_url("postgresql://u:s3cret@h/db") == "postgresql://u:***@h/db"


def test_every_setting_is_documented_in_the_readme():
    from pathlib import Path

    from shared.config import PROJECT_ROOT, SETTINGS

    readme = Path(PROJECT_ROOT, "README.md").read_text()
    missing = [s.name for s in SETTINGS if f"`{s.name}`" not in readme]
    assert missing == []


@pytest.mark.parametrize("hops, expected", [(0, "10.0.0.1"), (1, "203.0.113.7")])
def test_client_addresses_come_from_the_proxy_only_when_told_to_trust_it(hops, expected):
    from flask import request

    from shared.app import create_app

    app = create_app(load_config(environ={"TRUSTED_PROXY_HOPS": str(hops)}))
    app.add_url_rule("/ip", "ip", lambda: request.remote_addr)
    response = app.test_client().get(
        "/ip", environ_base={"REMOTE_ADDR": "10.0.0.1"}, headers={"X-Forwarded-For": "203.0.113.7"}
    )
    assert response.get_data(as_text=True) == expected
