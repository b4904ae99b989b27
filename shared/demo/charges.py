"""What each service department charges for: invoice wording and lines.

Each function returns (invoice description, lines) where a line is
(description, quantity, unit price in pence, VAT rate). Prices follow the
shape of real council tariffs: care contributions are weekly assessed amounts,
trade waste is priced per bin lift, rents are quarterly, licence fees are
fixed statutory bands.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from random import Random

from shared.demo import catalogue
from shared.domain.vat import VatRate

Line = tuple[str, int, int, VatRate]
Charge = tuple[str, list[Line]]

OUT = VatRate.OUTSIDE_SCOPE
STD = VatRate.STANDARD

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _month(d: date) -> str:
    return f"{_MONTHS[d.month - 1]} {d.year}"


def _uk(d: date) -> str:
    return f"{d.day:02d}/{d.month:02d}/{d.year}"


def care_contribution(rng: Random, issue: date) -> Charge:
    period = _month(issue)
    if rng.random() < 0.4:
        lines = [
            (
                f"Residential care contribution, 4 weeks from {_uk(issue)}",
                4,
                rng.randrange(9_000, 32_000),
                OUT,
            )
        ]
        if rng.random() < 0.15:
            lines.append(("Third-party top-up, 4 weeks", 4, rng.randrange(25, 100) * 100, OUT))
    else:
        lines = [(f"Home care contribution, {period}", 4, rng.randrange(1_000, 9_000), OUT)]
        if rng.random() < 0.3:
            lines.append(("Day centre attendance", rng.randint(1, 12), 3_500, OUT))
        if rng.random() < 0.2:
            lines.append(("Community alarm monitoring, 13 weeks", 13, 450, OUT))
    return f"Adult social care contribution, {period}", lines


_BINS = (("1100 litre", 2_450), ("660 litre", 1_680), ("360 litre", 1_120), ("240 litre", 850))


def trade_waste(rng: Random, issue: date) -> Charge:
    size, price = rng.choices(_BINS, (40, 30, 15, 15))[0]
    lifts = rng.choice((4, 5, 8, 9, 13))  # weekly, or twice weekly, in the month
    lines = [(f"General waste, {size} bin, collections", lifts, price, STD)]
    if rng.random() < 0.5:
        size, price = rng.choice(_BINS[1:])
        lines.append(
            (
                f"Dry mixed recycling, {size} bin, collections",
                rng.choice((2, 4, 5)),
                price * 6 // 10,
                STD,
            )
        )
    if rng.random() < 0.1:
        lines.append(("Duty of care waste transfer note (annual)", 1, 3_500, STD))
    return f"Trade waste collections, {_month(issue)}", lines


def commercial_rent(rng: Random, issue: date) -> Charge:
    unit = f"Unit {rng.randint(1, 40)}, {rng.choice(catalogue.ESTATES)}"
    annual_rent = rng.randrange(60, 480) * 10_000  # whole hundreds of pounds a year
    lines = [(f"Rent, quarter from {_uk(issue)}: {unit}", 1, annual_rent // 4, STD)]
    if rng.random() < 0.6:
        lines.append(("Service charge, quarter", 1, rng.randrange(100, 1_500) * 100, STD))
    if rng.random() < 0.4:
        lines.append(("Buildings insurance recharge", 1, rng.randrange(5_000, 40_000), STD))
    return f"Commercial rent, quarter from {_uk(issue)}", lines


# Fee bands set by regulation or the council's published fees.
_LICENCES = (
    ("Premises licence annual fee, band A", 7_000),
    ("Premises licence annual fee, band B", 18_000),
    ("Premises licence annual fee, band C", 29_500),
    ("Premises licence annual fee, band D", 32_000),
    ("Premises licence annual fee, band E", 35_000),
    ("Street trading consent, 12 months", 95_000),
    ("Pavement licence, 12 months", 50_000),
    ("Animal activity licence (boarding)", 31_000),
    ("Scrap metal dealer site licence", 42_000),
)


def licensing(rng: Random, issue: date) -> Charge:
    if rng.random() < 0.25:
        vehicles = rng.randint(1, 6)
        lines = [("Private hire vehicle licence", vehicles, 24_500, OUT)]
        return f"Private hire vehicle licences ({vehicles})", lines
    name, fee = rng.choice(_LICENCES)
    lines = [(name, 1, fee, OUT)]
    if rng.random() < 0.1:
        lines.append(("Minor variation application", 1, 8_900, OUT))
    return name, lines


def hb_overpayment(rng: Random, issue: date) -> Charge:
    weeks = min(52, 1 + int(rng.expovariate(1 / 9)))
    start = date.fromordinal(issue.toordinal() - 7 * weeks - rng.randint(14, 90))
    end = date.fromordinal(start.toordinal() + 7 * weeks - 1)
    lines = [
        (
            f"Housing Benefit overpaid {_uk(start)} to {_uk(end)}",
            weeks,
            rng.randrange(1_500, 14_000),
            OUT,
        )
    ]
    return "Housing Benefit overpayment", lines


def _misc_item(rng: Random, issue: date) -> Line:
    r = rng.random()
    if r < 0.30:
        return ("Bulky waste collection, up to 3 items", 1, rng.choice((2_500, 3_500, 4_500)), OUT)
    if r < 0.45:
        return ("Pest control treatment (rats)", 1, rng.choice((7_500, 9_000, 11_000)), STD)
    if r < 0.60:
        return (f"Allotment rent {issue.year}", 1, rng.randrange(45, 120) * 100, VatRate.EXEMPT)
    if r < 0.75:
        return (f"Garden waste subscription {issue.year}", 1, 5_200, OUT)
    if r < 0.85:
        return ("Replacement wheeled bin", rng.randint(1, 2), 3_800, STD)
    if r < 0.93:
        return ("Damage to council property: repair costs", 1, rng.randrange(150, 2_500) * 100, OUT)
    return ("Court costs awarded", 1, rng.choice((9_000, 11_500, 15_000)), OUT)


def miscellaneous(rng: Random, issue: date) -> Charge:
    lines = [_misc_item(rng, issue)]
    if rng.random() < 0.15:
        extra = _misc_item(rng, issue)
        if extra[0] != lines[0][0]:
            lines.append(extra)
    return lines[0][0], lines


CHARGES: dict[str, Callable[[Random, date], Charge]] = {
    catalogue.ADULT_SOCIAL_CARE: care_contribution,
    catalogue.TRADE_WASTE: trade_waste,
    catalogue.COMMERCIAL_RENTS: commercial_rent,
    catalogue.LICENSING: licensing,
    catalogue.HB_OVERPAYMENTS: hb_overpayment,
    catalogue.MISCELLANEOUS: miscellaneous,
}
