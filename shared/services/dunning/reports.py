"""What dunning runs did, for people: the read objects a preview and a run return, the
CLI's table, and the back office's list of runs and run page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from shared.domain import dunning as rules
from shared.extensions import db
from shared.models import DunningRun, DunningRunStatus, StaffUser
from shared.money import format_gbp
from shared.services.errors import NotFound


@dataclass(frozen=True)
class StageRow:
    department_id: int
    department_name: str
    stage: str
    stage_words: str
    moves: int
    value_pence: int
    skipped: dict[str, int]  # by reason code, in shared.domain.dunning.SKIP_REASONS order
    skipped_value_pence: int


@dataclass(frozen=True)
class Outcome:
    """What a run did or (a preview) would do, by department and stage."""

    rows: list[StageRow]
    moves: int
    value_pence: int
    skipped: dict[str, int]
    debtors: int  # debtors with a move: one message each (less the contact rules' refusals)
    messages: dict[str, int]  # by channel (a run; a preview cannot know)
    letters_of_claim: int
    charges: int = 0  # Late Payment Act charges posted (a run; a preview cannot know)
    charges_pence: int = 0


@dataclass(frozen=True)
class RunPreview:
    on: date
    outcome: Outcome
    departments: list[int]


@dataclass(frozen=True)
class RunResult:
    run_id: int
    on: date
    status: DunningRunStatus
    already_run: bool  # a completed run for the date: nothing was written this time
    outcome: Outcome
    done: int
    total: int


def outcome_of(tally: rules.Tally, names: dict[int, str]) -> Outcome:
    rows = []
    for row in tally.as_dict()["stages"]:
        department_id = row["department_id"]
        rows.append(
            StageRow(
                department_id,
                names.get(department_id, f"Department {department_id}"),
                row["stage"],
                rules.STAGE_WORDS[row["stage"]],
                row["moves"],
                row["value_pence"],
                {c: row["skipped"][c] for c in rules.SKIP_ORDER if c in row["skipped"]},
                row["skipped_value_pence"],
            )
        )
    return Outcome(
        rows,
        tally.moves,
        tally.value_pence,
        tally.skipped(),
        tally.debtors_moved,
        dict(tally.messages),
        tally.letters_of_claim,
        tally.charges,
        tally.charges_pence,
    )


# --- the CLI's table ------------------------------------------------------------------------


def table(outcome: Outcome, *, messages: bool = False) -> str:
    """The outcome as a plain-text table: department, stage, moves, value, skips by reason."""
    if not outcome.rows:
        return "  Nothing is due to move (no department with a recovery ladder has a debt due)."
    header = f"  {'Department':<28} {'Stage':<22} {'Moves':>7} {'Value':>14}  Skipped"
    lines = [header, "  " + "-" * (len(header) + 10)]
    for row in outcome.rows:
        skipped = ", ".join(f"{rules.SKIP_WORDS[c]} {n:,}" for c, n in row.skipped.items())
        lines.append(
            f"  {row.department_name[:28]:<28} {row.stage_words[:22]:<22} {row.moves:>7,} "
            f"{format_gbp(row.value_pence):>14}  {skipped or '-'}"
        )
    lines.append(
        f"  {'Total':<51} {outcome.moves:>7,} {format_gbp(outcome.value_pence):>14}  "
        f"{sum(outcome.skipped.values()):,} skipped"
    )
    lines.append(f"  Debtors with a move (one message each): {outcome.debtors:,}")
    if messages:
        sent = ", ".join(f"{c} {n:,}" for c, n in sorted(outcome.messages.items())) or "none"
        lines.append(f"  Messages written: {sent}; Letters of Claim: {outcome.letters_of_claim:,}")
        lines.append(
            f"  Late Payment Act charges: {outcome.charges:,} ({format_gbp(outcome.charges_pence)})"
        )
    return "\n".join(lines)


# --- the back office ------------------------------------------------------------------------


@dataclass(frozen=True)
class RunRow:
    run_id: int
    run_date: date
    status: DunningRunStatus
    started_by: str  # "Scheduled" when the scheduler started it
    started_at: datetime
    finished_at: datetime | None
    done: int
    total: int
    error: str | None
    outcome: Outcome

    @property
    def running(self) -> bool:
        return self.status == DunningRunStatus.RUNNING

    @property
    def percent(self) -> int | None:
        return int(100 * self.done / self.total) if self.total else None


def _row(run: DunningRun, staff_name: str | None) -> RunRow:
    summary = run.summary or {}
    names = {int(k): v for k, v in summary.get("department_names", {}).items()}
    return RunRow(
        run.id,
        run.run_date,
        run.status,
        staff_name or "Scheduled",
        run.started_at,
        run.finished_at,
        run.done,
        run.total,
        run.error,
        outcome_of(rules.Tally.from_dict(summary), names),
    )


def recent_runs(limit: int = 20) -> list[RunRow]:
    """The latest runs, newest date first."""
    rows = db.session.execute(
        sa.select(DunningRun, StaffUser.full_name)
        .outerjoin(StaffUser, StaffUser.id == DunningRun.started_by_staff_id)
        .order_by(DunningRun.run_date.desc())
        .limit(limit)
    ).all()
    return [_row(run, name) for run, name in rows]


def run_for_date(on: date) -> RunRow | None:
    found = db.session.execute(
        sa.select(DunningRun, StaffUser.full_name)
        .outerjoin(StaffUser, StaffUser.id == DunningRun.started_by_staff_id)
        .where(DunningRun.run_date == on)
    ).first()
    return _row(*found) if found else None


def get_run(run_id: int) -> RunRow:
    found = db.session.execute(
        sa.select(DunningRun, StaffUser.full_name)
        .outerjoin(StaffUser, StaffUser.id == DunningRun.started_by_staff_id)
        .where(DunningRun.id == run_id)
    ).first()
    if found is None:
        raise NotFound(f"No dunning run {run_id}")
    return _row(*found)
