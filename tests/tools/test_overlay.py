"""The host's drawing overlay on a real X screen (Xvfb, no compositor): the strokes are in the screen the
host captures (an mss grab), clicks pass through them to the window below, and in drawing mode the
customer's drag becomes a stroke instead of a click."""

from __future__ import annotations

import json
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mss
import numpy as np
import pytest

PROBE = Path(__file__).with_name("overlay_probe.py")
RED = 0xE53935FF
BLUE = 0x1E88E5FF

pytestmark = pytest.mark.xvfb


def grab(display: str, width: int, height: int) -> np.ndarray:
    with mss.MSS(display=display) as m:
        shot = m.grab({"left": 0, "top": 0, "width": width, "height": height})
        return np.array(shot, dtype=np.uint8)[:, :, :3][:, :, ::-1]  # RGB


def grab_until(display: str, check: Any, timeout: float = 10) -> np.ndarray:
    """Grab until ``check(pixels)`` holds (the X server paints when it gets to it on a loaded machine)."""
    deadline = time.monotonic() + timeout
    while True:
        shot = grab(display, 800, 600)
        if check(shot) or time.monotonic() > deadline:
            return shot
        time.sleep(0.05)


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


@pytest.fixture
def below(xscreen: Any) -> Iterator[Lines]:
    """xev's window at the top left: it prints every event it gets, the clicks that pass through."""
    if shutil.which("xev") is None:
        pytest.fail("xev is missing: install x11-utils (make test does)")
    proc = subprocess.Popen(
        ["xev", "-geometry", "700x500+0+0"], env=xscreen.env(), stdout=subprocess.PIPE, text=True
    )
    lines = Lines(proc.stdout)
    lines.wait_for("MapNotify")
    time.sleep(0.3)
    yield lines
    proc.kill()
    proc.wait()


def xdotool(xscreen: Any, *args: str) -> None:
    subprocess.run(["xdotool", *args], env=xscreen.env(), check=True, timeout=10)


def test_overlay_strokes_show_in_the_capture_and_clicks_pass_through(xscreen: Any, below: Lines) -> None:
    before = grab(xscreen.display, 800, 600)
    config = {
        "geometry": [0, 0, xscreen.width, xscreen.height],
        "strokes": [
            [2, RED, 6, [[100, 100], [300, 200]], ""],  # rectangle
            [1, BLUE, 8, [[50, 300], [400, 300]], ""],  # line
        ],
    }
    env = {**xscreen.env(), "QT_QPA_PLATFORM": "xcb"}
    probe = subprocess.Popen(
        [sys.executable, str(PROBE), json.dumps(config)],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert probe.stdin is not None
    try:
        out = Lines(probe.stdout)
        ready = json.loads(out.wait_for('"ready": 1'))
        assert ready["visible"] is True and ready["translucent"] is False  # Xvfb: no compositor
        after = grab_until(xscreen.display, lambda p: tuple(p[300, 225]) == (0x1E, 0x88, 0xE5))
        # the strokes, at their place, in the colour sent (the centre of a wide line is exact)
        assert tuple(after[150, 100]) == (0xE5, 0x39, 0x35)
        assert tuple(after[100, 200]) == (0xE5, 0x39, 0x35)
        assert tuple(after[300, 225]) == (0x1E, 0x88, 0xE5)
        # nothing else changed: inside the rectangle and everywhere away from the strokes
        changed = np.any(after != before, axis=2)
        allowed = np.zeros_like(changed)
        allowed[90:211, 90:311] = True
        allowed[290:311, 40:411] = True
        allowed[106:195, 106:295] = False
        assert not changed[~allowed].any()
        assert changed[allowed].sum() > 1000

        # a click right on a stroke reaches the window below, at that point
        xdotool(xscreen, "mousemove", "100", "150", "click", "1")
        below.wait_for("ButtonPress")
        below.wait_for(r"root:\(100,150\)", timeout=2)

        # drawing mode: the customer's drag is a stroke and no click reaches the window below
        probe.stdin.write(json.dumps({"drawing_mode": True}) + "\n")
        probe.stdin.flush()
        out.wait_for('"ready": 2')
        xdotool(xscreen, "mousemove", "450", "420", "mousedown", "1")
        for x, y in ((470, 430), (490, 440), (520, 450)):
            xdotool(xscreen, "mousemove", str(x), str(y))
            time.sleep(0.05)
        xdotool(xscreen, "mouseup", "1")
        customer = json.loads(out.wait_for('"customer"'))["customer"]
        assert customer[0] == 0 and customer[3][0] == [450, 420]
        last = customer
        deadline = time.monotonic() + 5
        while last[3][-1] != [520, 450] and time.monotonic() < deadline:
            last = json.loads(out.wait_for('"customer"'))["customer"]
        assert last[3][-1] == [520, 450]
        with pytest.raises(AssertionError):
            below.wait_for("ButtonPress", timeout=0.5)

        # back to click-through: the customer's stroke stays on screen, clicks reach the window again
        probe.stdin.write(json.dumps({"drawing_mode": False}) + "\n")
        probe.stdin.flush()
        out.wait_for('"ready": 3')
        shot = grab_until(xscreen.display, lambda p: tuple(p[435, 480]) != tuple(before[435, 480]))
        assert tuple(shot[435, 480]) != tuple(before[435, 480])  # the customer's red pen stroke
        xdotool(xscreen, "mousemove", "480", "435", "click", "1")
        below.wait_for("ButtonPress")
        below.wait_for(r"root:\(480,435\)", timeout=2)

        # a clear hides the overlay: the screen is as it was
        probe.stdin.write(json.dumps({"clear": True}) + "\n")
        probe.stdin.flush()
        ready = json.loads(out.wait_for('"ready": 4'))
        assert ready["visible"] is False
        assert np.array_equal(grab_until(xscreen.display, lambda p: np.array_equal(p, before)), before)
    finally:
        probe.stdin.close()
        try:
            probe.wait(5)
        except subprocess.TimeoutExpired:
            probe.kill()
            probe.wait()
