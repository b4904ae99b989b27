"""The day the frozen tests live on, so none depends on the day it runs.

A module that writes `pytestmark = frozen_clock` runs every test with shared.clock
(and every other reading of time in the test process) moved to FROZEN_AT by
time-machine, ticking on from there so timeouts and "just now" still work. Its
`TODAY` is the business day the app sees.

Midday, in summer time: far from midnight, so the UTC date and England's agree and
a test about something else never lands on the midnight edge by chance (the edge has
tests of its own: tests/unit/test_clock.py, tests/integration/test_business_day.py,
tests/views/test_business_day_pages.py).

What cannot be frozen: anything another process judges by the real time. The
Stripe stand-in signs webhooks with its own clock (the app refuses a signature more
than 300 s old or a card event dated in the future), the Twilio fake and Redis TTLs
run on real time, and the e2e tests drive an app in a separate server. Tests of
those read `clock.today()` instead, and say so.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

TODAY = date(2026, 6, 17)  # a Wednesday, with no bank holiday within a fortnight
FROZEN_AT = datetime(2026, 6, 17, 11, 0, tzinfo=UTC)  # 12:00 BST

frozen_clock = pytest.mark.time_machine(FROZEN_AT, tick=True)
