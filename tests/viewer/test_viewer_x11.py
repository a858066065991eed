"""The viewer on a real X display (Xvfb, the xcb platform), driven by real X input through XTEST."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

PROBE = Path(__file__).with_name("xcb_viewer_probe.py")

pytestmark = pytest.mark.xvfb


class Lines:
    """The viewer's JSON lines, read by a thread (a select on a buffered pipe would miss lines)."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.queue: queue.Queue[str | None] = queue.Queue()
        assert proc.stdout is not None
        stdout = proc.stdout

        def pump() -> None:
            for line in stdout:
                self.queue.put(line)
            self.queue.put(None)

        threading.Thread(target=pump, daemon=True).start()

    def next(self, deadline: float) -> dict[str, Any]:
        while True:
            try:
                line = self.queue.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError("the viewer did not answer in time") from None
            assert line is not None, "the viewer exited"
            if line.startswith("{"):
                return dict(json.loads(line))


def xdotool(env: dict[str, str], *args: str) -> None:
    subprocess.run(["xdotool", *args], env=env, check=True, timeout=20)


def test_real_x_keyboard_and_pointer_reach_the_sink(xscreen: Any) -> None:
    env = xscreen.env()
    proc = subprocess.Popen(
        [sys.executable, str(PROBE)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    lines = Lines(proc)
    try:
        deadline = time.monotonic() + 30
        ready = lines.next(deadline)["ready"]
        x, y, w, h = ready
        # No window manager: focus follows the pointer.
        xdotool(env, "mousemove", str(x + w // 2), str(y + h // 2))
        time.sleep(0.2)
        xdotool(
            env,
            "key",
            "--delay",
            "20",
            "a",
            "shift+a",
            "exclam",
            "ctrl+c",
            "Return",
            "Control_R",
            "KP_Enter",
            "F12",
        )
        events: list[dict[str, Any]] = []
        while not (
            events and events[-1] == {"type": "KeyRelease", "keysym": 0xFFC9, "text": "", "modifiers": 0}
        ):
            event = lines.next(deadline)
            if event["type"] != "PointerMove":
                events.append(event)
        keys = [(e["type"][3:], e["keysym"]) for e in events]
        assert keys == [
            ("Press", 0x61), ("Release", 0x61),
            # xdotool lets go of the modifier first; the release still names the keysym the press sent.
            ("Press", 0xFFE1), ("Press", 0x41), ("Release", 0xFFE1), ("Release", 0x41),
            ("Press", 0xFFE1), ("Press", 0x21), ("Release", 0xFFE1), ("Release", 0x21),
            ("Press", 0xFFE3), ("Press", 0x63), ("Release", 0xFFE3), ("Release", 0x63),
            ("Press", 0xFF0D), ("Release", 0xFF0D),
            # xdotool holds Control_L along with Control_R; the right-hand key arrives as itself.
            ("Press", 0xFFE3), ("Press", 0xFFE4), ("Release", 0xFFE3), ("Release", 0xFFE4),
            ("Press", 0xFF8D), ("Release", 0xFF8D),
            ("Press", 0xFFC9), ("Release", 0xFFC9),
        ]  # fmt: skip
        assert events[3]["text"] == "A" and events[3]["modifiers"] == 1
        assert events[11] == {"type": "KeyPress", "keysym": 0x63, "text": "", "modifiers": 2}
        # Characters the keymap lacks (xdotool maps a spare keycode to them) arrive as Unicode keysyms.
        xdotool(env, "type", "--delay", "30", "한é")
        xdotool(env, "key", "F11")
        typed: list[dict[str, Any]] = []
        while not (typed and typed[-1]["type"] == "KeyRelease" and typed[-1]["keysym"] == 0xFFC8):
            event = lines.next(deadline)
            if event["type"] != "PointerMove":
                typed.append(event)
        presses = [(e["keysym"], e["text"]) for e in typed if e["type"] == "KeyPress"]
        assert presses == [(0x0100D55C, "한"), (0xE9, "é"), (0xFFC8, "")]
        # A click in the middle of the picture (800x600 fitted into the widget).
        xdotool(env, "click", "1")
        press = lines.next(deadline)
        while press["type"] == "PointerMove":
            press = lines.next(deadline)
        assert press["type"] == "ButtonPress" and press["button"] == 1
        assert abs(press["x"] - 400) <= 2 and abs(press["y"] - 300) <= 2
    finally:
        proc.terminate()
        proc.communicate(timeout=20)
