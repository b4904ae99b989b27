"""Settings for the recovery ladder's messages: contact rules, SMS cost and where
print batches are written (shared/services/messages/, shared/services/dunning/).

Kept beside shared/config.py, which includes them in SETTINGS and load_config.
"""

from __future__ import annotations

from datetime import time

from shared.config_types import ConfigError, Setting

MESSAGE_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "QUIET_HOURS_START",
        "20:00",
        "no collection or notice texts from this time (HH:MM, England); a text written then "
        "waits until the quiet hours end",
    ),
    Setting(
        "QUIET_HOURS_END",
        "08:00",
        "quiet hours for texts end at this time (HH:MM, England)",
    ),
    Setting(
        "QUIET_ON_SUNDAYS",
        "true",
        "whether texts also wait all Sunday (true or false)",
    ),
    Setting(
        "CONTACT_CAP_PER_WEEK",
        "3",
        "most messages asking a debtor for payment in any 7 days (all channels); more wait "
        "for the next run",
    ),
    Setting(
        "SMS_COST_PENCE_PER_SEGMENT",
        "4",
        "what one SMS segment costs the council, in pence (shown when a text template is edited)",
    ),
    Setting(
        "PRINT_BATCH_DIR",
        "",
        "directory the daily print batch's merged PDF and manifest CSV are written to "
        "(empty: instance/print-batches)",
    ),
)


def _time(name: str, raw: str) -> time:
    try:
        hours, minutes = raw.strip().split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise ConfigError(f"{name} must be a time such as 20:00, got {raw!r}") from None


def _whole(name: str, raw: str, minimum: int) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _flag(name: str, raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def messages_config(raw: dict, instance_dir: str) -> dict[str, object]:
    return {
        "QUIET_HOURS_START": _time("QUIET_HOURS_START", str(raw["QUIET_HOURS_START"])),
        "QUIET_HOURS_END": _time("QUIET_HOURS_END", str(raw["QUIET_HOURS_END"])),
        "QUIET_ON_SUNDAYS": _flag("QUIET_ON_SUNDAYS", str(raw["QUIET_ON_SUNDAYS"])),
        "CONTACT_CAP_PER_WEEK": _whole("CONTACT_CAP_PER_WEEK", str(raw["CONTACT_CAP_PER_WEEK"]), 1),
        "SMS_COST_PENCE_PER_SEGMENT": _whole(
            "SMS_COST_PENCE_PER_SEGMENT", str(raw["SMS_COST_PENCE_PER_SEGMENT"]), 0
        ),
        "PRINT_BATCH_DIR": str(raw["PRINT_BATCH_DIR"]).strip() or f"{instance_dir}/print-batches",
    }
