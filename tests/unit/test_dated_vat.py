"""VAT rates are dated: the rate on the tax point applies. The periods below are typed
from HMRC's history of the standard rate, not read from the code under test."""

from __future__ import annotations

from datetime import date

import pytest

from shared.domain.vat import (
    NoRateInForce,
    RatePeriod,
    VatRate,
    parse_percent,
    percent,
    rate_in_force,
    rate_words,
    vat_at,
    vat_on,
)

S = VatRate.STANDARD
HISTORY = [
    RatePeriod(S, date(1991, 4, 1), 1750),
    RatePeriod(S, date(2008, 12, 1), 1500),
    RatePeriod(S, date(2010, 1, 1), 1750),
    RatePeriod(S, date(2011, 1, 4), 2000),
    RatePeriod(VatRate.REDUCED, date(1997, 9, 1), 500),
]


@pytest.mark.parametrize(
    "tax_point, expected",
    [
        (date(2008, 11, 30), 1750),  # the day before the cut
        (date(2008, 12, 1), 1500),  # a period applies from its first day
        (date(2009, 12, 31), 1500),
        (date(2010, 1, 1), 1750),
        (date(2011, 1, 3), 1750),
        (date(2011, 1, 4), 2000),
        (date(2026, 6, 17), 2000),
    ],
)
def test_the_standard_rate_is_the_latest_period_started_by_the_tax_point(tax_point, expected):
    assert rate_in_force(HISTORY, S, tax_point) == expected


def test_periods_need_not_arrive_in_date_order():
    assert rate_in_force(list(reversed(HISTORY)), S, date(2009, 6, 1)) == 1500


def test_another_rates_periods_never_apply():
    assert rate_in_force(HISTORY, VatRate.REDUCED, date(2009, 6, 1)) == 500


def test_a_tax_point_before_any_period_of_the_rate_is_refused_saying_which_and_when():
    with pytest.raises(NoRateInForce, match="No reduced VAT rate was in force on 31 August 1997"):
        rate_in_force(HISTORY, VatRate.REDUCED, date(1997, 8, 31))


@pytest.mark.parametrize(
    "net, basis_points, vat",
    [
        (10_000, 1500, 1_500),
        (10_000, 1750, 1_750),
        (1, 1750, 0),  # 0.175p
        (3, 1750, 1),  # 0.525p rounds up
        (2, 1750, 0),  # 0.35p rounds down
        (20, 1750, 4),  # 3.5p: half rounds up
        (0, 2000, 0),
    ],
)
def test_vat_at_a_rate_rounds_half_up_to_the_penny(net, basis_points, vat):
    assert vat_at(net, basis_points) == vat


def test_vat_on_todays_rate_is_vat_at_its_basis_points():
    assert vat_on(1_000, VatRate.STANDARD) == vat_at(1_000, 2000) == 200


@pytest.mark.parametrize("net, basis_points", [(-1, 2000), (100, -1), (100, 10_001)])
def test_vat_at_refuses_a_negative_net_or_a_rate_outside_0_to_100_percent(net, basis_points):
    with pytest.raises(ValueError):
        vat_at(net, basis_points)


@pytest.mark.parametrize(
    "basis_points, words",
    [(2000, "20%"), (1750, "17.5%"), (1500, "15%"), (0, "0%"), (825, "8.25%")],
)
def test_a_rate_prints_as_the_percentage_charged(basis_points, words):
    assert percent(basis_points) == words


def test_a_line_prints_the_rate_it_was_charged_or_the_rates_name_when_no_vat_applies():
    assert rate_words(VatRate.STANDARD, 1750) == "17.5%"
    assert rate_words(VatRate.STANDARD, None) == "20%"  # charged before rates were dated
    assert rate_words(VatRate.EXEMPT, 0) == "Exempt"
    assert rate_words(VatRate.OUTSIDE_SCOPE, None) == "No VAT"


@pytest.mark.parametrize(
    "typed, basis_points",
    [("20", 2000), ("17.5", 1750), (" 5% ", 500), ("0", 0), ("8.25", 825), ("100", 10000)],
)
def test_a_percentage_typed_by_a_person_is_read_as_basis_points(typed, basis_points):
    assert parse_percent(typed) == basis_points


@pytest.mark.parametrize("typed", ["", "-5", "100.01", "1000", "17.555", "２０", "20.", "x", "1e2"])
def test_anything_but_a_percentage_from_0_to_100_is_not_read(typed):
    assert parse_percent(typed) is None
