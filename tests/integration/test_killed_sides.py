"""A side killed with SIGKILL (no goodbye): the record is closed as ``disconnected`` and shows in 장애 상황
관리 (checked in Chromium). The real server, the headless host and the viewer run as processes; the
knobs of README's "When a side is killed" make it take seconds: ``OPENSUPPORT_RESUME_TIMEOUT`` (the side
left behind gives the other up), and the sweep's ``OPENSUPPORT_ONLINE_WINDOW_S`` /
``OPENSUPPORT_SWEEP_INTERVAL_S`` / ``OPENSUPPORT_SILENT_AFTER_S`` (when both are gone)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e import HostProcess, XServer, wait_until
from journey_env import ADMIN_PASSWORD, AGENT_PASSWORD, ServerProcess

pytestmark = pytest.mark.xvfb

KNOBS = {
    "OPENSUPPORT_RESUME_TIMEOUT": "2",
    "OPENSUPPORT_ONLINE_WINDOW_S": "15",  # heartbeats every 5 s
    "OPENSUPPORT_SWEEP_INTERVAL_S": "1",
    "OPENSUPPORT_SILENT_AFTER_S": "10",  # two heartbeats at least: the server refuses less
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    saved = {k: os.environ.get(k) for k in KNOBS}
    os.environ.update(KNOBS)  # the server, the hosts and the viewers of this module inherit them
    try:
        proc = ServerProcess(tmp_path_factory.mktemp("killed-server"))
        yield proc
        proc.stop()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class ViewerProcess:
    """tests/integration/viewer_proc.py: a logged-in viewer with a session, in a process of its own."""

    def __init__(self, server: ServerProcess, agent: str, tmp: Path) -> None:
        password = tmp / f"{agent}.password"
        password.write_text(AGENT_PASSWORD + "\n")
        script = Path(__file__).with_name("viewer_proc.py")
        self.proc = subprocess.Popen(
            [sys.executable, str(script), server.url, agent, str(password)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert self.proc.stdout is not None
        while True:
            line = self.proc.stdout.readline()
            if not line:
                pytest.fail("the viewer process ended before creating its session")
            if line.startswith(b"{"):
                created = json.loads(line)
                self.record_id, self.code = int(created["id"]), str(created["code"])
                return

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()


def start_call(
    server: ServerProcess, xserver: XServer, agent: str, tmp: Path
) -> tuple[ViewerProcess, HostProcess]:
    server.add_agent(agent)
    viewer = ViewerProcess(server, agent, tmp)
    host = HostProcess(xserver, server.url, viewer.code, "--customer-name", f"customer of {agent}")
    wait_until(lambda: server.record(viewer.record_id).status == "active", 40, "the session to start")
    return viewer, host


def assert_disconnected(server: ServerProcess, record_id: int, agent: str) -> None:
    wait_until(lambda: server.record(record_id).status != "active", 40, "the record to be closed")
    record = server.record(record_id)
    assert record.status == "disconnected"
    assert record.ended_at is not None and record.customer_name == f"customer of {agent}"


def test_a_killed_viewer_is_reported_by_the_host(
    server: ServerProcess, xserver: XServer, tmp_path: Path
) -> None:
    viewer, host = start_call(server, xserver, "kviewer1", tmp_path)
    try:
        viewer.kill()
        assert_disconnected(server, viewer.record_id, "kviewer1")
        _code, out, err = host.finish(timeout=20)  # the host gave the viewer up and ended by itself
        assert "the other side did not come back within 2 s" in out + err  # OPENSUPPORT_RESUME_TIMEOUT
    finally:
        viewer.kill()
        host.close()


def test_a_killed_host_is_reported_by_the_viewer(
    server: ServerProcess, xserver: XServer, tmp_path: Path
) -> None:
    viewer, host = start_call(server, xserver, "khost1", tmp_path)
    try:
        host.proc.kill()
        assert_disconnected(server, viewer.record_id, "khost1")
        assert viewer.proc.stdout is not None
        lines = viewer.proc.stdout.read().decode().splitlines()  # the viewer ends after settling the record
        assert json.loads(lines[-1]) == {"final_status": "disconnected"}
    finally:
        viewer.kill()
        host.close()


def test_both_killed_the_sweep_closes_the_record(
    server: ServerProcess, xserver: XServer, tmp_path: Path
) -> None:
    viewer, host = start_call(server, xserver, "kboth1", tmp_path)
    try:
        viewer.kill()
        host.proc.kill()  # nobody is left to report: the server's sweep finds the agent silent
        assert_disconnected(server, viewer.record_id, "kboth1")
    finally:
        host.close()


def test_the_killed_sessions_show_in_the_fault_list(server: ServerProcess) -> None:
    """장애 상황 관리 in Chromium lists each of the records above (run after them: pytest keeps file order)."""
    from opensupport.server.db.models import SupportRecord
    from sqlalchemy import select

    with server.db.session() as s:
        rows = s.execute(
            select(SupportRecord.id, SupportRecord.status).where(
                SupportRecord.customer_name.like("customer of k%")
            )
        ).all()
    assert len(rows) == 3 and {status for _, status in rows} == {"disconnected"}
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Chromium is not installed: run `make test` (it installs the Debian package chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser: Any = playwright.chromium.launch(
            executable_path=executable, args=["--no-sandbox"], headless=True
        )
        try:
            page = browser.new_context(locale="ko-KR").new_page()
            page.goto(server.url + "/manage/")
            page.get_by_label("ID", exact=True).fill("admin")
            page.get_by_label("Password", exact=True).fill(ADMIN_PASSWORD)
            page.get_by_role("button", name="로그인").click()
            page.get_by_role("link", name="관리자페이지 이동").click()
            page.goto(server.url + "/manage/remote/faults/")
            for record_id, _ in rows:
                link = page.locator(f'a[href="/manage/records/{record_id}"]')
                assert link.count() >= 1, f"record {record_id} is not in 장애 상황 관리"
        finally:
            browser.close()
