"""What the back office shows about an account's legal steps: the case page's one-line
summary and statute-barred flag, and the Legal page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from shared.services.legal import judgments, limitation, pre_action


def _long(day: date) -> str:
    return f"{day:%-d %B %Y}"


def statute_barred_words(item: limitation.InvoiceLimitation) -> str:
    return (
        f"Invoice {item.number}: statute-barred since {_long(item.barred_since)}: "
        "cannot be pursued through the courts"
    )


@dataclass(frozen=True)
class LegalSummary:
    letters: list[pre_action.LetterView]  # newest first
    judgments: list[judgments.JudgmentView]
    invoices: list[limitation.InvoiceLimitation]  # open invoices, oldest first

    @property
    def statute_barred(self) -> list[limitation.InvoiceLimitation]:
        return [i for i in self.invoices if i.barred_since is not None]

    @property
    def line(self) -> str:
        """One line for the case page."""
        parts = []
        if self.letters:
            letter = self.letters[0]
            if letter.posted_on:
                words = f"Letter of Claim posted {_long(letter.posted_on)}, reply by " + _long(
                    letter.reply_by
                )
            else:
                words = f"Letter of Claim written {_long(letter.written_on)}, not posted yet"
            if letter.reply_received_on and not letter.reply_resolved_on:
                words += f"; reply received {_long(letter.reply_received_on)}, waiting"
            elif letter.reply_resolved_on:
                words += f"; reply dealt with {_long(letter.reply_resolved_on)}"
            parts.append(words)
        if self.judgments:
            latest = self.judgments[0]
            count = len(self.judgments)
            parts.append(
                f"{count} County Court {'judgment' if count == 1 else 'judgments'} "
                f"(latest claim {latest.claim_number}, {_long(latest.judgment_date)})"
            )
        barred = self.statute_barred
        if barred:
            parts.append(
                f"{len(barred)} statute-barred {'invoice' if len(barred) == 1 else 'invoices'}"
            )
        return ". ".join(parts) + "." if parts else "No legal steps recorded."


def legal_summary(account_id: int, today: date) -> LegalSummary:
    """The account's Letters of Claim, judgments and each open invoice's time limit."""
    return LegalSummary(
        letters=pre_action.letters_for(account_id),
        judgments=judgments.judgments_for(account_id),
        invoices=limitation.account_limitation(account_id, today),
    )
