"""자동 재접속 through the real server: the restarted host asks the server again for the session's options
(the viewer hands it the host token again), the screen comes back, and the support record stays one
record, active across the restart and ended once at the end."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e import SolidWindow, Viewer, XServer, assert_screen_matches, wait_until
from journey_env import AGENT_PASSWORD, ServerProcess
from test_reboot import Host, exec_argv

pytestmark = pytest.mark.xvfb


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("reboot-server"))
    yield proc
    proc.stop()


def test_the_restarted_host_rejoins_the_same_record(
    server: ServerProcess, xserver: XServer, qapp: Any, tmp_path: Path
) -> None:
    from opensupport.viewer.account import AgentAccount, start_journey
    from opensupport.viewer.display import DisplayModel
    from opensupport.viewer.ui.window import ViewerWindow

    server.add_agent("reboot1", auto_reconnect=True, manual_reboot=False, desktop_sharing=True)
    account = AgentAccount(server.url)
    account.login("reboot1", AGENT_PASSWORD)
    created = account.create_session()
    window = ViewerWindow(DisplayModel())
    window.show()
    session, journey = start_journey(window, account, created)
    viewer = Viewer.__new__(Viewer)  # the journey's own session, seen through the test helpers
    viewer.qapp, viewer.window, viewer.session, viewer.sink = qapp, window, session, session.sink
    marker = tmp_path / "rebooted"
    argv = [sys.executable, "-m", "opensupport", "host", "--headless", "--server", server.url]
    argv += ["--code", f"{created.code.routing_id}-{created.code.secret}", "--display", xserver.display]
    argv += ["--customer-name", "Kim", "--reboot-command", f"touch {marker}"]
    config = tmp_path / "config"
    hosts = [Host(xserver, config, argv)]
    colour = SolidWindow(xserver.display, 40, 40, 120, 80, 0x7722BB)
    try:
        wait_until(lambda: viewer.pump() or journey.active.is_set(), 30, "the customer's host to be ready")
        assert_screen_matches(xserver, viewer)
        reboot = session.reboot
        assert reboot is not None
        wait_until(lambda: viewer.pump() or reboot.action.isVisible(), 10, "the restart entry")
        reboot.confirm = lambda parent, question: True
        assert reboot.restart()
        wait_until(lambda: viewer.pump() or reboot.answer is not None or reboot.refusal is not None, 20,
                   "the host's answer")  # fmt: skip
        assert reboot.answer is not None and reboot.answer["mode"] == "auto" and marker.exists()
        entry = config / "autostart" / "opensupport-comeback.desktop"

        hosts[0].kill()
        colour.recolour(0x11CC99)
        hosts.append(Host(xserver, config, exec_argv(entry)))
        assert_screen_matches(xserver, viewer, timeout=40)
        assert not entry.exists()
        record = server.record(created.id)
        assert record.status == "active" and record.ended_at is None
        assert not journey.closed.is_set() and not session.ended.is_set()

        # The call ends once, as one record.
        session.stop("the agent ended the session")
        wait_until(journey.closed.is_set, 20, "the record to be closed")
        assert journey.final_status == "ended"
        record = server.record(created.id)
        assert record.status == "ended" and record.customer_name == "Kim"
        from opensupport.server.db.models import SupportRecord
        from sqlalchemy import func, select

        with server.db.session() as s:
            count = s.scalar(
                select(func.count())
                .select_from(SupportRecord)
                .where(SupportRecord.agent_login_id == "reboot1")
            )
        assert count == 1
    finally:
        colour.close()
        for host in hosts:
            host.kill()
        if not session.ended.is_set():
            session.stop()
        window.close()
        account.logout()
