"""The district's clock: one time zone (Beijing) and one "now" for every workflow, page and document.

- Instants are aware **UTC** datetimes: ``now()`` is what gets stored and compared (``UTCDateTime`` columns
  hand back UTC too). ``now()`` builds on ``storage.db.utcnow``, the one primitive below the workflows layer.
- Anything a person reads — the date on a document, a time on a page, the year in a number, "today" for a
  deadline — is **Beijing time**: ``today()``, ``beijing()``, ``day_of()`` and the formatters below.
  Never ``date.today()``, ``datetime.now()`` or ``utc_moment.date()``: those give the server's or UTC's day,
  which is yesterday in Beijing from 00:00 to 08:00.
- Time travel in tests: ``with clock.travel(moment):`` (every ``now()`` and ``today()`` answers from
  ``moment``, also where a module did ``from workflows.clock import now``), monkeypatching
  ``workflows.clock.now``, or passing ``today=`` where a service takes one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from storage.db import utcnow

# China Standard Time (UTC+8, no daylight saving since 1991): the district's clock, whatever zone the
# server runs in.
BEIJING = ZoneInfo("Asia/Shanghai")

__all__ = ["BEIJING", "beijing", "chinese_date", "day_of", "minute", "now", "second", "today", "travel"]

_travelled_to: datetime | None = None


def now() -> datetime:
    """The current instant, aware, in UTC."""
    return utcnow() if _travelled_to is None else _travelled_to


@contextmanager
def travel(moment: datetime) -> Iterator[datetime]:
    """For tests: the clock stands still at ``moment`` (aware) inside the block."""
    global _travelled_to
    previous, _travelled_to = _travelled_to, beijing(moment).astimezone(UTC)
    try:
        yield _travelled_to
    finally:
        _travelled_to = previous


def beijing(moment: datetime) -> datetime:
    """An aware instant as Beijing wall-clock time. Naive datetimes are refused: their zone is a guess."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("naive datetime: say which zone it is in (workflows.clock.now() gives UTC)")
    return moment.astimezone(BEIJING)


def day_of(moment: datetime) -> date:
    """The Beijing calendar day an instant falls on."""
    return beijing(moment).date()


def today() -> date:
    """Today's date in Beijing."""
    return day_of(now())  # through the module, so a monkeypatched now() counts


def chinese_date(day: date | datetime) -> str:
    """A day as documents print it: 2026年12月5日 (an instant is taken on its Beijing day)."""
    if isinstance(day, datetime):
        day = day_of(day)
    return f"{day.year}年{day.month}月{day.day}日"


def minute(moment: datetime | None) -> str:
    """An instant as pages and lists print it: 2026-12-05 07:30 (Beijing time); blank for None."""
    return "" if moment is None else beijing(moment).strftime("%Y-%m-%d %H:%M")


def second(moment: datetime | None) -> str:
    """An instant to the second, as certificates of record print it: 2026-12-05 07:30:00 (Beijing time)."""
    return "" if moment is None else beijing(moment).strftime("%Y-%m-%d %H:%M:%S")
