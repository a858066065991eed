"""The agent's options that change a running session, end to end (the host in this process on an Xvfb of
the test's own, a relay subprocess, the viewer offscreen): 바탕화면 공유 (the desktop background painted
plain before encoding, on the host), 마우스 추적 (pointer moves streamed or not, switched from the viewer's
menu, enforced on the host), 파일 전송 뷰어 모드 (the transfer window docked or a window of its own) and the
options this host cannot apply, listed in the viewer's Options menu."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from e2e import SolidWindow, Viewer, XServer, assert_screen_matches, wait_until
from opensupport.protocol import CursorPosition, CursorShape, SessionCode
from relay_proc import RelayProcess

pytestmark = pytest.mark.xvfb

GREEN = 0x00FF00


@pytest.fixture(scope="module")
def own_x() -> Iterator[XServer]:
    """An X server with nothing on it but what each test maps (the shared one has other tests' windows)."""
    server = XServer()
    yield server
    server.stop()


class Live:
    def __init__(self, host: Any, viewer: Viewer, seen: list[Any]) -> None:
        self.host, self.viewer, self.seen = host, viewer, seen

    def close(self) -> None:
        self.host.stop()
        self.host.close()
        self.viewer.close()


@pytest.fixture
def connect(own_x: XServer, shared_relay: RelayProcess, qapp: Any, tmp_path: Any) -> Iterator[Any]:
    from opensupport.host.policy import policy_from_options
    from opensupport.host.session import HostSession

    made: list[Live] = []

    def make(options: dict[str, bool]) -> Live:
        code = SessionCode.generate()
        seen: list[Any] = []
        viewer = Viewer(qapp, shared_relay.url, code, on_event=seen.append)
        host = HostSession(
            shared_relay.url,
            code,
            display=own_x.display,
            policy=policy_from_options(options),
            download_dir=tmp_path,
            consent_answer=True,
        )
        host.start()
        live = Live(host, viewer, seen)
        made.append(live)
        wait_until(lambda: viewer.pump() or viewer.session.session_options is not None, 20, "the session")
        return live

    yield make
    for live in made:
        live.close()


def test_desktop_background_is_painted_plain_on_the_host_unless_desktop_sharing(
    connect: Any, own_x: XServer
) -> None:
    from opensupport.host.desktop import BACKGROUND_BGRA
    from opensupport.host.policy import policy_from_options

    window = SolidWindow(own_x.display, 100, 80, 200, 150, GREEN)
    try:
        live = connect({"desktop_sharing": False})
        plain = np.array(BACKGROUND_BGRA[:3], np.uint8)
        screen = own_x.grab(0)
        assert not (screen[..., :3] == plain).all(axis=2).any(), (
            "the root's own pattern differs from the paint"
        )

        def painted(x: int, y: int) -> bool:
            fb = live.viewer.framebuffer()
            if fb is None or fb.shape[:2] != (600, 800):
                return False
            inside = fb[y : y + 150, x : x + 200, :3]
            outside = fb[..., :3].copy()
            outside[y : y + 150, x : x + 200] = plain
            return bool((inside == (0, 255, 0)).all() and (outside == plain).all())

        wait_until(lambda: painted(100, 80), 15, "the window on a plain background")
        window.move(400, 300)  # where it was is background now: painted too, never the root's pattern
        wait_until(lambda: painted(400, 300), 15, "the moved window on a plain background")
        assert live.host.frames_sent > 1

        # The administrator allows it (options applied to the running session): the screen as it is.
        live.host.set_policy(policy_from_options({"desktop_sharing": True}))
        assert_screen_matches(own_x, live.viewer)
    finally:
        window.close()


def test_mouse_tracking_off_sends_no_pointer_moves_until_the_agent_switches_it_on(
    connect: Any, own_x: XServer
) -> None:
    live = connect({"mouse_tracking": False})
    viewer, session, window = live.viewer, live.viewer.session, live.viewer.window
    wait_until(lambda: viewer.pump() or session.cursor_tracking is False, 10, "the host's tracking state")
    viewer.pump()
    assert window.tracking_action.isEnabled() and not window.tracking_action.isChecked()
    assert not live.host.cursor_tracking

    def moves() -> list[CursorPosition]:
        viewer.pump()
        return [e for e in live.seen if isinstance(e, CursorPosition) and e.visible]

    for x in range(50, 350, 60):
        own_x.run("xdotool", "mousemove", str(x), "120")
    # The shape still travels (the agent's own pointer takes it); a round trip shows the moves are not sent.
    wait_until(lambda: viewer.pump() or any(isinstance(e, CursorShape) for e in live.seen), 10, "the shape")
    session.request_keyframe("a round trip after the moves")
    before = session.updates_received
    wait_until(lambda: viewer.pump() or session.updates_received > before, 10, "the key frame")
    assert moves() == []
    assert window.model.cursor_position is None

    window.tracking_action.trigger()  # the agent switches 마우스 추적 on from the Options menu
    wait_until(lambda: viewer.pump() or live.host.cursor_tracking, 10, "the host to track")
    own_x.run("xdotool", "mousemove", "321", "234")
    wait_until(lambda: any((m.x, m.y) == (321, 234) for m in moves()), 10, "the pointer's move")
    wait_until(lambda: viewer.pump() or window.model.cursor_position == (321, 234), 10, "the model")
    assert window.tracking_action.isChecked()
    assert not window.model.view_only and window.model.draws_remote_cursor()  # the customer's own move

    window.tracking_action.trigger()  # and off again: the customer's pointer disappears from the viewer
    wait_until(lambda: viewer.pump() or not live.host.cursor_tracking, 10, "the host to stop tracking")
    wait_until(lambda: viewer.pump() or window.model.cursor_position is None, 10, "the pointer hidden")
    count = len(moves())
    own_x.run("xdotool", "mousemove", "10", "10")
    session.request_keyframe("a round trip after the move")
    before = session.updates_received
    wait_until(lambda: viewer.pump() or session.updates_received > before, 10, "the key frame")
    assert len(moves()) == count


def test_a_viewer_cannot_crash_the_host_with_a_malformed_tracking_switch(connect: Any) -> None:
    from opensupport.link.topics import TOPIC_CURSOR_TRACKING
    from opensupport.protocol import ControlMessage

    live = connect({"mouse_tracking": True})
    session = live.viewer.session
    session.link_thread.call(session.link.send, ControlMessage(TOPIC_CURSOR_TRACKING, b"yes please"))
    session.request_keyframe("after the malformed switch")
    before = session.updates_received
    wait_until(lambda: live.viewer.pump() or session.updates_received > before, 10, "the key frame")
    assert live.host.cursor_tracking and live.host.status.ended is None


def test_file_transfer_viewer_mode_docks_the_transfer_window_and_unavailable_options_are_listed(
    connect: Any,
) -> None:
    from opensupport.host.policy import policy_from_options
    from PySide6.QtCore import Qt

    live = connect({"file_transfer_viewer_mode": True, "remote_printer": True})
    viewer, window = live.viewer, live.viewer.window
    tools = viewer.session.tools
    assert tools is not None
    wait_until(lambda: viewer.pump() or tools.file_dock.isVisibleTo(window), 10, "the transfer window")
    dock, panel = tools.file_dock, tools.file_panel
    assert not dock.isFloating() and panel.window() is window
    assert window.dockWidgetArea(dock) == Qt.DockWidgetArea.RightDockWidgetArea
    entries = {a.text(): a.isEnabled() for a in window.not_applicable_actions if not a.isSeparator()}
    by_name = {text.split(" — ")[0]: text for text in entries}
    assert set(by_name) == {
        "드라이버 모드 사용",
        "원격프린터",
        "안전모드 재부팅 후 자동 재접속",
        "모바일 원격지원",
    }
    assert not any(entries.values()), "the notices are disabled entries, not actions"
    assert "Windows only" in by_name["드라이버 모드 사용"] and "no mobile host" in by_name["모바일 원격지원"]
    assert window.options_menu.actions()[-1] in window.not_applicable_actions

    # The manual's default (off): the transfer window opens as a window of its own; the printer is off.
    live.host.set_policy(policy_from_options({}))
    wait_until(lambda: viewer.pump() or dock.isFloating(), 10, "the transfer window to float")
    assert dock.isWindow() and panel.window() is dock and dock.isVisible()
    texts = [a.text() for a in window.not_applicable_actions]
    assert not any(t.startswith("원격프린터") for t in texts)
    assert any(t.startswith("드라이버 모드 사용") for t in texts)
