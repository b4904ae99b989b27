import math

from hypothesis import given
from hypothesis import strategies as st

from shared.domain.sms import GSM7_BASIC, GSM7_EXTENDED, is_gsm7, sms_segments


def test_an_empty_text_costs_no_segments():
    assert sms_segments("") == 0


def test_plain_text_up_to_160_characters_is_one_segment():
    assert sms_segments("a") == 1
    assert sms_segments("a" * 160) == 1


def test_plain_text_over_160_characters_is_split_into_segments_of_153():
    assert sms_segments("a" * 161) == 2
    assert sms_segments("a" * 306) == 2
    assert sms_segments("a" * 307) == 3


def test_a_security_code_text_is_one_segment():
    text = "123456 is your Borsetshire County Council security code. It expires in 10 minutes."
    assert sms_segments(text) == 1


def test_extended_gsm_characters_count_twice():
    assert sms_segments("€" * 80) == 1
    assert sms_segments("€" * 81) == 2
    assert sms_segments("a" * 159 + "[") == 2


def test_an_extended_character_is_not_split_across_segments():
    # 152 plain septets then an escape pair: the pair moves whole to segment two.
    text = "a" * 152 + "{" + "a" * 152
    assert sms_segments(text) == 3
    assert sms_segments("a" * 152 + "{" + "a" * 151) == 2


def test_welsh_circumflex_letters_make_the_text_ucs2():
    assert not is_gsm7("Diolch, ŵyr")
    assert sms_segments("ŵ" * 70) == 1
    assert sms_segments("ŵ" + "a" * 70) == 2
    assert sms_segments("â" * 134) == 2
    assert sms_segments("â" * 135) == 3


def test_an_emoji_makes_the_text_ucs2_and_counts_as_two_units():
    assert sms_segments("Thanks 👍") == 1
    assert sms_segments("👍" * 35) == 1
    assert sms_segments("👍" * 36) == 2


def test_gsm_accented_letters_stay_gsm7():
    assert is_gsm7("Café £5 à Ñ ü")
    assert sms_segments("é" * 160) == 1


@given(st.text(alphabet=sorted(GSM7_BASIC), min_size=1, max_size=2000))
def test_basic_gsm_text_matches_the_simple_division(text):
    n = len(text)
    assert sms_segments(text) == (1 if n <= 160 else math.ceil(n / 153))


@given(st.text(alphabet=sorted(GSM7_BASIC | GSM7_EXTENDED), max_size=2000))
def test_segments_never_fewer_than_the_septets_need(text):
    septets = sum(2 if ch in GSM7_EXTENDED else 1 for ch in text)
    segments = sms_segments(text)
    if septets == 0:
        assert segments == 0
    elif septets <= 160:
        assert segments == 1
    else:
        assert math.ceil(septets / 153) <= segments <= math.ceil(septets / 152)
