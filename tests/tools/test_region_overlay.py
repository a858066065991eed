"""부분공유's region overlay on a real Xvfb through xcb (not offscreen): it covers the screen with a dimmed
frozen picture of it, takes the keyboard (Escape backs out) and the pointer, shows the dragged rectangle
bright, and reports it in root coordinates."""

from __future__ import annotations

import json
import queue
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import mss
import numpy as np
import pytest
from Xlib import X, display

PROBE = Path(__file__).with_name("region_probe.py")

pytestmark = pytest.mark.xvfb


class Lines:
    def __init__(self, stream: Any) -> None:
        self.queue: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [self.queue.put(line) for line in stream], daemon=True).start()

    def wait_for(self, pattern: str, timeout: float = 15) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.queue.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if re.search(pattern, line):
                return line
        raise AssertionError(f"no line matching {pattern!r} within {timeout} s")


def pixel(name: str, x: int, y: int) -> tuple[int, int, int]:
    with mss.MSS(display=name) as m:
        shot = np.array(m.grab({"left": x, "top": y, "width": 1, "height": 1}), dtype=np.uint8)
    return int(shot[0, 0, 2]), int(shot[0, 0, 1]), int(shot[0, 0, 0])  # RGB


def pixel_until(name: str, x: int, y: int, check: Any, timeout: float = 10) -> tuple[int, int, int]:
    """Grab until ``check(rgb)`` holds (the X server paints when it gets to it on a loaded machine)."""
    deadline = time.monotonic() + timeout
    while True:
        rgb = pixel(name, x, y)
        if check(rgb) or time.monotonic() > deadline:
            return rgb
        time.sleep(0.05)


def xdotool(xscreen: Any, *args: str) -> None:
    subprocess.run(["xdotool", *args], env=xscreen.env(), check=True, timeout=10)


def test_a_drag_on_the_real_overlay_chooses_the_region(xscreen: Any) -> None:
    d = display.Display(xscreen.display)
    screen = d.screen()
    white = screen.root.create_window(
        300, 200, 200, 150, 0, screen.root_depth, X.InputOutput, X.CopyFromParent,
        background_pixel=0xFFFFFF, override_redirect=True,
    )  # fmt: skip
    white.map()
    d.sync()
    probe = subprocess.Popen(
        [sys.executable, str(PROBE)],
        env={**xscreen.env(), "QT_QPA_PLATFORM": "xcb"},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        out = Lines(probe.stdout)
        ready = json.loads(out.wait_for('"ready": 1'))
        assert ready["translucent"] is False  # Xvfb: no compositor, so the frozen picture is shown
        # The whole screen is dimmed: the white window shows grey through the shade.
        dimmed = pixel_until(xscreen.display, 350, 250, lambda rgb: rgb != (255, 255, 255))
        assert all(120 <= c <= 170 for c in dimmed) and len(set(dimmed)) == 1, dimmed

        xdotool(xscreen, "key", "Escape")  # the overlay holds the keyboard: Escape backs out
        out.wait_for('"cancelled"')
        out.wait_for('"ready": 2')

        xdotool(xscreen, "mousemove", "420", "300", "mousedown", "1")
        for x, y in ((380, 260), (330, 220), (280, 180)):
            xdotool(xscreen, "mousemove", str(x), str(y))
            time.sleep(0.05)
        # While dragging, the chosen rectangle shows the screen as it is; the rest stays dimmed (the part
        # of the white window outside the rectangle, too).
        assert pixel_until(xscreen.display, 350, 250, lambda rgb: rgb == (255, 255, 255)) == (255, 255, 255)
        assert pixel(xscreen.display, 470, 330) == dimmed
        xdotool(xscreen, "mouseup", "1")
        assert json.loads(out.wait_for('"selected"'))["selected"] == [280, 180, 140, 120]
        assert probe.wait(10) == 0
        # The overlay is gone: the screen is itself again.
        assert pixel_until(xscreen.display, 350, 250, lambda rgb: rgb == (255, 255, 255)) == (255, 255, 255)
    finally:
        if probe.poll() is None:
            probe.kill()
        probe.wait()
        white.destroy()
        d.sync()
        d.close()
