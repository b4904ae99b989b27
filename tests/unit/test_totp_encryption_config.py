"""TOTP_ENCRYPTION_KEYS: the keys that encrypt staff authenticator secrets at rest."""

import base64

import pytest
from cryptography.fernet import Fernet

from shared.config import ConfigError, load_config
from tests.production_settings import PRODUCTION_ENVIRON

KEY_A = base64.urlsafe_b64encode(b"a" * 32).decode()  # fixed: pytest ids use it
KEY_B = base64.urlsafe_b64encode(b"b" * 32).decode()  # fixed: pytest ids use it
PRODUCTION = {"APP_ENV": "production", "SECRET_KEY": "p" * 40}


def test_without_the_setting_development_derives_a_working_key_from_the_secret_key():
    keys = load_config(environ={"SECRET_KEY": "one"})["TOTP_ENCRYPTION_KEYS"]

    assert len(keys) == 1
    assert Fernet(keys[0]).decrypt(Fernet(keys[0]).encrypt(b"JBSWY3DP")) == b"JBSWY3DP"
    # The same every start, so `make run` keeps reading what it wrote.
    assert load_config(environ={"SECRET_KEY": "one"})["TOTP_ENCRYPTION_KEYS"] == keys
    assert load_config(environ={"SECRET_KEY": "two"})["TOTP_ENCRYPTION_KEYS"] != keys


def test_production_refuses_to_start_without_the_setting_even_with_a_real_secret_key():
    with pytest.raises(ConfigError, match="^TOTP_ENCRYPTION_KEYS is not set: production needs"):
        load_config(environ=PRODUCTION)


def test_production_refuses_a_setting_of_only_commas_and_spaces():
    with pytest.raises(ConfigError, match="TOTP_ENCRYPTION_KEYS is not set"):
        load_config(environ={**PRODUCTION, "TOTP_ENCRYPTION_KEYS": " , "})


def test_production_uses_the_keys_it_is_given():
    config = load_config(environ={**PRODUCTION_ENVIRON, "TOTP_ENCRYPTION_KEYS": KEY_A})

    assert config["TOTP_ENCRYPTION_KEYS"] == (KEY_A,)


def test_several_keys_are_kept_in_order_with_spaces_trimmed():
    config = load_config(environ={"TOTP_ENCRYPTION_KEYS": f" {KEY_B} ,{KEY_A}, "})

    assert config["TOTP_ENCRYPTION_KEYS"] == (KEY_B, KEY_A)


@pytest.mark.parametrize(
    "bad", ["not-a-key", KEY_A[:-4], "é" * 44], ids=["junk", "short", "not-ascii"]
)
def test_a_malformed_key_is_named_by_position_without_echoing_it(bad):
    with pytest.raises(ConfigError) as raised:
        load_config(environ={"TOTP_ENCRYPTION_KEYS": f"{KEY_A},{bad}"})

    message = str(raised.value)
    assert message.startswith("TOTP_ENCRYPTION_KEYS key 2 of 2 is not a Fernet key")
    assert "\n" not in message
    assert bad not in message and KEY_A not in message
