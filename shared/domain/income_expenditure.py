"""Income and expenditure statements, laid out like the Standard Financial Statement.

Pure: no Flask, no SQLAlchemy. Every amount is monthly, in integer pence. FIELDS
is the one list the portal form, the stored JSON and the officer summary are
all built from, so they cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from types import MappingProxyType

from shared.domain.schedules import FORTNIGHTLY, FOUR_WEEKLY, FREQUENCIES, MONTHLY, WEEKLY

INCOME, FIXED_COSTS, FLEXIBLE_SPENDING, PRIORITY_DEBTS = (
    "income",
    "fixed_costs",
    "flexible_spending",
    "priority_debts",
)
SECTIONS: dict[str, str] = {
    INCOME: "Income",
    FIXED_COSTS: "Fixed costs",
    FLEXIBLE_SPENDING: "Flexible spending",
    PRIORITY_DEBTS: "Priority debts",
}


@dataclass(frozen=True)
class Field:
    key: str  # the form field name and the key in the stored JSON
    label: str
    section: str
    hint: str


FIELDS: tuple[Field, ...] = (
    Field(
        "wages",
        "Wages or salary",
        INCOME,
        "Take-home pay after tax and National Insurance, including self-employed earnings",
    ),
    Field(
        "benefits",
        "Benefits",
        INCOME,
        "For example, Universal Credit, Child Benefit or Personal Independence Payment",
    ),
    Field("pensions", "Pensions", INCOME, "State, workplace and private pensions"),
    Field(
        "other_income",
        "Other income",
        INCOME,
        "For example, maintenance you receive, rent from a lodger or help from family",
    ),
    Field("rent", "Rent", FIXED_COSTS, "Your share of the rent, after any housing benefit"),
    Field("mortgage", "Mortgage", FIXED_COSTS, "Including any secured loans on your home"),
    Field("council_tax", "Council Tax", FIXED_COSTS, "Your monthly Council Tax instalment"),
    Field("gas", "Gas", FIXED_COSTS, "Including any other heating fuel, such as oil"),
    Field("electricity", "Electricity", FIXED_COSTS, ""),
    Field("water", "Water", FIXED_COSTS, "Water and sewerage"),
    Field("insurance", "Insurance", FIXED_COSTS, "Buildings, contents and life insurance"),
    Field("tv_licence", "TV licence", FIXED_COSTS, ""),
    Field("childcare", "Childcare", FIXED_COSTS, "Nursery, childminder and after-school care"),
    Field(
        "other_fixed_costs",
        "Other essential fixed costs",
        FIXED_COSTS,
        "For example, service charge, ground rent or adult care costs",
    ),
    Field(
        "communications_leisure",
        "Communications and leisure",
        FLEXIBLE_SPENDING,
        "Phone, mobile, internet, TV subscriptions, hobbies and days out",
    ),
    Field(
        "food_housekeeping",
        "Food and housekeeping",
        FLEXIBLE_SPENDING,
        "Groceries, toiletries, cleaning products, nappies and school meals",
    ),
    Field(
        "personal_costs",
        "Personal costs",
        FLEXIBLE_SPENDING,
        "Clothes, shoes, haircuts, prescriptions, pocket money and gifts",
    ),
    Field(
        "travel",
        "Travel",
        FLEXIBLE_SPENDING,
        "Public transport, fuel, car tax, car insurance, MOT and repairs",
    ),
    Field(
        "housing_arrears",
        "Rent or mortgage arrears",
        PRIORITY_DEBTS,
        "What you pay each month towards arrears",
    ),
    Field(
        "council_tax_arrears",
        "Council Tax arrears",
        PRIORITY_DEBTS,
        "What you pay each month towards earlier years' Council Tax",
    ),
    Field(
        "energy_arrears",
        "Gas or electricity arrears",
        PRIORITY_DEBTS,
        "What you pay each month towards energy arrears",
    ),
    Field(
        "court_fines",
        "Magistrates' court fines",
        PRIORITY_DEBTS,
        "What you pay each month towards fines",
    ),
    Field(
        "child_maintenance_arrears",
        "Child maintenance arrears",
        PRIORITY_DEBTS,
        "What you pay each month towards child maintenance arrears",
    ),
    Field(
        "other_priority_debts",
        "Other priority debts",
        PRIORITY_DEBTS,
        "For example, income tax arrears or hire purchase on a car you need",
    ),
)
FIELDS_BY_KEY: dict[str, Field] = {f.key: f for f in FIELDS}

YEARLY = "yearly"
# Exact monthly equivalents: a year has 52 weeks, 26 fortnights, 13 four-week periods.
_PER_MONTH: dict[str, Fraction] = {
    WEEKLY: Fraction(52, 12),
    FORTNIGHTLY: Fraction(26, 12),
    FOUR_WEEKLY: Fraction(13, 12),
    MONTHLY: Fraction(1),
    YEARLY: Fraction(1, 12),
}
PERIODS: dict[str, str] = {**FREQUENCIES, YEARLY: "yearly"}


class IncomeExpenditureError(ValueError):
    """A statement figure cannot be accepted; the message names the line."""


def _round_half_up(value: Fraction) -> int:
    # Python's round() rounds halves to even; money rounds half a penny up.
    return int((value * 2 + 1) // 2)


def to_monthly_pence(amount_pence: int, period: str) -> int:
    """The monthly equivalent of an amount paid or spent every `period`.

    weekly x 52 / 12, fortnightly x 26 / 12, four-weekly x 13 / 12, yearly / 12,
    worked out exactly and then rounded half a penny up to whole pence (£10.00
    a week is £43.33 a month; 3p a year is 0.25p, so 0p; 6p a year is 1p).
    """
    if period not in _PER_MONTH:
        raise IncomeExpenditureError(
            "Choose how often: weekly, fortnightly, every four weeks, monthly or yearly"
        )
    if not isinstance(amount_pence, int) or isinstance(amount_pence, bool) or amount_pence < 0:
        raise IncomeExpenditureError("Amounts must be whole pence, £0 or more")
    return _round_half_up(amount_pence * _PER_MONTH[period])


def instalment_monthly_pence(instalment_pence: int, frequency: str) -> int:
    """What a plan's regular instalment comes to per month, to set against disposable income."""
    if frequency not in FREQUENCIES:
        raise IncomeExpenditureError(
            "Choose how often to pay: weekly, fortnightly, every four weeks or monthly"
        )
    return to_monthly_pence(instalment_pence, frequency)


@dataclass(frozen=True)
class Statement:
    """One household's monthly income and spending, every FIELDS line present."""

    amounts: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = set(self.amounts) - set(FIELDS_BY_KEY)
        if unknown:
            raise IncomeExpenditureError(f"Not a statement line: {', '.join(sorted(unknown))}")
        for key, pence in self.amounts.items():
            label = FIELDS_BY_KEY[key].label
            if not isinstance(pence, int) or isinstance(pence, bool):
                raise IncomeExpenditureError(f"{label} must be an amount in whole pence")
            if pence < 0:
                raise IncomeExpenditureError(f"{label} must be £0 or more")
        # Missing lines are £0; keep every line, in FIELDS order, and read-only.
        full = {f.key: self.amounts.get(f.key, 0) for f in FIELDS}
        object.__setattr__(self, "amounts", MappingProxyType(full))

    @classmethod
    def from_amounts(cls, amounts: Mapping[str, int]) -> Statement:
        """Build from monthly pence by FIELDS key; missing lines are £0, negatives refused."""
        return cls(dict(amounts))

    def section_total(self, section: str) -> int:
        if section not in SECTIONS:
            raise IncomeExpenditureError(f"Not a statement section: {section}")
        return sum(self.amounts[f.key] for f in FIELDS if f.section == section)

    @property
    def income_pence(self) -> int:
        return self.section_total(INCOME)

    @property
    def fixed_costs_pence(self) -> int:
        return self.section_total(FIXED_COSTS)

    @property
    def flexible_spending_pence(self) -> int:
        return self.section_total(FLEXIBLE_SPENDING)

    @property
    def priority_debts_pence(self) -> int:
        return self.section_total(PRIORITY_DEBTS)

    @property
    def disposable_income_pence(self) -> int:
        """Income less fixed costs, flexible spending and priority debts; may be negative."""
        return (
            self.income_pence
            - self.fixed_costs_pence
            - self.flexible_spending_pence
            - self.priority_debts_pence
        )

    def as_dict(self) -> dict[str, int]:
        """Every line by key, in FIELDS order: the JSON to store."""
        return dict(self.amounts)


def offer_share(monthly_offer_pence: int, disposable_pence: int) -> int | None:
    """The offer as a whole percentage of disposable income, rounded half up (over 100
    when the offer is more than is left over); None when nothing is left over."""
    if disposable_pence <= 0:
        return None
    return _round_half_up(Fraction(monthly_offer_pence * 100, disposable_pence))
