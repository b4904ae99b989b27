"""Direct Debit in the demo data: the council's Direct Debit book as the product made it.

`seed_demo` runs this after a batch's debtors and plans are written. The rows are not
built by hand (as plans.py builds plans): the last REPLAY_WORKING_DAYS Bacs working
days are replayed through the real services, day by day, with the one clock
(shared/clock.py) moved to each moment, as the tests move it with time-machine. So
every mandate, advance notice, collection, Bacs file, payment, return, timeline entry
and audit row is what the services write, dated when they would have written it.
Each working day of the replay, in the order the scheduled jobs run:

- 04:30 the entry-day posting (posting.post_due_collections);
- 06:30 the file for the next processing day is built (files.build_file, as the
  morning job does) and a team leader releases it in the afternoon;
- during the day, what people and the bank did (the PLAN below): Direct Debits taken
  online, by phone and from paper forms (mandates.sign_up, then the account's
  collections sync the service would have queued), a bank-details change, a payer
  and an officer cancelling, and the reports Bacs sends back, imported as an officer
  would (returns.import_report): an AUDDIS rejection, an ADDACS cancellation and an
  ARUDD with a "refer to payer" return (collected again) and a "no account" one.

Today the posting and the collections sync run (the early jobs), a few more people
sign up (pending submission), and the file for the next processing day is left for an
officer to build: its collections are scheduled. So every active Direct Debit plan of
the batch gets a mandate (except WAITING: one plan left waiting for its payer to set
up the Direct Debit online, `demo logins` names it), and the demo shows mandates
active, pending submission, cancelled and failed, from portal, phone and paper.
"Submitted" lasts from a file's build to its release (release_file activates what
the file lodged): building today's file shows it.

Demo portal logins (the demo password) are made for the payers who signed up online,
as ensure_staff makes the staff. Emails and texts the replay wrote are marked sent when
they were written (the dispatcher's part; letters stay pending for the print run, as every letter
does), and no job is queued: the replay runs each sync itself.

A later batch on the same database finds these days' files built (a processing day has
one file in play): its payers sign up today instead, to be lodged in the next file.

Instalments of the plans paid before the replay began were paid before the council
collected on its own service user number: they stay the plans' card-less payments.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import date, time, timedelta
from random import Random

import sqlalchemy as sa
from flask import current_app
from werkzeug.security import generate_password_hash

from shared import clock
from shared.demo import catalogue, direct_debit_payers
from shared.demo import direct_debit_reports as reports
from shared.demo.direct_debit_payers import (
    Payer,
    invoice_payers,
    plan_payers,
    proposal_payers,
)
from shared.demo.moved_clock import clock_at
from shared.domain.bacs import calendar
from shared.extensions import db
from shared.jobs import outbox as outbox_jobs
from shared.models import (
    BacsFile,
    Channel,
    Collection,
    CollectionStatus,
    DebtorAccount,
    Mandate,
    MandateSource,
    MandateStatus,
    OutboxChannel,
    OutboxMessage,
    PortalUser,
    PortalUserAccount,
)
from shared.models.messaging import OutboxStatus
from shared.services import plan_monitor
from shared.services.actors import SYSTEM, portal_user, staff
from shared.services.directdebit import collections, files, mandates, posting, returns

REPLAY_WORKING_DAYS = 20
# The tables the replay writes to, whose added rows seed_demo reports.
COUNTED_TABLES = (
    "portal_users",
    "portal_user_accounts",
    "mandates",
    "dd_advance_notices",
    "dd_collections",
    "bacs_files",
    "bacs_reports",
    "bacs_report_items",
    "ledger_entries",
    "allocations",
    "unallocated_credits",
    "contact_events",
    "audit_log",
    "outbox_messages",
)
# Spec test pairs that pass modulus checking (docs/modulus-checking.md), and one whose
# sort code the tables do not list ("could not check").
BANK_ACCOUNTS = (
    ("089999", "66374958"),
    ("107999", "88837491"),
    ("202959", "63748472"),
    ("871427", "46238510"),
    ("872427", "46238510"),
    ("820000", "73688637"),
    ("827101", "28748352"),
    ("134020", "63849203"),
    ("118765", "64371389"),
    ("200915", "41011166"),
    ("938611", "07806039"),
    ("309070", "02355688"),
)
UNCHECKED_ACCOUNT = ("990000", "41235678")
# Mandates per debtor in the batch, besides the Direct Debit plans' own.
INVOICE_SHARE, LATER_SHARE = 0.03, 0.01
MIN_FIRST, MIN_LATER, NEXT_FILE, TODAY_SIGN_UPS = 8, 2, 2, 2
SOURCES = (MandateSource.PHONE, MandateSource.PAPER, MandateSource.PORTAL)
# What happens on the n-th working day before today (the replay's script).
FIRST_SIGN_UPS, ROLE_SIGN_UPS, LATER_SIGN_UPS = 20, 18, 14
AUDDIS_DAY, CANCEL_DAY, ADDACS_DAY, ARUDD_DAY = 16, 12, 9, 3
# Payers signed up on ROLE_SIGN_UPS for the AUDDIS rejection, the change of bank
# details, the two cancellations and the ADDACS one (the first batch collects).
ROLE_PAYERS = 6


# --- queuing nothing ------------------------------------------------------------------------


@contextlib.contextmanager
def _no_jobs_queued() -> Iterator[None]:
    """The replay runs each collections sync itself and records messages as the dispatcher
    would have: nothing goes to Redis (which `make run` has not started yet)."""
    saved = (mandates.enqueue_sync, outbox_jobs.enqueue_messages, returns.enqueue_messages)
    mandates.enqueue_sync = lambda *args, **kwargs: False
    outbox_jobs.enqueue_messages = returns.enqueue_messages = lambda *args, **kwargs: 0
    try:
        yield
    finally:
        mandates.enqueue_sync, outbox_jobs.enqueue_messages, returns.enqueue_messages = saved


# --- the replay -----------------------------------------------------------------------------


class _Replay:
    def __init__(self, rng: Random, today: date, staff_ids: dict[str, int], taken: set[int]):
        self.rng = rng
        self.today = today
        self.officer = staff(staff_ids["officer"])
        self.leader = staff(staff_ids["team_leader"])
        self.taken = set(taken)  # accounts not to give a mandate (demo bills, used already)
        self.bills = frozenset(taken)  # demo_bills' accounts: a login is for the viewer to make
        self.logins: dict[int, int] = {}  # account id: portal user id
        self.password_hash: str | None = None
        self.unchecked_given = False

    def day(self, back: int) -> date:
        return calendar.add_working_days(calendar.on_or_before(self.today), -back)

    def at(
        self, day: date, hour: int, minute: int | None = None
    ) -> contextlib.AbstractContextManager:
        minute = self.rng.randrange(60) if minute is None else minute
        return clock_at(day, time(hour, minute))

    # -- people ------------------------------------------------------------------------

    def portal_login(self, payer: Payer) -> int | None:
        """A demo portal login for the payer (the demo password), made once."""
        if payer.account_id in self.logins:
            return self.logins[payer.account_id]
        if not payer.email:
            return None
        email = payer.email.strip().lower()
        if db.session.scalar(sa.select(PortalUser.id).where(PortalUser.email == email)):
            return None
        if self.password_hash is None:
            self.password_hash = generate_password_hash(catalogue.DEMO_PASSWORD)
        now = clock.utcnow()
        user = PortalUser(email=email, password_hash=self.password_hash, email_verified_at=now)
        db.session.add(user)
        db.session.flush()
        db.session.add(
            PortalUserAccount(
                portal_user_id=user.id, account_id=payer.account_id, verified_via=Channel.EMAIL
            )
        )
        db.session.commit()
        self.logins[payer.account_id] = user.id
        return user.id

    def bank_account(self) -> tuple[str, str]:
        if not self.unchecked_given:
            self.unchecked_given = True
            return UNCHECKED_ACCOUNT
        return self.rng.choice(BANK_ACCOUNTS)

    def sign_up(self, payer: Payer, day: date, source: MandateSource) -> Mandate | None:
        # demo_bills' accounts are kept for paying by card, but not from their plan's mandate.
        if payer.account_id in self.taken and payer.plan_id is None:
            return None
        self.taken.add(payer.account_id)
        with self.at(day, self.rng.randrange(9, 17)):
            actor = self.officer
            if source == MandateSource.PORTAL:
                user_id = self.portal_login(payer)
                if user_id is None:
                    source = MandateSource.PHONE
                else:
                    actor = portal_user(user_id)
            sort_code, account_number = (
                self.bank_account()
                if source == MandateSource.PHONE
                else self.rng.choice(BANK_ACCOUNTS)
            )
            mandate = mandates.sign_up(
                actor,
                payer.account_id,
                holder_name=payer.holder_name,
                sort_code=sort_code,
                account_number=account_number,
                sole_signatory=True,
                source=source,
                collects_invoices=payer.plan_id is None,
                for_plan_id=payer.plan_id,
                replaces=None,
                date_signed=day - timedelta(days=self.rng.randint(1, 6))
                if source == MandateSource.PAPER
                else None,
                read_back_confirmed=source == MandateSource.PHONE,
            )
            collections.sync_account(payer.account_id, today=day)
        return mandate

    def sign_up_many(
        self,
        payers: list[Payer],
        day: date,
        count: int | None = None,
        first: MandateSource | None = None,
    ) -> int:
        made = 0
        for payer in payers:
            if count is not None and made >= count:
                break
            source = self.rng.choice(SOURCES) if made or first is None else first
            if source == MandateSource.PORTAL and not payer.may_email:
                source = MandateSource.PAPER
            made += self.sign_up(payer, day, source) is not None
        return made

    # -- the day's jobs ------------------------------------------------------------------

    def morning(self, day: date) -> None:
        with self.at(day, 4, 30):
            posting.post_due_collections(day)

    def build_and_release(self, day: date) -> None:
        with self.at(day, 6, 30):
            try:
                built = files.build_file(
                    SYSTEM, files.next_processing_day(day), alert_officers=True
                )
            except files.NothingToSubmit:
                return
        with self.at(day, 15):
            files.release_file(self.leader, built.file_id)

    # -- what people and banks did -------------------------------------------------------

    def live(self, *statuses: MandateStatus, lodged_before: date | None = None) -> list[Mandate]:
        query = sa.select(Mandate).where(
            Mandate.status.in_(statuses or (MandateStatus.ACTIVE,)),
            Mandate.account_id.in_(self.mine),
        )
        if lodged_before is not None:
            query = query.where(Mandate.lodged_on < lodged_before)
        return list(db.session.scalars(query.order_by(Mandate.id)))

    def pick(self, candidates: list, avoid: set[int]) -> Mandate | None:
        left = [m for m in candidates if m.account_id not in avoid]
        return self.rng.choice(left) if left else None

    def changes(self, day: date) -> None:
        """A payer changes bank details by phone, one cancels online, an officer cancels one."""
        active = [m for m in self.live() if m.account_id not in self.protected]
        changed = self.pick(active, set())
        if changed is not None:
            sort_code, account_number = self.rng.choice(BANK_ACCOUNTS)
            with self.at(day, 10):
                mandates.change_bank_details(
                    self.officer,
                    changed.id,
                    changed.version,
                    holder_name=changed.account_holder_name,
                    sort_code=sort_code,
                    account_number=account_number,
                    sole_signatory=True,
                    source=MandateSource.PHONE,
                    read_back_confirmed=True,
                )
                collections.sync_account(changed.account_id, today=day)
        done = {changed.account_id} if changed is not None else set()
        online = self.pick([m for m in active if m.portal_user_id is not None], done)
        if online is not None:
            done.add(online.account_id)
            with self.at(day, 19, 40):
                mandates.cancel(
                    portal_user(online.portal_user_id),
                    online.id,
                    online.version,
                    "I have paid the rest by bank transfer",
                    account_id=online.account_id,
                )
                collections.sync_account(online.account_id, today=day)
        by_officer = self.pick(active, done)
        if by_officer is not None:
            with self.at(day, 11):
                mandates.cancel(
                    self.officer,
                    by_officer.id,
                    by_officer.version,
                    "Payer phoned: will pay by card from now on",
                )
                collections.sync_account(by_officer.account_id, today=day)

    def import_report(self, day: date, name: str, content: bytes) -> None:
        with self.at(day, 9, 15):
            returns.import_report(self.officer, name, content)

    def auddis(self, day: date) -> None:
        lodged = [m for m in self.live() if m.account_id not in self.protected]
        mandate = self.pick(lodged, set())
        if mandate is not None:
            advice = reports.messaging_advice(mandate, "L", day)
            self.import_report(
                day, f"AUDDIS-{day:%Y%m%d}.xml", reports.messaging("AUDDIS", [advice], day)
            )

    def addacs(self, day: date) -> None:
        mandate = self.pick([m for m in self.live() if m.account_id not in self.protected], set())
        if mandate is not None:
            advice = reports.messaging_advice(mandate, "1", day)
            self.import_report(
                day, f"ADDACS-{day:%Y%m%d}.xml", reports.messaging("ADDACS", [advice], day)
            )

    def arudd(self, day: date) -> None:
        """Two collections of the last fortnight come back: refer to payer, no account."""
        rows = db.session.execute(
            sa.select(Collection, Mandate, BacsFile.processing_day)
            .join(Mandate, Mandate.id == Collection.mandate_id)
            .join(BacsFile, BacsFile.id == Collection.bacs_file_id)
            .where(
                Collection.status == CollectionStatus.COLLECTED,
                Collection.collection_date < day,
                Mandate.status == MandateStatus.ACTIVE,
                Mandate.account_id.in_(self.mine),
            )
            .order_by(Collection.id)
        ).all()
        by_account: dict[int, tuple] = {}
        for row in rows:
            by_account.setdefault(row[1].account_id, row)
        chosen = self.rng.sample(sorted(by_account), min(2, len(by_account)))
        items = [
            reports.returned_item(*by_account[account_id], reason)
            for account_id, reason in zip(chosen, ("0", "5"), strict=False)
        ]
        if items:
            self.import_report(day, f"ARUDD-{day:%Y%m%d}.xml", reports.arudd(items, day))

    # -- the whole story -------------------------------------------------------------------

    def first_collected_next(self) -> dict[date, list[Payer]]:
        """NEXT_FILE payers kept aside to sign up on the day whose advance notice makes
        their first collection fall on the next file's entry day (a letter counts from
        the posting days later): so the officer has a file to build. By sign-up day."""
        config = current_app.config
        notice = int(config["BACS_ADVANCE_NOTICE_WORKING_DAYS"])
        posting = int(config["BACS_POSTING_WORKING_DAYS"])
        entry = calendar.add_working_days(files.next_processing_day(self.today), 1)
        found: dict[date, list[Payer]] = {}
        kept = 0
        for by_email, back in ((True, notice), (False, notice + posting)):
            day = calendar.add_working_days(entry, -back)
            if day <= self.day(REPLAY_WORKING_DAYS):
                continue
            for payer in invoice_payers(self.first_id, self.last_id, day, entry):
                wanted = kept < NEXT_FILE and payer.may_email == by_email
                if wanted and payer.account_id not in self.taken:
                    found.setdefault(day, []).append(payer)
                    self.taken.add(payer.account_id)  # not for the other batches
                    kept += 1
        return found

    def run(self, first_id: int, last_id: int, debtors: int) -> None:
        today, start = self.today, self.day(REPLAY_WORKING_DAYS)
        self.mine = sa.select(DebtorAccount.id).where(DebtorAccount.id.between(first_id, last_id))
        self.first_id, self.last_id = first_id, last_id
        plans = plan_payers(first_id, last_id)
        if db.session.scalar(sa.select(BacsFile.id).where(BacsFile.input_day >= start).limit(1)):
            # An earlier batch replayed these days (a processing day has one file): this
            # batch's payers sign up today, to be lodged in the next file.
            self.sign_up_many(plans, today)
            newest = invoice_payers(first_id, last_id, today, today + timedelta(days=90))
            self.sign_up_many(newest, today, TODAY_SIGN_UPS)
            plan_monitor.run(today)  # the new plans' collections under way
            return
        # The plans' mandates and the first batch collect in the past fortnight: the
        # rejections and cancellations pick among the others.
        self.protected = {p.account_id for p in plans}
        # Every active plan paid by Direct Debit has its mandate; the Direct Debit to set
        # up online is for a proposal (a plan asked for, to be paid by Direct Debit).
        # Someone we also email, best (the contact rules keep a preference for post).
        proposals = [
            p for p in proposal_payers(first_id, last_id) if p.account_id not in self.bills
        ]
        waiting = next((p for p in proposals if p.may_email), None) or next(iter(proposals), None)
        first = invoice_payers(first_id, last_id, start, self.day(ARUDD_DAY + 1))
        self.rng.shuffle(first)
        soon = self.first_collected_next()
        for back in range(REPLAY_WORKING_DAYS, 0, -1):
            day = self.day(back)
            self.morning(day)
            self.build_and_release(day)
            for payer in soon.get(day, ()):
                self.taken.discard(payer.account_id)
                self.sign_up(
                    payer, day, self.rng.choice((MandateSource.PHONE, MandateSource.PAPER))
                )
            if back == FIRST_SIGN_UPS:
                # The plans' mandates came with the plans (before the first file).
                self.sign_up_many(plans, day)
                self.sign_up_many(first, day, max(MIN_FIRST, round(debtors * INVOICE_SHARE)))
                self.protected |= self.taken
            if back == ROLE_SIGN_UPS:
                roles = invoice_payers(first_id, last_id, day, day + timedelta(days=60))
                roles.sort(key=lambda p: not p.may_email)  # one cancels online
                self.sign_up_many(roles, day, ROLE_PAYERS, first=MandateSource.PORTAL)
            if back == LATER_SIGN_UPS:
                later = invoice_payers(first_id, last_id, day, day + timedelta(days=60))
                self.sign_up_many(later, day, max(MIN_LATER, round(debtors * LATER_SHARE)))
            if back == AUDDIS_DAY:
                self.auddis(day)
            if back == CANCEL_DAY:
                self.changes(day)
            if back == ADDACS_DAY:
                self.addacs(day)
            if back == ARUDD_DAY:
                self.arudd(day)
        # Today: the early jobs, then people signing up; the file is an officer's to build.
        self.morning(today)
        with self.at(today, 5, 0):
            collections.sync_accounts_with_live_mandates(today)
        with self.at(today, 6, 0):
            # The plan monitor reads the collections under way (never missed meanwhile).
            plan_monitor.run(today)
        newest = invoice_payers(first_id, last_id, today, today + timedelta(days=90))
        self.sign_up_many(newest, today, TODAY_SIGN_UPS)
        if waiting is not None:
            self.portal_login(waiting)  # made when they proposed the plan online
        self.login_for_an_active_mandate()

    def login_for_an_active_mandate(self) -> None:
        """A payer with an active Direct Debit has a portal login, for `demo logins` to name."""
        active = db.session.scalars(
            sa.select(DebtorAccount)
            .join(Mandate, Mandate.account_id == DebtorAccount.id)
            .where(
                Mandate.status == MandateStatus.ACTIVE,
                Mandate.account_id.in_(self.mine),
                DebtorAccount.email.is_not(None),
            )
            .order_by(Mandate.portal_user_id.is_(None), Mandate.id)
        ).all()
        if any(account.id in self.logins for account in active):
            return
        for account in active:
            if account.id in self.bills:
                continue
            if self.portal_login(direct_debit_payers.payer(account)) is not None:
                return


def _mark_sent(first_message_id: int) -> None:
    """Emails and texts the replay wrote went when written (the dispatcher's part), so
    seeding floods no mail viewer; letters wait for the print run, as every letter does."""
    db.session.execute(
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.id >= first_message_id,
            OutboxMessage.channel.in_([OutboxChannel.EMAIL, OutboxChannel.SMS]),
            OutboxMessage.status == OutboxStatus.PENDING,
        )
        .values(status=OutboxStatus.SENT, sent_at=OutboxMessage.created_at, attempts=1)
    )
    db.session.commit()


def seed_direct_debits(
    *,
    debtors: int,
    first_account_id: int,
    last_account_id: int,
    rng: Random,
    today: date,
    staff_ids: dict[str, int],
    avoid_account_ids: set[int] = frozenset(),
) -> dict[str, int]:
    """Replay the batch's Direct Debit book (see the module docstring); rows added per table."""
    before = {table: _count(table) for table in COUNTED_TABLES}
    first_message_id = (db.session.scalar(sa.select(sa.func.max(OutboxMessage.id))) or 0) + 1
    db.session.commit()
    replay = _Replay(rng, today, staff_ids, set(avoid_account_ids))
    with _no_jobs_queued():
        replay.run(first_account_id, last_account_id, debtors)
    _mark_sent(first_message_id)
    return {table: _count(table) - before[table] for table in COUNTED_TABLES}


def _count(table: str) -> int:
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(sa.table(table))) or 0)
