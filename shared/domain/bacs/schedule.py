"""Which Direct Debit collections a mandate should have, and when (pure rules).

Given one mandate's facts, what it may collect (a Direct Debit plan's unpaid
instalments, or the open invoices a mandate that collects invoices covers), the
collections already there, the last advance notice and today, `decide` says what
to create, what to cancel, which transaction codes to correct, and whether a new
advance notice must go out first. No Flask, no SQLAlchemy: the service
(shared/services/directdebit/collections.py) reads the rows and writes the answer.

Decisions:
- Entry day: a collection is taken on calendar.on_or_after(max(due, earliest)),
  where `earliest` is the first entry day a file can still reach (the next
  processing day after today, then its entry day) and, when a new notice is
  needed, the first entry day that notice allows. Never before the due date.
- Cancelled (while still only scheduled): an instalment or invoice that owes
  nothing any more (paid by other means), a plan that ended, an invoice disputed,
  queried or put into a plan, a mandate cancelled, failed or with collections
  stopped (an advance notice disputed), a payer who has died. Submitted
  collections are in a Bacs file already and are left alone.
- A scheduled collection whose processing day has passed without it going in a
  file (the mandate was not lodged in time, no file was built) is cancelled and
  made again on a later day, under a new notice, because the date changed.
- A scheduled collection whose amount no longer matches what is owed (part paid
  meanwhile) is cancelled and made again for what is owed, under a new notice.
- Something that was collected and returned is not collected again here: a
  re-presentation (code 18) is the returns work's decision (reports), once. Those
  18s are cancelled here only for the hard stops above, never moved or re-made.
- Advance notice: needed before the first collection under a mandate and before
  any collection whose date or amount the payer has not been told (a change of
  amount, date or frequency shows up as a date or amount not in the last notice's
  schedule). It lists every upcoming collection under the mandate.
- Transaction codes: 01 for the first collection under a mandate (the earliest
  scheduled one while none has gone in a file yet), 17 for every other. 18 is for
  re-presentations only (made by the returns work). 19 (final) is not used: it is
  optional in Bacs, it closes the instruction at the payer's bank, and a mandate
  here outlives a plan (it may collect invoices or a later plan), so ending one is a
  separate, explicit cancellation (0C).

Breathing Space (DOMAIN.md: "voluntary payments and existing direct debits may
continue"): a plan's collections go on as agreed, advance notices included (the
scheme requires them; they are not a demand for payment). No collection of an
invoice is started while the debtor is in Breathing Space (that would be a new
request for payment of a covered debt); ones already scheduled continue.

A deceased debtor: a Direct Debit instruction ends with the payer's death, so
every scheduled collection is cancelled and none is made; the estate is an
officer's work (the account is already routed to them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from shared.domain.bacs import calendar

INSTALMENT, INVOICE = "instalment", "invoice"
FIRST, REGULAR, REPRESENTATION, FINAL = "01", "17", "18", "19"
SCHEDULED, SUBMITTED, COLLECTED, RETURNED, CANCELLED = (
    "scheduled",
    "submitted",
    "collected",
    "returned",
    "cancelled",
)
# Statuses that count as a collection under way or made for its target.
_LIVE = (SCHEDULED, SUBMITTED, COLLECTED)
# Statuses that mean a collection reached Bacs (so the mandate's 01 is used up).
_PRESENTED = (SUBMITTED, COLLECTED, RETURNED)

# Reasons, as written on the collection and the timeline.
PAID_OTHERWISE = "paid by other means"
MISSED_FILE = "its processing day passed before it went in a Bacs file; collected later"
AMOUNT_CHANGED = "the amount owed changed; collected for the new amount"
DECEASED = "the payer has died"


@dataclass(frozen=True)
class Target:
    """Something the mandate may collect: a plan's instalment or an invoice.

    `owed_pence` is what it still owes today. `stop_reason` is set when it must not
    be collected at all (the plan ended, the invoice is disputed...); `returned`
    when a collection of it came back unpaid (no automatic second try)."""

    kind: str  # INSTALMENT or INVOICE
    id: int
    due_date: date
    owed_pence: int
    stop_reason: str | None = None
    returned: bool = False


@dataclass(frozen=True)
class Existing:
    """A collection already recorded under the mandate (any status)."""

    id: int
    kind: str
    target_id: int
    amount_pence: int
    collection_date: date
    status: str
    transaction_code: str


@dataclass(frozen=True)
class Told:
    """The last advance notice under the mandate: what the payer was told."""

    schedule: frozenset[tuple[date, int]]
    earliest_entry_day: date


@dataclass(frozen=True)
class MandateFacts:
    """`stop_reason`: why the mandate may collect nothing (cancelled, failed,
    collections stopped), else None."""

    stop_reason: str | None = None
    deceased: bool = False
    breathing_space: bool = False


@dataclass(frozen=True)
class NoticeTiming:
    """When a notice written today counts from (today by email; a letter adds the
    posting days) and how many working days it must be given ahead."""

    counts_from: date
    working_days: int

    @property
    def earliest_entry_day(self) -> date:
        return calendar.earliest_entry_day(self.counts_from, self.working_days)


@dataclass(frozen=True)
class NewCollection:
    kind: str
    target_id: int
    amount_pence: int
    collection_date: date
    transaction_code: str


@dataclass(frozen=True)
class Notice:
    kind: str  # "first" or "change"
    description: str
    schedule: tuple[tuple[date, int], ...]  # every upcoming collection, date order
    earliest_entry_day: date


@dataclass(frozen=True)
class Decision:
    create: tuple[NewCollection, ...] = ()
    cancel: tuple[tuple[int, str], ...] = ()  # (collection id, reason)
    recode: tuple[tuple[int, str], ...] = ()  # (collection id, new transaction code)
    notice: Notice | None = None
    upcoming: tuple[tuple[date, int], ...] = field(default=())

    @property
    def changes_nothing(self) -> bool:
        return not (self.create or self.cancel or self.recode or self.notice)


def processing_day(entry_day: date) -> date:
    """The processing day of the cycle that debits on `entry_day`."""
    return calendar.add_working_days(entry_day, -1)


def first_reachable_entry_day(today: date) -> date:
    """The earliest entry day a file not yet built can reach: its processing day is a
    working day after today."""
    return calendar.add_working_days(calendar.add_working_days(today, 1), 1)


def entry_day(due: date, earliest: date) -> date:
    """The day a collection due on `due` is taken when nothing may be taken before
    `earliest`: never before it is due, always a Bacs working day."""
    return calendar.on_or_after(max(due, earliest))


def missed_its_file(collection: Existing, today: date) -> bool:
    """A scheduled collection whose processing day has passed: no file will take it."""
    return collection.status == SCHEDULED and processing_day(collection.collection_date) < today


def decide(
    *,
    today: date,
    mandate: MandateFacts,
    targets: Sequence[Target],
    collections: Sequence[Existing],
    told: Told | None,
    timing: NoticeTiming,
) -> Decision:
    """What to change so the mandate's collections match what is owed (see the module
    docstring). The same inputs give the same answer; applied, a second call with the
    resulting rows changes nothing."""
    by_target = {(t.kind, t.id): t for t in targets}
    hard_stop = DECEASED if mandate.deceased else mandate.stop_reason
    cancel: list[tuple[int, str]] = []
    covered: set[tuple[str, int]] = set()  # targets with a live collection kept
    kept: list[Existing] = []
    for c in collections:
        key = (c.kind, c.target_id)
        if c.status not in _LIVE:
            continue
        if c.status != SCHEDULED:
            covered.add(key)
            kept.append(c)
            continue
        target = by_target.get(key)
        reason = _cancel_reason(c, target, hard_stop, today)
        if reason is None:
            covered.add(key)
            kept.append(c)
        else:
            cancel.append((c.id, reason))

    wanted: list[Target] = []
    if hard_stop is None:
        for t in targets:
            if (t.kind, t.id) in covered or t.stop_reason or t.returned or t.owed_pence <= 0:
                continue
            if t.kind == INVOICE and mandate.breathing_space:
                continue
            wanted.append(t)

    reachable = first_reachable_entry_day(today)
    # Dates the last notice may already cover: never before the first day it allowed.
    told_from = max(reachable, told.earliest_entry_day) if told is not None else reachable
    create = [_new(t, entry_day(t.due_date, told_from)) for t in wanted]
    notice_kind = None
    if create:
        if told is None:
            notice_kind = "first"
        elif any(
            (n.collection_date, n.amount_pence) not in told.schedule
            or n.collection_date < told.earliest_entry_day
            for n in create
        ):
            notice_kind = "change"
    if notice_kind is not None:
        earliest = max(reachable, timing.earliest_entry_day)
        create = [_new(t, entry_day(t.due_date, earliest)) for t in wanted]

    create, recode = _codes(kept, create, collections)
    upcoming = tuple(
        sorted(
            [(c.collection_date, c.amount_pence) for c in kept if c.status != COLLECTED]
            + [(n.collection_date, n.amount_pence) for n in create]
        )
    )
    notice = None
    if notice_kind is not None:
        notice = Notice(
            kind=notice_kind,
            description=_describe(notice_kind, create, cancel),
            schedule=upcoming,
            earliest_entry_day=max(reachable, timing.earliest_entry_day),
        )
    return Decision(
        create=tuple(create),
        cancel=tuple(cancel),
        recode=tuple(recode),
        notice=notice,
        upcoming=upcoming,
    )


def _cancel_reason(
    c: Existing, target: Target | None, hard_stop: str | None, today: date
) -> str | None:
    if hard_stop is not None:
        return hard_stop
    if target is None:
        return "no longer collected under this instruction"
    if target.stop_reason:
        return target.stop_reason
    if target.owed_pence <= 0:
        return PAID_OTHERWISE
    if c.transaction_code == REPRESENTATION:
        return None  # the returns work's re-presentation: not moved or re-made here
    if missed_its_file(c, today):
        return MISSED_FILE
    if target.owed_pence != c.amount_pence:
        return AMOUNT_CHANGED
    return None


def _new(target: Target, day: date) -> NewCollection:
    return NewCollection(target.kind, target.id, target.owed_pence, day, REGULAR)


def _codes(
    kept: list[Existing], create: list[NewCollection], every: Sequence[Existing]
) -> tuple[list[NewCollection], list[tuple[int, str]]]:
    """01 on the earliest scheduled collection while none under the mandate has reached
    Bacs; 17 on the others (18s untouched)."""
    presented = any(c.status in _PRESENTED for c in every)
    candidates: list[tuple[date, int, object]] = [
        (c.collection_date, 0, c)
        for c in kept
        if c.status == SCHEDULED and c.transaction_code != REPRESENTATION
    ]
    candidates += [(n.collection_date, 1, n) for n in create]
    first = None if presented or not candidates else min(candidates, key=lambda x: x[:2])[2]
    new = [
        NewCollection(n.kind, n.target_id, n.amount_pence, n.collection_date, FIRST)
        if n is first
        else n
        for n in create
    ]
    recode = []
    for _, _, c in candidates:
        if isinstance(c, Existing):
            code = FIRST if c is first else REGULAR
            if c.transaction_code != code:
                recode.append((c.id, code))
    return new, recode


def _describe(kind: str, create: list[NewCollection], cancel: list[tuple[int, str]]) -> str:
    count = len(create)
    noun = "collection" if count == 1 else "collections"
    if kind == "first":
        return f"First collections under this instruction: {count} {noun}"
    words = f"{count} new or changed {noun}"
    if cancel:
        words += f", {len(cancel)} cancelled"
    return f"Change to the collections: {words}"
