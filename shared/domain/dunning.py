"""The recovery ladder's run rules (pure: no database, no Flask).

A run looks at every open, overdue invoice of a department with a policy. Its next
automatic stage (the first stage of the policy after the one it is at that a run may
move it to) is due when the stage's days after the due date have passed. A due
invoice is then either moved or skipped, and a skip has ONE reason: the first of
SKIP_REASONS that applies, in that order (a deceased debtor's debt in a dispute is
"deceased": the most serious fact routes it to the right officer).

Which message a debtor gets: one per debtor per run, from the highest stage any of
their invoices reaches in the run; a person whose debt reaches the pre-action stage
gets the Letter of Claim (Pre-Action Protocol for Debt Claims) instead of the
department's letter before action.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

# The ladder in order (shared.models.RecoveryStage values, "none" first).
LADDER = (
    "none",
    "reminder",
    "final_demand",
    "pre_action",
    "referred_legal",
    "referred_enforcement",
)
PRE_ACTION = "pre_action"
LETTER_OF_CLAIM_TEMPLATE = "letter_of_claim"
LETTER_OF_CLAIM_CHANNELS = ("letter",)
LETTER_OF_CLAIM_DOCUMENT = "letter_of_claim_enclosures"
# The Pre-Action Protocol gives the debtor 30 days from the letter to reply.
LETTER_OF_CLAIM_REPLY_DAYS = 30

STAGE_WORDS = {
    "none": "Not started",
    "reminder": "Reminder",
    "final_demand": "Final demand",
    "pre_action": "Letter before action",
    "referred_legal": "Referred to legal",
    "referred_enforcement": "Referred to enforcement agent",
}
LETTER_OF_CLAIM_WORDS = "Letter of Claim"

# Why a due debt was not moved, in priority order (the first that applies is THE
# reason). Codes are stored in the run's summary; the words are shown.
SKIP_REASONS: tuple[tuple[str, str], ...] = (
    ("deceased", "Debtor has died"),
    ("breathing_space", "Breathing Space"),
    ("hold_dispute", "On hold: dispute"),
    ("hold_query", "On hold: query"),
    ("hold_promise_to_pay", "On hold: promise to pay"),
    ("hold_vulnerability_review", "On hold: vulnerability review"),
    ("payment_plan", "Payment plan"),
    ("direct_debit", "Direct Debit collecting it"),
    ("claim_reply", "Letter of Claim reply awaiting an officer"),
    ("statute_barred", "Statute-barred"),
    ("below_minimum", "Below the minimum balance"),
    ("already_at_stage", "Already at this stage"),
    # After the rules above, the contact rules may still refuse the debtor's one
    # message; then none of their debts move (a later run tries again).
    ("contact_cap", "Weekly contact limit reached"),
    ("no_channel", "No way to reach the debtor"),
    ("no_template", "No template for the stage's channels"),
    ("contacted_today", "Already sent this run's message"),
    ("contact_refused", "Refused by the contact rules"),
)
SKIP_WORDS = dict(SKIP_REASONS)
SKIP_ORDER = tuple(code for code, _ in SKIP_REASONS)

# Holds, by kind, as a rank: the lowest rank in force is the one that counts.
HOLD_RANKS = {
    "deceased": 1,
    "breathing_space": 2,
    "dispute": 3,
    "query": 4,
    "promise_to_pay": 5,
    "vulnerability_review": 6,
}
_HOLD_REASON_BY_RANK = {
    1: "deceased",
    2: "breathing_space",
    3: "hold_dispute",
    4: "hold_query",
    5: "hold_promise_to_pay",
    6: "hold_vulnerability_review",
}

# The contact rules' refusals (shared.domain.contact_rules REFUSED_*, compose's
# REFUSED_NO_TEMPLATE) as skip codes.
_REFUSALS = {
    "weekly contact limit reached": "contact_cap",
    "no way to reach the debtor by the channels allowed": "no_channel",
    "no template for the channels allowed": "no_template",
    "in Breathing Space": "breathing_space",
    "the debtor has died": "deceased",
}


def stage_rank(stage: str) -> int:
    return LADDER.index(stage)


@dataclass(frozen=True)
class StageRule:
    """A rung of a department's ladder, as a run needs it."""

    stage: str
    days_after_due: int | None  # None: only an officer moves a debt here
    channels: tuple[str, ...] = ()
    template_key: str | None = None


@dataclass(frozen=True)
class Step:
    """Where a run may move an invoice of a department from `from_stage`: to
    `to_stage`, once the due date is on or before `due_by` (and, when the invoice was
    moved before, the previous move was on or before `moved_by`)."""

    from_stage: str
    to_stage: str
    due_by: date
    moved_by: date | None  # None: no gap to keep (the debt was at no stage)


def next_automatic_stage(rules: Sequence[StageRule], current: str) -> StageRule | None:
    """The first stage of the policy after `current` that a run may move a debt to
    (None: the debt is at or past the last automatic stage). A policy stage at or
    below the current one on the ladder never counts: a run never moves a debt down."""
    here = stage_rank(current)
    ordered = sorted(rules, key=lambda r: stage_rank(r.stage))
    for rule in ordered:
        if stage_rank(rule.stage) <= here:
            continue
        if rule.days_after_due is not None:
            return rule
        # An officer-only stage (legal, enforcement) comes first: nothing after it is
        # a run's to take.
        return None
    return None


def steps_for(rules: Sequence[StageRule], on: date) -> list[Step]:
    """Every move a run on `on` may make under one policy, by the stage a debt is at.

    Due: due date + the next stage's days on or before `on`. The gap the policy keeps
    between stages is kept too, counted from when the debt last moved: a debt found
    late at no stage gets the reminder, not the final demand the day after."""
    steps: list[Step] = []
    days_at = {r.stage: r.days_after_due for r in rules}
    for current in LADDER:
        target = next_automatic_stage(rules, current)
        if target is None or target.days_after_due is None:
            continue
        due_by = on - timedelta(days=target.days_after_due)
        moved_by = None
        current_days = days_at.get(current)
        if current != "none" and current_days is not None:
            moved_by = on - timedelta(days=max(0, target.days_after_due - current_days))
        steps.append(Step(current, target.stage, due_by, moved_by))
    return steps


@dataclass(frozen=True)
class Facts:
    """What the database says about one due invoice on the run date."""

    account_deceased: bool
    account_in_breathing_space: bool
    hold_rank: int | None  # the lowest HOLD_RANKS of the holds in force covering it
    in_plan: bool
    collected_by_direct_debit: bool
    claim_reply_awaiting: bool
    statute_barred: bool
    department_outstanding_pence: int  # the account's open debt with the department
    minimum_balance_pence: int
    already_at_stage: bool


def skip_reason(facts: Facts) -> str | None:
    """The one reason a due invoice is not moved, or None: move it."""
    rank = facts.hold_rank
    if facts.account_deceased or rank == HOLD_RANKS["deceased"]:
        return "deceased"
    if facts.account_in_breathing_space or rank == HOLD_RANKS["breathing_space"]:
        return "breathing_space"
    if rank is not None:
        return _HOLD_REASON_BY_RANK[rank]
    if facts.in_plan:
        return "payment_plan"
    if facts.collected_by_direct_debit:
        return "direct_debit"
    if facts.claim_reply_awaiting:
        return "claim_reply"
    if facts.statute_barred:
        return "statute_barred"
    if facts.department_outstanding_pence < facts.minimum_balance_pence:
        return "below_minimum"
    if facts.already_at_stage:
        return "already_at_stage"
    return None


def refusal_reason(refused: str | None, *, duplicate: bool = False) -> str:
    """The skip code for the contact rules' refusal of a debtor's message."""
    if duplicate:
        return "contacted_today"
    return _REFUSALS.get(refused or "", "contact_refused")


@dataclass(frozen=True, slots=True)
class Move:
    """An invoice a run moves (before the debtor's message is written)."""

    invoice_id: int
    account_id: int
    department_id: int
    number: str
    due_date: date
    from_stage: str
    to_stage: str
    outstanding_pence: int


@dataclass(frozen=True)
class MessagePlan:
    """The one message a debtor gets for a run's moves."""

    department_id: int  # whose stage decided it
    stage: str
    template_key: str | None  # None: the stage sends nothing
    channels: tuple[str, ...]
    letter_of_claim: bool


def message_for(
    moves: Sequence[Move], rules: Mapping[int, Mapping[str, StageRule]], *, is_person: bool
) -> MessagePlan:
    """The message for one debtor's moves: the highest stage reached that sends one
    decides (the department with the most money at that stage, then the lowest id)."""
    best: tuple | None = None
    for department_id, stage in {(m.department_id, m.to_stage) for m in moves}:
        rule = rules.get(department_id, {}).get(stage)
        sends = rule is not None and rule.template_key is not None and bool(rule.channels)
        value = sum(
            m.outstanding_pence
            for m in moves
            if m.department_id == department_id and m.to_stage == stage
        )
        key = (sends, stage_rank(stage), value, -department_id)
        if best is None or key > best[0]:
            best = (key, department_id, stage, rule if sends else None)
    assert best is not None, "a message needs at least one move"
    _, department_id, stage, rule = best
    if rule is None:
        return MessagePlan(department_id, stage, None, (), False)
    if stage == PRE_ACTION and is_person:
        return MessagePlan(
            department_id, stage, LETTER_OF_CLAIM_TEMPLATE, LETTER_OF_CLAIM_CHANNELS, True
        )
    return MessagePlan(department_id, stage, rule.template_key, tuple(rule.channels), False)


_CHANNEL_WORDS = {"letter": "letter", "email": "email", "sms": "text"}


def timeline_summary(
    stage: str, channel: str | None, numbers: Sequence[str], amount: str, *, letter_of_claim: bool
) -> str:
    """The timeline line for a debtor's moves. Nothing is called sent here: the outbox
    records sending; a letter waits for the print batch."""
    what = LETTER_OF_CLAIM_WORDS if letter_of_claim else STAGE_WORDS[stage]
    shown = ", ".join(numbers[:8]) + (f" and {len(numbers) - 8} more" if len(numbers) > 8 else "")
    if channel is None:
        return f"Moved to {what.lower()} (this stage sends no message): {shown} ({amount})"
    if channel == "letter":
        noun = "" if letter_of_claim else " letter"
        return f"{what}{noun} queued for the print batch: {shown} ({amount})"
    return f"{what} {_CHANNEL_WORDS[channel]} queued to send: {shown} ({amount})"


# --- what a run did, by department and stage ---------------------------------------------


@dataclass
class StageTally:
    moves: int = 0
    value_pence: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    skipped_value_pence: int = 0

    def as_dict(self) -> dict:
        return {
            "moves": self.moves,
            "value_pence": self.value_pence,
            "skipped": dict(self.skipped),
            "skipped_value_pence": self.skipped_value_pence,
        }


@dataclass
class Tally:
    """Counts of a run (or a preview), kept as JSON on the run between chunks."""

    stages: dict[tuple[int, str], StageTally] = field(default_factory=dict)
    messages: dict[str, int] = field(default_factory=dict)  # by channel
    debtors_moved: int = 0
    letters_of_claim: int = 0
    # Late Payment Act charges posted on the moved debts (compensation and interest).
    charges: int = 0
    charges_pence: int = 0

    def _at(self, department_id: int, stage: str) -> StageTally:
        return self.stages.setdefault((department_id, stage), StageTally())

    def move(self, department_id: int, stage: str, pence: int) -> None:
        tally = self._at(department_id, stage)
        tally.moves += 1
        tally.value_pence += pence

    def skip(self, department_id: int, stage: str, reason: str, pence: int) -> None:
        tally = self._at(department_id, stage)
        tally.skipped[reason] = tally.skipped.get(reason, 0) + 1
        tally.skipped_value_pence += pence

    def message(self, channel: str | None) -> None:
        self.debtors_moved += 1
        if channel is not None:
            self.messages[channel] = self.messages.get(channel, 0) + 1

    @property
    def moves(self) -> int:
        return sum(t.moves for t in self.stages.values())

    @property
    def value_pence(self) -> int:
        return sum(t.value_pence for t in self.stages.values())

    def skipped(self) -> dict[str, int]:
        """Skips by reason over every department and stage, in SKIP_REASONS order."""
        totals: dict[str, int] = {}
        for tally in self.stages.values():
            for reason, count in tally.skipped.items():
                totals[reason] = totals.get(reason, 0) + count
        return {code: totals[code] for code in SKIP_ORDER if code in totals}

    def as_dict(self) -> dict:
        return {
            "stages": [
                {"department_id": d, "stage": s, **t.as_dict()}
                for (d, s), t in sorted(self.stages.items(), key=lambda i: _stage_key(i[0]))
            ],
            "messages": dict(self.messages),
            "debtors_moved": self.debtors_moved,
            "letters_of_claim": self.letters_of_claim,
            "charges": self.charges,
            "charges_pence": self.charges_pence,
        }

    @classmethod
    def from_dict(cls, data: Mapping | None) -> Tally:
        tally = cls()
        for row in (data or {}).get("stages", []):
            tally.stages[int(row["department_id"]), str(row["stage"])] = StageTally(
                int(row["moves"]),
                int(row["value_pence"]),
                {str(k): int(v) for k, v in row["skipped"].items()},
                int(row.get("skipped_value_pence", 0)),
            )
        tally.messages = {str(k): int(v) for k, v in (data or {}).get("messages", {}).items()}
        tally.debtors_moved = int((data or {}).get("debtors_moved", 0))
        tally.letters_of_claim = int((data or {}).get("letters_of_claim", 0))
        tally.charges = int((data or {}).get("charges", 0))
        tally.charges_pence = int((data or {}).get("charges_pence", 0))
        return tally


def _stage_key(key: tuple[int, str]) -> tuple[int, int]:
    return key[0], stage_rank(key[1])


def chunks(ids: Iterable[int], size: int) -> list[list[int]]:
    """`ids` (sorted) in runs of `size`."""
    ordered = sorted(set(ids))
    return [ordered[i : i + size] for i in range(0, len(ordered), size)]
