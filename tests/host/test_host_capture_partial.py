"""With X DAMAGE a grab reads from the X server only what was reported since the grab before, and the
frame it hands out is still the whole screen, pixel for pixel (checked against a fresh mss grab)."""

from __future__ import annotations

import time
from typing import Any

import mss
import numpy as np
import pytest
from host_x import SolidWindow, XServer
from opensupport.host.capture import Rect, X11Capture

pytestmark = pytest.mark.xvfb


class _Recording:
    """mss with the areas it was asked to read recorded."""

    def __init__(self, sct: Any) -> None:
        self.sct = sct
        self.areas: list[tuple[int, int, int, int]] = []

    def grab(self, monitor: dict[str, int]) -> Any:
        self.areas.append((monitor["left"], monitor["top"], monitor["width"], monitor["height"]))
        return self.sct.grab(monitor)

    def close(self) -> None:
        self.sct.close()


def _truth(display: str, capture: X11Capture) -> np.ndarray:
    m = capture.monitor
    with mss.MSS(display=display) as sct:
        shot = sct.grab({"left": m.x, "top": m.y, "width": m.width, "height": m.height})
    return np.frombuffer(shot.raw, np.uint8).reshape(m.height, m.width, 4)


def _wait_reported(capture: X11Capture) -> list[Rect]:
    deadline = time.monotonic() + 5
    rects: list[Rect] = []
    while time.monotonic() < deadline:
        rects += capture.wait_for_change(0.2)
        if rects:
            return rects
    raise AssertionError("no damage reported")


def test_a_small_change_is_read_alone_and_the_frame_stays_exact(xserver: XServer) -> None:
    xserver.run("xsetroot", "-solid", "#102030")
    with X11Capture(xserver.display) as capture:
        recording = _Recording(capture._sct)
        capture._sct = recording
        assert capture.wait_for_change(1.0) == [Rect(0, 0, 1280, 800)]
        first = capture.grab()
        assert recording.areas == [(0, 0, 1280, 800)]
        assert np.array_equal(first[..., :3], _truth(xserver.display, capture)[..., :3])
        windows = []
        try:
            for i, (x, y) in enumerate([(100, 50), (700, 400), (1200, 760)]):
                recording.areas.clear()
                windows.append(SolidWindow(xserver.display, x, y, 40, 30, 0x203040 + i * 0x102010))
                rects = _wait_reported(capture)
                frame = capture.grab()
                # only the bounding box of the reported change was read, and it holds the window
                assert len(recording.areas) == 1
                left, top, w, h = recording.areas[0]
                assert w * h <= 2 * 40 * 30 and left <= x and top <= y
                assert any(r.x <= x and r.y <= y for r in rects)
                assert np.array_equal(frame[..., :3], _truth(xserver.display, capture)[..., :3])
            with pytest.raises(ValueError, match="read-only"):
                frame[0, 0, 0] = 1  # the kept frame is shared with the next grab
            # another monitor: read whole again, exact
            recording.areas.clear()
            capture.select_monitor(1)
            frame = capture.grab()
            assert recording.areas == [(1280, 0, 1024, 768)]
            assert np.array_equal(frame[..., :3], _truth(xserver.display, capture)[..., :3])
        finally:
            for window in windows:
                window.close()


def test_a_window_closed_between_grabs_is_gone_from_the_frame(xserver: XServer) -> None:
    xserver.run("xsetroot", "-solid", "#405060")
    with X11Capture(xserver.display) as capture:
        capture.wait_for_change(1.0)
        capture.grab()
        window = SolidWindow(xserver.display, 300, 200, 120, 80, 0xFF0000)
        _wait_reported(capture)
        assert (capture.grab()[200:280, 300:420, :3] == (0, 0, 0xFF)).all()
        window.close()
        _wait_reported(capture)
        frame = capture.grab()
        assert (frame[200:280, 300:420, :3] == (0x60, 0x50, 0x40)).all()
        assert np.array_equal(frame[..., :3], _truth(xserver.display, capture)[..., :3])
