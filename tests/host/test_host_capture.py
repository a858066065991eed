"""Capture against a real Xvfb: the monitors RandR reports, the pixels mss grabs, the changes DAMAGE (or
polling) reports, and an idle screen that reports nothing."""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np
import pytest
from host_x import MONITORS, Flicker, SolidWindow, XServer
from opensupport.host.capture import CaptureError, PollingChangeDetector, Rect, X11Capture, changed_rect

pytestmark = pytest.mark.xvfb


def covers(rects: list[Rect], area: Rect) -> bool:
    """True when every pixel of ``area`` lies in one of ``rects``."""
    mask = np.zeros((area.y + area.h, area.x + area.w), dtype=bool)
    for r in rects:
        mask[r.y : r.y + r.h, r.x : r.x + r.w] = True
    return bool(mask[area.y :, area.x :].all())


@pytest.fixture(params=[True, False], ids=["damage", "polling"])
def any_capture(request: pytest.FixtureRequest, xserver: XServer) -> Iterator[X11Capture]:
    with X11Capture(xserver.display, use_damage=request.param) as backend:
        assert backend.uses_damage is request.param
        yield backend


def test_monitors_are_the_randr_monitors(capture: X11Capture) -> None:
    found = [(m.name, m.x, m.y, m.width, m.height) for m in capture.monitors()]
    assert found == list(MONITORS)
    assert [m.index for m in capture.monitors()] == [0, 1]
    assert capture.monitor == capture.monitors()[0]


def test_grab_is_the_real_screen(capture: X11Capture, xserver: XServer) -> None:
    xserver.run("xsetroot", "-solid", "#204060")
    frame = capture.grab()
    assert frame.shape == (800, 1280, 4) and frame.dtype == np.uint8 and frame.flags.c_contiguous
    assert (frame[..., :3] == (0x60, 0x40, 0x20)).all()  # BGR order
    # A window of a known colour on the right monitor shows there, at monitor coordinates, and only there.
    window = SolidWindow(xserver.display, 1280 + 100, 50, 40, 30, 0xFF8000)
    try:
        assert capture.select_monitor(1).name == "right"
        frame = capture.grab()
        assert frame.shape == (768, 1024, 4)
        inside = frame[50:80, 100:140, :3]
        assert (inside == (0x00, 0x80, 0xFF)).all()
        outside = frame[..., :3].copy()
        outside[50:80, 100:140] = (0x60, 0x40, 0x20)
        assert (outside == (0x60, 0x40, 0x20)).all()
        capture.select_monitor(0)
        assert (capture.grab()[..., :3] == (0x60, 0x40, 0x20)).all()
    finally:
        window.close()


def test_bad_monitor_index_is_refused(capture: X11Capture) -> None:
    for index in (-1, 2, 99):
        with pytest.raises(CaptureError):
            capture.select_monitor(index)
    assert capture.monitor.index == 0


def test_first_wait_reports_the_whole_monitor(any_capture: X11Capture) -> None:
    assert any_capture.wait_for_change(1.0) == [Rect(0, 0, 1280, 800)]
    any_capture.select_monitor(1)
    assert any_capture.wait_for_change(1.0) == [Rect(0, 0, 1024, 768)]


def test_idle_screen_reports_nothing(any_capture: X11Capture) -> None:
    any_capture.wait_for_change(1.0)
    any_capture.grab()
    started = time.monotonic()
    assert any_capture.wait_for_change(0.4) == []
    assert time.monotonic() - started >= 0.35  # it waited, rather than returning at once


def test_a_change_wakes_the_wait_and_is_reported(any_capture: X11Capture, xserver: XServer) -> None:
    any_capture.select_monitor(1)
    any_capture.wait_for_change(1.0)
    any_capture.grab()
    window = SolidWindow(xserver.display, 1280 + 200, 300, 64, 48, 0x00FF00)
    try:
        rects = any_capture.wait_for_change(5.0)
        assert rects and covers(rects, Rect(200, 300, 64, 48))
        for r in rects:  # clipped to the monitor, in its coordinates
            assert r.x >= 0 and r.y >= 0 and r.x + r.w <= 1024 and r.y + r.h <= 768
        frame = any_capture.grab()
        assert (frame[300:348, 200:264, :3] == (0, 0xFF, 0)).all()
    finally:
        window.close()


def test_a_change_on_another_monitor_does_not_wake_the_wait(
    any_capture: X11Capture, xserver: XServer
) -> None:
    any_capture.select_monitor(1)
    any_capture.wait_for_change(1.0)
    any_capture.grab()
    window = SolidWindow(xserver.display, 100, 100, 50, 50, 0xFF0000)  # on the left monitor
    try:
        assert any_capture.wait_for_change(0.4) == []
    finally:
        window.close()


def test_damage_reports_only_the_changed_area(capture: X11Capture, xserver: XServer) -> None:
    capture.wait_for_change(1.0)
    capture.grab()
    window = SolidWindow(xserver.display, 500, 400, 30, 20, 0x123456)
    try:
        rects = capture.wait_for_change(5.0)
        assert rects and covers(rects, Rect(500, 400, 30, 20))
        assert sum(r.w * r.h for r in rects) <= 30 * 20 * 4  # the window's area, not the whole monitor
    finally:
        window.close()


def test_changed_rect_is_the_exact_bounding_box() -> None:
    a = np.zeros((50, 80, 4), dtype=np.uint8)
    b = a.copy()
    assert changed_rect(a, b) is None
    b[10, 70, 2] = 1
    b[33, 5, 0] = 9
    assert changed_rect(a, b) == Rect(5, 10, 66, 24)
    with pytest.raises(CaptureError):
        changed_rect(a, np.zeros((50, 81, 4), dtype=np.uint8))


def test_polling_backs_off_while_idle_and_speeds_up_on_change() -> None:
    now = [0.0]
    frames = [np.zeros((4, 4, 4), dtype=np.uint8)]
    grabbed_at: list[float] = []

    def grab() -> np.ndarray:
        grabbed_at.append(now[0])
        return frames[-1]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    detector = PollingChangeDetector(grab, sleep=sleep, clock=lambda: now[0])
    assert detector.wait(1.0) == [Rect(0, 0, 4, 4)]
    assert detector.take_frame() is frames[-1] and detector.take_frame() is None
    assert detector.wait(5.0) == []
    assert now[0] == pytest.approx(5.0)
    gaps = np.diff(grabbed_at)
    assert gaps[0] == pytest.approx(detector.min_interval)
    assert (np.diff(gaps) >= -1e-9).all() and gaps.max() == pytest.approx(detector.max_interval)
    assert len(grabbed_at) < 30  # five idle seconds cost a few grabs, not 300
    changed = frames[-1].copy()
    changed[2, 3] = 255
    frames.append(changed)
    assert detector.wait(1.0) == [Rect(3, 2, 1, 1)]
    assert detector.interval == detector.min_interval
    assert detector.take_frame() is changed


def test_a_change_between_report_and_grab_is_reported_again(capture: X11Capture, xserver: XServer) -> None:
    capture.wait_for_change(1.0)
    capture.grab()
    first = SolidWindow(xserver.display, 10, 10, 20, 20, 0x0000FF)
    second: SolidWindow | None = None
    try:
        assert covers(capture.wait_for_change(5.0), Rect(10, 10, 20, 20))
        second = SolidWindow(xserver.display, 900, 600, 20, 20, 0xFFFFFF)  # after the report, before the grab
        capture.grab()
        assert covers(capture.wait_for_change(5.0), Rect(900, 600, 20, 20))
    finally:
        first.close()
        if second is not None:
            second.close()


def test_open_capture_and_open_input_pick_x11(xserver: XServer) -> None:
    from opensupport.host.capture import open_capture
    from opensupport.host.input import X11Input, open_input

    with open_capture(xserver.display, monitor=1) as backend:
        assert isinstance(backend, X11Capture) and backend.monitor.name == "right"
    with open_input(xserver.display) as backend_in:
        assert isinstance(backend_in, X11Input)
    with pytest.raises(CaptureError):
        open_capture(xserver.display, monitor=2)


def test_capture_follows_its_monitor_when_the_layout_changes(
    any_capture: X11Capture, xserver: XServer
) -> None:
    any_capture.select_monitor(1)
    any_capture.wait_for_change(1.0)
    any_capture.grab()
    name, x, y, w, h = MONITORS[1]
    try:
        xserver.run("xrandr", "--delmonitor", name)
        xserver.run("xrandr", "--setmonitor", name, "1000/264x700/185+1300+50", "none")
        # RandR sends no event for this: the capture notices within its layout check interval.
        rects = any_capture.wait_for_change(5.0)
        assert rects == [Rect(0, 0, 1000, 700)]
        assert (any_capture.monitor.x, any_capture.monitor.y, any_capture.monitor.name) == (1300, 50, name)
        assert any_capture.grab().shape == (700, 1000, 4)
    finally:
        xserver.run("xrandr", "--delmonitor", name)
        xserver.run(
            "xrandr", "--setmonitor", name, f"{w}/{w * 254 // 960}x{h}/{h * 254 // 960}+{x}+{y}", "none"
        )


@pytest.mark.parametrize("use_damage", [True, False], ids=["damage", "polling"])
@pytest.mark.parametrize("max_fps", [60.0, 10.0])
def test_a_screen_that_never_stops_changing_is_reported_at_most_max_fps(
    xserver: XServer, max_fps: float, use_damage: bool
) -> None:
    # Also the regression test of damage drawn during the reset's round trip: it must not be lost.
    with X11Capture(xserver.display, max_fps=max_fps, use_damage=use_damage) as capture:
        capture.wait_for_change(1.0)
        flicker = Flicker(xserver.display, 50, 50, 64, 64)
        try:
            reports = 0
            started = time.monotonic()
            while time.monotonic() - started < 0.5:
                if capture.wait_for_change(0.5):
                    capture.grab()
                    reports += 1
            elapsed = time.monotonic() - started
        finally:
            flicker.close()
    assert reports >= 3  # it kept seeing the changes, not just the first
    assert reports <= elapsed * max_fps + 2
