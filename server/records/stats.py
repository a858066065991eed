"""Statistics of 통계보기: finished records of a period counted by month, day, hour of day, agent, session
duration, customer OS, fault type and satisfaction.

Every count is a ``GROUP BY`` in the database; Python only labels the few resulting buckets and fills in
the empty ones (a day without sessions is a 0 on the chart, not a gap).

Local time. Months, days and hours are those of the server's zone (:func:`.periods.server_zone`), while
timestamps are stored in UTC. A zone's offset is constant between two DST changes, so the period is cut at
each change into segments; each segment is grouped with its fixed offset (SQLite ``strftime(..., '+N
seconds')``, PostgreSQL ``created_at + interval``) and the segments' counts are added. That is exact in any
zone, one query for a zone without DST (Asia/Seoul), and the same SQL shape on both databases.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from opensupport.server.db.models import SupportRecord
from opensupport.server.records.periods import Period, add_months
from opensupport.server.records.search import finished_records
from sqlalchemy import ColumnElement, case, func, literal_column, select, text
from sqlalchemy.orm import Session

#: statistics views, in the order of the manual: key -> English title (the msgid of the page's label)
KINDS: dict[str, str] = {
    "month": "By month",
    "day": "By day",
    "hour": "By hour of day",
    "agent": "By agent",
    "duration": "By session duration",
    "os": "By customer OS",
    "fault": "By fault type",
    "satisfaction": "By customer satisfaction",
}

#: upper bounds (seconds, exclusive) of the duration buckets; the last bucket is open-ended
DURATION_BOUNDS = (60, 5 * 60, 10 * 60, 20 * 60, 30 * 60, 60 * 60, 2 * 3600)
#: how many operating systems get a bar of their own; the rest are summed as "other"
TOP_OS = 10

Translate = Callable[[str], str]


class StatsError(ValueError):
    """An unknown statistics view."""


@dataclass(frozen=True)
class StatsRow:
    """One bucket: a stable ``key`` (for tests and links), what the table shows, and the count."""

    key: str
    label: str
    count: int


@dataclass(frozen=True)
class StatsTable:
    """The buckets of one view over one period, in display order, and their total."""

    kind: str
    period: Period
    rows: list[StatsRow]

    @property
    def total(self) -> int:
        """Number of records counted (every record falls in exactly one bucket)."""
        return sum(row.count for row in self.rows)

    def share(self, row: StatsRow) -> float:
        """``row``'s part of the total in percent (0 when the period is empty)."""
        return 100.0 * row.count / self.total if self.total else 0.0


def offset_segments(period: Period) -> list[tuple[dt.datetime, dt.datetime, int]]:
    """The period cut where the zone's UTC offset changes: (start UTC, end UTC, offset seconds)."""
    zone = period.zone
    start, end = period.start_utc, period.end_utc

    def offset(instant: dt.datetime) -> int:
        delta = instant.astimezone(zone).utcoffset()
        return int(delta.total_seconds()) if delta is not None else 0

    segments: list[tuple[dt.datetime, dt.datetime, int]] = []
    seg_start, seg_offset = start, offset(start)
    probe = start
    while probe < end:
        nxt = min(end, probe + dt.timedelta(days=1))
        if offset(nxt) != seg_offset and nxt <= end:
            # bisect, in whole seconds, to the first second of the new offset (zones change on whole seconds)
            lo, hi = int(probe.timestamp()), int(nxt.timestamp())
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if offset(dt.datetime.fromtimestamp(mid, dt.UTC)) == seg_offset:
                    lo = mid
                else:
                    hi = mid
            change = dt.datetime.fromtimestamp(hi, dt.UTC)
            segments.append((seg_start, change, seg_offset))
            seg_start, seg_offset = change, offset(change)
        probe = nxt
    segments.append((seg_start, end, seg_offset))
    return segments


def _local_text(dialect: str, fmt: str, offset_s: int) -> ColumnElement[Any]:
    """The record's time (``created_at``, see :mod:`.search`) in local time, formatted as ``fmt``
    ('month', 'day' or 'hour')."""
    col = SupportRecord.created_at
    if dialect == "sqlite":
        pattern = {"month": "%Y-%m", "day": "%Y-%m-%d", "hour": "%H"}[fmt]
        return func.strftime(pattern, col, literal_column(f"'{int(offset_s):+d} seconds'"))
    shifted = col + text(f"interval '{int(offset_s)} seconds'")
    pattern = {"month": "YYYY-MM", "day": "YYYY-MM-DD", "hour": "HH24"}[fmt]
    return func.to_char(shifted, pattern)


def _duration_bucket() -> ColumnElement[Any]:
    col = SupportRecord.duration_s
    whens: list[tuple[ColumnElement[bool], int]] = [(col.is_(None), -1)]
    whens += [(col < bound, index) for index, bound in enumerate(DURATION_BOUNDS)]
    return case(*whens, else_=len(DURATION_BOUNDS))


def _grouped_counts(
    session: Session, company_id: int, period: Period, kind: str
) -> tuple[dict[Any, int], dict[str, str]]:
    """{bucket key: count} straight from the database, summed over the period's offset segments, and for
    the agent view {agent ID: name}."""
    dialect = session.get_bind().dialect.name
    counts: dict[Any, int] = {}
    names: dict[str, str] = {}
    if kind in ("month", "day", "hour"):
        segments = offset_segments(period)
    else:  # the other views do not depend on local time: one query over the whole period
        segments = [(period.start_utc, period.end_utc, 0)]
    for seg_start, seg_end, offset_s in segments:
        key: ColumnElement[Any]
        if kind in ("month", "day", "hour"):
            key = _local_text(dialect, kind, offset_s)
        elif kind == "agent":
            key = SupportRecord.agent_login_id
        elif kind == "duration":
            key = _duration_bucket()
        elif kind == "os":
            key = SupportRecord.customer_os
        elif kind == "fault":
            key = SupportRecord.fault_type_name
        elif kind == "satisfaction":
            key = SupportRecord.satisfaction
        else:
            raise StatsError(f"unknown statistics view {kind!r}")
        bucket = key.label("bucket")
        # the agent's name as recorded with its sessions (the agent may since have been renamed or deleted)
        name = func.max(SupportRecord.agent_name) if kind == "agent" else literal_column("NULL")
        stmt = (
            select(bucket, func.count().label("n"), name.label("name"))
            .where(
                finished_records(company_id),
                SupportRecord.created_at >= seg_start,
                SupportRecord.created_at < seg_end,
            )
            .group_by(literal_column("bucket"))
        )
        for value, n, agent_name in session.execute(stmt):
            if kind == "hour":
                value = int(value)
            counts[value] = counts.get(value, 0) + int(n)
            if agent_name:
                names[value] = agent_name
    return counts, names


def duration_label(index: int, _: Translate) -> str:
    """The label of duration bucket ``index`` (-1 is unknown)."""
    if index < 0:
        return _("Unknown")

    def human(seconds: int) -> str:
        if seconds % 3600 == 0:
            return _("{n} h").format(n=seconds // 3600)
        return _("{n} min").format(n=seconds // 60)

    if index == 0:
        return _("under {limit}").format(limit=human(DURATION_BOUNDS[0]))
    if index >= len(DURATION_BOUNDS):
        return _("{limit} or more").format(limit=human(DURATION_BOUNDS[-1]))
    return f"{human(DURATION_BOUNDS[index - 1])} – {human(DURATION_BOUNDS[index])}"


def compute_stats(
    session: Session, company_id: int, kind: str, period: Period, _: Translate = str
) -> StatsTable:
    """The table of one statistics view over ``period`` for ``company_id``.

    ``_`` translates the few fixed labels (unknown, other OS, no answer...). Raises :class:`StatsError` for
    an unknown ``kind``.
    """
    if kind not in KINDS:
        raise StatsError(f"unknown statistics view {kind!r}")
    counts, names = _grouped_counts(session, company_id, period, kind)
    rows: list[StatsRow] = []
    if kind == "month":
        month = period.first.replace(day=1)
        while month <= period.last:
            key = f"{month.year:04d}-{month.month:02d}"
            rows.append(StatsRow(key, key, counts.get(key, 0)))
            month = add_months(month, 1)
    elif kind == "day":
        day = period.first
        while day <= period.last:
            key = day.isoformat()
            rows.append(StatsRow(key, key, counts.get(key, 0)))
            day += dt.timedelta(days=1)
    elif kind == "hour":
        rows = [StatsRow(str(h), f"{h:02d}:00–{(h + 1) % 24:02d}:00", counts.get(h, 0)) for h in range(24)]
    elif kind == "agent":
        ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        rows = [
            StatsRow(login, f"{login} ({names[login]})" if names.get(login) else login, n)
            for login, n in ordered
        ]
    elif kind == "duration":
        for index in range(-1, len(DURATION_BOUNDS) + 1):
            if index >= 0 or counts.get(index):
                rows.append(StatsRow(str(index), duration_label(index, _), counts.get(index, 0)))
    elif kind == "os":
        other = counts.pop(None, 0) + counts.pop("", 0)
        ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        rows = [StatsRow(name, name, n) for name, n in ordered[:TOP_OS]]
        other += sum(n for _name, n in ordered[TOP_OS:])
        if other:
            rows.append(StatsRow("", _("Other OS"), other))
    elif kind == "fault":
        unset = counts.pop(None, 0) + counts.pop("", 0)
        ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        rows = [StatsRow(name, name, n) for name, n in ordered]
        if unset:
            rows.append(StatsRow("", _("Not recorded"), unset))
    elif kind == "satisfaction":
        rows = [
            StatsRow(str(score), _("{n} points").format(n=score), counts.get(score, 0))
            for score in (5, 4, 3, 2, 1)
        ]
        rows.append(StatsRow("", _("No answer"), counts.get(None, 0)))
    return StatsTable(kind, period, rows)
