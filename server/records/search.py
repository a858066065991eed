"""The search of 전체기록보기 (all records): one filter, used by the page, its paging and the Excel export.

A record is a ``SupportRecord`` of the administrator's company whose session is over (status not
waiting/active). The keyword is an agent ID, matched exactly (an index answers it).

A record's time is ``created_at``, when the agent opened the session: every record has one, also a
session the customer never joined (``started_at`` is NULL then; the manual's own example row is such a
record: a 시작 시각, 사용 시각 알수 없음). The period (half-open, see :mod:`.periods`), the "start" order and
the statistics all use it, so one index serves them. The list's 시작 시각 shows when the customer's side
connected (``started_at``) when it did, else the creation time; the two differ by the seconds or minutes
the customer took to join.

The page shows the first rows in the chosen order and how many records the search found, counted exactly
up to :data:`COUNT_CAP` and shown as "50,000건 이상" beyond. Counting is a walk over the period's index
entries (migration 0101 makes it index-only), so its cost grows with the number of records; on 1,000,000
records a year of a busy company is 550,000 of them, which took 70 ms on SQLite on an idle machine but
200-300 ms with the machine loaded (benchmarks/admin.py). The cap bounds the page's cost whatever the
period; the statistics pages (exact, by day or month) and the export (exact) are where whole periods are
counted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from opensupport.server.db.models import OPEN_STATUSES, SupportRecord, UTCDateTime
from opensupport.server.records.periods import Period
from sqlalchemy import ColumnElement, Select, func, literal, select
from sqlalchemy.orm import Session

#: sort key of the page -> column; every order ends with the id so that paging is stable
SORT_COLUMNS: dict[str, Any] = {
    "agent": SupportRecord.agent_login_id,
    "customer": SupportRecord.customer_name,
    "started": SupportRecord.created_at,
    "duration": SupportRecord.duration_s,
    "os": SupportRecord.customer_os,
    "resolved": SupportRecord.resolved,
}
DEFAULT_SORT = "started"
#: the list counts exactly up to this many records (2,500 pages of 20) and says "more than" beyond it
COUNT_CAP = 50_000
PAGE_SIZES = (20, 50, 100)
DEFAULT_PAGE_SIZE = 20
#: an agent ID is at most 12 characters; a longer keyword can match nothing, so it is refused early
MAX_KEYWORD = 12


class SearchError(ValueError):
    """A search the page cannot run (bad sort key, page size, keyword); the message is shown as is."""


@dataclass(frozen=True)
class RecordSearch:
    """What the administrator searched: period, agent-ID keyword, order, page."""

    company_id: int
    period: Period
    agent_id: str = ""
    sort: str = DEFAULT_SORT
    descending: bool = True
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE

    def __post_init__(self) -> None:
        if self.sort not in SORT_COLUMNS:
            raise SearchError(f"unknown sort key {self.sort!r}")
        if self.page_size not in PAGE_SIZES:
            raise SearchError(f"page size must be one of {PAGE_SIZES}")
        if self.page < 1:
            raise SearchError("page must be 1 or more")
        if len(self.agent_id) > MAX_KEYWORD:
            raise SearchError(f"an agent ID has at most {MAX_KEYWORD} characters")


@dataclass(frozen=True)
class RecordRow:
    """One line of the list: what its columns show, plus the id that opens the detail page."""

    id: int
    agent_login_id: str
    customer_name: str | None
    #: when the customer's side connected, else when the session was created
    started_at: dt.datetime
    duration_s: int | None
    customer_os: str | None
    resolved: str


@dataclass(frozen=True)
class RecordPage:
    """One page of a search and the total number of records it found."""

    rows: list[RecordRow]
    #: records found, exact up to the cap
    total: int
    page: int
    page_size: int
    #: True when the search found more than ``total`` (= the cap) records
    capped: bool = False

    @property
    def pages(self) -> int:
        """Number of pages (at least 1, so an empty search still has page 1)."""
        return max(1, -(-self.total // self.page_size))


def finished_records(company_id: int) -> ColumnElement[bool]:
    """Rows of 지원기록보기: this company's sessions that are over (the same clause everywhere)."""
    return (SupportRecord.company_id == company_id) & SupportRecord.status.not_in(OPEN_STATUSES)


def search_filter(search: RecordSearch) -> list[ColumnElement[bool]]:
    """The WHERE clauses of ``search`` (company, finished, period, keyword)."""
    clauses = [
        finished_records(search.company_id),
        SupportRecord.created_at >= search.period.start_utc,
        SupportRecord.created_at < search.period.end_utc,
    ]
    if search.agent_id:
        clauses.append(SupportRecord.agent_login_id == search.agent_id)
    return clauses


def _ordered(stmt: Select[Any], search: RecordSearch) -> Select[Any]:
    column = SORT_COLUMNS[search.sort]
    if search.descending:
        return stmt.order_by(column.desc(), SupportRecord.id.desc())
    return stmt.order_by(column.asc(), SupportRecord.id.asc())


#: the list's 시작 시각: when the customer's side connected, else when the session was created
SHOWN_START = func.coalesce(SupportRecord.started_at, SupportRecord.created_at, type_=UTCDateTime())

_LIST_COLUMNS = (
    SupportRecord.id,
    SupportRecord.agent_login_id,
    SupportRecord.customer_name,
    SHOWN_START,
    SupportRecord.duration_s,
    SupportRecord.customer_os,
    SupportRecord.resolved,
)


def count_records(session: Session, search: RecordSearch, *, cap: int | None = None) -> int:
    """How many records ``search`` finds (all pages); with ``cap``, stops counting after ``cap + 1``."""
    if cap is None:
        stmt = select(func.count()).select_from(SupportRecord).where(*search_filter(search))
    else:
        found = select(literal(1)).select_from(SupportRecord).where(*search_filter(search)).limit(cap + 1)
        stmt = select(func.count()).select_from(found.subquery())
    return int(session.execute(stmt).scalar_one())


def search_records(session: Session, search: RecordSearch, *, cap: int = COUNT_CAP) -> RecordPage:
    """The page ``search.page`` of the search, with the number of records found (exact up to ``cap``)."""
    found = count_records(session, search, cap=cap)
    stmt = _ordered(select(*_LIST_COLUMNS).where(*search_filter(search)), search)
    stmt = stmt.limit(search.page_size).offset((search.page - 1) * search.page_size)
    rows = [RecordRow(*row) for row in session.execute(stmt)]
    return RecordPage(
        rows=rows, total=min(found, cap), page=search.page, page_size=search.page_size, capped=found > cap
    )


#: every field of a record, in the order of the detail page and the Excel sheet
EXPORT_COLUMNS = (
    SupportRecord.id,
    SupportRecord.agent_login_id,
    SupportRecord.agent_name,
    SupportRecord.agent_ip_public,
    SupportRecord.agent_ip_private,
    SupportRecord.agent_pc_name,
    SupportRecord.customer_name,
    SupportRecord.customer_ip_public,
    SupportRecord.customer_ip_private,
    SupportRecord.customer_pc_name,
    SupportRecord.customer_os,
    SupportRecord.customer_email,
    SupportRecord.customer_phone,
    SupportRecord.fault_type_name,
    SHOWN_START,
    SupportRecord.ended_at,
    SupportRecord.duration_s,
    SupportRecord.content,
    SupportRecord.resolved,
    SupportRecord.satisfaction,
    SupportRecord.customer_comment,
)


def iter_search_rows(session: Session, search: RecordSearch, *, batch: int = 2000) -> Iterator[Sequence[Any]]:
    """Every record of ``search`` (all pages, in the page's order) as tuples of :data:`EXPORT_COLUMNS`.

    The rows come through a server-side cursor on PostgreSQL and SQLite's stepping cursor, ``batch`` at a
    time, so memory does not grow with the number of rows.
    """
    stmt = _ordered(select(*EXPORT_COLUMNS).where(*search_filter(search)), search)
    result = session.execute(stmt.execution_options(stream_results=True, yield_per=batch))
    for partition in result.partitions():
        yield from partition


def get_record(session: Session, company_id: int, record_id: int) -> SupportRecord | None:
    """The finished record ``record_id`` of ``company_id``, or None (also for another company's record)."""
    stmt = select(SupportRecord).where(finished_records(company_id), SupportRecord.id == record_id)
    return session.execute(stmt).scalar_one_or_none()
