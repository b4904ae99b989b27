"""Seed the database with realistic, reproducible demo data (`flask demo seed`).

Reference data (departments, demo staff) goes through the ORM and is created
only when missing, so seeding twice never duplicates it. Debtors and
everything hanging off them are generated in chunks and bulk-written (see
generate.py and writers.py); each run appends a new batch after whatever is
already there. A small share of each batch's debtors then get instalment plans
in every state (plans.py), bulk-written the same way.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from random import Random

import sqlalchemy as sa
from flask import current_app
from werkzeug.security import generate_password_hash

from shared import clock
from shared.demo import catalogue
from shared.demo import direct_debit as demo_direct_debit
from shared.demo import journeys as demo_journeys
from shared.demo import plans as demo_plans
from shared.demo import recovery as demo_recovery
from shared.demo.direct_debit_named import demo_direct_debits
from shared.demo.generate import (
    ACCOUNT_REFERENCE_PREFIX,
    INVOICE_NUMBER_PREFIX,
    TABLES,
    Context,
    Counters,
    Generator,
)
from shared.demo.pipeline import WriterPool
from shared.demo.pools import build_pools
from shared.demo.writers import writer_for
from shared.extensions import db
from shared.models import (
    Address,
    Allocation,
    Arrangement,
    ArrangementStatus,
    DebtorAccount,
    IncomeCode,
    Invoice,
    ServiceDepartment,
    StaffUser,
)
from shared.services import unallocated

DEFAULT_CHUNK = 5_000
# Two writers keep two PostgreSQL backends busy; more only contend on a small machine.
PARALLEL_WRITERS = 2
# Numbers start here on an empty database, so demo references look like real ones.
FIRST_ACCOUNT_NUMBER = 10_000_001
FIRST_INVOICE_NUMBER = 20_000_001


@dataclass(frozen=True)
class Progress:
    debtors_done: int
    debtors_total: int
    rows_written: int
    elapsed_seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.rows_written / self.elapsed_seconds if self.elapsed_seconds else 0.0


def has_debtors() -> bool:
    return db.session.scalar(sa.select(DebtorAccount.id).limit(1)) is not None


def ensure_departments() -> tuple[dict[str, int], int]:
    """The demo departments by code, creating any that are missing; returns (ids, created)."""
    existing = {d.code: d for d in db.session.scalars(sa.select(ServiceDepartment))}
    created = 0
    for spec in catalogue.DEPARTMENTS:
        if spec.code not in existing:
            dept = ServiceDepartment(
                code=spec.code,
                name=spec.name,
                cost_centre=spec.cost_centre,
                is_commercial=spec.is_commercial,
                contact_email=spec.contact_email,
                contact_phone=spec.contact_phone,
            )
            db.session.add(dept)
            existing[spec.code] = dept
            created += 1
    db.session.commit()
    return {spec.code: existing[spec.code].id for spec in catalogue.DEPARTMENTS}, created


def ensure_income_codes(department_ids: dict[str, int]) -> int:
    """Each demo department's income codes, creating any that are missing; returns how
    many were created."""
    existing = set(db.session.execute(sa.select(IncomeCode.department_id, IncomeCode.code)).all())
    created = 0
    for department, codes in catalogue.INCOME_CODES.items():
        for code, description, cost_centre, ledger_code in codes:
            if (department_ids[department], code) in existing:
                continue
            db.session.add(
                IncomeCode(
                    department_id=department_ids[department],
                    code=code,
                    description=description,
                    cost_centre=cost_centre,
                    ledger_code=ledger_code,
                )
            )
            created += 1
    db.session.commit()
    return created


def ensure_staff() -> tuple[dict[str, int], int]:
    """The demo staff by catalogue key, creating any that are missing; returns (ids, created)."""
    departments = dict(
        db.session.execute(sa.select(ServiceDepartment.code, ServiceDepartment.id)).tuples().all()
    )
    emails = [spec.email for spec in catalogue.STAFF]
    query = sa.select(StaffUser).where(StaffUser.email.in_(emails))
    existing = {user.email: user for user in db.session.scalars(query)}
    missing = [spec for spec in catalogue.STAFF if spec.email not in existing]
    if missing:
        # Hashing is deliberately slow (scrypt): once for everybody, not once each.
        password_hash = generate_password_hash(catalogue.DEMO_PASSWORD)
        for spec in missing:
            user = StaffUser(
                email=spec.email,
                full_name=spec.full_name,
                role=spec.role,
                password_hash=password_hash,
                refund_limit_pence=spec.refund_limit_pence,
                write_off_limit_pence=spec.write_off_limit_pence,
                invoice_limit_pence=spec.invoice_limit_pence,
                department_id=departments.get(spec.department) if spec.department else None,
            )
            db.session.add(user)
            existing[spec.email] = user
        db.session.commit()
    return {spec.key: existing[spec.email].id for spec in catalogue.STAFF}, len(missing)


def seed_demo(
    debtors: int,
    seed: int = 1,
    progress: Callable[[Progress], None] | None = None,
    *,
    today: date | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    writers: int | None = None,
) -> dict[str, int]:
    """Append `debtors` debtors with invoices, payments, history and a few instalment plans;
    return rows added per table."""
    if debtors < 0:
        raise ValueError("debtors must not be negative")
    today = today or clock.today()
    department_ids, departments_created = ensure_departments()
    income_codes_created = ensure_income_codes(department_ids)
    staff_ids, staff_created = ensure_staff()
    counts = {
        "service_departments": departments_created,
        "income_codes": income_codes_created,
        "staff_users": staff_created,
    }
    counts.update({table: 0 for table in (*TABLES, *demo_plans.PLAN_TABLES)})
    if debtors == 0:
        return counts

    engine = db.engine
    if engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:"):
        # Every pooled connection to an in-memory database is a different, empty database.
        raise ValueError("demo data needs a database file or server, not in-memory SQLite")
    if writers is None:
        writers = PARALLEL_WRITERS if engine.dialect.name == "postgresql" else 1
    # Read before the writers start: the plans follow the app's monitor settings.
    plan_settings = demo_plans.Settings.from_config(current_app.config)
    db.session.close()  # nothing of ours holds a transaction open while the writers run
    admin = writer_for(engine)
    sequenced = (*TABLES, *demo_plans.NEW_ID_TABLES)
    try:
        counters = Counters(
            ids={table: admin.max_id(table) + 1 for table in TABLES},
            account_number=max(
                FIRST_ACCOUNT_NUMBER,
                admin.max_number("debtor_accounts", "reference", ACCOUNT_REFERENCE_PREFIX, 8) + 1,
            ),
            invoice_number=max(
                FIRST_INVOICE_NUMBER,
                admin.max_number("invoices", "number", INVOICE_NUMBER_PREFIX, 8) + 1,
            ),
        )
        admin.rollback()
        first_entry_id = counters.ids["ledger_entries"]
        first_account_id = counters.ids["debtor_accounts"]
        # Keyed by where this batch starts, so a second run on the same database
        # produces new people rather than the first batch's twins.
        rng = Random(f"demo-seed:{seed}:{counters.ids['debtor_accounts']}")
        generator = Generator(
            rng, build_pools(seed), Context(today, department_ids, staff_ids), counters
        )
        started = time.perf_counter()
        lock = threading.Lock()
        done = {"debtors": 0, "rows": 0}

        def written(chunk_debtors: int, chunk_counts: dict[str, int]) -> None:
            with lock:
                for table, n in chunk_counts.items():
                    counts[table] += n
                done["debtors"] += chunk_debtors
                done["rows"] += sum(chunk_counts.values())
                if progress is not None:
                    progress(
                        Progress(
                            done["debtors"], debtors, done["rows"], time.perf_counter() - started
                        )
                    )

        pool = WriterPool(engine, writers, written)
        try:
            generated = 0
            while generated < debtors:
                n = min(chunk_size, debtors - generated)
                rows = generator.chunk(n)
                pool.submit(rows, n, {t: next_id - 1 for t, next_id in counters.ids.items()})
                generated += n
        except BaseException:
            pool.close(raise_errors=False)  # the chunks already queued still land
            raise
        pool.close()
        # Plans need the debtors' invoices and payments in the database, so they come
        # after every chunk is written, from a generator of their own: the debtors stay
        # exactly what they were before plans were added.
        plan_counts = demo_plans.seed_plans(
            admin,
            debtors=debtors,
            first_account_id=first_account_id,
            last_account_id=counters.ids["debtor_accounts"] - 1,
            rng=Random(f"demo-plans:{seed}:{first_account_id}"),
            today=today,
            staff_ids=staff_ids,
            settings=plan_settings,
            next_ids=counters.ids,
        )
        for table, n in plan_counts.items():
            counts[table] += n
    except BaseException:
        with contextlib.suppress(Exception):  # keep the original error, not this one
            admin.sync_sequences(sequenced)
        raise
    else:
        admin.sync_sequences(sequenced)
        admin.analyze((*TABLES, *demo_plans.PLAN_TABLES))
    finally:
        admin.close()
    # Bulk rows bypass the ORM hook that keeps the unallocated payments queue in step.
    counts["unallocated_credits"] = unallocated.backfill(from_entry_id=first_entry_id)
    db.session.commit()
    # Last: the Direct Debit book is made by the real services, over the debtors and
    # plans above (direct_debit.py), away from demo_bills' bills to pay.
    bills = [bill.account_reference for bill in demo_bills()]
    dd_counts = demo_direct_debit.seed_direct_debits(
        debtors=debtors,
        first_account_id=first_account_id,
        last_account_id=counters.ids["debtor_accounts"] - 1,
        rng=Random(f"demo-direct-debit:{seed}:{first_account_id}"),
        today=today,
        staff_ids=staff_ids,
        avoid_account_ids=set(
            db.session.scalars(
                sa.select(DebtorAccount.id).where(DebtorAccount.reference.in_(bills))
            )
        ),
    )
    for table, n in dd_counts.items():
        counts[table] = counts.get(table, 0) + n
    # Then the recovery ladder: templates, ladders and today's run (recovery.py).
    recovery_counts = demo_recovery.seed_recovery(
        first_account_id=first_account_id,
        last_account_id=counters.ids["debtor_accounts"] - 1,
        today=today,
    )
    for table, n in recovery_counts.items():
        counts[table] = counts.get(table, 0) + n
    # Last, the accounts `demo logins` names for the journeys no other part reaches
    # (journeys.py), away from the bills to pay and the Direct Debit journeys.
    named = demo_direct_debits()
    journey_counts = demo_journeys.seed_journeys(
        first_account_id=first_account_id,
        last_account_id=counters.ids["debtor_accounts"] - 1,
        today=today,
        avoid=set(
            db.session.scalars(
                sa.select(DebtorAccount.id).where(
                    DebtorAccount.reference.in_(
                        [
                            *bills,
                            *(
                                r
                                for r in (
                                    named.sign_up_reference,
                                    named.active_reference,
                                    named.returns_reference,
                                )
                                if r
                            ),
                        ]
                    )
                )
            )
        ),
    )
    for table, n in journey_counts.items():
        counts[table] = counts.get(table, 0) + n
    return counts


@dataclass(frozen=True)
class DemoLogin:
    email: str
    role: str
    full_name: str
    password: str


def demo_logins() -> list[DemoLogin]:
    """Demo staff logins present in the database, officer first; all share the demo password."""
    users = db.session.scalars(
        sa.select(StaffUser).where(StaffUser.email.like(f"%@{catalogue.DEMO_EMAIL_DOMAIN}"))
    ).all()
    position = {spec.email: n for n, spec in enumerate(catalogue.STAFF)}
    users = sorted(
        users,
        key=lambda u: (catalogue.ROLE_ORDER[u.role], position.get(u.email, len(position)), u.email),
    )
    return [DemoLogin(u.email, u.role.value, u.full_name, catalogue.DEMO_PASSWORD) for u in users]


@dataclass(frozen=True)
class DemoBill:
    invoice_number: str
    postcode: str
    outstanding_pence: int
    account_reference: str = ""
    email_on_file: bool = False


def demo_bills(limit: int = 3) -> list[DemoBill]:
    """A few unpaid demo invoices someone can try paying in the portal.

    Only accounts a real council would let pay online without a conversation:
    not vulnerable, not in Breathing Space, not deceased; and no bill already in
    a payment plan. Where the demo has one, the first bill is on an account with
    an active payment plan and an email on file: `flask demo logins` suggests
    creating a login for it, so Your account then shows a plan.
    """
    first = _payable_bills(
        1,
        # Not correlated: the accounts with an active plan are listed once, not per invoice.
        DebtorAccount.id.in_(
            sa.select(Arrangement.account_id).where(Arrangement.status == ArrangementStatus.ACTIVE)
        ),
        DebtorAccount.email.is_not(None),
    )
    rest = _payable_bills(
        limit - len(first), *[Invoice.number != bill.invoice_number for bill in first]
    )
    return first + rest


def _payable_bills(limit: int, *conditions) -> list[DemoBill]:
    if limit <= 0:
        return []
    # Per invoice, in invoice order, so the query stops at the first few it finds
    # instead of totalling every allocation in a large demo.
    outstanding = (
        Invoice.total_pence
        - sa.select(sa.func.coalesce(sa.func.sum(Allocation.amount_pence), 0))
        .where(Allocation.invoice_id == Invoice.id)
        .correlate(Invoice)
        .scalar_subquery()
    ).label("outstanding")
    rows = db.session.execute(
        sa.select(
            Invoice.number,
            Address.postcode,
            outstanding,
            DebtorAccount.reference,
            DebtorAccount.email,
        )
        .join(DebtorAccount, DebtorAccount.id == Invoice.account_id)
        .join(Address, sa.and_(Address.account_id == DebtorAccount.id, Address.is_primary))
        .where(
            ~DebtorAccount.vulnerable,
            ~DebtorAccount.deceased,
            DebtorAccount.breathing_space_type.is_(None),
            outstanding >= 2_000,
            ~demo_plans.in_live_plan(),
            *conditions,
        )
        .order_by(Invoice.id)
        .limit(limit)
    ).all()
    return [
        DemoBill(r.number, r.postcode, int(r.outstanding), r.reference, bool(r.email)) for r in rows
    ]
