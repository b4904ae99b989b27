"""What every settings module shares: a setting's declaration, the one-line error a
bad one raises, and Fernet key lists (shared/config.py, shared/config_bacs.py)."""

from __future__ import annotations

from dataclasses import dataclass


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line for a person."""


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str


NEW_FERNET_KEY = (
    "make one with: python -c 'from cryptography.fernet import Fernet; "
    "print(Fernet.generate_key().decode())'"
)


def fernet_keys(name: str, raw: str, what: str) -> tuple[str, ...]:
    """The comma-separated Fernet keys in `raw` (first one current), each checked; an
    empty tuple when none is set (the caller decides whether that is allowed)."""
    from cryptography.fernet import Fernet

    keys = tuple(part.strip() for part in raw.split(",") if part.strip())
    for number, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError:
            # Never echo the value: it is (meant to be) a secret.
            raise ConfigError(
                f"{name} key {number} of {len(keys)} is not a Fernet key "
                f"(32 url-safe base64-encoded bytes; {NEW_FERNET_KEY}); it encrypts {what}"
            ) from None
    return keys


def derived_fernet_key(secret_key: str, info: bytes) -> str:
    """A development-only Fernet key derived from SECRET_KEY; `info` keeps the keys of
    different settings apart."""
    import base64

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(
        secret_key.encode()
    )
    return base64.urlsafe_b64encode(derived).decode()
