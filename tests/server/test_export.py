"""엑셀로 저장하기 on SQLite and PostgreSQL: the downloaded .xlsx, read back with openpyxl, holds exactly the
records of the current search (all pages, same order, every field), and text never turns into a formula."""

from __future__ import annotations

import datetime as dt
import io
import re
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from adminclient import Client
from opensupport.server.db.models import AdminUser
from opensupport.server.records.periods import Period
from opensupport.server.records.search import RecordSearch, iter_search_rows
from opensupport.server.records.seed import generate_records, insert_records
from records_util import add_records, new_company, record
from sqlalchemy import select

SEOUL = ZoneInfo("Asia/Seoul")
HEADER = [
    "No.", "상담원 ID", "상담원 명", "상담원 IP (공인)", "상담원 IP (사설)", "상담원 PC명", "고객 이름", "고객 IP (공인)",
    "고객 IP (사설)", "고객 PC명", "고객 OS", "이메일", "전화 번호", "장애 유형", "시작 시각", "종료 시각", "사용 시각",
    "지원 내용", "해결 여부", "만족도", "고객 코멘트",
]  # fmt: skip


@pytest.fixture(autouse=True)
def _seoul(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENSUPPORT_TIMEZONE", "Asia/Seoul")


def _db(client: Client):
    return client.app.state.db  # type: ignore[attr-defined]


def _company(admin: Client) -> int:
    with _db(admin).session() as s:
        return int(s.scalar(select(AdminUser.company_id).where(AdminUser.login_id == "admin")))


def _sheet(content: bytes) -> list[list[object]]:
    workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    rows = [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
    workbook.close()
    return rows


def _local(value: dt.datetime) -> dt.datetime:
    return value.astimezone(SEOUL).replace(tzinfo=None)


def test_export_equals_the_current_search(admin: Client) -> None:
    company = _company(admin)
    today = dt.datetime.now(SEOUL).date()
    agents = [(None, "kim", "김상담"), (None, "lee", "이상담"), (None, "park", "박상담")]
    faults = [(None, "프로그램 오류"), (None, "기타 장애")]
    insert_records(
        _db(admin).engine, generate_records(company, agents, faults, 700, end=today, days=40, seed=7)
    )
    add_records(
        _db(admin), [record(new_company(_db(admin), "Other"), dt.datetime.now(dt.UTC), agent_login_id="kim")]
    )
    first, last = today - dt.timedelta(days=20), today - dt.timedelta(days=2)
    query = {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "agent": "kim",
        "sort": "duration",
        "order": "asc",
    }
    page = admin.get("/manage/records/", params=query).text
    total = int(re.search(r'<p class="total">([\d,]+)건', page).group(1).replace(",", ""))
    export_link = (
        re.search(r'href="(/manage/records/export\.xlsx\?[^"]+)"', page).group(1).replace("&amp;", "&")
    )
    response = admin.get(export_link)
    assert response.status_code == 200
    assert (
        response.headers["content-type"]
        == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert f"records_{first:%Y%m%d}-{last:%Y%m%d}_kim.xlsx" in response.headers["content-disposition"]
    assert response.content[:2] == b"PK"  # a real zip package, not HTML or CSV
    rows = _sheet(response.content)
    assert rows[0] == HEADER
    with _db(admin).sessions() as s:
        search = RecordSearch(
            company_id=company,
            period=Period(first, last, SEOUL),
            agent_id="kim",
            sort="duration",
            descending=False,
        )
        expected = list(iter_search_rows(s, search))
    assert 20 < total == len(expected) == len(rows) - 1  # every page of the search, not just the first
    words = {"resolved": "해결", "unresolved": "미해결", "unset": "미체크"}
    for got, want in zip(rows[1:], expected, strict=True):
        (rid, agent, agent_name, a_pub, a_priv, a_pc, name, c_pub, c_priv, c_pc, os_, email, phone, fault,
         start, end, duration, content, resolved, satisfaction, comment) = want  # fmt: skip
        assert got[0] == rid and got[1] == agent == "kim" and got[2] == agent_name
        assert got[3:10] == [a_pub, a_priv, a_pc, name, c_pub, c_priv, c_pc]
        assert got[10] == (os_ or "기타 OS")
        assert got[11:14] == [email, phone, fault]
        assert got[14] == _local(start)
        assert got[15] == (_local(end) if end else "알수 없음")
        if duration is None:
            assert got[16] == "알수 없음"
        else:  # an Excel duration ([h]:mm:ss), in days
            assert (
                round(got[16].total_seconds() if isinstance(got[16], dt.timedelta) else got[16] * 86400)
                == duration
            )
        assert got[17] == content and got[18] == words[resolved]
        assert got[19] == (satisfaction if satisfaction is not None else "무응답") and got[20] == comment
    durations = [r[16] for r in expected]
    known = [d for d in durations if d is not None]
    assert known == sorted(known)  # the page's order (duration ascending)


def test_text_that_looks_like_a_formula_stays_text(admin: Client) -> None:
    company = _company(admin)
    now = dt.datetime.now(dt.UTC)
    add_records(
        _db(admin),
        [
            record(
                company,
                now,
                customer_name='=HYPERLINK("http://evil","x")',
                content="+1+2",
                customer_comment="@SUM(A1)",
            )
        ],
    )
    rows = _sheet(admin.get("/manage/records/export.xlsx?preset=3d").content)
    assert (
        rows[1][6] == '=HYPERLINK("http://evil","x")' and rows[1][17] == "+1+2" and rows[1][20] == "@SUM(A1)"
    )
    workbook = openpyxl.load_workbook(io.BytesIO(admin.get("/manage/records/export.xlsx?preset=3d").content))
    assert workbook.worksheets[0].cell(2, 7).data_type == "s"  # a string cell, not a formula ("f")


def test_empty_search_exports_the_header_only(admin: Client) -> None:
    rows = _sheet(admin.get("/manage/records/export.xlsx?preset=3d&agent=nobody").content)
    assert rows == [HEADER]
