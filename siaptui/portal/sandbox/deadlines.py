"""The enrollment deadline of a new hire: 5 business days after the start date (alta), Mexican
federal holidays excluded.

Why the `holidays` package: the official rest days of the Ley Federal del Trabajo (art. 74) move
(first Monday of February, third Monday of March and November, the 1 October of a presidential
change); `holidays.Mexico()` follows them, a hand-kept list would not."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from typing import Any

BUSINESS_DAYS = 5


@lru_cache(maxsize=64)
def _holidays(year: int) -> Any:
    import holidays

    return holidays.country_holidays("MX", years=year)


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _holidays(day.year)


def enrollment_deadline(start: date, business_days: int = BUSINESS_DAYS) -> date:
    """The last day to enroll: counting starts the day after the alta."""
    day, counted = start, 0
    while counted < business_days:
        day += timedelta(days=1)
        if is_business_day(day):
            counted += 1
    return day
