"""What a credit note may take off an invoice's lines, and the VAT it credits.

A credit note names the invoice lines it credits. Each line can be credited up to
what is left of it (its net and VAT less what earlier credit notes, not reversed,
took), and the note's total never exceeds what may still be credited on the
invoice as a whole (ledger.creditable_pence: the invoice less credit notes and
write-offs already made).

The VAT rule: the VAT credited with part of a line's net is the line's charged VAT
in the same proportion, rounded half up to the penny, and never more than the VAT
left on the line; the credit that takes the last of a line's net takes the last of
its VAT. So however a line is credited, in one note or many, the VAT credited adds
up to exactly the VAT charged on it, at the rate it was charged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


class CreditRefused(ValueError):
    """The credit asked for will not do; `line_id` names the line at fault, if one is."""

    def __init__(self, message: str, line_id: int | None = None):
        super().__init__(message)
        self.line_id = line_id


@dataclass(frozen=True)
class LineLeft:
    """One invoice line as charged, and what credit notes have taken off it so far."""

    line_id: int
    line_no: int
    description: str
    net_pence: int
    vat_pence: int
    credited_net_pence: int = 0
    credited_vat_pence: int = 0

    @property
    def net_left(self) -> int:
        return self.net_pence - self.credited_net_pence

    @property
    def vat_left(self) -> int:
        return self.vat_pence - self.credited_vat_pence

    @property
    def left_pence(self) -> int:
        return self.net_left + self.vat_left


@dataclass(frozen=True)
class LineCredit:
    """What one credit note takes off one line."""

    line_id: int
    net_pence: int
    vat_pence: int

    @property
    def total_pence(self) -> int:
        return self.net_pence + self.vat_pence


def _half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)


def _pounds(pence: int) -> str:
    return f"£{pence // 100:,}.{pence % 100:02d}"


def vat_credited(line: LineLeft, net_pence: int) -> int:
    """The VAT credited with `net_pence` of the line (the rule in the module docstring)."""
    if net_pence >= line.net_left:
        return line.vat_left
    return min(line.vat_left, _half_up(net_pence * line.vat_pence, line.net_pence))


def whole_invoice(lines: Sequence[LineLeft]) -> dict[int, int]:
    """Everything left on every line: line id -> net pence to credit."""
    return {line.line_id: line.net_left for line in lines if line.left_pence > 0}


def credit_lines(
    lines: Sequence[LineLeft], chosen: Mapping[int, int], creditable_pence: int
) -> list[LineCredit]:
    """The credit for each chosen line (line id -> net pence), in line order; refuses
    a line not on the invoice, a net that is not whole pence above £0, more than is
    left of a line, nothing at all, or a total above what the invoice may be credited."""
    by_id = {line.line_id: line for line in lines}
    for line_id, net in chosen.items():
        line = by_id.get(line_id)
        if line is None:
            raise CreditRefused("That line is not on this invoice", line_id)
        if not isinstance(net, int) or isinstance(net, bool) or net < 0:
            raise CreditRefused(f"Line {line.line_no}: enter an amount in pounds", line_id)
        if net > line.net_left:
            raise CreditRefused(
                f"Line {line.line_no} has {_pounds(line.net_left)} (before VAT) left to credit",
                line_id,
            )
    credits = [
        LineCredit(line.line_id, chosen[line.line_id], vat_credited(line, chosen[line.line_id]))
        for line in sorted(lines, key=lambda line: line.line_no)
        if chosen.get(line.line_id)
    ]
    total = sum(c.total_pence for c in credits)
    if total <= 0:
        raise CreditRefused("Enter an amount to credit on at least one line")
    if total > creditable_pence:
        raise CreditRefused(
            f"That credits {_pounds(total)}, but the invoice can be credited by at most "
            f"{_pounds(max(creditable_pence, 0))}"
        )
    return credits


def spread(lines: Sequence[LineLeft], amount_pence: int) -> list[LineCredit]:
    """A credit of `amount_pence` (VAT included) across what is left of the lines, in
    proportion to each line's remainder (largest remainder, so the pence add up), each
    line's share split into net and VAT in the proportion left on it (net rounded half
    up). For a credit asked for as one sum rather than line by line."""
    ordered = sorted((line for line in lines if line.left_pence > 0), key=lambda line: line.line_no)
    left = sum(line.left_pence for line in ordered)
    if amount_pence <= 0:
        raise CreditRefused("Amount must be more than £0")
    if amount_pence > left:
        raise CreditRefused(f"The invoice's lines have only {_pounds(left)} left to credit")
    shares = [amount_pence * line.left_pence // left for line in ordered]
    spare = amount_pence - sum(shares)
    by_remainder = sorted(
        range(len(ordered)),
        key=lambda i: (-(amount_pence * ordered[i].left_pence % left), ordered[i].line_no),
    )
    for i in by_remainder[:spare]:
        shares[i] += 1
    credits = []
    for line, share in zip(ordered, shares, strict=True):
        if share == 0:
            continue
        if share == line.left_pence:
            net = line.net_left
        else:
            net = _half_up(share * line.net_left, line.left_pence)
        credits.append(LineCredit(line.line_id, net, share - net))
    return credits
