"""Columns encrypted at rest with Fernet keys from a setting (e.g. TOTP_ENCRYPTION_KEYS).

The setting holds one or more keys: the first encrypts, every one decrypts, so a
key can be rotated without downtime (put a new key first, re-encrypt, then drop
the old one: docs/operations.md). A database copy alone (a backup, a replica, an
SQL injection) then gives away nothing.

Fernet is AES-128-CBC with an HMAC-SHA256 over the token, so a value changed in
the database, or written under a key we no longer hold, is refused rather than
decrypted to garbage. Each encryption uses a fresh IV, so the same secret never
encrypts to the same token twice: an encrypted column cannot be searched or
compared in SQL, only read back.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app


class UndecryptableValue(Exception):
    """A stored value that no configured key opens; the message names the setting."""

    def __init__(self, setting: str, detail: str = "") -> None:
        super().__init__(
            f"A value encrypted at rest cannot be decrypted with any key in {setting}{detail}: "
            f"was a key dropped from {setting} before every value was re-encrypted, "
            "or is this another environment's database?"
        )
        self.setting = setting


@functools.lru_cache(maxsize=8)
def _fernets(keys: tuple[str, ...]) -> tuple[Fernet, MultiFernet]:
    """The current key alone, and all the keys; cached, as the keys are parsed once each."""
    fernets = [Fernet(key) for key in keys]
    return fernets[0], MultiFernet(fernets)


def configured_keys(setting: str) -> tuple[str, ...]:
    """The running app's keys for `setting` (parsed and validated by load_config)."""
    keys = current_app.config[setting]
    if isinstance(keys, str):  # set by hand, not through load_config
        keys = [key.strip() for key in keys.split(",") if key.strip()]
    return tuple(keys)


def encrypt(plain: str, keys: Sequence[str]) -> str:
    """`plain` encrypted under the first key."""
    return _fernets(tuple(keys))[1].encrypt(plain.encode()).decode("ascii")


def decrypt(token: str, keys: Sequence[str], *, setting: str) -> str:
    """The plain text of `token`, opened with whichever key made it."""
    try:
        return _fernets(tuple(keys))[1].decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeEncodeError):
        raise UndecryptableValue(setting) from None


def reencrypt(token: str, keys: Sequence[str], *, setting: str) -> str | None:
    """`token` re-encrypted under the first key, or None if it already is under it."""
    current, every = _fernets(tuple(keys))
    try:
        current.decrypt(token.encode("ascii"))
        return None
    except InvalidToken:
        pass
    except UnicodeEncodeError:
        raise UndecryptableValue(setting) from None
    try:
        return every.rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken:
        raise UndecryptableValue(setting) from None


class EncryptedText(sa.types.TypeDecorator):
    """Text stored encrypted under the keys in the app's `setting`; plain str to Python.

    Encryption happens on every bind, including in a WHERE clause, so comparing
    the column with a value in SQL never matches: only `IS NULL` / `IS NOT NULL`
    are meaningful.
    """

    impl = sa.Text
    cache_ok = True

    def __init__(self, setting: str) -> None:
        super().__init__()
        self.setting = setting

    def process_bind_param(self, value: str | None, dialect) -> str | None:
        if value is None:
            return None
        return encrypt(value, configured_keys(self.setting))

    def process_result_value(self, value: str | None, dialect) -> str | None:
        if value is None:
            return None
        return decrypt(value, configured_keys(self.setting), setting=self.setting)
