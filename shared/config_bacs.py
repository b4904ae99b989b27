"""Settings for Bacs Direct Debit (shared/domain/bacs/, shared/services/directdebit/).

Kept beside shared/config.py, which includes them in SETTINGS and load_config, so
that module stays one screenful of each kind of thing. Production refuses the
demo's service user number and bank account: a file built on them would collect
into an account that is not the council's.
"""

from __future__ import annotations

from shared.config_types import ConfigError, Setting, derived_fernet_key, fernet_keys

BACS_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "BACS_SERVICE_USER_NUMBER",
        "999123",
        "the council's Bacs service user number (SUN, 6 digits); reports for another SUN "
        "are refused",
    ),
    Setting(
        "BACS_SERVICE_USER_NAME",
        "BORSETSHIRE CC",
        "the name payers see on their bank statement for a Direct Debit (18 characters at "
        "most: capitals, digits, space and . - / &)",
    ),
    Setting(
        "BACS_SORT_CODE",
        "20-00-00",
        "sort code of the council's account Direct Debits are collected into",
    ),
    Setting(
        "BACS_ACCOUNT_NUMBER",
        "90909090",
        "account number of the council's account Direct Debits are collected into",
    ),
    Setting(
        "BACS_ACCOUNT_NAME",
        "BORSETSHIRE DD",
        "name of the council's collection account, on the contra record (18 characters)",
    ),
    Setting(
        "BACS_ADVANCE_NOTICE_WORKING_DAYS",
        "10",
        "working days' advance notice a payer is given before a first Direct Debit "
        "collection and before any change",
    ),
    Setting(
        "BACS_POSTING_WORKING_DAYS",
        "2",
        "working days a posted letter (an advance notice by post) is counted as taking to arrive",
    ),
    Setting(
        "BACS_FILE_LINE_ENDING",
        "crlf",
        "how each line of a Standard 18 collection file ends: crlf (what Bacstel-IP "
        "software on Windows expects) or lf",
    ),
    Setting(
        "BACS_HDR1_FILE_IDENTIFIER",
        "A{sun}S  1{sun}",
        "the HDR1 file identifier of a collection file (17 characters; {sun} is replaced "
        "by the service user number); your bank or bureau says what it must be",
    ),
    Setting(
        "BACS_HDR2_CONTENTS",
        "F0200000100",
        "HDR2 positions 5-50 of a collection file (record format, block and record "
        "length), as your bank or bureau specifies",
    ),
    Setting(
        "BACS_UHL1_RECEIVING_PARTY",
        "999999",
        "UHL1 positions 11-20 of a collection file (999999 for a direct submitter "
        "through Bacstel-IP; a bureau may give its own number)",
    ),
    Setting(
        "BANK_DETAILS_ENCRYPTION_KEYS",
        "",
        "comma-separated Fernet keys that encrypt payers' bank details at rest: the first "
        "encrypts, every one decrypts; must be set in production (empty derives a "
        "development key from SECRET_KEY)",
    ),
)

_BACS_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .-/&")


def _digits(text: str) -> str:
    return "".join(c for c in text if c not in " -")


def _bacs_name(name: str, raw: str) -> str:
    value = " ".join(raw.split()).upper()
    if not value or len(value) > 18 or set(value) - _BACS_CHARACTERS:
        raise ConfigError(
            f"{name} must be 1 to 18 characters of capitals, digits, space and . - / &, got {raw!r}"
        )
    return value


def _fixed_digits(name: str, raw: str, length: int, example: str) -> str:
    value = _digits(raw.strip())
    if not (len(value) == length and value.isascii() and value.isdigit()):
        raise ConfigError(f"{name} must be {length} digits, like {example}, got {raw!r}")
    return value


def _working_days(name: str, raw: str, minimum: int) -> int:
    value = raw.strip()
    if not (value.isascii() and value.isdigit()) or int(value) < minimum or int(value) > 60:
        raise ConfigError(f"{name} must be a whole number of working days, {minimum} to 60")
    return int(value)


def bacs_config(raw: dict, app_env: str, secret_key: str) -> dict[str, object]:
    """The Bacs settings, checked: a malformed SUN or account would put every
    collection in a file the bank rejects, or collect into the wrong account."""
    return {
        "BACS_SERVICE_USER_NUMBER": _fixed_digits(
            "BACS_SERVICE_USER_NUMBER", str(raw["BACS_SERVICE_USER_NUMBER"]), 6, "123456"
        ),
        "BACS_SERVICE_USER_NAME": _bacs_name(
            "BACS_SERVICE_USER_NAME", str(raw["BACS_SERVICE_USER_NAME"])
        ),
        "BACS_SORT_CODE": _fixed_digits(
            "BACS_SORT_CODE", str(raw["BACS_SORT_CODE"]), 6, "20-00-00"
        ),
        "BACS_ACCOUNT_NUMBER": _fixed_digits(
            "BACS_ACCOUNT_NUMBER", str(raw["BACS_ACCOUNT_NUMBER"]), 8, "12345678"
        ),
        "BACS_ACCOUNT_NAME": _bacs_name("BACS_ACCOUNT_NAME", str(raw["BACS_ACCOUNT_NAME"])),
        "BACS_ADVANCE_NOTICE_WORKING_DAYS": _working_days(
            "BACS_ADVANCE_NOTICE_WORKING_DAYS", str(raw["BACS_ADVANCE_NOTICE_WORKING_DAYS"]), 3
        ),
        "BACS_POSTING_WORKING_DAYS": _working_days(
            "BACS_POSTING_WORKING_DAYS", str(raw["BACS_POSTING_WORKING_DAYS"]), 0
        ),
        **_file_labels(raw),
        "BANK_DETAILS_ENCRYPTION_KEYS": _bank_details_keys(
            str(raw["BANK_DETAILS_ENCRYPTION_KEYS"]), app_env, secret_key
        ),
    }


def _file_labels(raw: dict) -> dict[str, str]:
    """The collection file's label details that vary by bank or bureau: refused at
    start-up if they could not fit their positions in the file."""
    ending = str(raw["BACS_FILE_LINE_ENDING"]).strip().lower()
    if ending not in ("crlf", "lf"):
        raise ConfigError(f"BACS_FILE_LINE_ENDING must be crlf or lf, got {ending!r}")
    file_id = str(raw["BACS_HDR1_FILE_IDENTIFIER"])
    if len(file_id.replace("{sun}", "123456")) != 17 or not file_id.isascii():
        raise ConfigError(
            "BACS_HDR1_FILE_IDENTIFIER must be 17 characters once {sun} is replaced by "
            f"the 6-digit service user number, got {file_id!r}"
        )
    hdr2 = str(raw["BACS_HDR2_CONTENTS"]).rstrip()
    if len(hdr2) > 46 or not (hdr2.isascii() and hdr2.isprintable()):
        raise ConfigError(f"BACS_HDR2_CONTENTS must be at most 46 characters, got {hdr2!r}")
    party = str(raw["BACS_UHL1_RECEIVING_PARTY"]).rstrip()
    if len(party) > 10 or not (party.isascii() and party.isprintable()):
        raise ConfigError(f"BACS_UHL1_RECEIVING_PARTY must be at most 10 characters, got {party!r}")
    return {
        "BACS_FILE_LINE_ENDING": ending,
        "BACS_HDR1_FILE_IDENTIFIER": file_id,
        "BACS_HDR2_CONTENTS": hdr2,
        "BACS_UHL1_RECEIVING_PARTY": party,
    }


def _bank_details_keys(raw: str, app_env: str, secret_key: str) -> tuple[str, ...]:
    """Like TOTP_ENCRYPTION_KEYS, and never the same derived key: a leak of one
    setting must not open the other's values."""
    keys = fernet_keys("BANK_DETAILS_ENCRYPTION_KEYS", raw, "payers' bank details")
    if keys:
        return keys
    if app_env == "production":
        raise ConfigError(
            "BANK_DETAILS_ENCRYPTION_KEYS is not set: production needs its own key to "
            "encrypt payers' bank details"
        )
    return (derived_fernet_key(secret_key, b"council-recovery: bank details (development only)"),)


def _default(name: str) -> str:
    return next(s.default for s in BACS_SETTINGS if s.name == name)


def bacs_demo_settings(config: dict[str, object]):
    """(name, problem, remedy) for each Bacs setting production must not run on."""
    for name, what in (
        ("BACS_SERVICE_USER_NUMBER", "the council's Bacs service user number"),
        ("BACS_SORT_CODE", "the sort code of the council's Direct Debit collection account"),
        ("BACS_ACCOUNT_NUMBER", "the council's Direct Debit collection account number"),
        ("BACS_SERVICE_USER_NAME", "the service user name Bacs registered for the council"),
        ("BACS_ACCOUNT_NAME", "the name of the council's collection account"),
    ):
        demo = _default(name)
        value = str(config.get(name, ""))
        if value and (value == demo or _digits(value) == _digits(demo)):
            yield name, f"is the demo's ({value})", f"set {name} to {what}"
