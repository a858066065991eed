"""End to end: 상담원 화면 전송 / 상담원 화면 제어, the agent's screen shown to the customer.

Two real X servers: the customer's (the applet's window and its session, in this process, offscreen Qt) and
the agent's (the viewer's reverse host captures it); a relay subprocess between them. The customer's
framebuffer shows what is on the agent's screen (pixels); with control, keys the customer types reach an
xterm on the agent's screen; view-only, they are dropped on the agent's PC; an option switched off is
refused by the customer's host and nothing is captured or shown; either side (and the end of the support
session) ends the reverse stream.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from e2e import SolidWindow, Viewer, XServer, XtermCat, wait_until
from opensupport.protocol import SessionCode
from relay_proc import RelayProcess

pytestmark = pytest.mark.xvfb

RETURN, CONTROL_L = 0xFF0D, 0xFFE3


@pytest.fixture(scope="module")
def agent_x() -> Iterator[XServer]:
    """The agent's own desktop, apart from the customer's."""
    server = XServer()
    yield server
    server.stop()


class Call:
    """A support session: the customer's applet window and the agent's viewer, connected."""

    def __init__(self, qapp: Any, window: Any, viewer: Viewer) -> None:
        self.qapp = qapp
        self.window = window  # the customer's HostWindow
        self.viewer = viewer

    def pump(self) -> bool:
        self.qapp.processEvents()
        return False

    @property
    def share(self) -> Any:
        """The agent's side (viewer/reverse.py)."""
        return self.viewer.session.agent_screen

    @property
    def shown(self) -> Any:
        """The customer's side: the presenter of the applet's window."""
        return self.window.agent_screen

    def customer_framebuffer(self) -> np.ndarray | None:
        self.pump()
        window = self.shown.window
        return None if window is None else window.model.store.snapshot()

    def menu(self) -> Any:
        from opensupport.viewer.ui.agent_screen import AgentScreenMenu

        return AgentScreenMenu.for_window(self.viewer.window)


@pytest.fixture
def call(
    xserver: XServer, agent_x: XServer, shared_relay: RelayProcess, qapp: Any, tmp_path: Path
) -> Iterator[Any]:
    from opensupport.host.policy import policy_from_options
    from opensupport.host.session import HostSession
    from opensupport.host.ui.window import HostWindow

    made: list[Call] = []

    def make(options: dict[str, bool] | None = None) -> Call:
        code = SessionCode.generate()
        session = HostSession(
            shared_relay.url,
            code,
            display=xserver.display,
            policy=policy_from_options(options or {}),
            download_dir=tmp_path,
            consent_answer=True,
        )
        window = HostWindow(session, code.routing_id)
        window.start()
        window.show()
        viewer = Viewer(qapp, shared_relay.url, code)
        viewer.session.agent_screen.display = agent_x.display
        made.append(Call(qapp, window, viewer))
        tools = viewer.session.tools
        wait_until(
            lambda: viewer.pump() or (tools is not None and tools.allowed is not None), 20, "tool.allowed"
        )
        return made[-1]

    yield make
    for c in made:
        c.viewer.close()
        c.window.close()
        c.window.deleteLater()
        c.pump()


def _shows(c: Call, x: int, y: int, w: int, h: int, bgr: tuple[int, int, int]) -> bool:
    frame = c.customer_framebuffer()
    if frame is None or frame.shape[0] < y + h or frame.shape[1] < x + w:
        return False
    return bool(np.all(frame[y : y + h, x : x + w, :3] == np.array(bgr, dtype=np.uint8)))


def _type(sink: Any, text: str) -> None:
    from opensupport.viewer.events import KeyPress, KeyRelease, keysym_for_char

    for ch in text:
        keysym = keysym_for_char(ch)
        sink.send(KeyPress(keysym))
        sink.send(KeyRelease(keysym))


def _press(sink: Any, *keysyms: int) -> None:
    from opensupport.viewer.events import KeyPress, KeyRelease

    for keysym in keysyms:
        sink.send(KeyPress(keysym))
    for keysym in reversed(keysyms):
        sink.send(KeyRelease(keysym))


def test_the_customer_sees_the_agents_screen_view_only(call: Any, agent_x: XServer, tmp_path: Path) -> None:
    from opensupport.viewer.events import PointerMove, SelectMonitor
    from opensupport.viewer.reverse import AgentScreenState

    c = call()
    menu = c.menu()
    wait_until(
        lambda: c.pump() or (menu.show_action.isVisible() and menu.show_action.isEnabled()), 10, "menu"
    )
    assert menu.control_action.isVisible()
    marker = SolidWindow(agent_x.display, 100, 80, 200, 150, 0x22AA44)
    xterm = XtermCat(agent_x, tmp_path, 420, 300)
    try:
        menu.show_action.trigger()
        wait_until(
            lambda: _shows(c, 100, 80, 200, 150, (0x44, 0xAA, 0x22)), 20, "the agent's window at the customer"
        )
        assert c.share.status.state is AgentScreenState.SHOWING and not c.share.status.control
        shown = c.shown.window
        assert shown.model.view_only and "view only" in shown.notice.text()
        assert c.window.notice_label.text().startswith("The agent is showing you their screen (view only)")
        # The whole monitor matches the agent's real screen, not just the marker.
        wait_until(
            lambda: np.array_equal(c.customer_framebuffer()[..., :3], agent_x.grab(0)[..., :3]), 10, "screen"
        )
        # A modified applet asks for the agent's other monitor: the agent's capture refuses it.
        c.shown.session.sink.send(SelectMonitor(1))
        wait_until(lambda: c.share.capture is not None and c.share.capture.refused == 1, 10, "the refusal")
        marker.recolour(0x3355CC)
        wait_until(lambda: _shows(c, 100, 80, 200, 150, (0xCC, 0x55, 0x33)), 10, "the change")
        assert c.customer_framebuffer().shape == (600, 800, 4)  # still the agent's first monitor
        assert not shown.monitor_button.isVisible() and not shown.send_keys_button.isVisible()

        # A modified applet sends input anyway: the agent's host drops it.
        sink = c.shown.session.sink
        sink.send(PointerMove(xterm.x + 60, xterm.y + 40))
        _type(sink, "no")
        _press(sink, CONTROL_L, ord("d"))
        host = c.share.host
        wait_until(lambda: host._injector is not None and host._injector.dropped >= 7, 10, "the drops")
        assert host._injector.replayed == 0
        assert xterm.proc.poll() is None  # Ctrl+D never reached cat
    finally:
        xterm.close()
        marker.close()
    assert not xterm.out.read_bytes()


def test_with_control_the_customer_types_into_the_agents_xterm(
    call: Any, agent_x: XServer, tmp_path: Path
) -> None:
    from opensupport.viewer.events import PointerMove

    c = call()
    menu = c.menu()
    wait_until(lambda: c.pump() or menu.control_action.isEnabled(), 10, "menu")
    xterm = XtermCat(agent_x, tmp_path, 30, 40)
    try:
        menu.control_action.trigger()
        wait_until(lambda: c.pump() or c.shown.session is not None, 10, "the customer's window")
        wait_until(lambda: c.pump() or c.shown.session.link.established, 20, "the reverse stream")
        assert c.share.status.control and not c.shown.window.model.view_only
        assert "control" in c.shown.window.notice.text()
        assert c.shown.window.send_keys_button.isVisible()  # Ctrl+Alt+Del and the like for the customer
        sink = c.shown.session.sink
        sink.send(PointerMove(xterm.x + 60, xterm.y + 40))  # no window manager: focus follows
        _type(sink, "typed by the customer")
        _press(sink, RETURN)
        _press(sink, CONTROL_L, ord("d"))
        assert xterm.result().decode() == "typed by the customer\n"
    finally:
        xterm.close()


def test_options_off_are_refused_and_nothing_is_shown(call: Any) -> None:
    from opensupport.viewer.reverse import AgentScreenState

    opened: list[Any] = []
    c = call({"agent_screen_send": False})
    menu = c.menu()
    c.pump()
    menu.refresh()
    assert not menu.show_action.isVisible() and not menu.control_action.isVisible()
    share = c.share
    share._open_host = lambda *a, **k: opened.append(a)  # nothing may be captured after a refusal
    # A modified viewer offers anyway.
    share.offer(False)
    wait_until(lambda: c.pump() or share.status.state is AgentScreenState.IDLE, 10, "the refusal")
    assert "agent screen send is switched off" in share.status.message
    assert c.window.session.agent_screen.refusals == 1
    c.pump()
    assert c.shown.window is None and opened == [] and share.host is None

    d = call({"agent_screen_control": False})
    menu = d.menu()
    wait_until(
        lambda: d.pump() or (menu.show_action.isVisible() and menu.show_action.isEnabled()), 10, "menu"
    )
    assert not menu.control_action.isVisible()
    d.share._open_host = lambda *a, **k: opened.append(a)
    d.share.offer(True)
    wait_until(lambda: d.pump() or d.share.status.state is AgentScreenState.IDLE, 10, "the refusal")
    assert "agent screen control is switched off" in d.share.status.message
    assert d.shown.window is None and opened == []


def test_either_side_and_the_session_end_stop_the_stream(call: Any) -> None:
    from opensupport.viewer.reverse import AgentScreenState

    c = call()
    share = c.share
    # The agent stops.
    share.offer(False)
    wait_until(
        lambda: c.pump() or (c.shown.session is not None and c.shown.session.link.established), 20, "shown"
    )
    host = share.host
    share.stop()
    wait_until(lambda: c.pump() or c.shown.window is None, 10, "the customer's window to close")
    assert "the agent stopped showing the screen" in c.window.notice_label.text()
    wait_until(lambda: host.status.ended is not None, 10, "the agent's reverse host to end")

    # The customer closes the window.
    share.offer(False)
    wait_until(
        lambda: c.pump() or (c.shown.session is not None and c.shown.session.link.established), 20, "shown"
    )
    host = share.host
    c.shown.window.close_button.click()
    wait_until(lambda: c.pump() or share.status.state is AgentScreenState.IDLE, 10, "the agent to hear it")
    assert "customer closed" in share.status.message
    wait_until(lambda: host.status.ended is not None, 10, "the agent's reverse host to end")
    assert c.window.session.agent_screen.current is None

    # The support session ends.
    share.offer(True)
    wait_until(
        lambda: c.pump() or (c.shown.session is not None and c.shown.session.link.established), 20, "shown"
    )
    host = share.host
    c.viewer.session.stop("the agent ended the session")
    wait_until(lambda: c.pump() or c.shown.window is None, 10, "the customer's window to close")
    wait_until(lambda: host.status.ended is not None, 10, "the agent's reverse host to end")
    assert share.status.state is AgentScreenState.IDLE


def test_the_entries_join_the_agent_desks_session_menu_once(qapp: Any) -> None:
    from opensupport.viewer.ui.agent_screen import CONTROL_TEXT, SHOW_TEXT, STOP_TEXT, AgentScreenMenu
    from opensupport.viewer.ui.window import ViewerWindow

    window = ViewerWindow()
    try:
        desk_menu = window.menuBar().addMenu("Session")  # as the agent desk makes it, before any session
        desk_menu.addAction("End session")
        first = AgentScreenMenu.for_window(window)
        assert AgentScreenMenu.for_window(window) is first  # the next session reuses the entries
        titles = [a.text() for a in window.menuBar().actions()]
        assert titles.count("Session") == 1
        texts = [a.text() for a in desk_menu.actions() if not a.isSeparator()]
        assert texts == ["End session", SHOW_TEXT, CONTROL_TEXT, STOP_TEXT]
        first.refresh()  # no session: nothing offered
        assert not first.show_action.isVisible() and not first.stop_action.isEnabled()
    finally:
        window.close()
        window.deleteLater()
        qapp.processEvents()
