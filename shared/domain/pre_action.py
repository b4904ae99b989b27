"""Before court and enforcement (pure: no database, no Flask).

- Pre-Action Protocol for Debt Claims: before a claim against an individual (a sole
  trader included), the creditor sends a Letter of Claim with the Information Sheet and
  Reply Form, and allows 30 days from it for a reply. A reply received is dealt with
  by an officer before anything else happens; dealing with it does not start the 30
  days again.
- Enforcement agents: a sundry debt (unlike council tax or business rates) has no
  liability order, so an agent can only act on a County Court judgment for it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

# Pre-Action Protocol for Debt Claims, paragraph 4: 30 days to reply to the Letter of Claim.
REPLY_DAYS = 30
REPLY_OUTCOME = "reply_form_received"  # the contact outcome recorded with a reply form
MAX_NOTE = 2000
MAX_COURT = 120
# The largest judgment recorded here (the column is a 32-bit integer of pence).
MAX_JUDGMENT_PENCE = 1_000_000_000
_CLAIM_NUMBER = re.compile(r"[A-Z0-9]{4,10}")


@dataclass(frozen=True)
class ClaimLetter:
    """A Letter of Claim as the rules see it."""

    id: int
    written_on: date
    posted_on: date | None
    respond_by: date | None
    reply_received_on: date | None = None
    reply_resolved_on: date | None = None

    @property
    def reply_by(self) -> date | None:
        """The last day to reply: as recorded when posted, else 30 days after posting."""
        if self.respond_by is not None:
            return self.respond_by
        return self.posted_on + timedelta(days=REPLY_DAYS) if self.posted_on else None

    @property
    def awaiting_officer(self) -> bool:
        """A reply came in and no officer has dealt with it yet: recovery waits."""
        return self.reply_received_on is not None and self.reply_resolved_on is None


def respond_by(posted_on: date) -> date:
    """The last day the debtor has to reply to a Letter of Claim posted on `posted_on`."""
    return posted_on + timedelta(days=REPLY_DAYS)


def _long(day: date) -> str:
    return f"{day:%-d %B %Y}"


def legal_account_problem(letters: Sequence[ClaimLetter]) -> str | None:
    """Why none of an individual's debts may go to legal yet, whichever is chosen."""
    waiting = [letter for letter in letters if letter.awaiting_officer]
    if waiting:
        received = max(letter.reply_received_on for letter in waiting)
        return (
            f"The debtor replied to the Letter of Claim on {_long(received)} and no one has "
            "dealt with the reply yet: deal with it (on the Legal page) before referring "
            "to legal."
        )
    if not any(letter.posted_on for letter in letters):
        return (
            "No Letter of Claim has been posted to the debtor: an individual's debts can "
            "only be referred to legal 30 days after one is posted (Pre-Action Protocol "
            "for Debt Claims)."
        )
    return None


def legal_debt_problem(
    number: str, due_date: date, letters: Sequence[ClaimLetter], on: date
) -> str | None:
    """Why this debt of an individual may not go to legal on `on` (None: it may).

    A Letter of Claim covers the debts that were overdue when it was written, and the
    debt may go to legal once the 30 days to reply to such a letter have passed."""
    covering = [
        letter
        for letter in letters
        if letter.posted_on is not None and letter.written_on > due_date
    ]
    if any(letter.reply_by < on for letter in covering):
        return None
    if covering:
        last_day = min(letter.reply_by for letter in covering)
        posted = min(letter.posted_on for letter in covering if letter.reply_by == last_day)
        return (
            f"Invoice {number}: the debtor has until {_long(last_day)} to reply to the Letter "
            f"of Claim posted on {_long(posted)}, so it can be referred to legal from "
            f"{_long(last_day + timedelta(days=1))}."
        )
    return (
        f"Invoice {number} fell due after the last Letter of Claim was written: a Letter of "
        "Claim that includes it must be posted, and 30 days allowed, before it can be "
        "referred to legal."
    )


def reply_problems(
    letter: ClaimLetter, received_on: date | None, note: str, today: date
) -> dict[str, str]:
    """Problems with recording a reply to `letter` (empty when it can be recorded)."""
    problems: dict[str, str] = {}
    if letter.posted_on is None:
        problems["received_on"] = (
            "This Letter of Claim has not been posted yet, so there is no reply to record"
        )
    elif received_on is None:
        problems["received_on"] = "Enter the date the reply form was received"
    elif received_on > today:
        problems["received_on"] = "The date the reply was received must be today or earlier"
    elif received_on < letter.posted_on:
        problems["received_on"] = (
            f"The reply cannot arrive before the letter was posted on {_long(letter.posted_on)}"
        )
    problems |= note_problems(note, "Enter what the debtor said in their reply")
    return problems


def note_problems(note: str, missing: str) -> dict[str, str]:
    text = (note or "").strip()
    if not text:
        return {"note": missing}
    if len(text) > MAX_NOTE:
        return {"note": f"Note must be {MAX_NOTE:,} characters or fewer"}
    return {}


def normalise_claim_number(text: str) -> str:
    """A claim number as the court prints it: capitals, no spaces."""
    return re.sub(r"\s+", "", text or "").upper()


@dataclass(frozen=True)
class JudgmentTerms:
    court: str
    claim_number: str  # as typed
    judgment_date: date | None
    amount_pence: int | None


def judgment_problems(terms: JudgmentTerms, today: date) -> dict[str, str]:
    """Each field's problem in GOV.UK words (empty when the judgment will do)."""
    problems: dict[str, str] = {}
    court = (terms.court or "").strip()
    if not court:
        problems["court"] = "Enter the court that gave the judgment"
    elif len(court) > MAX_COURT:
        problems["court"] = f"Court must be {MAX_COURT} characters or fewer"
    number = normalise_claim_number(terms.claim_number)
    if not number:
        problems["claim_number"] = "Enter the claim number"
    elif not _CLAIM_NUMBER.fullmatch(number) or not any(c.isdigit() for c in number):
        problems["claim_number"] = (
            "Enter the claim number as it is on the court's papers: 4 to 10 letters and "
            "digits, like K12AB345 or M1QZ123A"
        )
    if terms.judgment_date is None:
        problems["judgment_date"] = "Enter the date of the judgment"
    elif terms.judgment_date > today:
        problems["judgment_date"] = "The date of the judgment must be today or earlier"
    elif terms.judgment_date.year < 1980:
        problems["judgment_date"] = "Enter the real date of the judgment"
    if terms.amount_pence is None:
        problems["amount"] = "Enter the amount of the judgment"
    elif terms.amount_pence <= 0:
        problems["amount"] = "The amount of the judgment must be more than £0"
    elif terms.amount_pence > MAX_JUDGMENT_PENCE:
        problems["amount"] = "The amount of the judgment must be £10,000,000 or less"
    return problems
