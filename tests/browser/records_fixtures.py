"""Fixtures of the records and statistics browser tests, on top of tests/browser/conftest.py: the live
server with 300 seeded records of the last 40 days (Seoul time), and a page logged in as ``admin``.

Imported by the test modules (``from records_fixtures import ...``) so that pytest sees the fixtures.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.browser.conftest import login

SEOUL = ZoneInfo("Asia/Seoul")


@dataclass
class RecordsServer:
    """The running server: its base URL, its database and the company of ``admin``."""

    url: str
    db: Any
    company_id: int


@pytest.fixture(scope="module")
def records_server(live_server: Any) -> Iterator[RecordsServer]:
    """``live_server`` with 300 records of three agents over the last 40 days, days counted in Seoul."""
    from opensupport.server.db.models import AdminUser
    from opensupport.server.records.seed import generate_records, insert_records
    from sqlalchemy import select

    mp = pytest.MonkeyPatch()
    mp.setenv("OPENSUPPORT_TIMEZONE", "Asia/Seoul")
    db = live_server.app.state.db
    with db.session() as s:
        company_id = int(s.scalar(select(AdminUser.company_id).where(AdminUser.login_id == "admin")))
    today = dt.datetime.now(SEOUL).date()
    agents = [(None, "kim", "김상담"), (None, "lee", "이상담"), (None, "park", "박상담")]
    faults = [(None, "프로그램 오류"), (None, "공인 인증서 관련 오류"), (None, "기타 장애")]
    insert_records(db.engine, generate_records(company_id, agents, faults, 300, end=today, days=40, seed=3))
    try:
        yield RecordsServer(live_server.url, db, company_id)
    finally:
        mp.undo()


@pytest.fixture
def admin_page(page: Any, records_server: RecordsServer) -> Any:
    """A fresh page, in Korean, logged in as ``admin`` through the login form."""
    page.set_viewport_size({"width": 1280, "height": 900})
    login(page, records_server.url)
    return page
