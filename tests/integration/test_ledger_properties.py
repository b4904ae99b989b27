"""Property-based tests: random sequences of ledger operations do exactly what the rules say.

Hypothesis drives the real services (ledger, approvals, payment checks, holds)
against the real database (SQLite or PostgreSQL, whichever the suite runs on),
over several accounts at once. The test keeps its own model of the books in
plain Python, worked out from the rules in docs/ledger.md and not from the code
under test. For every operation the model decides beforehand whether it must be
refused: a refusal is expected exactly then (and must change nothing), success
otherwise. After every payment and allocation the test checks which invoices
the money reached, and how much, against the model's own oldest-first spread.
After every step the whole of each account (balance, what each invoice owes,
each credit's allocations, refunds, transfers and reversal, the unallocated
queue) is compared with the model, and the reconciliation report must find
nothing wrong.
"""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from shared import clock
from shared.domain.holds import HoldTerms
from shared.extensions import db
from shared.models import LedgerEntry, PaymentMethod, StaffRole
from shared.reports.reconciliation import ledger_discrepancies
from shared.services import actors, approvals, balances, holds, ledger, payment_checks
from shared.services.actors import SYSTEM
from shared.services.errors import Conflict, Forbidden, InvalidRequest, NotFound
from tests.factories import make_account, make_department, make_staff
from tests.integration.ledger_model import REFUNDABLE, BookModel, Inv, stored_credits

ACCOUNTS = 3
FIRST_ISSUE = date(2025, 1, 1)
# Few distinct dates, so due dates tie (settled by invoice id) and a later invoice
# often falls due before an earlier one.
ISSUE_DAYS = st.integers(0, 6)
TERMS = st.sampled_from([0, 7, 14, 30, 30, -1])  # -1: due before issue, which is refused
invoice_amounts = st.integers(1, 200_00)
# Payments are often more than is open, so there is spare credit to allocate, refund
# and move.
amounts = st.integers(1, 500_00)
maybe_bad_amounts = st.one_of(amounts, st.integers(-1, 0))


def up_to(limit: int, over: int = 10):
    """Mostly a valid amount (1..limit), sometimes one that must be refused."""
    return st.one_of(st.integers(1, max(1, limit)), st.integers(-1, max(limit, 0) + over))


# Online card and Direct Debit money comes from the provider; these are typed in by an
# officer and leave unverified credit (shared/domain/manual_payments.py).
PROVIDER_METHODS = [PaymentMethod.CARD, PaymentMethod.DIRECT_DEBIT]
HAND_METHODS = [
    PaymentMethod.BANK_TRANSFER,
    PaymentMethod.CASH,
    PaymentMethod.CHEQUE,
    PaymentMethod.TELEPHONE_CARD,
]


class LedgerMachine(BookModel, RuleBasedStateMachine):
    """Several fresh accounts per run; every refusal must be one the model predicted."""

    invoices = Bundle("invoices")
    credits = Bundle("credits")
    refunds = Bundle("refunds")
    refund_requests = Bundle("refund_requests")
    holds_placed = Bundle("holds_placed")

    def __init__(self):
        super().__init__()
        self.seq = 0

    @initialize()
    def open_accounts(self):
        self.accounts = [make_account().id for _ in range(ACCOUNTS)]
        self.balance = dict.fromkeys(self.accounts, 0)
        self.department = make_department()
        self.officer = actors.staff(make_staff().id)
        self.checker = actors.staff(make_staff().id)  # the second officer who verifies
        leader = make_staff(StaffRole.TEAM_LEADER, refund_limit_pence=10**9)
        self.leader = actors.staff(leader.id)

    # --- invoices ------------------------------------------------------------------------

    @rule(
        target=invoices,
        a=st.integers(0, ACCOUNTS - 1),
        bills=st.lists(
            st.tuples(invoice_amounts, ISSUE_DAYS, TERMS, st.booleans()), min_size=1, max_size=3
        ),
        reuse_number=st.integers(0, 7),
    )
    def raise_invoices(self, a, bills, reuse_number):
        # Up to three at a time: the oldest-first rule needs several open invoices to choose from.
        raised = [
            self._raise_invoice(self.accounts[a], net, day, term, vat, reuse_number == 0)
            for net, day, term, vat in bills
        ]
        return multiple(*(i for i in raised if i is not None))

    def _raise_invoice(self, account, net, day, term, vat, reuse_number) -> int | None:
        issue = FIRST_ISSUE + timedelta(days=day)
        self.seq += 1
        number = f"P{account}-{self.seq}"
        if reuse_number and self.invs:
            number = next(iter(self.invs.values())).number
        rate = ledger.VatRate.STANDARD if vat else ledger.VatRate.OUTSIDE_SCOPE

        def call():
            return ledger.raise_invoice(
                account_id=account,
                department_id=self.department.id,
                number=number,
                issue_date=issue,
                due_date=issue + timedelta(days=term),
                description="Trade waste",
                lines=[ledger.LineInput("Collection", 1, net, rate)],
                actor=SYSTEM,
            )

        if term < 0:
            self._refused(InvalidRequest, call)
            return None
        if any(inv.number == number for inv in self.invs.values()):
            self._refused(Conflict, call)
            return None
        invoice = call()
        assert invoice.total_pence >= net and invoice.account_id == account
        self.invs[invoice.id] = Inv(account, number, invoice.total_pence, invoice.due_date)
        self.balance[account] += invoice.total_pence
        return invoice.id

    @rule(target=holds_placed, invoice=invoices, scope=st.integers(0, 5), kind=st.booleans())
    def dispute_or_query(self, invoice, scope, kind):
        # From yesterday for most of a year: in force on the ledger's day, whichever
        # clock (London or UTC) it reads.
        account = self.invs[invoice].account
        today = clock.today()
        terms = HoldTerms(
            "dispute" if kind else "query",
            starts_on=today - timedelta(days=1),
            expires_on=today + timedelta(days=300),
        )
        hold = holds.place_hold(
            account,
            terms,
            "Says the bins were not collected",
            self.officer,
            today=clock.today(),
            invoice_id=None if scope == 0 else invoice,  # now and then the whole account
        )
        self.holds[hold.id] = (account, hold.invoice_id)
        return hold.id

    @rule(hold=consumes(holds_placed))
    def lift_hold(self, hold):
        holds.lift_hold(hold, "Resolved", self.officer, today=clock.today())
        del self.holds[hold]

    # --- money in -------------------------------------------------------------------------

    @rule(
        target=credits,
        a=st.integers(0, ACCOUNTS - 1),
        amount=maybe_bad_amounts,
        method=st.sampled_from(PROVIDER_METHODS),
        again=st.sampled_from(["no", "same", "other amount", "other account"]),
    )
    def pay_oldest_first(self, a, amount, method, again):
        account = self.accounts[a]
        self.seq += 1
        ref = f"ref-{account}-{self.seq}"

        def pay(account_id=account, pence=amount):
            return ledger.record_payment(
                account_id=account_id,
                amount_pence=pence,
                method=method,
                external_reference=ref,
                actor=SYSTEM,
            )

        if amount <= 0:
            self._refused(InvalidRequest, pay)
            return multiple()
        expected = self.oldest_first(account, amount)
        result = pay()
        assert result.created
        assert self._reached(result.entry.allocations) == expected
        credit = self._new_credit(result.entry, "payment", card=method == PaymentMethod.CARD)
        self._apply(credit, expected)
        # The same provider reference again (a webhook delivered twice) is the same
        # payment; with another amount or account it is a conflict.
        if again == "same":
            before = self._snapshot()
            repeat = pay()
            assert not repeat.created and repeat.entry.id == credit
            assert self._snapshot() == before
        elif again == "other amount":
            self._refused(Conflict, lambda: pay(pence=amount + 1))
        elif again == "other account":
            other = self.accounts[(a + 1) % ACCOUNTS]
            self._refused(Conflict, lambda: pay(account_id=other))
        return credit

    @rule(
        target=credits,
        a=st.integers(0, ACCOUNTS - 1),
        amount=amounts,
        method=st.sampled_from(HAND_METHODS),
    )
    def officer_records_a_payment_by_hand(self, a, amount, method):
        account = self.accounts[a]
        expected = self.oldest_first(account, amount)
        recorded = payment_checks.record_manual_payment(
            account_id=account, amount_pence=amount, method=method, actor=self.officer
        )
        assert self._reached(recorded.entry.allocations) == expected
        # Held for a second officer exactly when it leaves credit on the account.
        leaves_credit = sum(expected.values()) < amount
        assert recorded.unverified == leaves_credit
        credit = self._new_credit(
            recorded.entry,
            "payment",
            hand=leaves_credit,
            unverified=leaves_credit,
            recorded_by=self.officer.staff_id,
        )
        self._apply(credit, expected)
        return credit

    @rule(credit=credits, by_recorder=st.booleans())
    def second_officer_verifies(self, credit, by_recorder):
        c = self.credits_[credit]
        verifier = self.officer if by_recorder else self.checker

        def call():
            return payment_checks.verify_payment(entry_id=credit, actor=verifier)

        if not c.hand:
            self._refused(NotFound, call)
        elif not c.unverified:
            assert call() is False
        elif verifier.staff_id == c.recorded_by:
            self._refused(Forbidden, call)
        else:
            assert call() is True
            c.unverified = False

    @rule(target=credits, a=st.integers(0, ACCOUNTS - 1), data=st.data())
    def pay_chosen_invoices(self, a, data):
        account = self.accounts[a]
        requested = self._draw_choice(data, account)
        amount = sum(max(p, 0) for _, p in requested) + data.draw(st.integers(-2, 50_00))

        def pay():
            return ledger.record_payment(
                account_id=account,
                amount_pence=amount,
                method=PaymentMethod.CARD,
                allocations=requested,
                actor=SYSTEM,
            )

        if amount <= 0 or self.explicit_refused(account, amount, requested):
            self._refused(InvalidRequest, pay)
            return multiple()
        result = pay()
        assert self._reached(result.entry.allocations) == dict(requested)
        credit = self._new_credit(result.entry, "payment", card=True)
        self._apply(credit, dict(requested))
        return credit

    def _draw_choice(self, data, account: int) -> list[tuple[int, int]]:
        """Up to three (invoice, pence) picks, mostly from the account's open invoices,
        sometimes from any account, listing one twice, or for more than the invoice
        owes: the model says which must be refused."""
        own = sorted(
            i for i, inv in self.invs.items() if inv.account == account and inv.outstanding
        )
        anywhere = data.draw(st.integers(0, 3)) == 0 or not own
        pool = sorted(self.invs) if anywhere else own
        if not pool:
            return []
        picks = data.draw(
            st.lists(st.sampled_from(pool), max_size=3, unique=data.draw(st.booleans()))
        )
        return [(i, data.draw(up_to(self.invs[i].outstanding, over=2))) for i in picks]

    @rule(
        credit=credits,
        mode=st.sampled_from(["default", "as shown", "stale form", "chosen"]),
        data=st.data(),
    )
    def allocate_spare_credit(self, credit, mode, data):
        c = self.credits_[credit]
        requested = self._draw_choice(data, c.account) if mode == "chosen" else None
        shown = {"as shown": c.available, "stale form": c.available + 1}.get(mode)

        def call():
            return ledger.allocate(
                credit_entry_id=credit,
                actor=SYSTEM,
                allocations=requested,
                expected_available_pence=shown,
            )

        if mode == "stale form":
            self._refused(Conflict, call)
            return
        if requested is None:
            plan = self.oldest_first(c.account, max(c.available, 0))
        else:
            refused = self.explicit_refused(c.account, c.available, requested)
            plan = {} if refused else dict(requested)
        if c.available <= 0 or not plan:
            self._refused(InvalidRequest, call)
            return
        assert self._reached(call()) == plan
        self._apply(credit, plan)

    # --- credit notes and write-offs ------------------------------------------------------

    @rule(target=credits, invoice=invoices, data=st.data())
    def credit_note(self, invoice, data):
        inv = self.invs[invoice]
        amount = data.draw(up_to(inv.total, over=50))
        creditable = inv.total - sum(inv.reductions.values())

        def call():
            return ledger.raise_credit_note(
                invoice_id=invoice, amount_pence=amount, reason="Charged in error", actor=SYSTEM
            )

        if not 0 < amount <= creditable:
            self._refused(InvalidRequest, call)
            return multiple()
        entry = call()
        # It settles what the invoice still owes; any paid part becomes credit.
        applied = min(inv.outstanding, amount)
        expected = {invoice: applied} if applied > 0 else {}
        assert self._reached(entry.allocations) == expected
        credit = self._new_credit(entry, "credit_note", invoice=invoice)
        self._apply(credit, expected)
        inv.reductions[credit] = amount
        return credit

    @rule(target=credits, invoice=invoices, data=st.data())
    def write_off(self, invoice, data):
        inv = self.invs[invoice]
        amount = data.draw(up_to(inv.outstanding))

        def call():
            return ledger.write_off(
                invoice_id=invoice, amount_pence=amount, reason="Uneconomical", actor=SYSTEM
            )

        if not 0 < amount <= inv.outstanding:
            self._refused(InvalidRequest, call)
            return multiple()
        entry = call()
        assert self._reached(entry.allocations) == {invoice: amount}
        credit = self._new_credit(entry, "write_off", invoice=invoice)
        self._apply(credit, {invoice: amount})
        inv.reductions[credit] = amount
        return credit

    # --- money out: refunds (asked by one person, approved by another) ------------------

    @rule(
        target=refund_requests,
        credit=credits,
        data=st.data(),
        route=st.sampled_from(["bacs", "cheque", "card"]),
    )
    def officer_asks_for_a_refund(self, credit, data, route):
        c = self.credits_[credit]
        amount = data.draw(up_to(c.available))
        if route == "card" and c.card:
            # Not sent: a card refund is queued for the card provider on the shared
            # test Redis. The ledger side is the same for every route.
            route = "bacs"

        def call():
            return approvals.request_refund(
                source_entry_id=credit,
                amount_pence=amount,
                route=route,
                reason="Overpaid",
                actor=self.officer,
            )

        refused = (
            not 0 < amount <= c.available
            or c.kind not in REFUNDABLE
            or c.unverified
            or (route == "card" and not c.card)  # only an online card payment goes back
        )
        if refused:
            self._refused(InvalidRequest, call)
            return multiple()
        outcome = call()
        # Money leaving the council always waits for a second person.
        assert not outcome.posted and outcome.request.amount_pence == amount
        self.requests[outcome.request.id] = (credit, amount)
        return outcome.request.id

    @rule(target=refunds, request=consumes(refund_requests), twice=st.booleans())
    def team_leader_approves_the_refund(self, request, twice):
        credit, amount = self.requests.pop(request)
        c = self.credits_[credit]

        def call():
            return approvals.approve(request_id=request, actor=self.leader)

        # Approved later than asked: the credit may have been spent meanwhile.
        if amount > c.available:
            self._refused(InvalidRequest, call)
            return multiple()
        decision = call()
        assert decision.changed
        refund_id = decision.request.ledger_entry_id
        refund = db.session.get(LedgerEntry, refund_id)
        assert (refund.kind, refund.amount_pence, refund.source_entry_id) == (
            "refund",
            amount,
            credit,
        )
        c.drawn += amount
        self.balance[c.account] += amount
        self.refund_amount[refund_id] = (c.account, amount)
        if twice:
            before = self._snapshot()
            assert not approvals.approve(request_id=request, actor=self.leader).changed
            assert self._snapshot() == before
        return refund_id

    @rule(target=credits, refund=refunds, twice=st.booleans())
    def refund_comes_back_unpaid(self, refund, twice):
        """The outbox's path when the card provider refuses a refund for good: the
        money is credit on the account again, once, however often it is reported."""
        account, amount = self.refund_amount[refund]
        before = self._snapshot()
        entry = ledger.post_refund_returned(
            refund_entry_id=refund, reason="Card provider refused it", actor=SYSTEM
        )
        db.session.commit()
        if refund in self.returned:
            assert entry.id == self.returned[refund]
            assert self._snapshot() == before
            return multiple()
        assert (entry.account_id, entry.amount_pence, entry.kind) == (
            account,
            -amount,
            "adjustment",
        )
        assert self._reached(entry.allocations) == {}
        self.returned[refund] = self._new_credit(entry, "adjustment")
        if twice:
            assert self.refund_comes_back_unpaid(refund, False) == multiple()
        return entry.id

    @rule(credit=credits)
    def only_a_refund_can_come_back(self, credit):
        self._refused(
            NotFound,
            lambda: ledger.post_refund_returned(
                refund_entry_id=credit, reason="Not a refund", actor=SYSTEM
            ),
        )

    # --- moving and undoing credit --------------------------------------------------------

    @rule(target=credits, credit=credits, to=st.integers(0, ACCOUNTS - 1), data=st.data())
    def transfer_credit(self, credit, to, data):
        c = self.credits_[credit]
        to_account = self.accounts[to]
        amount = data.draw(up_to(c.available))

        def call():
            return ledger.transfer_credit(
                source_entry_id=credit,
                to_account_id=to_account,
                amount_pence=amount,
                reason="Paid against the wrong account",
                actor=SYSTEM,
            )

        if (
            not 0 < amount <= c.available
            or c.kind not in REFUNDABLE
            or to_account == c.account
            or c.unverified
        ):
            self._refused(InvalidRequest, call)
            return multiple()
        before = {a: balances.account_balance(a) for a in self.accounts}
        out_entry, in_entry = call()
        after = {a: balances.account_balance(a) for a in self.accounts}
        # Exactly the amount moves, between exactly these two accounts.
        assert after[c.account] - before[c.account] == amount
        assert before[to_account] - after[to_account] == amount
        assert all(after[a] == before[a] for a in self.accounts if a not in (c.account, to_account))
        assert (out_entry.account_id, out_entry.source_entry_id) == (c.account, credit)
        assert self._reached(in_entry.allocations) == {}
        c.drawn += amount
        self.balance[c.account] += amount
        return self._new_credit(in_entry, "adjustment")

    @rule(invoice=invoices, twice=st.booleans())
    def reverse_a_credit_note_or_write_off(self, invoice, twice):
        # Through the invoice, so a reversed reduction is tried often: it makes the
        # invoice creditable again.
        reductions = self.invs[invoice].reductions
        if reductions:
            self.reverse(min(reductions), twice)

    @rule(credit=credits, twice=st.booleans())
    def reverse(self, credit, twice):
        c = self.credits_[credit]

        def call():
            return ledger.reverse(entry_id=credit, reason="Returned debit", actor=SYSTEM)

        if c.reversal_id is not None:
            # A return reported again (ARUDD re-sent, chargeback repeated) is one reversal.
            before = self._snapshot()
            assert call().id == c.reversal_id
            assert self._snapshot() == before
            return
        amount = c.value - c.drawn  # what was refunded or moved out cannot come back twice
        if amount <= 0:
            self._refused(InvalidRequest, call)
            return
        reversal = call()
        assert reversal.amount_pence == amount
        # Every invoice the credit paid owes that part again.
        for invoice_id, pence in c.allocs.items():
            self.invs[invoice_id].allocated -= pence
        c.allocs.clear()
        if c.invoice is not None:  # a reversed credit note or write-off reduces nothing
            del self.invs[c.invoice].reductions[credit]
        c.reversed, c.reversal_id = amount, reversal.id
        self.balance[c.account] += amount
        if twice:
            assert call().id == reversal.id

    # --- after every step: the books are what the model says ------------------------------

    @invariant()
    def balances_and_what_each_invoice_owes_match_the_model(self):
        if not hasattr(self, "accounts"):
            return
        for account in self.accounts:
            assert balances.account_balance(account) == self.balance[account]
            owing = {i.invoice_id: i.outstanding_pence for i in balances.open_items(account)}
            assert owing == {
                i: inv.outstanding
                for i, inv in self.invs.items()
                if inv.account == account and inv.outstanding > 0
            }
        for inv in self.invs.values():
            assert 0 <= inv.outstanding <= inv.total

    @invariant()
    def each_credit_reached_the_invoices_the_model_says_and_no_other(self):
        if not hasattr(self, "accounts"):
            return
        stored = stored_credits(self.accounts)
        assert stored.allocations == self.expected_allocations()
        assert stored.values == {
            i: (c.value, sum(c.allocs.values()), c.drawn, c.reversed)
            for i, c in self.credits_.items()
        }
        assert stored.queued == {
            i: c.available for i, c in self.credits_.items() if c.available > 0
        }

    @invariant()
    def reconciliation_report_finds_nothing_wrong(self):
        if not hasattr(self, "accounts"):
            return
        assert ledger_discrepancies(self.accounts) == []


def test_random_ledger_operations_do_what_the_rules_say_and_keep_the_books_balanced(app):
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=30,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    # And the whole book, across every account the runs created: no allocation
    # crosses from one account's credit to another account's invoice.
    assert ledger_discrepancies() == []
    crossing = db.session.scalar(
        sa.text(
            "SELECT count(*) FROM allocations a "
            "JOIN ledger_entries e ON e.id = a.credit_entry_id "
            "JOIN invoices i ON i.id = a.invoice_id WHERE e.account_id <> i.account_id"
        )
    )
    assert crossing == 0
