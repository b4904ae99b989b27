"""Bacs settings: checked at start-up, and production refuses the demo's."""

import pytest
from cryptography.fernet import Fernet

from shared.config import ConfigError, load_config
from tests.production_settings import PRODUCTION_ENVIRON


@pytest.mark.parametrize(
    "name, value",
    [
        ("BACS_SERVICE_USER_NUMBER", "999123"),
        ("BACS_SORT_CODE", "200000"),
        ("BACS_ACCOUNT_NUMBER", "90909090"),
        ("BACS_SERVICE_USER_NAME", "Borsetshire CC"),
        ("BACS_ACCOUNT_NAME", "BORSETSHIRE DD"),
    ],
)
def test_production_refuses_the_demo_service_user_and_collection_account(name, value):
    with pytest.raises(ConfigError, match=f"^{name} is the demo's .* in production$"):
        load_config(environ={**PRODUCTION_ENVIRON, name: value})


def test_production_needs_its_own_key_for_bank_details():
    environ = {**PRODUCTION_ENVIRON, "BANK_DETAILS_ENCRYPTION_KEYS": ""}
    with pytest.raises(ConfigError, match="BANK_DETAILS_ENCRYPTION_KEYS is not set"):
        load_config(environ=environ)


def test_a_key_that_is_not_a_fernet_key_is_named_without_echoing_it():
    secret = "not-a-key-at-all"
    with pytest.raises(ConfigError) as refused:
        load_config(
            environ={"BANK_DETAILS_ENCRYPTION_KEYS": f"{Fernet.generate_key().decode()},{secret}"}
        )
    assert "key 2 of 2 is not a Fernet key" in str(refused.value)
    assert secret not in str(refused.value)


def test_the_development_keys_for_bank_details_and_authenticators_differ():
    config = load_config(environ={})
    assert config["BANK_DETAILS_ENCRYPTION_KEYS"] != config["TOTP_ENCRYPTION_KEYS"]


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("BACS_SERVICE_USER_NUMBER", "12345", "must be 6 digits"),
        ("BACS_SERVICE_USER_NUMBER", "１２３４５６", "must be 6 digits"),
        ("BACS_SORT_CODE", "20-00-0", "must be 6 digits"),
        ("BACS_ACCOUNT_NUMBER", "1234567", "must be 8 digits"),
        ("BACS_SERVICE_USER_NAME", "A NAME FAR TOO LONG FOR BACS", "1 to 18 characters"),
        ("BACS_ACCOUNT_NAME", "COUNCIL £", "1 to 18 characters"),
        ("BACS_ADVANCE_NOTICE_WORKING_DAYS", "2", "3 to 60"),
        ("BACS_POSTING_WORKING_DAYS", "two", "0 to 60"),
    ],
)
def test_malformed_bacs_settings_are_named_clearly(name, value, message):
    with pytest.raises(ConfigError, match=f"^{name} .*{message}"):
        load_config(environ={name: value})


def test_names_and_codes_are_normalised_as_bacs_writes_them():
    config = load_config(
        environ={
            "BACS_SERVICE_USER_NAME": "  ambridge   dc ",
            "BACS_SORT_CODE": "30-99-50",
            "BACS_SERVICE_USER_NUMBER": "001234",
        }
    )
    assert config["BACS_SERVICE_USER_NAME"] == "AMBRIDGE DC"
    assert config["BACS_SORT_CODE"] == "309950"
    assert config["BACS_SERVICE_USER_NUMBER"] == "001234"
