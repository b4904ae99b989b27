import pytest
from cryptography.fernet import Fernet

from shared.config import DEFAULT_SECRET_KEY, ConfigError, load_config, redact_url


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
    config = load_config(
        environ={
            "APP_ENV": "production",
            "SECRET_KEY": "x" * 40,
            "TOTP_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        }
    )
    assert config["SESSION_COOKIE_SECURE"] is True


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
