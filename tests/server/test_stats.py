"""통계보기 on SQLite and PostgreSQL: each view's table equals counts worked out by hand on a small set,
local days and hours follow the zone (also across a DST change), and the pages show chart data and table."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from adminclient import Client
from opensupport.server.db import Database
from opensupport.server.db.models import AdminUser
from opensupport.server.records.periods import Period
from opensupport.server.records.stats import KINDS, StatsError, compute_stats, offset_segments
from records_util import add_records, new_company, record
from sqlalchemy import select

SEOUL = ZoneInfo("Asia/Seoul")
BERLIN = ZoneInfo("Europe/Berlin")
MARCH = Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31), SEOUL)


def kst(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SEOUL)  # type: ignore[misc]


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    database.upgrade()
    yield database
    database.dispose()


def _small_set(db: Database) -> int:
    company, other = new_company(db, "A"), new_company(db, "B")
    add_records(
        db,
        [
            record(company, kst(2026, 3, 1, 0, 0, 0), agent_login_id="kim", agent_name="김", duration_s=30,
                   customer_os="Windows 11", fault_type_name="프로그램 오류", satisfaction=5),
            record(company, kst(2026, 3, 1, 9, 30), agent_login_id="kim", agent_name="김", duration_s=300,
                   customer_os="Windows 10", fault_type_name="프로그램 오류", satisfaction=4),
            record(company, kst(2026, 3, 15, 23, 59, 59), agent_login_id="lee", agent_name="이", duration_s=None,
                   customer_os=None, fault_type_name=None, satisfaction=None),
            record(company, kst(2026, 3, 31, 23, 59), agent_login_id="lee", agent_name="이", duration_s=7200,
                   customer_os="", fault_type_name="기타 장애", satisfaction=1),
            # outside the period, still open, or another company's: never counted
            record(company, kst(2026, 2, 28, 23, 59, 59), agent_login_id="kim"),
            record(company, kst(2026, 4, 1, 0, 0), agent_login_id="kim"),
            record(company, kst(2026, 3, 10, 10, 0), status="active"),
            record(other, kst(2026, 3, 10, 10, 0)),
        ],
    )  # fmt: skip
    return company


def _table(db: Database, company: int, kind: str, period: Period = MARCH) -> list[tuple[str, int]]:
    with db.sessions() as s:
        return [(row.key, row.count) for row in compute_stats(s, company, kind, period).rows]


def test_every_view_matches_hand_counts(db: Database) -> None:
    company = _small_set(db)
    days = dict(_table(db, company, "day"))
    assert len(days) == 31 and sum(days.values()) == 4
    assert (days["2026-03-01"], days["2026-03-15"], days["2026-03-31"]) == (2, 1, 1)
    assert _table(db, company, "month") == [("2026-03", 4)]
    hours = dict(_table(db, company, "hour"))
    assert len(hours) == 24 and {h: n for h, n in hours.items() if n} == {"0": 1, "9": 1, "23": 2}
    assert _table(db, company, "agent") == [("kim", 2), ("lee", 2)]
    assert _table(db, company, "duration") == [
        ("-1", 1), ("0", 1), ("1", 0), ("2", 1), ("3", 0), ("4", 0), ("5", 0), ("6", 0), ("7", 1),
    ]  # fmt: skip
    assert _table(db, company, "os") == [("Windows 10", 1), ("Windows 11", 1), ("", 2)]
    assert _table(db, company, "fault") == [("프로그램 오류", 2), ("기타 장애", 1), ("", 1)]
    assert _table(db, company, "satisfaction") == [("5", 1), ("4", 1), ("3", 0), ("2", 0), ("1", 1), ("", 1)]
    with db.sessions() as s:
        table = compute_stats(s, company, "agent", MARCH)
        # each agent is named as in its latest session, here kim's of 1 April, after the period
        assert [row.label for row in table.rows] == ["kim (상담원)", "lee (이)"]
        assert table.total == 4 and table.share(table.rows[0]) == 50.0
        with pytest.raises(StatsError):
            compute_stats(s, company, "weather", MARCH)


def test_months_of_a_longer_period_include_empty_ones(db: Database) -> None:
    company = _small_set(db)
    quarter = Period(dt.date(2026, 1, 15), dt.date(2026, 4, 10), SEOUL)
    assert _table(db, company, "month", quarter) == [
        ("2026-01", 0),
        ("2026-02", 1),
        ("2026-03", 4),
        ("2026-04", 1),
    ]


def test_days_and_hours_across_a_dst_change(db: Database) -> None:
    # Berlin moves from UTC+1 to UTC+2 at 01:00 UTC on 2026-03-29
    company = new_company(db, "DST")
    utc = [(2026, 3, 28, 23, 30), (2026, 3, 29, 0, 30), (2026, 3, 29, 1, 30), (2026, 3, 29, 22, 30)]
    add_records(db, [record(company, dt.datetime(*t, tzinfo=dt.UTC)) for t in utc])
    period = Period(dt.date(2026, 3, 28), dt.date(2026, 3, 30), BERLIN)
    assert [seg[2] for seg in offset_segments(period)] == [3600, 7200]
    assert offset_segments(period)[1][0] == dt.datetime(2026, 3, 29, 1, 0, tzinfo=dt.UTC)
    # local times: 00:30 CET, 01:30 CET, 03:30 CEST on the 29th; 00:30 CEST on the 30th
    assert _table(db, company, "day", period) == [("2026-03-28", 0), ("2026-03-29", 3), ("2026-03-30", 1)]
    hours = {h: n for h, n in _table(db, company, "hour", period) if n}
    assert hours == {"0": 2, "1": 1, "3": 1}


def _company_of_admin(admin: Client) -> int:
    with admin.app.state.db.session() as s:  # type: ignore[attr-defined]
        return int(s.scalar(select(AdminUser.company_id).where(AdminUser.login_id == "admin")))


def test_stats_pages_show_chart_data_and_table(admin: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENSUPPORT_TIMEZONE", "Asia/Seoul")
    db = admin.app.state.db  # type: ignore[attr-defined]
    company = _company_of_admin(admin)
    other = new_company(db, "Other")
    now = dt.datetime.now(dt.UTC)
    add_records(
        db,
        [record(company, now - dt.timedelta(hours=1), customer_os="Windows 11") for _ in range(3)]
        + [record(company, now - dt.timedelta(hours=2), customer_os="macOS 14")]
        + [record(other, now - dt.timedelta(hours=1), customer_os="Linux") for _ in range(5)],
    )
    for kind in KINDS:
        page = admin.get(f"/manage/stats/{kind}?preset=1w")
        assert page.status_code == 200, kind
        chart = json.loads(
            re.search(
                r'<script type="application/json" id="stats-data">(.*?)</script>', page.text, re.S
            ).group(1)
        )
        assert sum(chart["counts"]) == 4, kind
        assert (
            '<canvas id="stats-chart"' in page.text and "/static/vendor/chartjs/chart.umd.min.js" in page.text
        )
    os_page = admin.get("/manage/stats/os?preset=1w").text
    assert "고객OS별 통계" in os_page
    rows = re.findall(r"<tr><td>(.*?)</td><td class=\"num\">(.*?)</td>", os_page)
    assert rows == [("Windows 11", "3"), ("macOS 14", "1")]
    assert "Linux" not in os_page
    assert admin.get("/manage/stats/").status_code == 200
    assert admin.get("/manage/stats/weather").status_code == 404
    bad = admin.get("/manage/stats/day?from=2026-03-05&to=2026-03-01")
    assert bad.status_code == 400 and "시작일이 종료일보다 늦습니다." in bad.text


def test_repeated_hour_at_dst_end_and_half_hour_zone(db: Database) -> None:
    company = new_company(db, "Zones")
    # Berlin repeats 02:00-03:00 on 2026-10-25 (CEST then CET): 00:15 and 01:15 UTC are both 02:15 local
    add_records(db, [record(company, dt.datetime(2026, 10, 25, h, 15, tzinfo=dt.UTC)) for h in (0, 1)])
    autumn = Period(dt.date(2026, 10, 25), dt.date(2026, 10, 25), BERLIN)
    assert {h: n for h, n in _table(db, company, "hour", autumn) if n} == {"2": 2}
    # Kolkata is UTC+5:30: 18:29 UTC is 23:59 on the 1st, 18:30 UTC is 00:00 on the 2nd
    kolkata = ZoneInfo("Asia/Kolkata")
    add_records(db, [record(company, dt.datetime(2026, 11, 1, 18, m, tzinfo=dt.UTC)) for m in (29, 30)])
    days = Period(dt.date(2026, 11, 1), dt.date(2026, 11, 2), kolkata)
    assert _table(db, company, "day", days) == [("2026-11-01", 1), ("2026-11-02", 1)]
    assert {h: n for h, n in _table(db, company, "hour", days) if n} == {"23": 1, "0": 1}
