"""Fixtures of the records and statistics browser tests: the server on a real port (uvicorn in a thread,
SQLite) with seeded records, and Debian's Chromium driven by Playwright, logged in as ``admin``.

Imported by the test modules (``from records_fixtures import ...``) so that pytest sees the fixtures.
"""

from __future__ import annotations

import datetime as dt
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

ADMIN_PASSWORD = "browser-admin-pass-1"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
]


@dataclass
class RecordsServer:
    """A running server: its base URL, its database and the company of ``admin``."""

    url: str
    db: object
    company_id: int


@pytest.fixture(scope="module")
def records_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RecordsServer]:
    """The admin web on 127.0.0.1 with 300 records of the last 40 days (Seoul time) for ``admin``."""
    import uvicorn
    from opensupport.server.app import create_app
    from opensupport.server.config import Settings
    from opensupport.server.db.models import AdminUser
    from opensupport.server.records.seed import generate_records, insert_records
    from sqlalchemy import select

    mp = pytest.MonkeyPatch()
    mp.setenv("OPENSUPPORT_TIMEZONE", "Asia/Seoul")
    data = tmp_path_factory.mktemp("records-browser")
    settings = Settings.from_env(
        data,
        database_url=f"sqlite:///{data / 'server.sqlite3'}",
        environ={"OPENSUPPORT_ADMIN_PASSWORD": ADMIN_PASSWORD},
    )
    app = create_app(settings, announce=False)
    db = app.state.db
    with db.session() as s:
        company_id = int(s.scalar(select(AdminUser.company_id).where(AdminUser.login_id == "admin")))
    today = dt.datetime.now(ZoneInfo("Asia/Seoul")).date()
    agents = [(None, "kim", "김상담"), (None, "lee", "이상담"), (None, "park", "박상담")]
    faults = [(None, "프로그램 오류"), (None, "공인 인증서 관련 오류"), (None, "기타 장애")]
    insert_records(db.engine, generate_records(company_id, agents, faults, 300, end=today, days=40, seed=3))

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the admin server did not start")
        time.sleep(0.05)
    try:
        yield RecordsServer(f"http://127.0.0.1:{port}", db, company_id)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        db.dispose()
        mp.undo()


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    """Debian's Chromium through Playwright (no browser download)."""
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Chromium is not installed: run `make test` (it installs Debian's chromium package)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def admin_page(chromium: object, records_server: RecordsServer, tmp_path: Path) -> Iterator[object]:
    """A fresh browser context, in Korean, logged in as ``admin`` through the login form."""
    context = chromium.new_context(
        accept_downloads=True, locale="ko-KR", viewport={"width": 1280, "height": 900}
    )  # type: ignore[attr-defined]
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(records_server.url + "/manage/")
    page.fill("#login_id", "admin")
    page.fill("#password", ADMIN_PASSWORD)
    page.get_by_role("button", name="로그인").click()
    page.wait_for_load_state()
    try:
        yield page
    finally:
        context.close()
