"""Row generation for the demo data set: pure Python, no database.

Rows are plain tuples in the column order of `TABLES`, with dates and
datetimes as ISO strings and booleans as 0/1. The same tuple then feeds
PostgreSQL COPY (which parses text by column type) and SQLite executemany
(which stores exactly what SQLAlchemy would have stored), so there is one
generator and two thin writers.

The seeder assigns every primary key itself (from counters that start after
the table's current maximum), which is what lets a chunk be built entirely in
memory, allocations pointing at their payments, before one bulk write.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date
from operator import itemgetter
from random import Random

from shared.demo import catalogue, charges
from shared.demo.pools import Pools, landline, mobile, postcode, slug
from shared.demo.tables import TABLES
from shared.domain.vat import RATE_BASIS_POINTS, vat_on
from shared.models.accounts import postcode_key
from shared.money import format_gbp

ACCOUNT_REFERENCE_PREFIX = "A"
INVOICE_NUMBER_PREFIX = "INV"
FINANCE_CUSTOMER_PREFIX = "FIN"

HISTORY_DAYS = 730  # invoices are spread over the last two years
PAYMENT_TERMS_DAYS = 30
ORGANISATION_SHARE = 0.15
VULNERABLE_SHARE = 0.03
BREATHING_SPACE_SHARE = 0.01
DECEASED_SHARE = 0.005
PAID_SHARE = 0.55
PART_PAID_SHARE = 0.15
CREDIT_NOTE_SHARE = 0.01
# Of invoices paid in full, the share whose last payment overshoots (~0.5% of all).
OVERPAID_SHARE_OF_PAID = 0.009
STANDARD_BREATHING_SPACE_DAYS = 60
# No invoice is put on the recovery ladder here: only the ladder's own runs move a debt
# (shared/demo/recovery.py), so every stage has its move and its message.

# Invoices per debtor: people mean ~4.3, organisations (monthly trade waste) ~9,
# so the whole book averages ~5 per debtor.
PERSON_INVOICE_COUNTS = tuple(range(1, 11))
PERSON_INVOICE_CUM = tuple(itertools.accumulate((16, 15, 14, 13, 11, 9, 8, 6, 4, 4)))
ORGANISATION_MAX_INVOICES = 17

# Instalments per invoice: many care and waste invoices are paid monthly by Direct Debit.
PAID_INSTALMENTS = (1, 2, 3, 4, 6)
PAID_INSTALMENTS_CUM = tuple(itertools.accumulate((40, 25, 15, 10, 10)))
PART_INSTALMENTS = (1, 2, 3)
PART_INSTALMENTS_CUM = tuple(itertools.accumulate((50, 30, 20)))

_TIMES = tuple(f"{h:02d}:{m:02d}:00.000000" for h in range(8, 18) for m in range(0, 60, 5))
_BATCH_TIME = "07:00:00.000000"  # overnight jobs (invoices raised) stamp this time
_TOWN_CUM = tuple(itertools.accumulate(catalogue.TOWN_WEIGHTS))
_MANUAL_METHODS = frozenset({"telephone_card", "cash", "cheque"})
_GATEWAY_METHODS = frozenset({"card", "direct_debit"})


def _cumulative(weights: dict[str, int]) -> tuple[tuple[str, ...], tuple[int, ...]]:
    return tuple(weights), tuple(itertools.accumulate(weights.values()))


@dataclass(frozen=True)
class Context:
    today: date
    department_ids: dict[str, int]  # by department code
    staff_ids: dict[str, int]  # by catalogue.StaffSpec.key


@dataclass
class Counters:
    """Next primary key per table, and the next account and invoice numbers."""

    ids: dict[str, int]
    account_number: int
    invoice_number: int


class Generator:
    """Builds chunks of debtors with everything that hangs off them."""

    def __init__(self, rng: Random, pools: Pools, context: Context, counters: Counters):
        self.rng = rng
        self.pools = pools
        self.ctx = context
        self.counters = counters
        self.today_ord = context.today.toordinal()
        # The last day the generated history reaches: the seed runs at some time of day
        # that it cannot know, and nothing it writes may be timed after it (the ladder,
        # plans and Direct Debit replays bring the book up to today through the services).
        self.latest_ord = self.today_ord - 1
        self._iso: dict[int, str] = {}
        self._person_depts = _cumulative(catalogue.PERSON_DEPARTMENT_WEIGHTS)
        self._org_depts = _cumulative(catalogue.ORGANISATION_DEPARTMENT_WEIGHTS)
        self._methods = {
            code: _cumulative(weights) for code, weights in catalogue.PAYMENT_METHOD_WEIGHTS.items()
        }
        self._officers = (context.staff_ids["officer"], context.staff_ids["team_leader"])
        self._approvers = (context.staff_ids["team_leader"], context.staff_ids["team_leader_2"])

    # -- small helpers -------------------------------------------------------

    def day(self, ordinal: int) -> str:
        iso = self._iso.get(ordinal)
        if iso is None:
            iso = self._iso[ordinal] = date.fromordinal(ordinal).isoformat()
        return iso

    def stamp(self, ordinal: int) -> str:
        return f"{self.day(ordinal)} {self.rng.choice(_TIMES)}"

    def next_id(self, table: str) -> int:
        value = self.counters.ids[table]
        self.counters.ids[table] = value + 1
        return value

    def _quota(self, items: list[int], share: float) -> set[int]:
        """Exactly share*len items (fraction rounded at random), so small runs still get some."""
        expected = len(items) * share
        k = int(expected) + (1 if self.rng.random() < expected - int(expected) else 0)
        return set(self.rng.sample(items, min(k, len(items))))

    # -- the chunk -------------------------------------------------------------

    def chunk(self, n: int) -> dict[str, list[tuple]]:
        rng = self.rng
        rows: dict[str, list[tuple]] = {table: [] for table in TABLES}
        is_org = [rng.random() < ORGANISATION_SHARE for _ in range(n)]
        people = [i for i in range(n) if not is_org[i]]
        vulnerable = self._quota(people, VULNERABLE_SHARE)
        deceased = self._quota(people, DECEASED_SHARE)
        # Breathing Space ends on death, so the two never overlap.
        breathing = self._quota([i for i in people if i not in deceased], BREATHING_SPACE_SHARE)
        for i in range(n):
            self._debtor(rows, is_org[i], i in vulnerable, i in deceased, i in breathing)
        return rows

    def _debtor(self, rows, org: bool, vulnerable: bool, deceased: bool, breathing: bool) -> None:
        rng = self.rng
        today = self.today_ord
        account_id = self.next_id("debtor_accounts")
        reference = f"{ACCOUNT_REFERENCE_PREFIX}{self.counters.account_number:08d}"
        # The finance system's customer id (docs/invoice-import.md: its invoice files
        # find the account by it; docs/samples/invoices.csv names the first few).
        finance_customer_id = f"{FINANCE_CUSTOMER_PREFIX}{self.counters.account_number:08d}"
        self.counters.account_number += 1

        if org:
            n_invoices = rng.randint(1, ORGANISATION_MAX_INVOICES)
        else:
            n_invoices = rng.choices(PERSON_INVOICE_COUNTS, cum_weights=PERSON_INVOICE_CUM)[0]
        issue_days = sorted(today - rng.randrange(1, HISTORY_DAYS) for _ in range(n_invoices))
        created_ord = issue_days[0] - rng.randint(0, 30)
        created_at = self.stamp(created_ord)

        bs = (None, None, None, None)
        death = None
        if breathing:
            if rng.random() < 0.8:
                start = today - rng.randint(1, STANDARD_BREATHING_SPACE_DAYS - 1)
                end = self.day(start + STANDARD_BREATHING_SPACE_DAYS)
                bs_type = "standard"
            else:
                start, end, bs_type = today - rng.randint(1, 200), None, "mental_health_crisis"
            bs = (bs_type, self.day(start), end, f"BS{rng.randrange(10**7, 10**8)}")
        if deceased:
            death = today - rng.randint(10, 400)

        vulnerability = (None, None)
        if vulnerable:
            # Some reviews are already overdue, as they are in a real caseload.
            vulnerability = (
                rng.choice(catalogue.VULNERABILITY_REASONS),
                self.day(today + rng.randint(-20, 180)),
            )

        contact = self._organisation(created_at) if org else self._person(created_at)
        rows["debtor_accounts"].append(
            (
                account_id,
                reference,
                finance_customer_id,
                *contact,
                int(vulnerable),
                *vulnerability,
                *bs,
                int(deceased),
                self.day(death) if death else None,
                created_at,
                created_at,
            )
        )
        rows["addresses"].append(self._address(account_id, org, created_at))

        self._invoices(rows, account_id, org, issue_days)
        self._history(rows, account_id, created_ord, vulnerability[0], bs, death)

    # -- who they are ----------------------------------------------------------

    def _person(self, created_at: str) -> tuple:
        rng = self.rng
        pools = self.pools
        male = rng.random() < 0.48
        forename = rng.choice(pools.male_forenames if male else pools.female_forenames)
        surname = rng.choice(pools.surnames)
        r = rng.random()
        if r < 0.01:
            title = "Mx"
        elif r < 0.05:
            title = "Dr"
        elif male:
            title = "Mr"
        else:
            title = "Mrs" if r < 0.45 else "Ms" if r < 0.75 else "Miss"
        email = None
        if rng.random() < 0.70:
            suffix = str(rng.randint(1, 99)) if rng.random() < 0.5 else ""
            email = (
                f"{slug(forename)}.{slug(surname)}{suffix}@{rng.choice(catalogue.EMAIL_DOMAINS)}"
            )
        mobile_phone = mobile(rng) if rng.random() < 0.60 else None
        other_phone = landline(rng) if rng.random() < 0.15 else None
        return (
            "person",
            title,
            forename,
            surname,
            None,
            None,
            email,
            mobile_phone,
            other_phone,
            *self._channel(email, mobile_phone, created_at),
        )

    def _organisation(self, created_at: str) -> tuple:
        rng = self.rng
        name, llp = rng.choice(self.pools.organisation_names)
        if llp:
            company_number = f"OC{rng.randrange(300_000, 450_000)}"
        else:
            company_number = f"{rng.randrange(1_000_000, 15_000_000):08d}"
        email = None
        if rng.random() < 0.80:
            mailbox = rng.choice(("accounts", "info", "office", "finance"))
            email = f"{mailbox}@{slug(name, '-')[:40]}.example"
        mobile_phone = mobile(rng) if rng.random() < 0.30 else None
        other_phone = landline(rng) if rng.random() < 0.85 else None
        return (
            "organisation",
            None,
            None,
            None,
            name,
            company_number,
            email,
            mobile_phone,
            other_phone,
            *self._channel(email, mobile_phone, created_at),
        )

    def _channel(self, email: str | None, mobile_phone: str | None, created_at: str) -> tuple:
        """Consent only for details we hold; the preferred channel is one consented to, or post."""
        rng = self.rng
        consent_email = email is not None and rng.random() < 0.8
        consent_sms = mobile_phone is not None and rng.random() < 0.7
        options = ["post"] * 2
        if consent_email:
            options += ["email"] * 5
        if consent_sms:
            options += ["sms"] * 3
        preferred = rng.choice(options) if len(options) > 2 else "post"
        consent_at = created_at if consent_email or consent_sms else None
        return preferred, int(consent_email), int(consent_sms), consent_at

    def _address(self, account_id: int, org: bool, created_at: str) -> tuple:
        rng = self.rng
        town, county, districts = rng.choices(catalogue.TOWNS, cum_weights=_TOWN_CUM)[0]
        street = rng.choice(self.pools.streets)
        r = rng.random()
        if org:
            if r < 0.5:
                line1, line2 = f"Unit {rng.randint(1, 40)}, {rng.choice(catalogue.ESTATES)}", street
            else:
                line1, line2 = f"{rng.randint(1, 150)} {street}", None
        elif r < 0.14:
            line1, line2 = f"Flat {rng.randint(1, 30)}, {rng.choice(catalogue.BLOCK_NAMES)}", street
        elif r < 0.24:
            line1, line2 = rng.choice(catalogue.HOUSE_NAMES), street
        else:
            line2 = rng.choice(catalogue.VILLAGES) if rng.random() < 0.15 else None
            line1 = f"{rng.randint(1, 180)} {street}"
        code = postcode(rng, districts)
        return (
            self.next_id("addresses"),
            account_id,
            line1,
            line2,
            town,
            county,
            code,
            postcode_key(code),
            1,
            created_at,
        )

    # -- what they owe and paid --------------------------------------------------

    def _invoices(self, rows, account_id: int, org: bool, issue_days: list[int]) -> None:
        """Write the account's invoices, lines, ledger and allocations (none on the ladder)."""
        rng = self.rng
        names, cum = self._org_depts if org else self._person_depts
        primary = rng.choices(names, cum_weights=cum)[0]
        invoices = rows["invoices"]
        lines_out = rows["invoice_lines"]
        # (date, order, kind, amount, invoice id on the entry, method, reason, staff,
        #  allocation invoice id, allocation amount); sorted so ids follow time.
        events: list[tuple] = []

        for issue in issue_days:
            dept = primary if rng.random() < 0.8 else rng.choices(names, cum_weights=cum)[0]
            invoice_id = self.next_id("invoices")
            number = f"{INVOICE_NUMBER_PREFIX}{self.counters.invoice_number:08d}"
            self.counters.invoice_number += 1
            due = issue + PAYMENT_TERMS_DAYS
            description, lines = charges.CHARGES[dept](rng, date.fromordinal(issue))
            net_total = vat_total = 0
            line_totals = []
            for line_no, (text, quantity, unit_price, rate) in enumerate(lines, start=1):
                net = quantity * unit_price
                vat = vat_on(net, rate)
                net_total += net
                vat_total += vat
                line_totals.append(net + vat)
                lines_out.append(
                    (
                        self.next_id("invoice_lines"),
                        invoice_id,
                        line_no,
                        text,
                        quantity,
                        unit_price,
                        net,
                        rate.value,
                        # Today's rates: in force for the whole of the demo's two years.
                        RATE_BASIS_POINTS[rate],
                        vat,
                    )
                )
            total = net_total + vat_total
            created_at = f"{self.day(issue)} {_BATCH_TIME}"
            events.append(
                (issue, 0, "invoice", total, invoice_id, None, None, None, None, 0, created_at)
            )

            remaining = total
            if rng.random() < CREDIT_NOTE_SHARE:
                if rng.random() < 0.3 or total < 200:
                    credit = total
                elif len(line_totals) > 1 and line_totals[-1] > 0:
                    credit = line_totals[-1]
                else:
                    credit = max(1, total * rng.randint(10, 50) // 100)
                when = min(self.latest_ord, issue + rng.randint(1, 25))
                events.append(
                    (
                        when,
                        1,
                        "credit_note",
                        -credit,
                        invoice_id,
                        None,
                        rng.choice(catalogue.CREDIT_NOTE_REASONS),
                        rng.choice(self._approvers),
                        invoice_id,
                        credit,
                        None,
                    )
                )
                remaining -= credit

            self._payments(events, dept, issue, invoice_id, remaining)
            invoices.append(
                (
                    invoice_id,
                    number,
                    account_id,
                    self.ctx.department_ids[dept],
                    self.day(issue),
                    self.day(due),
                    description,
                    net_total,
                    vat_total,
                    total,
                    "none",
                    None,
                    None,
                    created_at,
                )
            )

        self._ledger(rows, account_id, events)

    def _payments(
        self, events: list, dept: str, issue: int, invoice_id: int, remaining: int
    ) -> int:
        """Add payment events for one invoice; return how much of it they settle."""
        rng = self.rng
        r = rng.random()
        if remaining <= 0 or r >= PAID_SHARE + PART_PAID_SHARE:
            return 0
        paid_in_full = r < PAID_SHARE or remaining < 2
        if paid_in_full:
            target = remaining
            k = rng.choices(PAID_INSTALMENTS, cum_weights=PAID_INSTALMENTS_CUM)[0]
        else:
            target = min(remaining - 1, max(1, remaining * rng.randint(10, 90) // 100))
            k = rng.choices(PART_INSTALMENTS, cum_weights=PART_INSTALMENTS_CUM)[0]
        k = min(k, target)
        methods, cum = self._methods[dept]
        method = rng.choices(methods, cum_weights=cum)[0]
        # Direct Debits are collected around the due date; other payers vary.
        if method == "direct_debit":
            when = issue + rng.randint(PAYMENT_TERMS_DAYS - 5, PAYMENT_TERMS_DAYS + 2)
        else:
            when = issue + rng.randint(1, 60)
        staff = rng.choice(self._officers) if method in _MANUAL_METHODS else None
        each, rest = divmod(target, k)
        overpaid = paid_in_full and rng.random() < OVERPAID_SHARE_OF_PAID
        for n in range(k):
            applied = each + (rest if n == k - 1 else 0)
            amount = applied
            if overpaid and n == k - 1:
                amount += rng.randrange(100, 5_000)  # the payer rounded up or paid twice
            events.append(
                (
                    min(when, self.latest_ord),
                    2,
                    "payment",
                    -amount,
                    None,
                    method,
                    None,
                    staff,
                    invoice_id,
                    applied,
                    None,
                )
            )
            when += rng.randint(28, 31)
        return target

    def _ledger(self, rows, account_id: int, events: list[tuple]) -> None:
        ledger = rows["ledger_entries"]
        allocations = rows["allocations"]
        events.sort(key=itemgetter(0, 1))
        for (
            when,
            _order,
            kind,
            amount,
            entry_invoice,
            method,
            reason,
            staff,
            alloc_invoice,
            alloc_amount,
            created_at,
        ) in events:
            entry_id = self.next_id("ledger_entries")
            reference = f"demo-pay-{entry_id}" if method in _GATEWAY_METHODS else None
            if created_at is None:
                created_at = self.stamp(when)
            ledger.append(
                (
                    entry_id,
                    account_id,
                    kind,
                    amount,
                    entry_invoice,
                    method,
                    reference,
                    reason,
                    self.day(when),
                    staff,
                    created_at,
                )
            )
            if alloc_amount:
                allocations.append(
                    (
                        self.next_id("allocations"),
                        entry_id,
                        alloc_invoice,
                        alloc_amount,
                        staff,
                        created_at,
                    )
                )

    # -- the timeline ---------------------------------------------------------------

    def _history(
        self,
        rows,
        account_id: int,
        created_ord: int,
        vulnerability_reason,
        bs: tuple,
        death: int | None,
    ) -> None:
        rng = self.rng
        today = self.today_ord
        events = rows["contact_events"]
        officer = self.ctx.staff_ids["officer"]

        def add(
            when: str,
            kind: str,
            summary: str,
            outcome=None,
            follow_up=None,
            staff=None,
            detail=None,
        ):
            events.append(
                (
                    self.next_id("contact_events"),
                    account_id,
                    when,
                    kind,
                    summary,
                    detail,
                    outcome,
                    follow_up,
                    staff,
                    when,
                )
            )

        last_invoice = rows["invoices"][-1]
        if rng.random() < 0.6:
            add(
                last_invoice[13],
                "system",
                f"Invoice {last_invoice[1]} raised for {format_gbp(last_invoice[9])}",
            )
        if vulnerability_reason:
            when = rng.randint(created_ord, self.latest_ord)
            add(
                self.stamp(when),
                "note",
                f"Vulnerability recorded: {vulnerability_reason}",
                staff=officer,
            )
        if bs[0]:
            kind = "standard" if bs[0] == "standard" else "mental health crisis"
            add(
                f"{bs[1]} {_BATCH_TIME}",
                "system",
                f"Breathing Space ({kind}) notified, reference {bs[3]}: "
                "recovery action and contact paused",
            )
        if death is not None:
            when = min(self.latest_ord, death + rng.randint(3, 20))
            add(
                self.stamp(when),
                "call_in",
                "Notified of the debtor's death; account referred to the deceased estates team",
                outcome="deceased",
                staff=officer,
            )
        if rng.random() < 0.04:
            kind, summary, outcome = rng.choice(catalogue.OFFICER_NOTES)
            when = rng.randint(max(created_ord, today - 120), self.latest_ord)
            follow_up = self.day(when + rng.randint(7, 14)) if rng.random() < 0.3 else None
            add(
                self.stamp(when),
                kind,
                summary,
                outcome=outcome,
                follow_up=follow_up,
                staff=rng.choice(self._officers),
            )
