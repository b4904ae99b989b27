from hypothesis import given
from hypothesis import strategies as st

from shared.domain.vat import VatRate, vat_on


def test_standard_rate_vat_rounds_half_a_penny_up():
    assert vat_on(1000, VatRate.STANDARD) == 200
    assert vat_on(1, VatRate.STANDARD) == 0  # 0.2p
    assert vat_on(3, VatRate.STANDARD) == 1  # 0.6p
    assert vat_on(10, VatRate.REDUCED) == 1  # 0.5p rounds up


@given(st.integers(0, 10**9), st.sampled_from(list(VatRate)))
def test_vat_is_within_half_a_penny_of_the_exact_figure(net, rate):
    from shared.domain.vat import RATE_BASIS_POINTS

    exact_times_10000 = net * RATE_BASIS_POINTS[rate]
    assert abs(vat_on(net, rate) * 10000 - exact_times_10000) <= 5000
