"""The timeline and audit rows a Bacs file writes: one line per account per event.

An account may have an instruction and several collections in one file; its timeline
gets one line saying all of it. Written set-based, in batches of accounts from one
grouped query, inside the caller's transaction (shared/services/directdebit/files.py),
so 50,000 collections cost a few hundred statements, not 100,000 ORM objects.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from shared import clock
from shared.extensions import db
from shared.formatting import long_date
from shared.models import ActorType, AuditLog, Collection, ContactEvent, ContactKind, Mandate
from shared.money import format_gbp
from shared.services.actors import Actor
from shared.services.bank_statements import bulk

BUILT, WITHDRAWN, RELEASED = "built", "withdrawn", "released"
BATCH = 2000


def _grouped(file_id: int):
    """A row per mandate instruction and per account's debits in the file."""
    debits = (
        sa.select(
            Mandate.account_id.label("account_id"),
            sa.func.count().label("debits"),
            sa.func.sum(Collection.amount_pence).label("pence"),
            sa.literal(0).label("lodged"),
            sa.literal(0).label("cancelled"),
            sa.func.max(Mandate.reference).label("reference"),
        )
        .select_from(Collection)
        .join(Mandate, Mandate.id == Collection.mandate_id)
        .where(Collection.bacs_file_id == file_id)
        .group_by(Mandate.account_id)
    )
    lodged = sa.select(
        Mandate.account_id,
        sa.literal(0),
        sa.literal(0),
        sa.literal(1),
        sa.literal(0),
        Mandate.reference,
    ).where(Mandate.lodged_in_file_id == file_id)
    cancelled = sa.select(
        Mandate.account_id,
        sa.literal(0),
        sa.literal(0),
        sa.literal(0),
        sa.literal(1),
        Mandate.reference,
    ).where(Mandate.cancel_in_file_id == file_id)
    return sa.union_all(debits, lodged, cancelled).subquery()


def _accounts(file_id: int):
    """(account_id, debits, pence, lodged, cancelled, reference) per account, in batches
    of one grouped query streamed (a server-side cursor on PostgreSQL): one pass."""
    items = _grouped(file_id)
    query = (
        sa.select(
            items.c.account_id,
            sa.func.sum(items.c.debits),
            sa.func.sum(items.c.pence),
            sa.func.sum(items.c.lodged),
            sa.func.sum(items.c.cancelled),
            sa.func.max(items.c.reference),
        )
        .group_by(items.c.account_id)
        .order_by(items.c.account_id)
    )
    yield from db.session.execute(query.execution_options(yield_per=BATCH)).partitions()


def _words(event: str, serial: str, entry_day: date, row, reason: str | None) -> str:
    _, debits, pence, lodged, cancelled, reference = row
    debits, pence = int(debits or 0), int(pence or 0)
    parts = []
    collections = (
        f"{debits} Direct Debit collection{'' if debits == 1 else 's'} of "
        f"{format_gbp(pence)} to be taken on {long_date(entry_day)}"
        if debits
        else ""
    )
    if event == BUILT:
        if lodged:
            parts.append(f"instruction {reference} to be lodged with Bacs (0N)")
        if cancelled:
            parts.append(f"cancellation of {reference} to be sent to Bacs (0C)")
        if collections:
            parts.append(collections)
        head = f"Bacs file {serial} built, waiting for release"
    elif event == WITHDRAWN:
        if lodged:
            parts.append(f"instruction {reference} waits for the next file")
        if cancelled:
            parts.append(f"cancellation of {reference} waits for the next file")
        if debits:
            parts.append(
                f"{debits} collection{'' if debits == 1 else 's'} of {format_gbp(pence)} "
                "back to scheduled"
            )
        head = f"Bacs file {serial} withdrawn ({reason})"
    else:
        if lodged:
            parts.append(f"instruction {reference} lodged with Bacs: Direct Debit active")
        if cancelled:
            parts.append(f"cancellation of {reference} sent to Bacs")
        if collections:
            parts.append(collections)
        head = f"Bacs file {serial} released to Bacs"
    return f"{head}: {'; '.join(parts)}"[:300]


def per_account(
    actor: Actor,
    file_id: int,
    event: str,
    serial: str,
    entry_day: date,
    *,
    reason: str | None = None,
) -> int:
    """Write one timeline line and one audit row per account the file touches; returns
    how many accounts. Call before undoing a withdrawal (it reads the file's links)."""
    kind = ContactKind.SYSTEM if actor.type == ActorType.SYSTEM else ContactKind.NOTE
    if actor.type == ActorType.PORTAL_USER:
        kind = ContactKind.PORTAL
    accounts = 0
    for rows in _accounts(file_id):
        accounts += len(rows)
        now = clock.utcnow()
        # COPY on PostgreSQL, pages of INSERTs elsewhere (shared/services/bank_statements/bulk.py).
        bulk.insert(
            ContactEvent,
            [
                {
                    "account_id": row[0],
                    "occurred_at": now,
                    "kind": kind,
                    "summary": _words(event, serial, entry_day, row, reason),
                    "staff_id": actor.staff_id,
                    "portal_user_id": actor.portal_user_id,
                    "created_at": now,
                }
                for row in rows
            ],
        )
        bulk.insert(
            AuditLog,
            [
                {
                    "occurred_at": now,
                    "actor_type": actor.type,
                    "actor_id": actor.id,
                    "action": f"bacs_file.{event}",
                    "object_type": "bacs_file",
                    "object_id": str(file_id),
                    "account_id": row[0],
                    "after": {
                        "serial": serial,
                        "mandate_reference": row[5],
                        "collections": int(row[1] or 0),
                        "amount_pence": int(row[2] or 0),
                        "instruction": "0N" if row[3] else ("0C" if row[4] else None),
                    },
                    "source_ip": actor.source_ip,
                }
                for row in rows
            ],
        )
    return accounts
