"""Finding an invoice number or account reference in what a payer wrote.

Pure: no Flask, no SQLAlchemy. Payers type references into a banking app's 18
characters as they see fit: "INV 0000 1234", "inv-1234", "A00OO1234", "Ref:
A0001234 thanks". What is tolerated, and why:

- Case, spaces and punctuation, anywhere: the reference is compared letters and
  digits only, and up to four neighbouring words are joined ("INV 0000 1234").
- Leading zeros left out ("INV1234" for INV00001234): the numbers are zero-padded
  and people drop the padding. Nothing else can be meant by it.
- Look-alike characters in the number: O for 0, I or l for 1, S for 5. They are
  what a person copying from paper or a phone confuses, and a letter there cannot
  be a different number.
- One slip in the digits: two neighbours swapped ("1324" for "1234") or one digit
  missing ("124" for "1234"). Accepted only when, over every way of undoing the
  slip, exactly one real reference comes out: with dense numbering a missing
  digit usually leaves several, and then it is no match (the matcher offers the
  line to an officer instead).
- Not accepted: a wrong digit in place of a right one ("1235" for "1234"). In a
  run of sequential numbers every such slip is another real number, so it would
  take someone else's debt as paid: the most costly mistake here.
"""

from __future__ import annotations

import enum
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

_NOT_ALNUM = re.compile(r"[^A-Z0-9]+")
_DIGITS = "0123456789"
_LOOK_ALIKES = str.maketrans({"O": "0", "I": "1", "L": "1", "S": "5"})
MAX_WORDS_JOINED = 4
# Shorter numbers are too easily a price or a date to be taken as a reference.
MIN_SIGNIFICANT_DIGITS = 3


class Level(enum.IntEnum):
    """How the reference was found, best first."""

    EXACT = 1  # letters and digits as stored (case, spaces, punctuation aside)
    LOOK_ALIKE = 2  # leading zeros left out, or O/I/l/S typed for 0/1/1/5
    SLIP = 3  # one transposition or one missing digit, and only one way to read it


class Target(NamedTuple):
    account_id: int
    invoice_id: int | None  # None: the account's own reference was named
    key: str  # the reference as stored ("INV00001234", "A00012345")


@dataclass(frozen=True)
class Found:
    target: Target
    level: Level
    words: tuple[int, int]  # the span of the payer's words it was found in


def squeeze(text: str) -> str:
    """Upper case, letters and digits only: "inv-0000 1234" -> "INV00001234"."""
    return _NOT_ALNUM.sub("", (text or "").upper())


def _canonical(prefix: str, digits: str) -> str:
    return f"{prefix}#{digits.lstrip('0')}"


class ReferenceIndex:
    """Every invoice number and account reference, keyed for the lookups above.

    Built for a whole book (a million invoices and more): each key maps to its row's
    position in one list, with str methods rather than regular expressions and no
    object made per row, so building costs about a second a million rows. The rare
    key two references share (an exact or canonical form) is kept aside with all of
    its references, so a lookup can see it names more than one."""

    def __init__(
        self,
        invoices: Iterable[tuple[str, int, int]],  # (number, invoice id, account id)
        accounts: Iterable[tuple[str, int]],  # (reference, account id)
    ) -> None:
        rows = [(n, a, i) for n, i, a in invoices]
        rows += [(r, a, None) for r, a in accounts]
        self._rows = rows
        keys = [
            k if (k.isalnum() and k.isascii() and k.isupper()) else squeeze(k) for k, _, _ in rows
        ]
        self._exact = dict(zip(keys, range(len(keys)), strict=True))
        self._shared: dict[str, list[int]] = {}
        if len(self._exact) != len(keys):
            self._keep_shared(keys)
        canonical_keys: list[str] = []
        positions: list[int] = []
        prefixes: set[str] = set()
        for position, key in enumerate(keys):
            prefix = key.rstrip(_DIGITS)
            # Keys of digits alone are matched exactly, never read loosely: any date or
            # amount in the text would be a reading of them.
            if prefix and len(prefix) < len(key) and prefix.isalpha():
                prefixes.add(prefix)
                canonical_keys.append(f"{prefix}#{key[len(prefix) :].lstrip('0')}")
                positions.append(position)
        self._canonical = dict(zip(canonical_keys, positions, strict=True))
        if len(self._canonical) != len(canonical_keys):
            self._keep_shared(canonical_keys, positions)
        # Longest first, so "INV" is tried before "I" if both are in use.
        self._prefixes = sorted(prefixes, key=lambda p: (-len(p), p))

    def _keep_shared(self, keys: list[str], positions: list[int] | None = None) -> None:
        seen: dict[str, list[int]] = defaultdict(list)
        for n, key in enumerate(keys):
            seen[key].append(positions[n] if positions is not None else n)
        self._shared.update((k, v) for k, v in seen.items() if len(v) > 1)

    def _target(self, position: int) -> Target:
        key, account_id, invoice_id = self._rows[position]
        return Target(account_id, invoice_id, key)

    def _all(self, table: dict[str, int], key: str) -> set[Target]:
        position = table.get(key)
        if position is None:
            return set()
        shared = self._shared.get(key)
        if shared is not None:
            return {self._target(p) for p in shared}
        return {self._target(position)}

    def _numbers(self, typed: str) -> list[tuple[str, str]]:
        """(prefix, digits) readings of a squeezed candidate, look-alikes made digits."""
        readings = []
        for prefix in self._prefixes:
            if typed.startswith(prefix) and len(typed) > len(prefix):
                digits = typed[len(prefix) :].translate(_LOOK_ALIKES)
                if digits.isdigit() and len(digits.lstrip("0")) >= MIN_SIGNIFICANT_DIGITS:
                    readings.append((prefix, digits))
        return readings

    def lookup(self, typed: str) -> tuple[Level, set[Target]] | None:
        """The best reading of one squeezed candidate, and what it names."""
        exact = self._all(self._exact, typed)
        if exact:
            return Level.EXACT, exact
        readings = self._numbers(typed)
        alike = {t for p, d in readings for t in self._all(self._canonical, _canonical(p, d))}
        if alike:
            return Level.LOOK_ALIKE, alike
        slipped: set[Target] = set()
        for prefix, digits in readings:
            for variant in _undo_slips(digits):
                slipped.update(self._all(self._canonical, _canonical(prefix, variant)))
        if slipped:
            return Level.SLIP, slipped
        return None

    def find(self, text: str) -> list[Found]:
        """Every reference named in `text`, each at the best level it was read at.

        A reading that names more than one reference (two look-alikes, two ways to
        undo a slip) names none of them: it is left out. A reading found in a longer
        join of words that also contains a shorter reading is left out too
        ("INV00001234 2" is INV00001234, not INV000012342)."""
        words = [w for w in _NOT_ALNUM.split((text or "").upper()) if w]
        found: list[Found] = []
        for size in range(1, MAX_WORDS_JOINED + 1):
            for start in range(0, len(words) - size + 1):
                span = (start, start + size)
                if any(_inside(f.words, span) for f in found):
                    continue
                result = self.lookup("".join(words[start : start + size]))
                if result is None:
                    continue
                level, targets = result
                if len(targets) == 1:
                    found.append(Found(next(iter(targets)), level, span))
        return found


def _inside(inner: tuple[int, int], outer: tuple[int, int]) -> bool:
    return outer[0] <= inner[0] and inner[1] <= outer[1]


def _undo_slips(digits: str) -> set[str]:
    """Every number `digits` could be with one adjacent swap or one digit put back."""
    variants = set()
    for i in range(len(digits) - 1):
        if digits[i] != digits[i + 1]:
            variants.add(digits[:i] + digits[i + 1] + digits[i] + digits[i + 2 :])
    for i in range(len(digits) + 1):
        for digit in "0123456789":
            variants.add(digits[:i] + digit + digits[i:])
    variants.discard(digits)
    return variants
