"""How many SMS segments a text costs (each segment is charged as one message).

GSM-7 text fits 160 characters in one SMS, 153 per segment once it is split
(the rest of each segment carries the concatenation header). Characters from
the GSM extension table (e.g. [ ] { } ~ and the euro sign) take two septets,
an escape and the character. A single character outside both tables (e.g. a
Welsh circumflex letter or an emoji) makes the whole text UCS-2: 70 UTF-16
code units in one SMS, 67 per segment, an emoji taking two.

A character is never split across segments, so an escape pair or an emoji at a
segment boundary moves whole into the next segment; this is what handsets and
Twilio do, and why the count can be one more than a plain division gives.
"""

from __future__ import annotations

# GSM 03.38 basic character set, without the escape character itself.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# GSM 03.38 extension table: each costs an escape plus the character.
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")

GSM7_SINGLE, GSM7_PER_SEGMENT = 160, 153
UCS2_SINGLE, UCS2_PER_SEGMENT = 70, 67


def is_gsm7(text: str) -> bool:
    """True when every character can be sent in the GSM 7-bit alphabet."""
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in text)


def sms_segments(text: str) -> int:
    """The number of segments `text` is sent (and charged) as; 0 for an empty text."""
    if is_gsm7(text):
        units = [2 if ch in GSM7_EXTENDED else 1 for ch in text]
        single, per_segment = GSM7_SINGLE, GSM7_PER_SEGMENT
    else:
        # UTF-16 code units: characters beyond the Basic Multilingual Plane
        # (most emoji) are a surrogate pair.
        units = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
        single, per_segment = UCS2_SINGLE, UCS2_PER_SEGMENT
    total = sum(units)
    if total == 0:
        return 0
    if total <= single:
        return 1
    segments, used = 1, 0
    for size in units:
        if used + size > per_segment:
            segments += 1
            used = 0
        used += size
    return segments
