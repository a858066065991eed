"""The host in this process: its window (offscreen) around a real session, and its flow control."""

from __future__ import annotations

import time
from typing import Any

import pytest
from e2e import RecorderWindow, SolidWindow, Viewer, XServer, assert_screen_matches, wait_until
from opensupport.protocol import SessionCode
from relay_proc import RelayProcess

pytestmark = pytest.mark.xvfb


def make_window(xserver: XServer, url: str, code: SessionCode) -> Any:
    from opensupport.host.session import HostSession
    from opensupport.host.ui.window import HostWindow

    window = HostWindow(HostSession(url, code, display=xserver.display), code.routing_id)
    window.start()
    window.show()
    return window


def test_banner_pause_and_closing_the_window(xserver: XServer, shared_relay: RelayProcess, qapp: Any) -> None:
    from opensupport.host.ui.window import PAUSED_TEXT, SHARING_TEXT

    code = SessionCode.generate()
    window = make_window(xserver, shared_relay.url, code)
    viewer = Viewer(qapp, shared_relay.url, code)
    marker = SolidWindow(xserver.display, 50, 60, 100, 80, 0x119944)
    try:
        assert not window.banner.isVisible() or window.session.status.connected
        wait_until(lambda: viewer.pump() or window.banner.isVisible(), 20, "the sharing banner")
        assert window.banner.text() == SHARING_TEXT
        assert window.who_label.text() == "A support agent is connected"
        assert_screen_matches(xserver, viewer)

        window.pause_button.click()  # pause: the banner says so, the viewer is told, no frames go out
        wait_until(
            lambda: viewer.pump() or viewer.session.host_paused, what="the viewer to hear of the pause"
        )
        assert window.banner.text() == PAUSED_TEXT and window.pause_button.text() == "Resume"
        frames = viewer.session.updates_received
        marker.move(400, 300)
        for _ in range(30):  # 0.3 s in which a frame would otherwise certainly be sent
            viewer.pump()
            time.sleep(0.01)
        assert viewer.session.updates_received == frames
        # ... and no input reaches the desktop while paused.
        from opensupport.viewer.events import ButtonPress, ButtonRelease, MouseButton

        recorder = RecorderWindow(xserver.display, 500, 50, 120, 100)
        try:
            viewer.sink.send(ButtonPress(MouseButton.LEFT, 510, 60))
            viewer.sink.send(ButtonRelease(MouseButton.LEFT, 510, 60))
            time.sleep(0.3)
            assert [e for e in recorder.pump() if e.kind != "motion"] == []
        finally:
            recorder.close()
        window.pause_button.click()  # resume: the screen catches up
        wait_until(lambda: viewer.pump() or not viewer.session.host_paused, what="the resume")
        assert_screen_matches(xserver, viewer)
        assert window.banner.text() == SHARING_TEXT

        window.close()  # closing the applet ends the session at once
        wait_until(viewer.session.ended.is_set, what="the viewer's session to end")
        assert viewer.session.end_message == "The customer ended the session: the customer ended the session"
        assert window.session.wait(5)
    finally:
        marker.close()
        viewer.close()
        window.session.close()


def test_stop_button_ends_the_session_and_says_so(
    xserver: XServer, shared_relay: RelayProcess, qapp: Any
) -> None:
    code = SessionCode.generate()
    window = make_window(xserver, shared_relay.url, code)
    viewer = Viewer(qapp, shared_relay.url, code)
    try:
        wait_until(lambda: viewer.pump() or window.banner.isVisible(), 20, "the sharing banner")
        window.stop_button.click()
        wait_until(viewer.session.ended.is_set, what="the viewer's session to end")
        # The banner hides first; the final status reaches the window in the same event-loop turn or the
        # next, so wait for the words themselves rather than reading them at the banner's moment.
        wait_until(lambda: viewer.pump() or not window.banner.isVisible(), what="the banner to go")
        ended = "Session ended — the customer ended the session"
        wait_until(lambda: viewer.pump() or window.who_label.text() == ended, what="the ended status")
        assert window.who_label.text() == ended
        assert window.stop_button.text() == "Close"
        assert viewer.session.result is not None and viewer.session.result.closed_by_peer
    finally:
        viewer.close()
        window.close()


def test_a_stalled_viewer_makes_the_host_skip_to_the_newest_frame(
    xserver: XServer, shared_relay: RelayProcess, qapp: Any
) -> None:
    import threading

    from opensupport.host.session import HostSession
    from opensupport.protocol import FRAME_WINDOW

    code = SessionCode.generate()
    host = HostSession(shared_relay.url, code, display=xserver.display)
    host.start()
    viewer = Viewer(qapp, shared_relay.url, code)
    marker = SolidWindow(xserver.display, 10, 10, 64, 64, 0x000000)
    release = threading.Event()
    try:
        wait_until(lambda: viewer.session.link.established, 20, "the session")
        assert_screen_matches(xserver, viewer)
        # The viewer stalls: its decoder blocks the session's thread, so nothing is acknowledged.
        real_submit = viewer.session.worker.submit

        def stalled_submit(data: bytes, timeout: float | None = None) -> int:
            release.wait(30)
            return real_submit(data)

        viewer.session.worker.submit = stalled_submit  # type: ignore[method-assign]
        sent_before = host.frames_sent
        for i in range(40):  # 40 screen changes while the viewer is stalled
            marker.recolour((i * 0x050301 + 0x102030) & 0xFFFFFF)
            time.sleep(0.02)
        # The host sent no more than the frame window allows; the other changes were not even encoded.
        assert host.frames_sent - sent_before <= FRAME_WINDOW
        release.set()
        assert_screen_matches(xserver, viewer)  # the newest screen arrives once the viewer catches up
        assert host.frames_sent - sent_before <= FRAME_WINDOW + 3
    finally:
        release.set()
        marker.close()
        viewer.close()
        host.close()


def test_other_events_reach_the_extra_handlers_both_ways(
    xserver: XServer, shared_relay: RelayProcess, qapp: Any
) -> None:
    from opensupport.host.session import HostSession
    from opensupport.protocol import ChatMessage, KeyframeRequest

    code = SessionCode.generate()
    host_events: list[object] = []
    viewer_events: list[object] = []
    host = HostSession(
        shared_relay.url,
        code,
        display=xserver.display,
        on_event=host_events.append,
        keyframe_allowed=lambda request: request.reason != "refused",
    )
    host.start()
    viewer = Viewer(qapp, shared_relay.url, code, on_event=viewer_events.append)
    try:
        wait_until(lambda: viewer.session.link.established, 20, "the session")
        assert_screen_matches(xserver, viewer)
        viewer.session.link_thread.call(viewer.session.link.send, ChatMessage("안녕하세요"))
        host.link_thread.call(host.link.send, ChatMessage("hello"))
        wait_until(lambda: ChatMessage("안녕하세요") in host_events, what="the chat line at the host")
        wait_until(lambda: ChatMessage("hello") in viewer_events, what="the chat line at the viewer")
        keyframes = viewer.session.keyframes_received
        viewer.session.link_thread.call(viewer.session.link.send, KeyframeRequest("refused"))
        viewer.session.link_thread.call(viewer.session.link.send, KeyframeRequest("allowed"))
        wait_until(lambda: viewer.session.keyframes_received == keyframes + 1, what="one key frame")
        time.sleep(0.3)
        assert viewer.session.keyframes_received == keyframes + 1  # the refused request made none
    finally:
        viewer.close()
        host.close()
