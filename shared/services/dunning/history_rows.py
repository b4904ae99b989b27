"""A dunning run's timeline and audit rows, exactly as shared.services.history's
record_timeline and record_audit write them (the same columns and values), as dicts
for one executemany INSERT per chunk."""

from __future__ import annotations

from shared.domain import dunning as rules
from shared.formatting import long_date
from shared.models import ContactKind
from shared.money import format_gbp

_CHANNEL_KINDS = {"letter": ContactKind.LETTER, "email": ContactKind.EMAIL, "sms": ContactKind.SMS}


def timeline_row(on, actor, account_id, moves, plan, message_id, channel) -> dict:
    amount = format_gbp(sum(m.outstanding_pence for m in moves))
    numbers = [m.number for m in moves]
    return {
        "account_id": account_id,
        "kind": _CHANNEL_KINDS.get(channel or "", ContactKind.SYSTEM),
        "summary": rules.timeline_summary(
            plan.stage, channel, numbers, amount, letter_of_claim=plan.letter_of_claim
        )[:300],
        "detail": "Recovery stage moved by the run of "
        + long_date(on)
        + ":\n"
        + "\n".join(
            f"{m.number}: {rules.STAGE_WORDS[m.from_stage]} to {rules.STAGE_WORDS[m.to_stage]}"
            f" ({format_gbp(m.outstanding_pence)})"
            for m in moves
        ),
        "outcome": None,
        "follow_up_date": None,
        "staff_id": actor.staff_id,
        "portal_user_id": actor.portal_user_id,
        "outbox_message_id": message_id,
    }


def audit_row(run_id, on, actor, account_id, moves, plan, message_id, channel) -> dict:
    return {
        "actor_type": actor.type,
        "actor_id": actor.id,
        "action": "dunning.invoices_moved",
        "object_type": "debtor_account",
        "object_id": str(account_id),
        "account_id": account_id,
        "before": None,
        "after": {
            "run_id": run_id,
            "run_date": on.isoformat(),
            "moves": [
                {
                    "invoice": m.number,
                    "from": m.from_stage,
                    "to": m.to_stage,
                    "outstanding_pence": m.outstanding_pence,
                }
                for m in moves
            ],
            "message_id": message_id,
            "channel": channel,
            "template": plan.template_key,
            "letter_of_claim": plan.letter_of_claim,
        },
        "source_ip": actor.source_ip,
    }
