"""Search periods of the records and statistics pages (검색기간) and the time zone they are read in.

Timestamps are stored as naive UTC (``UTCDateTime`` in the models). An administrator thinks in local
calendar days, so every period is a half-open range of local dates ``[first day 00:00, day after the last
day 00:00)`` turned into UTC instants for the query.

Presets (당일, 3일, 1주일, 1개월, 3개월, 6개월, 1년) all end with today and include it: "3일" is today and the two
days before, "1개월" is the month up to today (2026-10-26 ~ 2026-11-25 when today is 2026-11-25). A preset
simply fills the from–to dates, so what the page shows in its date inputs is exactly what was searched.

The zone is ``OPENSUPPORT_TIMEZONE`` (an IANA name such as ``Asia/Seoul``), else the machine's zone.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ENV_TIMEZONE = "OPENSUPPORT_TIMEZONE"

#: preset key -> (days, months): the span that ends with today, today included
PRESETS: dict[str, tuple[int, int]] = {
    "today": (1, 0),
    "3d": (3, 0),
    "1w": (7, 0),
    "1m": (0, 1),
    "3m": (0, 3),
    "6m": (0, 6),
    "1y": (0, 12),
}

#: the longest range a search may cover, so a typo such as 0202 for 2026 cannot scan forever
MAX_RANGE_DAYS = 366 * 20


class PeriodError(ValueError):
    """A period the user gave that cannot be searched (unknown preset, from after to, unreadable date)."""


def server_zone() -> ZoneInfo:
    """The zone in which records are listed and counted by day (see the module docstring).

    Raises :class:`PeriodError` if ``OPENSUPPORT_TIMEZONE`` names no known zone.
    """
    name = os.environ.get(ENV_TIMEZONE)
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise PeriodError(f"{ENV_TIMEZONE}={name!r} is not a known time zone") from exc
    for candidate in (os.environ.get("TZ", "").lstrip(":"), _etc_timezone(), _etc_localtime()):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def _etc_timezone() -> str:
    try:
        return Path("/etc/timezone").read_text().strip()
    except OSError:
        return ""


def _etc_localtime() -> str:
    try:
        target = os.readlink("/etc/localtime")
    except OSError:
        return ""
    marker = "zoneinfo/"
    return target.split(marker, 1)[1] if marker in target else ""


@dataclass(frozen=True)
class Period:
    """Local calendar days ``first`` .. ``last`` (both included) in ``zone``."""

    first: dt.date
    last: dt.date
    zone: ZoneInfo

    @property
    def start_utc(self) -> dt.datetime:
        """The first instant of ``first`` (local midnight) as aware UTC."""
        return local_midnight(self.first, self.zone)

    @property
    def end_utc(self) -> dt.datetime:
        """The first instant after ``last`` (the next local midnight) as aware UTC: the range is half-open."""
        return local_midnight(self.last + dt.timedelta(days=1), self.zone)

    @property
    def days(self) -> int:
        """Number of calendar days in the period."""
        return (self.last - self.first).days + 1


def local_midnight(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    """The UTC instant at which ``day`` begins in ``zone``.

    Where a DST change skips midnight, the day begins at the first existing instant after it (fold=0 on a
    nonexistent local time gives the offset before the gap, which lands inside the new day).
    """
    local = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
    return local.astimezone(dt.UTC)


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by ``months`` calendar months, clamped to the end of a shorter month."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    next_first = dt.date(year + (month == 12), month % 12 + 1, 1)
    last_of_month = (next_first - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last_of_month))


def preset_period(preset: str, today: dt.date, zone: ZoneInfo) -> Period:
    """The period of a preset key (``today``, ``3d``, ``1w``, ``1m``, ``3m``, ``6m``, ``1y``) ending ``today``.

    Raises :class:`PeriodError` for an unknown key.
    """
    try:
        days, months = PRESETS[preset]
    except KeyError:
        raise PeriodError(f"unknown period {preset!r}") from None
    first = today - dt.timedelta(days=days - 1) if days else add_months(today, -months) + dt.timedelta(days=1)
    return Period(first, today, zone)


def parse_date(text: str) -> dt.date:
    """An ISO date (``YYYY-MM-DD``, what an HTML date input sends). Raises :class:`PeriodError`."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise PeriodError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def resolve_period(
    *,
    preset: str | None,
    date_from: str | None,
    date_to: str | None,
    zone: ZoneInfo,
    now: dt.datetime | None = None,
    default_preset: str = "1m",
) -> tuple[Period, str | None]:
    """The period a request asks for, and the preset key it came from (None for a typed range).

    A typed from–to range wins over a preset (the date inputs are what the page shows); a missing end of
    the range defaults to the other end (a single day). Nothing given: ``default_preset``.
    Raises :class:`PeriodError` for an unknown preset, an unreadable date, from after to, or a range longer
    than :data:`MAX_RANGE_DAYS`.
    """
    today = (now or dt.datetime.now(dt.UTC)).astimezone(zone).date()
    if date_from or date_to:
        first = parse_date(date_from or date_to or "")
        last = parse_date(date_to or date_from or "")
        if first > last:
            raise PeriodError("the start date is after the end date")
        if (last - first).days > MAX_RANGE_DAYS:
            raise PeriodError("the date range is too long")
        period = Period(first, last, zone)
        # a range that is exactly a preset's span (what the preset buttons fill in) keeps the preset lit
        for key in PRESETS:
            if preset_period(key, today, zone) == period:
                return period, key
        return period, None
    key = preset or default_preset
    return preset_period(key, today, zone), key
