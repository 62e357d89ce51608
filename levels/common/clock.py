"""The hub's notion of "now". Injected everywhere a rule depends on the date, so tests
and demos can travel in time (``GOVHUB_CLOCK_OVERRIDE``)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


class Clock:
    """Wall-clock time in China Standard Time."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(CHINA)

    def today(self) -> dt.date:
        return self.now().date()


class FixedClock(Clock):
    """A clock that stands still at a given instant (and can be moved by tests)."""

    def __init__(self, instant: dt.datetime) -> None:
        self.instant = instant if instant.tzinfo else instant.replace(tzinfo=CHINA)

    def now(self) -> dt.datetime:
        return self.instant.astimezone(CHINA)

    def advance(self, delta: dt.timedelta) -> None:
        self.instant += delta


def clock_for(override: dt.datetime | None) -> Clock:
    return FixedClock(override) if override is not None else Clock()
