"""A department's recovery ladder as an administrator sets it: which stages, when, by
which channels, saying what (pure: no database, no Flask).

A debt climbs the ladder in one order: reminder, final demand, pre-action (a letter
before action, or for individuals a Letter of Claim), then legal and enforcement,
which only an officer moves a debt to (a court claim or an enforcement agent is a
person's decision, never a run's). A stage with days after the due date is one a
run moves debts to when they are that late; the days must climb with the ladder, or
a later stage would be reached before an earlier one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

REMINDER = "reminder"
FINAL_DEMAND = "final_demand"
PRE_ACTION = "pre_action"
REFERRED_LEGAL = "referred_legal"
REFERRED_ENFORCEMENT = "referred_enforcement"

# The ladder, bottom rung first (shared.models.RecoveryStage without "none").
LADDER: tuple[str, ...] = (REMINDER, FINAL_DEMAND, PRE_ACTION, REFERRED_LEGAL, REFERRED_ENFORCEMENT)
OFFICER_ONLY = frozenset({REFERRED_LEGAL, REFERRED_ENFORCEMENT})
STAGE_WORDS = {
    REMINDER: "Reminder",
    FINAL_DEMAND: "Final demand",
    PRE_ACTION: "Pre-action (letter before action or Letter of Claim)",
    REFERRED_LEGAL: "Referred to legal",
    REFERRED_ENFORCEMENT: "Referred to an enforcement agent",
}

CHANNELS: tuple[str, ...] = ("letter", "email", "sms")
CHANNEL_WORDS = {"letter": "Letter", "email": "Email", "sms": "Text message"}

MAX_DAYS = 3650  # the database's check: ten years after the due date
MAX_MINIMUM_PENCE = 1_000_000  # £10,000: a higher minimum is a typing mistake


@dataclass(frozen=True)
class StageInput:
    """One rung as submitted: days None means only an officer moves a debt to it."""

    stage: str
    days_after_due: int | None
    channels: tuple[str, ...] = ()
    template_key: str | None = None


@dataclass(frozen=True)
class Stage:
    stage: str
    days_after_due: int | None
    channels: tuple[str, ...]
    template_key: str | None


# The ladder a department starts with (DOMAIN.md: reminder +14, final demand +28,
# letter before claim +42, then the officer-only stages).
DEFAULT_MINIMUM_BALANCE_PENCE = 1000
DEFAULT_AUTOMATIC = False
DEFAULT_STAGES: tuple[Stage, ...] = (
    Stage(REMINDER, 14, ("letter", "email", "sms"), "dunning.reminder"),
    Stage(FINAL_DEMAND, 28, ("letter", "email"), "dunning.final_demand"),
    Stage(PRE_ACTION, 42, ("letter",), "dunning.pre_action"),
    Stage(REFERRED_LEGAL, None, (), None),
    Stage(REFERRED_ENFORCEMENT, None, (), None),
)


def field_name(stage: str, part: str) -> str:
    """The form field a stage's problem belongs to: `reminder-days`, `pre_action-channels`."""
    return f"{stage}-{part}"


def policy_problems(
    *,
    minimum_balance_pence: int | None,
    automatic: bool | None,
    stages: Sequence[StageInput],
    template_exists: Callable[[str, str], bool],
) -> dict[str, str]:
    """Each field's problem in GOV.UK words (empty: the ladder will do).

    `template_exists(key, channel)` says whether an English template is stored: a
    Welsh one alone is not enough, because every debtor can fall back to English.
    """
    problems: dict[str, str] = {}
    if (
        minimum_balance_pence is None
        or isinstance(minimum_balance_pence, bool)
        or not isinstance(minimum_balance_pence, int)
    ):
        problems["minimum_balance"] = "Enter the minimum balance in pounds, like 10 or 10.00"
    elif minimum_balance_pence < 0:
        problems["minimum_balance"] = "Minimum balance must be £0 or more"
    elif minimum_balance_pence > MAX_MINIMUM_PENCE:
        problems["minimum_balance"] = "Minimum balance must be £10,000 or less"
    if automatic not in (True, False):
        problems["automatic"] = "Select whether runs are automatic for this department"
    if not stages:
        problems["stages"] = "Choose at least one stage of the ladder"
        return problems

    seen: set[str] = set()
    last_rung = -1
    last_days: tuple[str, int] | None = None
    for given in stages:
        stage = given.stage
        if stage not in LADDER:
            problems["stages"] = f"{stage!r} is not a stage of the recovery ladder"
            continue
        if stage in seen:
            problems["stages"] = f"{STAGE_WORDS[stage]} is in the ladder twice"
            continue
        seen.add(stage)
        rung = LADDER.index(stage)
        if rung < last_rung:
            problems["stages"] = (
                "Put the stages in ladder order: reminder, final demand, pre-action, "
                "legal, enforcement"
            )
        last_rung = max(last_rung, rung)

        days_field = field_name(stage, "days")
        days = given.days_after_due
        if stage in OFFICER_ONLY:
            if days is not None:
                problems[days_field] = (
                    f"{STAGE_WORDS[stage]} is only ever an officer's decision: leave the days empty"
                )
        elif days is not None:
            if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_DAYS:
                problems[days_field] = (
                    f"Days after the due date for {STAGE_WORDS[stage].lower()} must be a whole "
                    f"number from 0 to {MAX_DAYS}"
                )
            else:
                if last_days is not None and days <= last_days[1]:
                    problems[days_field] = (
                        f"{STAGE_WORDS[stage]} must come more days after the due date than "
                        f"{STAGE_WORDS[last_days[0]].lower()} ({last_days[1]} days)"
                    )
                last_days = (stage, days)

        channels_field = field_name(stage, "channels")
        channels = tuple(given.channels)
        unknown = [c for c in channels if c not in CHANNELS]
        if unknown:
            problems[channels_field] = "Choose channels from letter, email and text message"
        elif len(set(channels)) != len(channels):
            problems[channels_field] = "Choose each channel once"
        key = (given.template_key or "").strip() or None
        if key is None:
            if channels and not unknown:
                problems[field_name(stage, "template")] = (
                    f"Choose the template {STAGE_WORDS[stage].lower()} sends, or untick its "
                    "channels"
                )
            continue
        if not channels:
            problems[channels_field] = (
                f"Choose at least one channel for {STAGE_WORDS[stage].lower()}, or choose no "
                "template"
            )
            continue
        if unknown:
            continue
        missing = [c for c in channels if not template_exists(key, c)]
        if missing:
            words = ", ".join(CHANNEL_WORDS[c].lower() for c in missing)
            problems[field_name(stage, "template")] = (
                f"Template {key} has no English {words} version: add it, or untick that channel"
            )
    return problems


def cleaned(stages: Sequence[StageInput]) -> tuple[Stage, ...]:
    """The stages as stored: template keys trimmed, no channels without a template."""
    result = []
    for given in stages:
        key = (given.template_key or "").strip() or None
        result.append(
            Stage(given.stage, given.days_after_due, tuple(given.channels) if key else (), key)
        )
    return tuple(result)
