"""Dunning runs: the preview, and executing a run for a business date.

`preview(on)` says what a run would do (by department and stage: moves, their value,
skips by reason) and writes nothing. `execute(on, actor)` does it:

- One DunningRun row per date (UNIQUE run_date). A completed run for the date returns
  its summary and writes nothing; a failed or interrupted one resumes where it
  stopped (the summary keeps a cursor: the last account done); a completed run asked
  for departments it did not cover (the scheduled run covers automatic departments
  only; a person's run covers all) does a pass over the others only.
- One set-based selection per pass (selection.candidates), then debtors in chunks
  (CHUNK_ACCOUNTS accounts a transaction) with the run row locked and a cursor (the
  last account done), so two processes on one date never do a chunk twice. Each chunk
  first re-reads what can change under a run (stage, payments, holds, Breathing
  Space, death: selection.recheck), then: one message per debtor (compose_many,
  contact rules applied; refused: none of the debtor's debts move and the skip is
  counted with the rule's reason), the moves, timeline and audit rows as Core
  executemany INSERTs (the columns history.record_timeline/record_audit write), one
  UPDATE of invoices per target stage, and the Late Payment Act charges on the moved
  debts (shared.services.legal.late_payment.post_charges) counted in the summary.
- The same date twice sends nothing twice and moves nothing twice: moves are UNIQUE
  per (invoice, stage), messages carry the dedupe key dunning-{date}-{account}.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import date, timedelta

import sqlalchemy as sa

from shared import clock
from shared.domain import dunning as rules
from shared.extensions import db
from shared.formatting import long_date
from shared.models import (
    AuditLog,
    ContactEvent,
    DebtorAccount,
    DebtorKind,
    DunningMove,
    DunningRun,
    DunningRunStatus,
    Invoice,
    LetterOfClaim,
    MessagePurpose,
    RecoveryStage,
)
from shared.models.base import utcnow
from shared.services.actors import Actor
from shared.services.dunning import history_rows, selection
from shared.services.dunning.reports import RunPreview, RunResult, outcome_of
from shared.services.errors import InvalidRequest
from shared.services.history import record_audit
from shared.services.legal.late_payment import post_charges
from shared.services.messages.compose import Outgoing, compose_many
from shared.services.messages.values import account_values
from shared.services.unit_of_work import use_case

CHUNK_ACCOUNTS = 5000


def dedupe_key(on: date, account_id: int) -> str:
    """The one message a debtor gets for the run of `on`."""
    return f"dunning-{on:%Y%m%d}-{account_id}"


# --- preview --------------------------------------------------------------------------------


def preview(on: date, *, departments: Collection[int] | None = None) -> RunPreview:
    """What a run for `on` would move and skip (by department and stage); writes nothing."""
    policies = selection.load_policies(departments)
    tally = rules.Tally()
    debtors: set[int] = set()
    for candidate in selection.candidates(on, policies):
        move = candidate.move
        if candidate.reason is None:
            tally.move(move.department_id, move.to_stage, move.outstanding_pence)
            debtors.add(move.account_id)
        else:
            tally.skip(move.department_id, move.to_stage, candidate.reason, move.outstanding_pence)
    tally.debtors_moved = len(debtors)
    db.session.rollback()  # nothing written: end the read transaction
    names = {d: p.department_name for d, p in policies.items()}
    return RunPreview(on, outcome_of(tally, names), sorted(policies))


# --- execute --------------------------------------------------------------------------------


def execute(
    on: date,
    actor: Actor,
    *,
    departments: Collection[int] | None = None,
    chunk_size: int = CHUNK_ACCOUNTS,
) -> RunResult:
    """Run the recovery ladder for `on` over `departments` (None: every department with a
    policy); resumable and idempotent (see the module docstring)."""
    wanted = set(selection.load_policies(departments))
    already = True
    while True:
        run_id, todo = _open_pass(on, actor, wanted)
        if todo is None:
            return _result(run_id, already_run=already)
        already = False
        try:
            policies = selection.load_policies(todo)
            cursor = int(_summary(run_id).get("cursor", 0))
            # One set-based selection for the pass; each chunk re-reads what can change
            # under it (stage, payments, holds) before writing (selection.recheck).
            found: dict[int, list[selection.Candidate]] = defaultdict(list)
            for candidate in selection.candidates(on, policies, after_account_id=cursor):
                found[candidate.move.account_id].append(candidate)
            db.session.execute(
                sa.update(DunningRun)
                .where(DunningRun.id == run_id)
                .values(total=DunningRun.done + len(found))
            )
            db.session.commit()
            for chunk in rules.chunks(found, chunk_size):
                _run_chunk(run_id, on, actor, policies, {a: found.pop(a) for a in chunk})
            _finish_pass(run_id, actor)
        except BaseException as exc:
            db.session.rollback()
            _fail(run_id, exc)
            raise


def _summary(run_id: int) -> dict:
    return dict(
        db.session.scalar(sa.select(DunningRun.summary).where(DunningRun.id == run_id)) or {}
    )


def _open_pass(on: date, actor: Actor, wanted: set[int]) -> tuple[int, list[int] | None]:
    """The run row for `on` (made if need be) and the departments still to do in this
    pass (None: nothing left, the run is complete for everything asked)."""
    run = db.session.scalar(
        sa.select(DunningRun).where(DunningRun.run_date == on).with_for_update()
    )
    if run is None:
        run = DunningRun(
            run_date=on,
            status=DunningRunStatus.RUNNING,
            started_by_staff_id=actor.staff_id,
            summary={"departments": sorted(wanted), "pass": sorted(wanted), "cursor": 0},
        )
        db.session.add(run)
        try:
            db.session.flush()
        except sa.exc.IntegrityError:
            db.session.rollback()  # another process made it just now: use theirs
            return _open_pass(on, actor, wanted)
        record_audit(
            actor, "dunning.run_started", "dunning_run", run.id, after=_audit_scope(run, on)
        )
        db.session.commit()
        return run.id, sorted(wanted)
    summary = dict(run.summary or {})
    covered = set(summary.get("departments", []))
    if run.status == DunningRunStatus.COMPLETED:
        extra = wanted - covered
        if not extra:
            db.session.commit()
            return run.id, None
        # A completed run asked for more departments: a pass over those only.
        summary |= {"departments": sorted(covered | extra), "pass": sorted(extra), "cursor": 0}
        run.finished_at = None
    resumed = run.status != DunningRunStatus.RUNNING or run.done > 0
    run.summary = summary
    run.status = DunningRunStatus.RUNNING
    run.error = None
    if resumed:  # (a run a person started from the page is only starting)
        record_audit(
            actor, "dunning.run_resumed", "dunning_run", run.id, after=_audit_scope(run, on)
        )
    db.session.commit()
    return run.id, list(summary.get("pass", summary.get("departments", [])))


def _audit_scope(run: DunningRun, on: date) -> dict:
    summary = run.summary or {}
    return {
        "run_date": on.isoformat(),
        "departments": summary.get("departments", []),
        "pass": summary.get("pass", []),
        "cursor": summary.get("cursor", 0),
    }


def _finish_pass(run_id: int, actor: Actor) -> None:
    run = db.session.scalar(sa.select(DunningRun).where(DunningRun.id == run_id).with_for_update())
    run.status = DunningRunStatus.COMPLETED
    run.finished_at = utcnow()
    run.error = None
    tally = rules.Tally.from_dict(run.summary)
    record_audit(
        actor,
        "dunning.run_completed",
        "dunning_run",
        run.id,
        after={
            "run_date": run.run_date.isoformat(),
            "moves": tally.moves,
            "value_pence": tally.value_pence,
            "debtors": tally.debtors_moved,
            "messages": tally.messages,
            "skipped": tally.skipped(),
        },
    )
    db.session.commit()


def _fail(run_id: int, exc: BaseException) -> None:
    try:
        db.session.execute(
            sa.update(DunningRun)
            .where(DunningRun.id == run_id)
            .values(status=DunningRunStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000])
        )
        db.session.commit()
    except sa.exc.SQLAlchemyError:
        db.session.rollback()  # the database is the problem: the row stays "running"


def _result(run_id: int, *, already_run: bool) -> RunResult:
    run = db.session.get(DunningRun, run_id)
    summary = run.summary or {}
    names = {int(k): v for k, v in summary.get("department_names", {}).items()}
    result = RunResult(
        run.id,
        run.run_date,
        run.status,
        already_run,
        outcome_of(rules.Tally.from_dict(summary), names),
        run.done,
        run.total,
    )
    db.session.commit()
    return result


# --- one chunk of debtors: one transaction --------------------------------------------------


def _run_chunk(
    run_id: int,
    on: date,
    actor: Actor,
    policies: dict[int, selection.Policy],
    found: dict[int, list[selection.Candidate]],
) -> None:
    run = db.session.scalar(sa.select(DunningRun).where(DunningRun.id == run_id).with_for_update())
    summary = dict(run.summary or {})
    cursor = int(summary.get("cursor", 0))
    account_ids = [a for a in sorted(found) if a > cursor]  # another process did the rest
    if not account_ids:
        db.session.commit()
        return
    tally = rules.Tally.from_dict(summary)
    due: list[rules.Move] = []
    for account_id in account_ids:
        for candidate in found[account_id]:
            move = candidate.move
            if candidate.reason is None:
                due.append(move)
            else:
                tally.skip(
                    move.department_id, move.to_stage, candidate.reason, move.outstanding_pence
                )
    fresh = selection.recheck(on, due)
    by_account: dict[int, list[rules.Move]] = defaultdict(list)
    for move in due:
        if move.invoice_id not in fresh:
            continue  # moved by someone else or paid since the selection: not due now
        reason, outstanding = fresh[move.invoice_id]
        if reason is not None:
            tally.skip(move.department_id, move.to_stage, reason, outstanding)
            continue
        if outstanding != move.outstanding_pence:
            move = replace(move, outstanding_pence=outstanding)
        by_account[move.account_id].append(move)

    made = _message_and_move(run_id, on, actor, policies, by_account, tally)
    if made:
        charged = post_charges(on, [m.invoice_id for m in made], actor)
        tally.charges += charged.compensation_count + charged.interest_count
        tally.charges_pence += charged.total_pence

    names = dict(summary.get("department_names", {}))
    names.update({str(d): p.department_name for d, p in policies.items()})
    run.summary = {
        **summary,
        **tally.as_dict(),
        "department_names": names,
        "cursor": max(account_ids),
    }
    run.done = run.done + len(account_ids)
    db.session.commit()


def _message_and_move(
    run_id: int,
    on: date,
    actor: Actor,
    policies: dict[int, selection.Policy],
    by_account: dict[int, list[rules.Move]],
    tally: rules.Tally,
) -> list[rules.Move]:
    """Write each debtor's message, then move the invoices of those the rules let us
    contact (set-based: the moves, timeline and audit rows as executemany INSERTs, one
    UPDATE of invoices per target stage). Returns the moves made."""
    if not by_account:
        return []
    accounts: dict[int, DebtorAccount] = {}
    ids = sorted(by_account)
    for start in range(0, len(ids), 1000):
        accounts.update(
            (a.id, a)
            for a in db.session.scalars(
                sa.select(DebtorAccount).where(DebtorAccount.id.in_(ids[start : start + 1000]))
            )
        )
    balances = selection.account_balances(by_account)
    stage_rules = {d: p.stages for d, p in policies.items()}
    plans = {
        account_id: rules.message_for(
            moves, stage_rules, is_person=accounts[account_id].kind == DebtorKind.PERSON
        )
        for account_id, moves in by_account.items()
    }
    claims: dict[int, LetterOfClaim] = {}
    for account_id, plan in plans.items():
        if plan.letter_of_claim:
            claims[account_id] = LetterOfClaim(
                account_id=account_id,
                amount_pence=sum(m.outstanding_pence for m in by_account[account_id]),
                written_on=on,
            )
            db.session.add(claims[account_id])
    if claims:
        db.session.flush()

    sending = [a for a, plan in plans.items() if plan.template_key is not None]
    outgoing = [
        _outgoing(
            run_id, on, accounts[a], by_account[a], plans[a], policies, balances, claims.get(a)
        )
        for a in sending
    ]
    written = dict(zip(sending, compose_many(outgoing), strict=True))
    db.session.flush()  # the messages' ids, for the moves and the timeline

    made: list[rules.Move] = []
    rows: list[dict] = []
    events: list[dict] = []
    audits: list[dict] = []
    for account_id, moves in by_account.items():
        result = written.get(account_id)
        if result is not None and result.message is None:
            reason = rules.refusal_reason(result.refused, duplicate=result.duplicate)
            for m in moves:
                tally.skip(m.department_id, m.to_stage, reason, m.outstanding_pence)
            if account_id in claims:
                db.session.delete(claims.pop(account_id))
            continue
        message_id = result.message.id if result is not None else None
        channel = result.channel if result is not None else None
        if account_id in claims:
            claims[account_id].outbox_message_id = message_id
            tally.letters_of_claim += 1
        tally.message(channel)
        for m in moves:
            tally.move(m.department_id, m.to_stage, m.outstanding_pence)
            rows.append(
                {
                    "run_id": run_id,
                    "invoice_id": m.invoice_id,
                    "account_id": account_id,
                    "from_stage": RecoveryStage(m.from_stage),
                    "to_stage": RecoveryStage(m.to_stage),
                    "outstanding_pence": m.outstanding_pence,
                    "outbox_message_id": message_id,
                }
            )
        made.extend(moves)
        plan = plans[account_id]
        events.append(
            history_rows.timeline_row(on, actor, account_id, moves, plan, message_id, channel)
        )
        audits.append(
            history_rows.audit_row(run_id, on, actor, account_id, moves, plan, message_id, channel)
        )
    if not rows:
        return made
    connection = db.session.connection()  # Core executemany: not the ORM's bulk path
    connection.execute(DunningMove.__table__.insert(), rows)
    now = utcnow()
    by_stage: dict[str, list[int]] = defaultdict(list)
    for m in made:
        by_stage[m.to_stage].append(m.invoice_id)
    for stage, invoice_ids in by_stage.items():
        for start in range(0, len(invoice_ids), 5000):
            db.session.execute(
                sa.update(Invoice)
                .where(Invoice.id.in_(invoice_ids[start : start + 5000]))
                .values(recovery_stage=RecoveryStage(stage), recovery_stage_at=now)
                .execution_options(synchronize_session=False)
            )
    connection.execute(ContactEvent.__table__.insert(), events)
    connection.execute(AuditLog.__table__.insert(), audits)
    return made


def _outgoing(
    run_id: int,
    on: date,
    account: DebtorAccount,
    moves: list[rules.Move],
    plan: rules.MessagePlan,
    policies: dict[int, selection.Policy],
    balances: dict[int, int],
    claim: LetterOfClaim | None,
) -> Outgoing:
    extra = {}
    attachment = None
    if claim is not None:
        extra["respond_by_date"] = long_date(on + timedelta(days=rules.LETTER_OF_CLAIM_REPLY_DAYS))
        attachment = {"document": rules.LETTER_OF_CLAIM_DOCUMENT, "id": claim.id}
    values = account_values(
        account,
        on=on,
        amount_due_pence=sum(m.outstanding_pence for m in moves),
        account_balance_pence=balances.get(account.id, 0),
        invoice_numbers=[m.number for m in moves],
        oldest_due_date=min(m.due_date for m in moves),
        department_name=policies[plan.department_id].department_name,
        extra=extra,
    )
    return Outgoing(
        account=account,
        template_key=plan.template_key,
        values=values,
        purpose=MessagePurpose.COLLECTION,
        channels=plan.channels,
        dedupe_key=dedupe_key(on, account.id),
        attachment=attachment,
        payload={"dunning_run_id": run_id, "stage": plan.stage},
    )


# --- a run a person starts from the back office --------------------------------------------


@dataclass(frozen=True)
class RunStart:
    run_id: int
    started: bool  # False: the run for the date was complete already for every department


@use_case
def start_run(on: date, actor: Actor) -> RunStart:
    """Open (or reopen) the run for `on` over every department, for a worker to execute
    (the caller enqueues it after this commits). Pressed twice: the same run."""
    if actor.staff_id is None:
        raise InvalidRequest("Only staff start a run from the back office")
    if on > clock.today():
        raise InvalidRequest("The run date must be today or earlier")
    wanted = set(selection.load_policies())
    if not wanted:
        raise InvalidRequest("No department has a recovery ladder yet")
    run = db.session.scalar(
        sa.select(DunningRun).where(DunningRun.run_date == on).with_for_update()
    )
    if run is None:
        run = DunningRun(
            run_date=on,
            status=DunningRunStatus.RUNNING,
            started_by_staff_id=actor.staff_id,
            summary={"departments": sorted(wanted), "pass": sorted(wanted), "cursor": 0},
        )
        db.session.add(run)
        try:
            db.session.flush()
        except sa.exc.IntegrityError:
            db.session.rollback()  # a second click won the race: the same run
            return start_run(on, actor)
        record_audit(
            actor, "dunning.run_started", "dunning_run", run.id, after=_audit_scope(run, on)
        )
        db.session.commit()
        return RunStart(run.id, True)
    covered = set((run.summary or {}).get("departments", []))
    if run.status == DunningRunStatus.COMPLETED and wanted <= covered:
        db.session.commit()
        return RunStart(run.id, False)
    if run.status != DunningRunStatus.RUNNING:
        # Failed, or completed for fewer departments (the scheduled run): the worker
        # resumes it, then covers the rest. Shown as running from now on.
        run.status = DunningRunStatus.RUNNING
        run.error = None
        record_audit(
            actor, "dunning.run_requested", "dunning_run", run.id, after=_audit_scope(run, on)
        )
    db.session.commit()
    return RunStart(run.id, True)
