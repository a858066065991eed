"""상담원 화면 전송 in a server-managed call: the customer's applet takes the option from the real server (a
subprocess on SQLite), never from the viewer. An agent with the option on shows its screen (pixels of the
agent's own Xvfb in the customer's window); an agent the administrator switched it off for is refused,
whatever its viewer sends, and nothing is captured."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from e2e import SolidWindow, XServer, wait_until
from journey_env import AGENT_PASSWORD, ServerProcess

pytestmark = pytest.mark.xvfb


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("agent-screen-server"))
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def agent_desktop() -> Iterator[XServer]:
    server = XServer()
    yield server
    server.stop()


class ManagedCall:
    """The agent logged in with a live session, and the customer's windowed applet with its journey."""

    def __init__(self, server: ServerProcess, xserver: XServer, agent_x: XServer, qapp: Any, login_id: str):
        from opensupport.host.server_api import HostJourney
        from opensupport.host.session import HostSession
        from opensupport.host.ui.window import HostWindow
        from opensupport.viewer.account import AgentAccount, start_journey
        from opensupport.viewer.display import DisplayModel
        from opensupport.viewer.ui.window import ViewerWindow

        self.qapp = qapp
        self.account = AgentAccount(server.url)
        self.account.login(login_id, AGENT_PASSWORD)
        created = self.account.create_session()
        self.viewer_window = ViewerWindow(DisplayModel())
        self.viewer_window.show()
        self.session, self.journey = start_journey(self.viewer_window, self.account, created)
        self.session.agent_screen.display = agent_x.display
        self.host_journey = HostJourney(
            server.url, customer_name="고객", consent=lambda info: True, grant_control=lambda info: True
        )
        host = HostSession(
            server.url, created.code, display=xserver.display, on_event=self.host_journey.on_event
        )
        self.host_journey.attach(host)
        self.window = HostWindow(host, created.code.routing_id)
        self.window.start()
        self.window.show()
        wait_until(lambda: self.pump() or self.journey.active.is_set(), 30, "the call to start")
        tools = self.session.tools
        wait_until(
            lambda: self.pump() or (tools is not None and tools.allowed is not None), 15, "tool.allowed"
        )

    def pump(self) -> bool:
        self.qapp.processEvents()
        return False

    def close(self) -> None:
        self.session.stop()
        self.window.close()
        self.viewer_window.close()
        self.window.deleteLater()
        self.viewer_window.deleteLater()
        self.journey.closed.wait(5.0)
        self.account.logout()
        self.pump()


def test_the_servers_option_decides(
    server: ServerProcess, xserver: XServer, agent_desktop: XServer, qapp: Any, tmp_path: Path
) -> None:
    from opensupport.viewer.reverse import AgentScreenState

    server.add_agent("screenon")
    server.add_agent("screenoff", agent_screen_send=False)
    marker = SolidWindow(agent_desktop.display, 60, 40, 160, 120, 0xDD8800)
    on = ManagedCall(server, xserver, agent_desktop, qapp, "screenon")
    try:
        assert "agent_screen_send" in on.session.tools.allowed
        on.session.agent_screen.offer(False)

        def shows_marker() -> bool:
            on.pump()
            window = on.window.agent_screen.window
            frame = None if window is None else window.model.store.snapshot()
            return frame is not None and bool(np.all(frame[40:160, 60:220, :3] == (0x00, 0x88, 0xDD)))

        wait_until(shows_marker, 20, "the agent's screen at the customer")
        assert on.session.agent_screen.status.state is AgentScreenState.SHOWING
    finally:
        on.close()

    off = ManagedCall(server, xserver, agent_desktop, qapp, "screenoff")
    try:
        assert "agent_screen_send" not in off.session.tools.allowed
        share = off.session.agent_screen
        share.offer(False)  # as a modified viewer would
        wait_until(lambda: off.pump() or share.status.state is AgentScreenState.IDLE, 15, "the refusal")
        assert "agent screen send is switched off" in share.status.message
        assert share.host is None and off.window.agent_screen.window is None
    finally:
        off.close()
        marker.close()
