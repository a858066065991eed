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
    """Records the areas the capture reads from the X server, through whichever path it uses: mss's
    shared memory segment read in place, or mss's ``grab`` (``shared_memory=False`` forces the latter)."""

    def __init__(self, capture: X11Capture, *, shared_memory: bool) -> None:
        self.areas: list[tuple[int, int, int, int]] = []
        reader = capture._reader
        if shared_memory:
            assert reader is not None, "mss 10 reads through MIT-SHM on Xvfb"
            read_into = reader.read_into

            def recorded_read(out: np.ndarray, x: int, y: int) -> None:
                self.areas.append((x, y, int(out.shape[1]), int(out.shape[0])))
                read_into(out, x, y)

            reader.read_into = recorded_read  # type: ignore[method-assign]
        else:
            capture._reader = None
            self.sct = capture._sct
            capture._sct = self

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


@pytest.mark.parametrize("shared_memory", [True, False], ids=["shm", "mss-grab"])
def test_a_small_change_is_read_alone_and_the_frame_stays_exact(
    xserver: XServer, shared_memory: bool
) -> None:
    xserver.run("xsetroot", "-solid", "#102030")
    with X11Capture(xserver.display) as capture:
        recording = _Recording(capture, shared_memory=shared_memory)
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


def test_a_failing_shared_memory_read_falls_back_to_mss_and_stays_exact(xserver: XServer) -> None:
    xserver.run("xsetroot", "-solid", "#304050")
    with X11Capture(xserver.display) as capture:
        capture.wait_for_change(1.0)
        capture.grab()
        assert capture._reader is not None

        def broken(out: np.ndarray, x: int, y: int) -> None:
            raise OSError("segment gone")

        capture._reader.read_into = broken  # type: ignore[method-assign]
        window = SolidWindow(xserver.display, 500, 300, 60, 40, 0x00FF00)
        try:
            _wait_reported(capture)
            frame = capture.grab()
            assert capture._reader is None  # mss grabs from now on
            assert (frame[300:340, 500:560, :3] == (0, 0xFF, 0)).all()
            assert np.array_equal(frame[..., :3], _truth(xserver.display, capture)[..., :3])
        finally:
            window.close()
