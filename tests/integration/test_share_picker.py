"""부분공유 chosen in the applet: the customer's "Share…" picker (offscreen Qt widgets, the session on the real
Xvfb through a relay) lists the real xterm by its title, and choosing it, or a region dragged on the
overlay, makes the viewer's framebuffer exactly those pixels and nothing else; the whole screen comes back;
with partial sharing switched off the picker is not offered and the session refuses.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from e2e import FrameWitness, SolidWindow, Viewer, XServer, XtermCat, assert_screen_matches, wait_until
from opensupport.protocol import SessionCode
from relay_proc import RelayProcess

pytestmark = pytest.mark.xvfb

#: The marker outside every shared area: magenta, a colour neither the xterm nor the desktop has.
MARKER_BGR = (0xFF, 0x00, 0xFF)


def grab(server: XServer, x: int, y: int, w: int, h: int) -> np.ndarray:
    """Pixels of the screen now (BGRA), grabbed with mss as an independent witness."""
    import mss

    with mss.MSS(display=server.display) as sct:
        shot = sct.grab({"left": x, "top": y, "width": w, "height": h})
    return np.frombuffer(shot.raw, dtype=np.uint8).reshape(h, w, 4)


class TitledWindow:
    """A top-level window the picker lists (titled, not override-redirect)."""

    def __init__(self, xserver: XServer, x: int, y: int, title: str) -> None:
        from Xlib import X, display

        self.d = display.Display(xserver.display)
        screen = self.d.screen()
        self.window: Any = screen.root.create_window(
            x, y, 50, 50, 0, screen.root_depth, X.InputOutput, X.CopyFromParent, background_pixel=0x445566
        )
        self.window.set_wm_name(title)
        self.window.map()
        self.d.sync()

    def close(self) -> None:
        self.window.destroy()
        self.d.sync()
        self.d.close()


def make_window(xserver: XServer, url: str, code: SessionCode, options: dict[str, bool]) -> Any:
    from opensupport.host.policy import policy_from_options
    from opensupport.host.session import HostSession
    from opensupport.host.ui.window import HostWindow

    session = HostSession(url, code, display=xserver.display, policy=policy_from_options(options))
    window = HostWindow(session, code.routing_id)
    window.start()
    window.show()
    return window


def equals_area(xserver: XServer, viewer: Viewer, x: int, y: int, w: int, h: int) -> bool:
    fb = viewer.framebuffer()
    witness = grab(xserver, x, y, w, h)
    return fb is not None and fb.shape == witness.shape and np.array_equal(fb[..., :3], witness[..., :3])


def test_the_customer_shares_the_xterm_then_the_whole_screen_again(
    xserver: XServer, shared_relay: RelayProcess, qapp: Any, tmp_path: Path
) -> None:
    xterm = XtermCat(xserver, tmp_path, x=60, y=50)
    marker = SolidWindow(xserver.display, 520, 380, 120, 120, 0xFF00FF)
    code = SessionCode.generate()
    window = make_window(xserver, shared_relay.url, code, {})
    viewer = Viewer(qapp, shared_relay.url, code)
    witness = FrameWitness(viewer, MARKER_BGR)
    try:
        wait_until(lambda: viewer.pump() or window.share_button.isEnabled(), 20, "the Share… button")
        assert_screen_matches(xserver, viewer)  # the whole monitor first, marker included
        # the status line follows the host's first shared frame, which may come after the button
        wait_until(
            lambda: viewer.pump() or "Sharing: the whole screen" in window.sharing_label.text(),
            what="the whole-screen status",
        )
        title = xterm.proc.args[3]  # the xterm's -T title

        window.share_button.click()
        picker = window.share_picker
        assert picker is not None and picker.isVisible()
        assert title in picker.titles()  # the real xterm, by its title
        (listed,) = [w for w in picker.listed if w.title == title]
        picker.select_window(title)
        keyframes = viewer.session.keyframes_received
        picker.buttons.button(picker.buttons.StandardButton.Ok).click()
        assert window.share_picker is not None and not window.share_picker.isVisible()

        x, y, w, h = listed.rect
        assert (x, y) in ((60, 50), (61, 51)) and w > 100 and h > 50  # inside its X border, if any
        wait_until(lambda: equals_area(xserver, viewer, x, y, w, h), 15, "the viewer to show the xterm only")
        assert viewer.session.keyframes_received > keyframes
        wait_until(
            lambda: viewer.pump() or f"Sharing: window '{title}'" in window.sharing_label.text(),
            what="the status to say which window is shared",
        )
        assert window.sharing_label.text().startswith(f"공유 중: 창 '{title}'")

        # From now on nothing outside the xterm is decoded: a change outside sends nothing of it, a change
        # inside arrives cropped to the window.
        witness.reset()
        marker.move(420, 300)
        inside = SolidWindow(xserver.display, x + 20, y + 20, 40, 30, 0x22CC44)
        try:
            wait_until(lambda: equals_area(xserver, viewer, x, y, w, h), 15, "the change inside the xterm")
        finally:
            inside.close()
        wait_until(lambda: equals_area(xserver, viewer, x, y, w, h), 15, "the xterm again")
        with witness.lock:
            assert witness.frames >= 1
            assert witness.shapes == {(h, w)}, witness.shapes
            assert witness.marker_seen == 0

        # A window closed while the picker was open is refused with a notice; the xterm stays shared.
        gone = TitledWindow(xserver, 700, 100, "closing soon")
        window.share_button.click()
        picker = window.share_picker
        assert picker is not None
        picker.select_window("closing soon")
        gone.close()
        picker.buttons.button(picker.buttons.StandardButton.Ok).click()
        assert "The window 'closing soon' is gone" in window.notice_label.text()
        assert f"Sharing: window '{title}'" in window.sharing_label.text()
        for _ in range(30):
            viewer.pump()
            time.sleep(0.01)
        assert equals_area(xserver, viewer, x, y, w, h)

        # Back to the whole screen from the same picker.
        window.share_button.click()
        picker = window.share_picker
        assert picker is not None
        picker.whole.setChecked(True)
        picker.buttons.button(picker.buttons.StandardButton.Ok).click()
        assert_screen_matches(xserver, viewer)
        wait_until(
            lambda: viewer.pump() or "Sharing: the whole screen" in window.sharing_label.text(),
            what="the status to say the whole screen",
        )
    finally:
        viewer.close()
        window.close()
        marker.close()
        xterm.close()


def test_a_region_dragged_on_the_overlay_is_what_the_viewer_sees(
    xserver: XServer, shared_relay: RelayProcess, qapp: Any
) -> None:
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest

    inside = SolidWindow(xserver.display, 150, 120, 90, 70, 0x3366CC)
    marker = SolidWindow(xserver.display, 600, 420, 100, 100, 0xFF00FF)
    code = SessionCode.generate()
    window = make_window(xserver, shared_relay.url, code, {})
    viewer = Viewer(qapp, shared_relay.url, code)
    witness = FrameWitness(viewer, MARKER_BGR)
    try:
        wait_until(lambda: viewer.pump() or window.share_button.isEnabled(), 20, "the Share… button")
        assert_screen_matches(xserver, viewer)
        window.share_button.click()
        picker = window.share_picker
        assert picker is not None
        picker.drag_button.click()
        overlay = picker.overlay
        assert overlay is not None and overlay.isVisible() and not picker.isVisible()
        assert (overlay.width(), overlay.height()) == (1440, 600)  # the whole X screen, both monitors
        # A slip (a drag under the minimum) chooses nothing: the picker comes back.
        QTest.mousePress(overlay, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(10, 10))
        QTest.mouseRelease(overlay, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(14, 12))
        assert picker.isVisible() and picker.overlay is None and window.share_choice is None
        picker.drag_button.click()
        overlay = picker.overlay
        assert overlay is not None
        QTest.keyClick(overlay, Qt.Key.Key_Escape)  # Escape: back to the picker, nothing chosen
        assert picker.isVisible() and picker.overlay is None and window.share_choice is None
        picker.drag_button.click()
        overlay = picker.overlay
        assert overlay is not None
        # Dragged from bottom right to top left: the rectangle is the same.
        QTest.mousePress(overlay, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(500, 380))
        QTest.mouseMove(overlay, QPoint(300, 200))
        QTest.mouseRelease(
            overlay, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(100, 80)
        )
        assert picker.overlay is None and not picker.isVisible()
        assert window.share_choice is not None and tuple(window.share_choice.rect) == (100, 80, 400, 300)

        wait_until(
            lambda: equals_area(xserver, viewer, 100, 80, 400, 300), 15, "the viewer to show the region"
        )
        wait_until(
            lambda: viewer.pump() or "Sharing: region 400×300 (100, 80)" in window.sharing_label.text(),
            what="the status to say which region is shared",
        )
        witness.reset()
        marker.move(560, 100)  # outside: nothing of it is ever sent
        inside.recolour(0x44AA11)
        wait_until(lambda: equals_area(xserver, viewer, 100, 80, 400, 300), 15, "the change in the region")
        with witness.lock:
            assert witness.frames >= 1
            assert witness.shapes == {(300, 400)}, witness.shapes
            assert witness.marker_seen == 0
    finally:
        viewer.close()
        window.close()
        marker.close()
        inside.close()


def test_with_partial_sharing_off_the_picker_is_not_offered_and_the_session_refuses(
    xserver: XServer, shared_relay: RelayProcess, qapp: Any
) -> None:
    from opensupport.host.capture import Rect
    from opensupport.host.policy import FeatureDisabled
    from opensupport.host.ui.share_picker import ShareChoice

    code = SessionCode.generate()
    window = make_window(xserver, shared_relay.url, code, {"partial_sharing": False})
    viewer = Viewer(qapp, shared_relay.url, code)
    try:
        wait_until(lambda: viewer.pump() or window.share_button.isVisibleTo(window), 20, "the Share… button")
        assert_screen_matches(xserver, viewer)
        assert not window.share_button.isEnabled()
        assert "partial sharing is switched off" in window.share_button.toolTip()
        window.share_button.click()  # a disabled button does nothing
        assert window.open_share_picker() is None and window.share_picker is None
        with pytest.raises(FeatureDisabled):
            window.session.share_area(Rect(100, 80, 400, 300))
        assert not window.share(ShareChoice("region", rect=Rect(100, 80, 400, 300)))
        assert "partial sharing is switched off" in window.notice_label.text()
        # Still the whole monitor, at its full size.
        assert_screen_matches(xserver, viewer)
        assert "Sharing: the whole screen" in window.sharing_label.text()
    finally:
        viewer.close()
        window.close()


def test_options_switched_off_mid_session_close_the_picker(
    xserver: XServer, shared_relay: RelayProcess, qapp: Any
) -> None:
    from opensupport.host.policy import policy_from_options

    code = SessionCode.generate()
    window = make_window(xserver, shared_relay.url, code, {})
    viewer = Viewer(qapp, shared_relay.url, code)
    try:
        wait_until(lambda: viewer.pump() or window.share_button.isEnabled(), 20, "the Share… button")
        window.share_button.click()
        assert window.share_picker is not None and window.share_picker.isVisible()
        window.session.set_policy(policy_from_options({"partial_sharing": False}))
        wait_until(lambda: viewer.pump() or not window.share_button.isEnabled(), 10, "the button to disable")
        assert window.share_picker is None
        assert "partial sharing is switched off" in window.share_button.toolTip()
        assert window.session.status.connected  # the whole screen was shared: the session goes on
        assert_screen_matches(xserver, viewer)
    finally:
        viewer.close()
        window.close()


def test_a_window_shared_from_the_start_is_named_by_its_title(
    xserver: XServer, shared_relay: RelayProcess, qapp: Any, tmp_path: Path
) -> None:
    from opensupport.host.capture.windows import list_windows
    from opensupport.host.policy import policy_from_options
    from opensupport.host.session import HostSession
    from opensupport.host.ui.window import HostWindow

    xterm = XtermCat(xserver, tmp_path, x=200, y=150)
    title = xterm.proc.args[3]
    (listed,) = [w for w in list_windows(xserver.display) if w.title == title]
    code = SessionCode.generate()
    session = HostSession(
        shared_relay.url,
        code,
        display=xserver.display,
        policy=policy_from_options({}),
        share_window=listed.window_id,  # as `opensupport host --share-window` does
    )
    window = HostWindow(session, code.routing_id)
    window.start()
    window.show()
    viewer = Viewer(qapp, shared_relay.url, code)
    try:
        wait_until(lambda: equals_area(xserver, viewer, *listed.rect), 20, "the viewer to show the xterm")
        wait_until(
            lambda: viewer.pump() or f"Sharing: window '{title}'" in window.sharing_label.text(),
            what="the status to name the window shared from the start",
        )
    finally:
        viewer.close()
        window.close()
        xterm.close()
