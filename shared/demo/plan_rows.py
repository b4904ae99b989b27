"""The demo's plans turned into rows (shared/demo/plans.py): the plan, its debts and
schedule, the statement, timeline and audit rows, and the payments of its instalments."""

from __future__ import annotations

from shared.demo.plan_values import (
    PLAN_ID,
    PLAN_TABLES,
    Plan,
    iso_text,
    json_text,
)


class PlanRows:
    """Turning PlanMaker's plans into rows for the bulk writer."""

    # -- rows ----------------------------------------------------------------------------

    def add(self, plan: Plan) -> None:
        """Give the plan its ids and turn it into rows."""
        rows = self.rows
        arrangement_id = self.next_id("arrangements")
        statement_id = None
        if plan.statement is not None:
            statement_id = self.next_id("income_expenditure_statements")
            submitted = min(e.at for e in plan.events if e.audit_object != "arrangement")
            rows["income_expenditure_statements"].append(
                (
                    statement_id,
                    plan.account_id,
                    None,
                    self.officer,
                    json_text(plan.statement),
                    iso_text(submitted),
                    iso_text(submitted),
                    iso_text(submitted),
                )
            )
        updated = max(
            t for t in (plan.proposed_at, plan.activated_at, plan.counter_at, plan.ended_at) if t
        )
        rows["arrangements"].append(
            (
                arrangement_id,
                plan.account_id,
                plan.status,
                plan.frequency,
                plan.total,
                iso_text(plan.terms.start),
                plan.route,
                None,
                plan.proposer,
                plan.decided_by,
                iso_text(plan.decided_at),
                plan.decision_reason,
                plan.terms.instalment_pence,
                plan.terms.count,
                statement_id,
                plan.outcome,
                json_text(plan.rules),
                int(plan.needs_leader),
                json_text(plan.original_terms),
                plan.counter_by,
                iso_text(plan.counter_at),
                iso_text(plan.activated_at),
                iso_text(plan.ended_at),
                plan.end_reason,
                None,
                None,
                iso_text(plan.proposed_at),
                iso_text(updated),
            )
        )
        rows["arrangement_debts"].extend(
            (arrangement_id, d.invoice_id, d.outstanding_pence, d.stage) for d in plan.debts
        )
        for instalment in plan.schedule:
            paid, paid_on, missed_on, reminded_at = plan.readings.get(
                instalment.sequence, (0, None, None, None)
            )
            rows["instalments"].append(
                (
                    self.next_id("instalments"),
                    arrangement_id,
                    instalment.sequence,
                    iso_text(instalment.due_date),
                    instalment.amount_pence,
                    paid,
                    iso_text(paid_on),
                    iso_text(missed_on),
                    iso_text(reminded_at),
                )
            )
        self._add_payments(plan)
        for event in sorted(plan.events, key=lambda e: e.at):
            stamp = iso_text(event.at)
            if event.summary is not None:
                kind = "system" if event.staff_id is None else "note"
                rows["contact_events"].append(
                    (
                        self.next_id("contact_events"),
                        plan.account_id,
                        stamp,
                        kind,
                        event.summary.replace(PLAN_ID, str(arrangement_id)),
                        event.detail,
                        None,
                        None,
                        event.staff_id,
                        stamp,
                    )
                )
            if event.action is not None:
                object_id = arrangement_id if event.audit_object == "arrangement" else statement_id
                rows["audit_log"].append(
                    (
                        self.next_id("audit_log"),
                        stamp,
                        "system" if event.staff_id is None else "staff",
                        event.staff_id,
                        event.action,
                        event.audit_object,
                        str(object_id),
                        plan.account_id,
                        json_text(event.before),
                        json_text(event.after),
                        None,
                    )
                )

    def _add_payments(self, plan: Plan) -> None:
        """Each instalment paid is a payment allocated to the plan's debts, oldest due
        first, as the rest of the demo's payments are (no timeline entry of its own)."""
        owed = {d.invoice_id: d.outstanding_pence for d in plan.debts}
        order = [d.invoice_id for d in sorted(plan.debts, key=lambda d: (d.due_date, d.invoice_id))]
        method = "card" if plan.route == "card" else "direct_debit"
        for at, amount in sorted(plan.payments):
            entry_id = self.next_id("ledger_entries")
            stamp = iso_text(at)
            self.rows["ledger_entries"].append(
                (
                    entry_id,
                    plan.account_id,
                    "payment",
                    -amount,
                    None,
                    method,
                    f"demo-pay-{entry_id}",
                    None,
                    iso_text(at.date()),
                    None,
                    stamp,
                )
            )
            left = amount
            for invoice_id in order:
                share = min(left, owed[invoice_id])
                if share <= 0:
                    continue
                owed[invoice_id] -= share
                left -= share
                self.rows["allocations"].append(
                    (self.next_id("allocations"), entry_id, invoice_id, share, None, stamp)
                )
                if left == 0:
                    break

    def take_rows(self) -> dict[str, list[tuple]]:
        rows, self.rows = self.rows, {table: [] for table in PLAN_TABLES}
        return rows
