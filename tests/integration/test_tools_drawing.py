"""End to end: a stroke the agent draws in the viewer appears over the customer's real screen (the host
applet's overlay window on the Xvfb, the applet run as a process with its window on the X display) at the
right place, and therefore in the viewer's framebuffer; a switched-off drawing option draws nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import numpy as np
import pytest
from e2e import Viewer, XServer, assert_screen_matches, wait_until
from opensupport.protocol import ControlMessage, DrawingClear, DrawingStroke, SessionCode, StrokeShape
from relay_proc import RelayProcess

pytestmark = pytest.mark.xvfb

RED = 0xE01010FF  # 0xRRGGBBAA


def _applet(
    xserver: XServer, url: str, code: SessionCode, options: dict[str, bool]
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "opensupport", "host", "--server", url, "--code", str(code),
         "--display", xserver.display, "--options", json.dumps(options)],
        env={**xserver.env(), "QT_QPA_PLATFORM": "xcb"},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def _red(pixel: np.ndarray) -> bool:
    b, g, r = (int(v) for v in pixel[:3])
    return r > 200 and g < 60 and b < 60


def _send(viewer: Viewer, event: Any) -> None:
    viewer.session.link_thread.call(viewer.session.link.send, event)


@pytest.mark.parametrize("allowed", [True, False], ids=["drawing-on", "drawing-off"])
def test_a_stroke_from_the_viewer_appears_on_the_host_screen(
    xserver: XServer, shared_relay: RelayProcess, qapp: Any, allowed: bool
) -> None:
    code = SessionCode.generate()
    viewer = Viewer(qapp, shared_relay.url, code, on_event=None)
    seen: list[Any] = []
    viewer.session._extra_handler = seen.append
    applet = _applet(xserver, shared_relay.url, code, {"drawing": allowed})
    try:
        wait_until(lambda: viewer.pump() or viewer.session.link.established, 30, "the windowed applet")
        tools = viewer.session.tools
        assert tools is not None
        wait_until(lambda: viewer.pump() or tools.allowed is not None, 10, "tool.allowed")
        assert ("drawing" in tools.allowed) is allowed
        assert_screen_matches(xserver, viewer)
        # A thick horizontal line on the first monitor (frame pixels = root pixels there), clear of the
        # applet's own window at the top left (no window manager on the Xvfb to place it).
        _send(viewer, DrawingStroke(7, RED, 12, ((500, 520), (700, 520)), StrokeShape.LINE))
        if allowed:
            wait_until(lambda: _red(xserver.grab(0)[520, 600]), 15, "the stroke on the host's screen")
            screen = xserver.grab(0)
            assert _red(screen[520, 510]) and _red(screen[520, 690]) and _red(screen[516, 600])
            assert not _red(screen[520, 750]) and not _red(screen[500, 600])  # nowhere else
            assert_screen_matches(xserver, viewer)  # the agent sees the stroke in the stream
            fb = viewer.framebuffer()
            assert fb is not None and _red(fb[520, 600])
            _send(viewer, DrawingClear())
            wait_until(lambda: not _red(xserver.grab(0)[520, 600]), 15, "the cleared screen")
        else:

            def refused() -> bool:
                return any(
                    isinstance(e, ControlMessage) and e.topic == "tool.refused"
                    and json.loads(e.data)["request"] == "drawing" for e in seen
                )  # fmt: skip

            wait_until(refused, 10, "the host's refusal")
            assert_screen_matches(xserver, viewer)
            assert not _red(xserver.grab(0)[520, 600])
    finally:
        applet.terminate()
        try:
            _, err = applet.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            applet.kill()
            _, err = applet.communicate()
        viewer.close()
        print(err.decode(errors="replace"))  # shown when the test fails
