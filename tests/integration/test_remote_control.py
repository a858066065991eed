"""End to end: the host applet on a real Xvfb, a real relay, the viewer offscreen in this process.

Every check is on real output: the viewer's framebuffer against an mss grab of the host's screen, the file
an xterm's ``cat`` wrote, the events a real X window received.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e import (
    MONITORS,
    HostProcess,
    RecorderWindow,
    SolidWindow,
    Viewer,
    XServer,
    XtermCat,
    assert_screen_matches,
    wait_until,
)
from opensupport.protocol import CodeGuard, SessionCode
from relay_proc import RelayProcess

os.environ["QT_QPA_PLATFORM"] = "offscreen"

pytestmark = pytest.mark.xvfb


@pytest.fixture
def session(xserver: XServer, shared_relay: RelayProcess, qapp: Any) -> Iterator[tuple[HostProcess, Viewer]]:
    code = SessionCode.generate()
    viewer = Viewer(qapp, shared_relay.url, code)
    host = HostProcess(xserver, shared_relay.url, str(code))
    try:
        wait_until(lambda: viewer.session.link.established, 20, "the session to be established")
        yield host, viewer
    finally:
        host.terminate()
        host.finish()
        viewer.close()


def type_text(viewer: Viewer, text: str) -> None:
    """Type ``text`` key by key (press and release of each character's keysym), as the viewer sends keys."""
    from opensupport.viewer.events import KeyPress, KeyRelease, keysym_for_char

    for ch in text:
        keysym = keysym_for_char(ch)
        viewer.sink.send(KeyPress(keysym))
        viewer.sink.send(KeyRelease(keysym))


def press(viewer: Viewer, *keysyms: int) -> None:
    """Press keys in order, release them in reverse (a combination)."""
    from opensupport.viewer.events import KeyPress, KeyRelease

    for keysym in keysyms:
        viewer.sink.send(KeyPress(keysym))
    for keysym in reversed(keysyms):
        viewer.sink.send(KeyRelease(keysym))


RETURN, CONTROL_L = 0xFF0D, 0xFFE3


def test_framebuffer_equals_the_screen_after_each_update(
    xserver: XServer, session: tuple[HostProcess, Viewer]
) -> None:
    _, viewer = session
    assert_screen_matches(xserver, viewer)
    window = SolidWindow(xserver.display, 40, 50, 200, 120, 0xCC3311)
    try:
        assert_screen_matches(xserver, viewer)
        window.move(300, 260)
        assert_screen_matches(xserver, viewer)
        window.recolour(0x11AA55)
        assert_screen_matches(xserver, viewer)
    finally:
        window.close()
    assert_screen_matches(xserver, viewer)
    assert viewer.session.updates_received >= 5
    # The status line's latency comes from pings answered by the host.
    wait_until(lambda: viewer.window.model.meter.read().latency_ms is not None, what="a latency sample")


def test_typing_through_the_viewer_lands_in_the_xterm(
    xserver: XServer, session: tuple[HostProcess, Viewer], tmp_path: Path
) -> None:
    from opensupport.viewer.events import PointerMove, TextInput

    _, viewer = session
    xterm = XtermCat(xserver, tmp_path, 20, 20)
    try:
        viewer.sink.send(PointerMove(xterm.x + 60, xterm.y + 40))  # no window manager: focus follows
        latin = 'Hello, World! ~!@#$%^&*()_+{}|:"<>? 1a2B'
        type_text(viewer, latin)
        viewer.sink.send(TextInput("안녕하세요 한국어"))  # an input method's commit
        type_text(viewer, " 끝")  # Hangul as key events too
        press(viewer, RETURN)
        press(viewer, CONTROL_L, ord("d"))
        written = xterm.result()
        assert written.decode("utf-8") == latin + "안녕하세요 한국어 끝\n"
        assert_screen_matches(xserver, viewer)
    finally:
        xterm.close()


def test_click_drag_and_wheel_reach_a_real_window(
    xserver: XServer, session: tuple[HostProcess, Viewer]
) -> None:
    from opensupport.viewer.events import ButtonPress, ButtonRelease, MouseButton, PointerMove, Wheel

    _, viewer = session
    recorder = RecorderWindow(xserver.display, 100, 100, 400, 300)
    try:
        viewer.sink.send(PointerMove(150, 150))
        viewer.sink.send(ButtonPress(MouseButton.LEFT, 150, 150))
        viewer.sink.send(ButtonRelease(MouseButton.LEFT, 150, 150))
        # a drag: press, move with the button held, release elsewhere
        viewer.sink.send(ButtonPress(MouseButton.LEFT, 200, 200))
        viewer.sink.send(PointerMove(260, 230))
        viewer.sink.send(PointerMove(320, 260))
        viewer.sink.send(ButtonRelease(MouseButton.LEFT, 320, 260))
        viewer.sink.send(ButtonPress(MouseButton.RIGHT, 300, 300))
        viewer.sink.send(ButtonRelease(MouseButton.RIGHT, 300, 300))
        viewer.sink.send(Wheel(0, 2, 250, 250))  # two notches up: X buttons 4, 4
        viewer.sink.send(Wheel(0, -1, 250, 250))  # one down: X button 5
        events = recorder.wait_for(
            lambda ev: sum(1 for e in ev if e.kind == "button-release" and e.detail == 5) >= 1, "the wheel"
        )
        presses = [(e.detail, e.x, e.y) for e in events if e.kind == "button-press"]
        releases = [(e.detail, e.x, e.y) for e in events if e.kind == "button-release"]
        assert presses == [
            (1, 50, 50),
            (1, 100, 100),
            (3, 200, 200),
            (4, 150, 150),
            (4, 150, 150),
            (5, 150, 150),
        ]
        assert releases[:3] == [(1, 50, 50), (1, 220, 160), (3, 200, 200)]
        drag = [e for e in events if e.kind == "motion" and e.state & 0x100]  # Button1Mask held
        assert (160, 130) in [(e.x, e.y) for e in drag]
    finally:
        recorder.close()


def test_switching_monitors(xserver: XServer, session: tuple[HostProcess, Viewer]) -> None:
    from opensupport.viewer.events import ButtonPress, ButtonRelease, MouseButton, SelectMonitor

    _, viewer = session
    wait_until(lambda: viewer.pump() or len(viewer.window.model.monitors.monitors) == 2, what="two monitors")
    assert [(m.x, m.y, m.width, m.height) for m in viewer.window.model.monitors.monitors] == [
        m[1:] for m in MONITORS
    ]
    assert viewer.window.model.monitors.selected == 0
    marker = SolidWindow(xserver.display, 900, 100, 120, 90, 0x2255EE)  # on the right monitor
    try:
        viewer.sink.send(SelectMonitor(1))
        assert_screen_matches(xserver, viewer, monitor=1)
        wait_until(lambda: viewer.pump() or viewer.window.model.monitors.selected == 1, what="selection")
        marker.move(1000, 200)
        assert_screen_matches(xserver, viewer, monitor=1)
        # Input follows: frame pixel (60, 70) of the right monitor is root pixel (860, 70).
        recorder = RecorderWindow(xserver.display, 850, 50, 100, 80)
        try:
            viewer.sink.send(ButtonPress(MouseButton.LEFT, 60, 70))
            viewer.sink.send(ButtonRelease(MouseButton.LEFT, 60, 70))
            events = recorder.wait_for(lambda ev: any(e.kind == "button-release" for e in ev), "the click")
            assert [(e.kind, e.x, e.y) for e in events if e.kind != "motion"] == [
                ("button-press", 10, 20),
                ("button-release", 10, 20),
            ]
        finally:
            recorder.close()
        viewer.sink.send(SelectMonitor(0))
        assert_screen_matches(xserver, viewer, monitor=0)
    finally:
        marker.close()


def test_view_only_host_drops_input(
    xserver: XServer, shared_relay: RelayProcess, qapp: Any, tmp_path: Path
) -> None:
    from opensupport.viewer.events import ButtonPress, ButtonRelease, MouseButton, PointerMove, TextInput

    xterm = XtermCat(xserver, tmp_path, 20, 20)
    code = SessionCode.generate()
    viewer = Viewer(qapp, shared_relay.url, code)
    host = HostProcess(xserver, shared_relay.url, str(code), "--view-only")
    try:
        wait_until(lambda: viewer.session.link.established, 20, "the session")
        wait_until(lambda: viewer.session.host_view_only, what="the host to say view-only")
        # A modified viewer sends input anyway (its own view-only switch is off).
        viewer.sink.send(PointerMove(xterm.x + 60, xterm.y + 40))
        type_text(viewer, "rm -rf / # must never arrive")
        viewer.sink.send(TextInput("입력 금지"))
        press(viewer, RETURN)
        press(viewer, CONTROL_L, ord("d"))
        viewer.sink.send(ButtonPress(MouseButton.LEFT, 5, 5))
        viewer.sink.send(ButtonRelease(MouseButton.LEFT, 5, 5))
        # The events did travel: the screen still updates through the same session.
        window = SolidWindow(xserver.display, 600, 400, 100, 80, 0x884422)
        assert_screen_matches(xserver, viewer)
        window.close()
        assert xterm.proc.poll() is None, "cat ended: the Ctrl+D reached the xterm"
        assert xterm.out.read_bytes() == b""
        # Nothing queued either: a Return now (from the test, not the viewer) shows that cat got nothing.
        xserver.run("xdotool", "mousemove", str(xterm.x + 60), str(xterm.y + 40))
        xserver.run("xdotool", "type", "--delay", "20", "ok")
        xserver.run("xdotool", "key", "Return", "ctrl+d")
        assert xterm.result() == b"ok\n"
    finally:
        host.terminate()
        host.finish()
        viewer.close()
        xterm.close()


def test_stopping_the_host_ends_the_viewers_session(
    xserver: XServer, session: tuple[HostProcess, Viewer]
) -> None:
    host, viewer = session
    host.terminate()  # the headless applet's stop: SIGTERM
    code, out, _ = host.finish()
    assert code == 0
    assert "session ended by you: the customer ended the session" in out
    wait_until(viewer.session.ended.is_set, what="the viewer's session to end")
    assert viewer.session.result is not None and viewer.session.result.closed_by_peer
    assert viewer.session.end_message == "The customer ended the session: the customer ended the session"
    viewer.pump()
    assert viewer.window.connection_label.text() == viewer.session.end_message


def test_relay_restart_resumes_and_the_screen_matches_again(
    xserver: XServer, relay: RelayProcess, qapp: Any
) -> None:
    code = SessionCode.generate()
    viewer = Viewer(qapp, relay.url, code)
    host = HostProcess(xserver, relay.url, str(code))
    window = None
    try:
        wait_until(lambda: viewer.session.link.established, 20, "the session")
        assert_screen_matches(xserver, viewer)
        relay.kill()
        window = SolidWindow(xserver.display, 120, 140, 220, 160, 0x5522AA)  # changes while the relay is down
        relay.start()
        wait_until(lambda: viewer.session.link.resumes >= 1, 20, "the session to resume")
        assert_screen_matches(xserver, viewer)
        window.move(420, 300)
        assert_screen_matches(xserver, viewer)
        assert viewer.session.link.last_resume_s is not None
    finally:
        if window is not None:
            window.close()
        host.terminate()
        host.finish()
        viewer.close()


def test_a_wrong_code_fails_clearly(xserver: XServer, shared_relay: RelayProcess, qapp: Any) -> None:
    code = SessionCode.generate()
    guard = CodeGuard()
    viewer = Viewer(qapp, shared_relay.url, code, guard=guard)
    wrong = SessionCode(code.routing_id, "1" * 8 if code.secret != "1" * 8 else "2" * 8)
    host = HostProcess(xserver, shared_relay.url, str(wrong))
    try:
        exit_code, out, err = host.finish()
        assert exit_code == 1
        assert "the session code is wrong" in err
        assert wrong.secret not in out + err  # the secret never reaches the terminal
        wait_until(lambda: guard.failures == 1, what="the viewer to count the failed guess")
        assert not viewer.session.ended.is_set()  # the viewer waits for the right host
        # ... which then connects with the right code.
        right = HostProcess(xserver, shared_relay.url, str(code))
        wait_until(lambda: viewer.session.link.established, 20, "the session with the right code")
        assert_screen_matches(xserver, viewer)
        right.terminate()
        right.finish()
    finally:
        host.close()
        viewer.close()


def test_a_hostile_viewer_neither_crashes_the_host_nor_reaches_another_monitor(
    xserver: XServer, session: tuple[HostProcess, Viewer]
) -> None:
    from opensupport.protocol import KeyEvent, PointerEvent, WheelEvent

    host, viewer = session
    # A window on the right monitor, while the left one is shared: nothing may reach it.
    outside = RecorderWindow(xserver.display, 820, 20, 300, 200)
    try:
        hostile = [
            PointerEvent(-1, 10, 0),  # left of the shared monitor
            PointerEvent(MONITORS[0][3] + 30, 50, 1),  # on the right monitor, button down
            PointerEvent(900, 60, 0),
            PointerEvent(5, 5, 0x8000),  # unknown button bits
            KeyEvent(0xFED5, True),  # Terminate_Server: refused outright
            KeyEvent(0x2FFFFFFF, True),  # no such keysym
            KeyEvent(ord("q"), False),  # release of a key never pressed
            WheelEvent(2000, 30, 0, 120),  # outside the monitor
        ]
        for event in hostile:
            viewer.session.link_thread.call(viewer.session.link.send, event)
        marker = SolidWindow(xserver.display, 200, 200, 90, 90, 0xAA3377)
        try:
            assert_screen_matches(xserver, viewer)  # the session goes on
        finally:
            marker.close()
        assert host.proc.poll() is None
        assert outside.pump() == []
    finally:
        outside.close()


def test_a_decode_failure_asks_the_host_for_a_key_frame(
    xserver: XServer, session: tuple[HostProcess, Viewer]
) -> None:
    from opensupport.codec import CodecError
    from opensupport.viewer.decode import DecodeFailure

    _, viewer = session
    assert_screen_matches(xserver, viewer)
    before = viewer.session.keyframes_received
    viewer.window.bridge.decode_failed.emit(DecodeFailure(1, CodecError("test")))
    wait_until(lambda: viewer.pump() or viewer.session.keyframes_received > before, what="a key frame")
    assert viewer.session.keyframe_requests == 1
    assert_screen_matches(xserver, viewer)
