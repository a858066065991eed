"""The records search of 전체기록보기 on SQLite and PostgreSQL: period presets at their exact boundaries,
agent keyword, typed date range, paging and sorting, finished-only, tenant isolation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from opensupport.server.db import Database
from opensupport.server.records.periods import (
    PRESETS,
    Period,
    PeriodError,
    add_months,
    preset_period,
    resolve_period,
)
from opensupport.server.records.search import (
    RecordSearch,
    SearchError,
    count_records,
    get_record,
    iter_search_rows,
    search_records,
)
from records_util import add_records, new_company, record

SEOUL = ZoneInfo("Asia/Seoul")
TODAY = dt.date(2026, 3, 15)
NOW = dt.datetime(2026, 3, 15, 14, 0, tzinfo=SEOUL)
US = dt.timedelta(microseconds=1)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    database.upgrade()
    yield database
    database.dispose()


def test_preset_periods_are_the_documented_calendar_spans() -> None:
    assert preset_period("today", TODAY, SEOUL) == Period(TODAY, TODAY, SEOUL)
    assert preset_period("3d", TODAY, SEOUL).first == dt.date(2026, 3, 13)
    assert preset_period("1w", TODAY, SEOUL).first == dt.date(2026, 3, 9)
    assert preset_period("1m", TODAY, SEOUL).first == dt.date(2026, 2, 16)
    assert preset_period("3m", TODAY, SEOUL).first == dt.date(2025, 12, 16)
    assert preset_period("6m", TODAY, SEOUL).first == dt.date(2025, 9, 16)
    assert preset_period("1y", TODAY, SEOUL).first == dt.date(2025, 3, 16)
    # month ends clamp: a month back from 31 March is 28 February (+1 day = 1 March)
    assert add_months(dt.date(2026, 3, 31), -1) == dt.date(2026, 2, 28)
    # Seoul midnight is 15:00 UTC the day before
    assert Period(TODAY, TODAY, SEOUL).start_utc == dt.datetime(2026, 3, 14, 15, 0, tzinfo=dt.UTC)
    with pytest.raises(PeriodError):
        preset_period("2y", TODAY, SEOUL)


def test_resolve_period_typed_range_wins_and_bad_input_is_refused() -> None:
    period, preset = resolve_period(
        preset="1y", date_from="2026-03-01", date_to="2026-03-02", zone=SEOUL, now=NOW
    )
    assert (period.first, period.last, preset) == (dt.date(2026, 3, 1), dt.date(2026, 3, 2), None)
    # the dates a preset fills in keep the preset lit
    period, preset = resolve_period(
        preset=None, date_from="2026-03-09", date_to="2026-03-15", zone=SEOUL, now=NOW
    )
    assert preset == "1w"
    for bad in (
        ("2026-03-05", "2026-03-01"),
        ("2026-13-01", ""),
        ("yesterday", ""),
        ("1900-01-01", "2026-01-01"),
    ):
        with pytest.raises(PeriodError):
            resolve_period(preset=None, date_from=bad[0], date_to=bad[1], zone=SEOUL, now=NOW)


def test_each_preset_selects_exactly_its_rows_at_the_boundaries(db: Database) -> None:
    company = new_company(db, "A")
    expected: dict[str, set[int]] = {}
    for key in PRESETS:
        period = preset_period(key, TODAY, SEOUL)
        agent = f"p{key}"
        start, end = period.start_utc, period.end_utc
        ids = add_records(
            db,
            [
                record(company, start - US, agent_login_id=agent),  # the last instant before: out
                record(company, start, agent_login_id=agent),  # local midnight of the first day: in
                record(company, end - US, agent_login_id=agent),  # the last instant of today: in
                record(company, end, agent_login_id=agent),  # tomorrow's midnight: out
            ],
        )
        expected[key] = {ids[1], ids[2]}
    with db.sessions() as s:
        for key in PRESETS:
            search = RecordSearch(
                company_id=company, period=preset_period(key, TODAY, SEOUL), agent_id=f"p{key}"
            )
            page = search_records(s, search)
            assert {row.id for row in page.rows} == expected[key], key
            assert page.total == 2


def test_only_finished_records_of_the_company_are_listed(db: Database) -> None:
    mine, other = new_company(db, "Mine"), new_company(db, "Other")
    when = dt.datetime(2026, 3, 15, 3, 0, tzinfo=dt.UTC)
    ids = add_records(
        db,
        [
            record(mine, when, status="ended"),
            record(mine, when, status="disconnected"),
            record(mine, when, status="fault"),
            record(mine, when, status="refused", started_at=None, ended_at=None, duration_s=None),
            record(mine, when, status="waiting", started_at=None),
            record(mine, when, status="active"),
            record(other, when, status="ended"),
        ],
    )
    period = Period(TODAY, TODAY, SEOUL)
    with db.sessions() as s:
        page = search_records(s, RecordSearch(company_id=mine, period=period))
        assert sorted(row.id for row in page.rows) == ids[:4]
        # a session the customer never joined shows its creation time as its start
        refused = next(row for row in page.rows if row.id == ids[3])
        assert refused.started_at == when and refused.duration_s is None
        assert [row.id for row in search_records(s, RecordSearch(company_id=other, period=period)).rows] == [
            ids[6]
        ]
        assert get_record(s, mine, ids[0]) is not None
        assert get_record(s, mine, ids[6]) is None  # another company's record
        assert get_record(s, mine, ids[4]) is None  # a session still waiting is not a record


def test_keyword_range_paging_and_sorting(db: Database) -> None:
    company = new_company(db, "A")
    base = dt.datetime(2026, 3, 10, 0, 0, tzinfo=dt.UTC)
    records = [
        record(
            company,
            base + dt.timedelta(hours=i),
            agent_login_id="kim" if i % 3 == 0 else "lee",
            customer_name=f"c{(i * 7) % 25:02d}",
            duration_s=None if i == 4 else 60 * i,
        )
        for i in range(25)
    ]
    ids = add_records(db, records)
    period = Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31), SEOUL)
    with db.sessions() as s:
        # keyword: exact agent ID only
        kim = search_records(s, RecordSearch(company_id=company, period=period, agent_id="kim", page_size=20))
        assert kim.total == 9 and {r.agent_login_id for r in kim.rows} == {"kim"}
        assert search_records(s, RecordSearch(company_id=company, period=period, agent_id="ki")).total == 0
        # default order: newest first; pages of 20 cover all 25 with no overlap
        first = search_records(s, RecordSearch(company_id=company, period=period))
        second = search_records(s, RecordSearch(company_id=company, period=period, page=2))
        assert (first.total, first.pages, len(first.rows), len(second.rows)) == (25, 2, 20, 5)
        assert [r.id for r in first.rows + second.rows] == list(reversed(ids))
        # past the cap the count stops and says so; below it, it is exact
        capped = search_records(s, RecordSearch(company_id=company, period=period), cap=10)
        assert (capped.total, capped.capped, len(capped.rows)) == (10, True, 20)
        exact = search_records(s, RecordSearch(company_id=company, period=period), cap=25)
        assert (exact.total, exact.capped) == (25, False)
        # sort by customer name ascending
        by_name = search_records(
            s, RecordSearch(company_id=company, period=period, sort="customer", descending=False)
        )
        names = [r.customer_name for r in by_name.rows]
        assert names == sorted(names) and names[0] == "c00"
        # the export iterator walks the same search, every page, same order
        exported = [
            row[0] for row in iter_search_rows(s, RecordSearch(company_id=company, period=period), batch=7)
        ]
        assert exported == list(reversed(ids))
        # a typed range: the 10th, Seoul time, is 00:00-15:00 UTC of the 10th (15 records) plus the 9th's
        # 15:00-24:00 UTC (none)
        tenth = Period(dt.date(2026, 3, 10), dt.date(2026, 3, 10), SEOUL)
        assert count_records(s, RecordSearch(company_id=company, period=tenth)) == 15


def test_search_refuses_bad_parameters() -> None:
    period = Period(TODAY, TODAY, SEOUL)
    for bad in ({"sort": "password_hash"}, {"page_size": 7}, {"page": 0}, {"agent_id": "x" * 13}):
        with pytest.raises(SearchError):
            RecordSearch(company_id=1, period=period, **bad)  # type: ignore[arg-type]
