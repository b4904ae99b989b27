"""Settings from environment variables.

Every default runs the embedded demo (`make run`): SQLite under instance/,
an embedded Redis on 127.0.0.1:6390 and local stand-ins for Stripe, Twilio and
SMTP. Production (APP_ENV=production) refuses to start on the defaults that
would be unsafe there.

`SETTINGS` is the single list of variables; the README table is checked
against it by a test, so a new setting cannot go undocumented.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from shared.config_bacs import BACS_SETTINGS, bacs_config
from shared.config_messages import MESSAGE_SETTINGS, messages_config
from shared.config_types import (
    NEW_FERNET_KEY,
    ConfigError,
    Setting,
    derived_fernet_key,
    fernet_keys,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = PROJECT_ROOT / "instance"

DEFAULT_SECRET_KEY = "dev-only-insecure-secret-key"

__all__ = ["ConfigError", "Setting", "SETTINGS", "load_config"]


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "APP_ENV",
        "development",
        "development, test or production; production refuses unsafe defaults",
    ),
    Setting(
        "SECRET_KEY",
        DEFAULT_SECRET_KEY,
        "signs sessions and CSRF tokens; must be set in production",
    ),
    Setting(
        "DATABASE_URL",
        "sqlite:///instance/recovery.db",
        "SQLAlchemy URL; postgresql://... in production",
    ),
    Setting(
        "MIGRATION_DATABASE_URL",
        "",
        "PostgreSQL URL of the role that owns the tables, used only by `flask db upgrade` "
        "(and `db grant-runtime`), which then grants DATABASE_URL's role what the app needs; "
        "empty means DATABASE_URL's role does both (SQLite, the demo)",
    ),
    Setting(
        "REDIS_URL",
        "redis://127.0.0.1:6390/0",
        "Redis for RQ queues (the embedded one under make run)",
    ),
    Setting(
        "COUNCIL_NAME", "Borsetshire County Council", "shown in page headers, letters and PDFs"
    ),
    Setting(
        "COUNCIL_PHONE", "0300 123 4567", "the recovery team's phone number shown to the public"
    ),
    Setting(
        "COUNCIL_EMAIL", "income.recovery@borsetshire.example", "the recovery team's email address"
    ),
    # What the council's invoices and credit notes print (templates/pdf/).
    Setting(
        "COUNCIL_ADDRESS",
        "Income Recovery Team|County Hall|Borchester|BC1 1AA",
        "the council's postal address on invoices, credit notes and remittance slips, "
        'its lines separated by "|"',
    ),
    Setting(
        "COUNCIL_VAT_NUMBER",
        "GB999999973",
        "the council's VAT registration number on invoices and credit notes: GB and 9 digits",
    ),
    Setting(
        "COUNCIL_BANK_ACCOUNT_NAME",
        "Borsetshire CC Income",
        "the name on the bank account debtors pay by transfer, printed on invoices",
    ),
    Setting(
        "COUNCIL_BANK_SORT_CODE",
        "00-00-00",
        "the sort code of that bank account (6 digits, like 20-00-00)",
    ),
    Setting(
        "COUNCIL_BANK_ACCOUNT_NUMBER",
        "00000000",
        "the number of that bank account (8 digits)",
    ),
    Setting(
        "PUBLIC_BASE_URL",
        "http://127.0.0.1:5000",
        "the portal's public address, used in links sent out",
    ),
    Setting(
        "TRUSTED_PROXY_HOPS",
        "0",
        "how many reverse proxies set X-Forwarded-For/-Proto in front of the app",
    ),
    Setting("SESSION_IDLE_MINUTES", "30", "idle minutes before a signed-in session ends"),
    Setting(
        "STAFF_SESSION_MAX_HOURS",
        "12",
        "hours after signing in that a back-office session ends, however busy",
    ),
    Setting(
        "PORTAL_SESSION_MAX_HOURS",
        "2",
        "hours after signing in that a portal session ends, however busy",
    ),
    Setting(
        "STRIPE_SECRET_KEY",
        "sk_test_local",
        "Stripe secret key; the default talks to the local stand-in",
    ),
    Setting(
        "STRIPE_API_BASE", "http://127.0.0.1:8420", "Stripe API address; empty means api.stripe.com"
    ),
    Setting(
        "STRIPE_WEBHOOK_SECRET", "whsec_local_development", "secret that signs Stripe webhooks"
    ),
    Setting("TWILIO_ACCOUNT_SID", "AClocal00000000000000000000000000", "Twilio account SID"),
    Setting(
        "TWILIO_AUTH_TOKEN",
        "local-twilio-token",
        "Twilio auth token; also verifies status callbacks",
    ),
    Setting(
        "TWILIO_FROM_NUMBER", "+447700900000", "sender number or alphanumeric sender id for SMS"
    ),
    Setting(
        "TWILIO_API_BASE", "http://127.0.0.1:8430", "Twilio API address; empty means api.twilio.com"
    ),
    Setting("SMTP_HOST", "127.0.0.1", "SMTP server for email"),
    Setting("SMTP_PORT", "8025", "SMTP port (the local capture server under make run)"),
    Setting("SMTP_USERNAME", "", "SMTP user, if the server needs one"),
    Setting("SMTP_PASSWORD", "", "SMTP password, if the server needs one"),
    Setting("SMTP_STARTTLS", "false", "true to upgrade the SMTP connection with STARTTLS"),
    Setting(
        "MAIL_FROM",
        "Borsetshire Income Recovery <no-reply@borsetshire.example>",
        "From: address on email",
    ),
    Setting(
        "PLAN_MISSED_TOLERANCE_DAYS",
        "7",
        "days after an instalment's due date before it counts as missed and is reminded",
    ),
    Setting(
        "PLAN_DUE_REMINDER_DAYS",
        "3",
        "days before a card-paid plan instalment is due that the debtor is sent a reminder "
        "with a link to pay",
    ),
    Setting(
        "PLAN_MISSES_TO_BREAK",
        "2",
        "missed instalments that break a payment plan (its debts return to recovery)",
    ),
    Setting(
        "APPROVAL_LIMIT_PERIOD_MONTHS",
        "12",
        "months over which an officer's write-offs, credit notes and refunds on one account "
        "add up against their delegated limit",
    ),
    Setting(
        "STAFF_LIMIT_CEILING_PENCE",
        "500000",
        "the highest delegated refund or write-off limit (in pence) one administrator may "
        "set alone; raising a limit above it waits for a second administrator's approval",
    ),
    Setting(
        "TOTP_ENCRYPTION_KEYS",
        "",
        "comma-separated Fernet keys that encrypt staff authenticator secrets at rest: the "
        "first encrypts, every one decrypts; must be set in production (empty derives a "
        "development key from SECRET_KEY)",
    ),
    # The daily journal to the general ledger (shared/domain/journal.py, docs/journal.md).
    Setting(
        "GL_DEBTORS_CONTROL_CODE",
        "B4010",
        "GL code of the sundry debtors control account the journal debits and credits",
    ),
    Setting("GL_VAT_OUTPUT_CODE", "B6210", "GL code of output VAT (VAT on invoices)"),
    Setting("GL_BANK_CODE", "B1010", "GL code of the bank: transfers, cheques, cash"),
    Setting("GL_CARD_CLEARING_CODE", "B1050", "GL code of card payments clearing"),
    Setting("GL_DIRECT_DEBIT_CLEARING_CODE", "B1060", "GL code of Direct Debit clearing"),
    Setting("GL_WRITE_OFF_CODE", "R8200", "GL code write-offs are debited to (bad debts)"),
    Setting(
        "GL_SUSPENSE_CODE",
        "B9999",
        "GL suspense code: income of invoices with no income code, and what does not pair",
    ),
    *BACS_SETTINGS,
    *MESSAGE_SETTINGS,
)

GL_CODE_SETTINGS = (
    "GL_DEBTORS_CONTROL_CODE",
    "GL_VAT_OUTPUT_CODE",
    "GL_BANK_CODE",
    "GL_CARD_CLEARING_CODE",
    "GL_DIRECT_DEBIT_CLEARING_CODE",
    "GL_WRITE_OFF_CODE",
    "GL_SUSPENSE_CODE",
)

_ENVS = {"development", "test", "production"}


def _resolve_sqlite_path(url: str) -> str:
    """Make a relative sqlite path absolute against the project root.

    Relative paths would otherwise depend on the working directory of whichever
    process (web, worker, CLI) opened the database.
    """
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != "sqlite:///:memory:":
        relative = url[len(prefix) :]
        return prefix + str(PROJECT_ROOT / relative)
    return url


def normalise_database_url(url: str) -> str:
    """Accept the usual spellings and pick the driver we ship (psycopg 3)."""
    url = url.strip()
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    scheme = url.split(":", 1)[0] if ":" in url else ""
    if scheme not in {"sqlite", "postgresql+psycopg"}:
        raise ConfigError(
            f"DATABASE_URL must start with sqlite:/// or postgresql://, got {redact_url(url)!r}"
        )
    if scheme == "postgresql+psycopg":
        parts = urlsplit(url)
        if not parts.hostname and "host=" not in (parts.query or ""):
            raise ConfigError(
                "DATABASE_URL has no host: expected postgresql://user:password@host:port/dbname"
            )
        if not parts.path.strip("/"):
            raise ConfigError(
                "DATABASE_URL has no database name: expected postgresql://user@host/dbname"
            )
    return _resolve_sqlite_path(url)


def _migration_database_url(raw: str, runtime: str) -> str | None:
    """The owner role's URL for migrations (shared/db_roles.py), or None: DATABASE_URL's."""
    if not raw.strip():
        return None
    try:
        url = normalise_database_url(raw)
    except ConfigError as exc:
        raise ConfigError(f"MIGRATION_{exc}") from None
    if not url.startswith("postgresql") or not runtime.strip().startswith("postgres"):
        raise ConfigError(
            "MIGRATION_DATABASE_URL is for PostgreSQL: set it, like DATABASE_URL, to a "
            "postgresql:// URL (SQLite has no roles; leave it empty)"
        )
    return url


def validate_redis_url(url: str) -> str:
    from redis.connection import parse_url

    url = url.strip()
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(
            f"REDIS_URL must start with redis://, rediss:// or unix://, got {redact_url(url)!r}"
        )
    try:
        parsed = parse_url(url)
        if "port" in parsed:
            int(parsed["port"])
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"REDIS_URL is malformed ({exc}): {redact_url(url)!r}") from None
    if url.startswith(("redis://", "rediss://")) and not urlsplit(url).hostname:
        raise ConfigError(f"REDIS_URL has no host: {redact_url(url)!r}")
    return url


def redact_url(url: str) -> str:
    """Hide the password in a URL so it can go in an error message or log."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url


def _int(name: str, raw: str, minimum: int = 0) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _digits(text: str) -> str:
    return "".join(text.replace("-", " ").split())


def _council_documents(raw: dict) -> dict[str, object]:
    """What invoices and credit notes print about the council, checked at start-up:
    a malformed VAT number or bank account on every invoice would send payments astray."""
    lines = [line.strip() for line in str(raw["COUNCIL_ADDRESS"]).split("|") if line.strip()]
    if not lines:
        raise ConfigError(
            'COUNCIL_ADDRESS is empty: set the council\'s postal address, lines separated by "|"'
        )
    vat = _digits(str(raw["COUNCIL_VAT_NUMBER"])).upper()
    if not (len(vat) == 11 and vat.startswith("GB") and vat[2:].isascii() and vat[2:].isdigit()):
        raise ConfigError(
            f"COUNCIL_VAT_NUMBER must be GB and 9 digits, like GB123456789, "
            f"got {raw['COUNCIL_VAT_NUMBER']!r}"
        )
    sort_code = _digits(str(raw["COUNCIL_BANK_SORT_CODE"]))
    if not (len(sort_code) == 6 and sort_code.isascii() and sort_code.isdigit()):
        raise ConfigError(
            f"COUNCIL_BANK_SORT_CODE must be 6 digits, like 20-00-00, "
            f"got {raw['COUNCIL_BANK_SORT_CODE']!r}"
        )
    account = _digits(str(raw["COUNCIL_BANK_ACCOUNT_NUMBER"]))
    if not (len(account) == 8 and account.isascii() and account.isdigit()):
        raise ConfigError(
            f"COUNCIL_BANK_ACCOUNT_NUMBER must be 8 digits, "
            f"got {raw['COUNCIL_BANK_ACCOUNT_NUMBER']!r}"
        )
    name = " ".join(str(raw["COUNCIL_BANK_ACCOUNT_NAME"]).split())
    if not name:
        raise ConfigError("COUNCIL_BANK_ACCOUNT_NAME is empty: set the name on the bank account")
    return {
        "COUNCIL_ADDRESS": str(raw["COUNCIL_ADDRESS"]),
        "COUNCIL_ADDRESS_LINES": lines,
        "COUNCIL_VAT_NUMBER": vat,
        "COUNCIL_BANK_ACCOUNT_NAME": name,
        "COUNCIL_BANK_SORT_CODE": f"{sort_code[:2]}-{sort_code[2:4]}-{sort_code[4:]}",
        "COUNCIL_BANK_ACCOUNT_NUMBER": account,
    }


def _bool(name: str, raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _totp_encryption_keys(raw: str, app_env: str, secret_key: str) -> tuple[str, ...]:
    """The Fernet keys for staff authenticator secrets, first one current.

    Outside production an empty setting derives a key from SECRET_KEY, so the demo
    and the tests need no set-up. Production never derives one: the key is kept and
    rotated on its own, so a leaked SECRET_KEY does not also open the secrets, and
    changing SECRET_KEY does not make every authenticator app unusable.
    """
    keys = fernet_keys("TOTP_ENCRYPTION_KEYS", raw, "staff authenticator secrets")
    if keys:
        return keys
    if app_env == "production":
        raise ConfigError(
            "TOTP_ENCRYPTION_KEYS is not set: production needs its own key to encrypt "
            f"staff authenticator secrets ({NEW_FERNET_KEY})"
        )
    return (
        derived_fernet_key(
            secret_key, b"council-recovery: staff TOTP secret encryption (development only)"
        ),
    )


def _gl_code(name: str, raw: str) -> str:
    code = raw.strip()
    if not code or len(code) > 20 or any(c in code for c in ',"\r\n'):
        raise ConfigError(
            f"{name} must be a general-ledger code of 1 to 20 characters with no comma, "
            f"quote or line break, got {raw!r}"
        )
    return code


def load_config(environ: dict[str, str] | None = None, **overrides: object) -> dict[str, object]:
    """Build the Flask config mapping from the environment (or the given dict).

    `overrides` win over the environment; tests use them.
    """
    env = dict(os.environ if environ is None else environ)
    raw = {s.name: env.get(s.name, s.default) for s in SETTINGS}
    for key, value in overrides.items():
        if key in raw:
            raw[key] = value  # type: ignore[assignment]

    app_env = str(raw["APP_ENV"]).strip().lower()
    if app_env not in _ENVS:
        raise ConfigError(f"APP_ENV must be one of {', '.join(sorted(_ENVS))}, got {app_env!r}")
    secret = str(raw["SECRET_KEY"])
    if app_env == "production":
        if secret == DEFAULT_SECRET_KEY:
            raise ConfigError(
                "SECRET_KEY is the development default: set a long random SECRET_KEY in production"
            )
        if len(secret) < 32:
            raise ConfigError(
                "SECRET_KEY is too short for production: use at least 32 random characters"
            )

    config: dict[str, object] = {
        "APP_ENV": app_env,
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(str(raw["DATABASE_URL"])),
        "MIGRATION_DATABASE_URI": _migration_database_url(
            str(raw["MIGRATION_DATABASE_URL"]), str(raw["DATABASE_URL"])
        ),
        "REDIS_URL": validate_redis_url(str(raw["REDIS_URL"])),
        "COUNCIL_NAME": raw["COUNCIL_NAME"],
        "COUNCIL_PHONE": raw["COUNCIL_PHONE"],
        "COUNCIL_EMAIL": raw["COUNCIL_EMAIL"],
        **_council_documents(raw),
        "PUBLIC_BASE_URL": str(raw["PUBLIC_BASE_URL"]).rstrip("/"),
        "TRUSTED_PROXY_HOPS": _int("TRUSTED_PROXY_HOPS", str(raw["TRUSTED_PROXY_HOPS"]), 0),
        "SESSION_IDLE_MINUTES": _int("SESSION_IDLE_MINUTES", str(raw["SESSION_IDLE_MINUTES"]), 1),
        "STAFF_SESSION_MAX_HOURS": _int(
            "STAFF_SESSION_MAX_HOURS", str(raw["STAFF_SESSION_MAX_HOURS"]), 1
        ),
        "PORTAL_SESSION_MAX_HOURS": _int(
            "PORTAL_SESSION_MAX_HOURS", str(raw["PORTAL_SESSION_MAX_HOURS"]), 1
        ),
        "STRIPE_SECRET_KEY": raw["STRIPE_SECRET_KEY"],
        "STRIPE_API_BASE": raw["STRIPE_API_BASE"],
        "STRIPE_WEBHOOK_SECRET": raw["STRIPE_WEBHOOK_SECRET"],
        "TWILIO_ACCOUNT_SID": raw["TWILIO_ACCOUNT_SID"],
        "TWILIO_AUTH_TOKEN": raw["TWILIO_AUTH_TOKEN"],
        "TWILIO_FROM_NUMBER": raw["TWILIO_FROM_NUMBER"],
        "TWILIO_API_BASE": raw["TWILIO_API_BASE"],
        "SMTP_HOST": raw["SMTP_HOST"],
        "SMTP_PORT": _int("SMTP_PORT", str(raw["SMTP_PORT"]), 1),
        "SMTP_USERNAME": raw["SMTP_USERNAME"],
        "SMTP_PASSWORD": raw["SMTP_PASSWORD"],
        "SMTP_STARTTLS": _bool("SMTP_STARTTLS", str(raw["SMTP_STARTTLS"])),
        "MAIL_FROM": raw["MAIL_FROM"],
        "PLAN_MISSED_TOLERANCE_DAYS": _int(
            "PLAN_MISSED_TOLERANCE_DAYS", str(raw["PLAN_MISSED_TOLERANCE_DAYS"]), 0
        ),
        "PLAN_DUE_REMINDER_DAYS": _int(
            "PLAN_DUE_REMINDER_DAYS", str(raw["PLAN_DUE_REMINDER_DAYS"]), 0
        ),
        "PLAN_MISSES_TO_BREAK": _int("PLAN_MISSES_TO_BREAK", str(raw["PLAN_MISSES_TO_BREAK"]), 1),
        "APPROVAL_LIMIT_PERIOD_MONTHS": _int(
            "APPROVAL_LIMIT_PERIOD_MONTHS", str(raw["APPROVAL_LIMIT_PERIOD_MONTHS"]), 1
        ),
        "STAFF_LIMIT_CEILING_PENCE": _int(
            "STAFF_LIMIT_CEILING_PENCE", str(raw["STAFF_LIMIT_CEILING_PENCE"]), 0
        ),
        "TOTP_ENCRYPTION_KEYS": _totp_encryption_keys(
            str(raw["TOTP_ENCRYPTION_KEYS"]), app_env, secret
        ),
        **{name: _gl_code(name, str(raw[name])) for name in GL_CODE_SETTINGS},
        **bacs_config(raw, app_env, secret),
        **messages_config(raw, str(INSTANCE_DIR)),
        # Sessions: never readable by scripts, not sent cross-site; Secure
        # whenever we are not on the plain-HTTP local demo.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": app_env == "production",
        "SQLALCHEMY_ENGINE_OPTIONS": _engine_options(str(raw["DATABASE_URL"])),
        "TESTING": app_env == "test",
    }
    # Anything else the caller passed (e.g. WTF_CSRF_ENABLED in a unit test).
    for key, value in overrides.items():
        if key not in raw:
            config[key] = value
    if app_env == "production":
        from shared.config_production import refuse_demo_settings

        refuse_demo_settings(config)
    return config


def _default(name: str) -> str:
    return next(s.default for s in SETTINGS if s.name == name)


def _engine_options(url: str) -> dict[str, object]:
    if url.startswith(("postgres://", "postgresql")):
        # Fail fast with a clear message instead of hanging on an unreachable host.
        return {"pool_pre_ping": True, "connect_args": {"connect_timeout": 5}}
    return {"connect_args": {"timeout": 15}}
