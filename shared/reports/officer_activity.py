"""Officer activity: what each officer (and each team) did in a period, for a team
leader's one-to-ones and a service review. An officer may see only their own row
(Permission.VIEW_OWN_ACTIVITY: the report page sets `filters.only_staff_id`).

Each figure is read from the table the work itself wrote, not from the audit log's
JSON, and each is one grouped query over the period (London days, turned into the
stored-UTC moments they start and end by shared.clock.day_starts):

- contacts recorded: audit rows `case.contact_recorded` by the officer. The contact
  events table cannot tell an officer's note from the timeline entry every other
  action writes (both are kind "note" with the officer's id), and that audit row is
  written in the same commit as the event by shared/services/contacts.py alone; its
  plain columns (action, actor, occurred_at: indexed) are read, never its JSON;
- plans approved, refused and counter-offered: arrangements.decided_by_staff_id and
  counter_offered_by_staff_id with their times (approved: the plan went active on the
  officer's own decision; a counter-offer the debtor accepted counts as a
  counter-offer, not again as an approval);
- holds placed: account_holds.placed_by / created_at;
- payments taken: payment entries on the ledger the officer keyed (telephone card,
  cash, cheque, a bank transfer recorded by hand), by created_at; not those posted
  from a bank statement (reference "bank:..."), which the officer did not take;
- refunds, write-offs and credit notes requested (approval_requests.requested_by,
  within the limit or not) and approved for someone else (decided_by, approved);
- letters, emails and texts sent: timeline entries naming an outbox message the
  officer sent (shared/services/messages/officer_sent.py, the Letter of Claim),
  excluding messages withdrawn before they went.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, fields
from datetime import date, timedelta

import sqlalchemy as sa

from shared.clock import day_starts
from shared.domain.permissions import Permission
from shared.extensions import db
from shared.formatting import long_date
from shared.reports.base import (
    Chart,
    Column,
    Report,
    ReportFilters,
    ReportResult,
    ReportTable,
    Series,
)
from shared.reports.registry import register

KEY = "officer-activity"
NO_TEAM = "No team"
STATEMENT_REFERENCE_PREFIX = "bank:"  # as shared/services/bank_statements/hand_keyed.py


@dataclass
class Activity:
    """One officer's (or a team's, or everyone's) counts in the period."""

    contacts: int = 0
    plans_approved: int = 0
    plans_refused: int = 0
    plans_counter_offered: int = 0
    holds: int = 0
    payments: int = 0
    payments_pence: int = 0
    refunds_requested: int = 0
    write_offs_requested: int = 0  # write-offs and credit notes
    requests_approved: int = 0
    letters: int = 0
    emails_and_texts: int = 0

    def add(self, other: Activity) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    @property
    def total(self) -> int:
        return sum(getattr(self, f.name) for f in fields(self) if f.name != "payments_pence")


@dataclass(frozen=True)
class OfficerActivity:
    staff_id: int
    name: str
    team: str  # NO_TEAM when none is set
    activity: Activity


# Each query gives (staff id, field, count) rows, or (staff id, field, count, pence).
# :start and :end are stored-UTC moments; {only:column} becomes "AND column = :only"
# for one person's figures, and nothing for everyone's (no NULL parameter to type).
_QUERIES: tuple[str, ...] = (
    """
    SELECT actor_id AS staff_id, 'contacts' AS field, COUNT(*) AS n
    FROM audit_log
    WHERE action = 'case.contact_recorded' AND actor_type = 'staff'
      AND occurred_at >= :start AND occurred_at < :end
      {only:actor_id}
    GROUP BY actor_id
    """,
    """
    SELECT decided_by_staff_id AS staff_id,
           CASE WHEN activated_at IS NOT NULL THEN 'plans_approved'
                ELSE 'plans_refused' END AS field,
           COUNT(*) AS n
    FROM arrangements
    WHERE decided_by_staff_id IS NOT NULL AND counter_offered_at IS NULL
      AND (activated_at IS NOT NULL OR status = 'cancelled')
      AND decided_at >= :start AND decided_at < :end
      {only:decided_by_staff_id}
    GROUP BY decided_by_staff_id,
             CASE WHEN activated_at IS NOT NULL THEN 'plans_approved'
                  ELSE 'plans_refused' END
    """,
    """
    SELECT counter_offered_by_staff_id AS staff_id, 'plans_counter_offered' AS field,
           COUNT(*) AS n
    FROM arrangements
    WHERE counter_offered_by_staff_id IS NOT NULL
      AND counter_offered_at >= :start AND counter_offered_at < :end
      {only:counter_offered_by_staff_id}
    GROUP BY counter_offered_by_staff_id
    """,
    """
    SELECT placed_by AS staff_id, 'holds' AS field, COUNT(*) AS n
    FROM account_holds
    WHERE created_at >= :start AND created_at < :end
      {only:placed_by}
    GROUP BY placed_by
    """,
    """
    SELECT created_by_staff_id AS staff_id, 'payments' AS field, COUNT(*) AS n,
           -SUM(amount_pence) AS pence
    FROM ledger_entries
    WHERE kind = 'payment' AND created_by_staff_id IS NOT NULL
      AND (external_reference IS NULL OR external_reference NOT LIKE :statement)
      AND created_at >= :start AND created_at < :end
      {only:created_by_staff_id}
    GROUP BY created_by_staff_id
    """,
    """
    SELECT requested_by_staff_id AS staff_id,
           CASE WHEN kind = 'refund' THEN 'refunds_requested'
                ELSE 'write_offs_requested' END AS field,
           COUNT(*) AS n
    FROM approval_requests
    WHERE kind IN ('refund', 'write_off', 'credit_note')
      AND requested_at >= :start AND requested_at < :end
      {only:requested_by_staff_id}
    GROUP BY requested_by_staff_id,
             CASE WHEN kind = 'refund' THEN 'refunds_requested'
                  ELSE 'write_offs_requested' END
    """,
    """
    SELECT decided_by_staff_id AS staff_id, 'requests_approved' AS field, COUNT(*) AS n
    FROM approval_requests
    WHERE kind IN ('refund', 'write_off', 'credit_note') AND status = 'approved'
      AND decided_by_staff_id IS NOT NULL
      AND decided_at >= :start AND decided_at < :end
      {only:decided_by_staff_id}
    GROUP BY decided_by_staff_id
    """,
    """
    SELECT e.staff_id AS staff_id,
           CASE WHEN m.channel = 'letter' THEN 'letters' ELSE 'emails_and_texts' END AS field,
           COUNT(*) AS n
    FROM contact_events e
    JOIN outbox_messages m ON m.id = e.outbox_message_id
    WHERE e.staff_id IS NOT NULL AND m.channel IN ('letter', 'email', 'sms')
      AND m.status <> 'cancelled'
      AND e.occurred_at >= :start AND e.occurred_at < :end
      {only:e.staff_id}
    GROUP BY e.staff_id,
             CASE WHEN m.channel = 'letter' THEN 'letters' ELSE 'emails_and_texts' END
    """,
)

# Officers and team leaders are listed even on a quiet day (a row of noughts says
# something too); anyone else only when they did something.
_PEOPLE = """
SELECT id, full_name, team, role, active FROM staff_users
WHERE ((role IN ('officer', 'team_leader') AND active) OR id IN ({ids}))
  {only:id}
"""


_ONLY = re.compile(r"\{only:([a-z_.]+)\}")


def _scoped(sql: str, only_staff_id: int | None) -> sa.TextClause:
    sql = _ONLY.sub(lambda m: f"AND {m[1]} = :only" if only_staff_id is not None else "", sql)
    clause = sa.text(sql)
    if ":start" in sql:  # stored as SQLAlchemy stores timestamps on SQLite too
        clause = clause.bindparams(
            sa.bindparam("start", type_=sa.DateTime()), sa.bindparam("end", type_=sa.DateTime())
        )
    return clause


def activity_by_officer(
    date_from: date, date_to: date, *, only_staff_id: int | None = None
) -> list[OfficerActivity]:
    """Each officer's activity from `date_from` to `date_to` (London days, inclusive),
    ordered by team (no team last) then name; only one person's with `only_staff_id`."""
    params = {
        "start": day_starts(date_from),
        "end": day_starts(date_to + timedelta(days=1)),
        "statement": STATEMENT_REFERENCE_PREFIX + "%",
    }
    only = {"only": only_staff_id} if only_staff_id is not None else {}
    counts: dict[int, Activity] = defaultdict(Activity)
    for sql in _QUERIES:
        for row in db.session.execute(_scoped(sql, only_staff_id), params | only).mappings():
            if row["staff_id"] is None:
                continue
            activity = counts[int(row["staff_id"])]
            setattr(activity, row["field"], getattr(activity, row["field"]) + int(row["n"]))
            if row["field"] == "payments":
                activity.payments_pence += int(row["pence"] or 0)
    ids = ",".join(str(i) for i in sorted(counts)) or "NULL"
    people = db.session.execute(
        _scoped(_PEOPLE.replace("{ids}", ids), only_staff_id), only
    ).mappings()
    found = [
        OfficerActivity(
            staff_id=p["id"],
            name=p["full_name"],
            team=(p["team"] or "").strip() or NO_TEAM,
            activity=counts.get(p["id"], Activity()),
        )
        for p in people
    ]
    return sorted(found, key=lambda o: (o.team == NO_TEAM, o.team.lower(), o.name.lower()))


def by_team(officers: list[OfficerActivity]) -> list[tuple[str, Activity]]:
    """The officers' rows summed by team, in the officers' order (no team last)."""
    teams: dict[str, Activity] = {}
    for officer in officers:
        teams.setdefault(officer.team, Activity()).add(officer.activity)
    return list(teams.items())


# --- the report --------------------------------------------------------------------------------

# (key, label, kind); "team" and "officer" lead each row.
_FIGURES: tuple[tuple[str, str, str], ...] = (
    ("contacts", "Contacts recorded", "count"),
    ("plans_approved", "Plans approved", "count"),
    ("plans_refused", "Plans refused", "count"),
    ("plans_counter_offered", "Plans counter-offered", "count"),
    ("holds", "Holds placed", "count"),
    ("payments", "Payments taken", "count"),
    ("payments_pence", "Value of payments taken", "money"),
    ("refunds_requested", "Refunds requested", "count"),
    ("write_offs_requested", "Write-offs and credit notes requested", "count"),
    ("requests_approved", "Refunds, write-offs and credit notes approved", "count"),
    ("letters", "Letters sent", "count"),
    ("emails_and_texts", "Emails and texts sent", "count"),
)

# The chart stacks each officer's work by kind (money is not stacked with counts).
_CHART_KINDS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Contacts", "contacts", ("contacts",)),
    ("Plans decided", "plans", ("plans_approved", "plans_refused", "plans_counter_offered")),
    ("Holds", "holds", ("holds",)),
    ("Payments", "payments", ("payments",)),
    ("Refunds and write-offs", "requests", ("refunds_requested", "write_offs_requested")),
    ("Approvals given", "approved", ("requests_approved",)),
    ("Letters and messages", "messages", ("letters", "emails_and_texts")),
)


def _cells(activity: Activity) -> dict[str, int]:
    return {key: getattr(activity, key) for key, _label, _kind in _FIGURES}


def _chart(officers: list[OfficerActivity]) -> Chart:
    return Chart(
        title="Activity by officer",
        categories=tuple(o.name for o in officers),
        series=tuple(
            Series(name, tuple(sum(getattr(o.activity, k) for k in keys) for o in officers))
            for name, _key, keys in _CHART_KINDS
        ),
        value_kind="count",
        kind="stacked",
    )


def build(filters: ReportFilters) -> ReportResult:
    """The officer activity report for the filters' period (see the module docstring)."""
    officers = activity_by_officer(
        filters.date_from, filters.date_to, only_staff_id=filters.only_staff_id
    )
    columns = (
        Column("team", "Team"),
        Column("officer", "Officer"),
        *(Column(key, label, kind) for key, label, kind in _FIGURES),  # type: ignore[arg-type]
    )
    rows: list[dict] = []
    total = Activity()
    teams = by_team(officers)
    for team, team_total in teams:
        members = [o for o in officers if o.team == team]
        rows.extend({"team": team, "officer": o.name, **_cells(o.activity)} for o in members)
        if filters.only_staff_id is None:
            rows.append({"team": team, "officer": f"{team} subtotal", **_cells(team_total)})
        total.add(team_total)
    scope = f"{long_date(filters.date_from)} to {long_date(filters.date_to)}"
    mine = filters.only_staff_id is not None
    return ReportResult(
        title="Your activity" if mine else "Officer activity",
        description=(
            "Contacts recorded, plans decided, holds placed, payments taken, refunds and "
            "write-offs requested and approved, and letters and messages sent, per officer "
            "with each team's subtotal. Counted from the records the work wrote, on the day "
            "(in England) it was done."
        ),
        charts=[_chart(officers)] if officers else [],
        tables=[
            ReportTable(
                key="officers",
                caption="Activity by officer" if not mine else "Your activity",
                columns=columns,
                rows=rows,
                totals={"team": "Total", "officer": "", **_cells(total)},
                note=(
                    "A team's subtotal follows its officers. Officers and team leaders are "
                    "listed even when they did nothing in the period. Approvals are "
                    "counted for the person who gave them, not the one who asked."
                ),
            ),
            ReportTable(
                key="teams",
                caption="Activity by team",
                columns=(Column("team", "Team"), *columns[2:]),
                rows=[{"team": team, **_cells(activity)} for team, activity in teams],
                totals={"team": "Total", **_cells(total)},
            ),
        ],
        scope=scope,
    )


REPORT = register(
    Report(
        key=KEY,
        title="Officer activity",
        description=(
            "Contacts, plan decisions, holds, payments taken, refunds and write-offs, and "
            "letters and messages sent, per officer and team, for a period."
        ),
        build=build,
        permission=Permission.VIEW_OWN_ACTIVITY,
        uses=frozenset({"from", "to"}),
    )
)
