"""The administrator's view of a real support call, in Debian's Chromium (Playwright): the customer page, the
live session list while the call runs, then the record's detail page, the Excel export and a statistics view."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from e2e import HostProcess, XServer, wait_until
from journey_env import ADMIN_PASSWORD, ServerProcess

from tests.browser.conftest import CHROMIUM_ARGS, login


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Chromium is not installed: run `make test` (it installs the Debian package chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def test_the_administrator_sees_the_call_live_and_its_record(
    chromium: Any, xserver: XServer, qapp: Any, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from opensupport.viewer.account import AgentAccount, start_journey
    from opensupport.viewer.display import DisplayModel
    from opensupport.viewer.ui.window import ViewerWindow

    server = ServerProcess(tmp_path_factory.mktemp("journey-browser"))
    context = chromium.new_context(locale="ko-KR", accept_downloads=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    window = session = host = None
    try:
        server.add_agent("brow1", satisfaction_survey=True)
        fault_id = server.add_fault_type("네트워크 장애")
        # 고객 접속 URL: the customer's page, in Korean, offers the applet
        page.goto(server.url + "/s/brow1")
        assert page.locator("h1").inner_text() == "원격지원"
        assert page.locator('a[href="/download/host"]').count() == 1

        account = AgentAccount(server.url)
        account.login("brow1", "agent-pass-1")
        created = account.create_session()
        window = ViewerWindow(DisplayModel())
        window.show()
        session, journey = start_journey(window, account, created)
        host = HostProcess(
            xserver, server.url, str(created.code),
            "--customer-name", "김고객", "--satisfaction", "5", "--comment", "감사합니다",
        )  # fmt: skip
        wait_until(journey.active.is_set, 30, "the session to start")

        login(page, server.url, password=ADMIN_PASSWORD)
        page.goto(server.url + "/manage/remote/sessions/")
        row = page.locator("#sessions tbody tr", has_text="brow1")
        row.wait_for()
        assert "진행" in row.inner_text() and "김고객" in row.inner_text()  # 상담 관리 shows it in progress

        session.stop("done")
        code, out, err = host.finish()
        assert code == 0, out + err
        wait_until(journey.closed.is_set, 15, "the record to be closed")
        journey.finish(fault_type_id=fault_id, content="공유기 재설정", resolved="resolved")
        account.logout()

        # 지원기록보기 -> the record's detail page
        page.goto(server.url + f"/manage/records/{created.id}")
        details = page.locator("table.record-detail").inner_text()
        record = server.record(created.id)
        for value in ("brow1", "김고객", "네트워크 장애", "공유기 재설정", "감사합니다", record.customer_pc_name,
                      record.agent_pc_name, record.customer_ip_private, "127.0.0.1"):  # fmt: skip
            assert value and value in details, value
        # 엑셀로 저장하기 of today's records holds the call
        page.goto(server.url + "/manage/records/?preset=today")
        with page.expect_download() as download_info:
            page.get_by_role("link", name="엑셀로 저장하기").click()
        path = tmp_path / "records.xlsx"
        download_info.value.save_as(path)
        workbook = openpyxl.load_workbook(path, read_only=True)
        rows = [r for r in workbook.worksheets[0].iter_rows(values_only=True)]
        workbook.close()
        exported = [r for r in rows[1:] if r[0] == created.id]
        assert len(exported) == 1 and "brow1" in exported[0] and "김고객" in exported[0]
        # 통계보기 by fault type counts it
        page.goto(server.url + "/manage/stats/fault?preset=today")
        assert page.locator("#stats-chart").count() == 1
        assert "네트워크 장애" in page.locator("table.stats").inner_text()
    finally:
        if host is not None:
            host.close()
        if session is not None:
            session.stop()
        if window is not None:
            window.close()
        context.close()
        server.stop()
