"""The X11 backends' fallbacks on a real X server without DAMAGE and XTEST: the capture polls, input refuses
to start with a clear error, and the cursor polls when XInput 2 wake-ups are off. (Xvfb aborts when XFIXES
is switched off, so the position-only cursor is not exercised here.)"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from host_x import SolidWindow, XServer
from opensupport.host.capture import Rect, X11Capture
from opensupport.host.cursor import X11CursorSource
from opensupport.host.errors import X11Unavailable
from opensupport.host.input import X11Input, open_input

pytestmark = pytest.mark.xvfb


@pytest.fixture(scope="module")
def bare_xserver() -> Iterator[XServer]:
    server = XServer(monitors=False, disable=("DAMAGE", "XTEST"))
    try:
        yield server
    finally:
        server.stop()


def test_capture_polls_without_damage(bare_xserver: XServer) -> None:
    with X11Capture(bare_xserver.display) as capture:
        assert not capture.uses_damage
        assert [(m.width, m.height) for m in capture.monitors()] == [(2304, 800)]
        assert capture.wait_for_change(1.0) == [Rect(0, 0, 2304, 800)]
        capture.grab()
        assert capture.wait_for_change(0.3) == []
        window = SolidWindow(bare_xserver.display, 300, 200, 10, 10, 0xABCDEF)
        try:
            assert capture.wait_for_change(5.0) == [Rect(300, 200, 10, 10)]
            assert (capture.grab()[200:210, 300:310, :3] == (0xEF, 0xCD, 0xAB)).all()
        finally:
            window.close()


def test_input_needs_xtest(bare_xserver: XServer) -> None:
    for make in (X11Input, open_input):
        with pytest.raises(X11Unavailable, match="XTEST"):
            make(bare_xserver.display)


def test_cursor_polls_without_xinput_wakeups(bare_xserver: XServer) -> None:
    with X11Capture(bare_xserver.display) as capture:
        monitor = capture.monitor
    with X11CursorSource(bare_xserver.display, monitor, use_xinput=False) as source:
        assert not source.moves_wake
        first = source.poll()
        assert first is not None and first.position is not None
        assert source.wait(0.2) is None

        def move() -> None:
            # Another client warps the pointer with the core request.
            from Xlib import display

            d = display.Display(bare_xserver.display)
            d.screen().root.warp_pointer(123, 45)
            d.sync()
            d.close()

        mover = threading.Timer(0.1, move)
        mover.start()
        started = time.monotonic()
        try:
            update = source.wait(10.0)
        finally:
            mover.join()
        assert time.monotonic() - started < 5.0  # found by polling, long before the timeout
        assert update is not None and update.position is not None
        assert (update.position.x, update.position.y) == (123, 45)
