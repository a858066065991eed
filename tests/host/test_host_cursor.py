"""The pointer as its own data, read from a real Xvfb: position relative to the shared monitor, and the
shape (XFIXES) reported once per change."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from host_x import XServer, XtermCat, wait_until
from opensupport.host.capture import X11Capture
from opensupport.host.cursor import CursorShape, CursorUpdate, X11CursorSource
from opensupport.host.input import X11Input

pytestmark = pytest.mark.xvfb


def test_position_and_shape_changes(
    xserver: XServer, capture: X11Capture, x11_input: X11Input, tmp_path: Path
) -> None:
    right = capture.monitors()[1]
    x11_input.move_pointer(1280 + 900, 700)  # over the bare root window of the right monitor
    with X11CursorSource(xserver.display, right) as source:
        assert source.has_shapes
        first = source.poll()
        assert first is not None and first.shape is not None
        assert first.position is not None and (first.position.x, first.position.y) == (900, 700)
        assert first.position.on_monitor
        root_shape = first.shape
        assert len(root_shape.pixels) == root_shape.width * root_shape.height * 4
        assert any(root_shape.pixels[3::4]), "the cursor image has opaque pixels"
        assert source.poll() is None  # nothing changed

        x11_input.move_pointer(1280 + 10, 20)
        update = source.poll()
        assert update is not None and update.shape is None
        assert update.position is not None and (update.position.x, update.position.y) == (10, 20)

        # Off the shared monitor: the position says so (the viewer hides its pointer).
        x11_input.move_pointer(100, 100)
        update = source.poll()
        assert update is not None and update.position is not None
        assert (update.position.x, update.position.y, update.position.on_monitor) == (-1180, 100, False)

        # Over an xterm the shape changes to its I-beam, reported once, with a new serial.
        term = XtermCat(xserver, tmp_path, x=1280, y=0)
        try:
            x11_input.move_pointer(1280 + 40, 40)
            updates: list[CursorUpdate] = []

            def shape_arrived() -> bool:
                update = source.poll()
                if update is not None:
                    updates.append(update)
                return any(u.shape is not None for u in updates)

            wait_until(shape_arrived, what="the xterm's cursor shape")
            shape = next(u.shape for u in updates if u.shape is not None)
            assert shape.serial != root_shape.serial
            assert (shape.width, shape.height, shape.pixels) != (
                root_shape.width,
                root_shape.height,
                root_shape.pixels,
            )
        finally:
            term.close()


def test_cursor_shape_checks_its_fields() -> None:
    CursorShape(1, 2, 2, 1, 1, bytes(16))
    for bad in (
        dict(width=0),
        dict(width=300),
        dict(pixels=bytes(15)),
        dict(hot_x=2),
        dict(hot_y=-1),
    ):
        fields = dict(serial=1, width=2, height=2, hot_x=1, hot_y=1, pixels=bytes(16)) | bad
        with pytest.raises(ValueError):
            CursorShape(**fields)  # type: ignore[arg-type]


def test_wait_sleeps_while_the_pointer_is_still_and_wakes_when_it_moves(
    xserver: XServer, capture: X11Capture, x11_input: X11Input
) -> None:
    x11_input.move_pointer(640, 400)
    with X11CursorSource(xserver.display, capture.monitors()[0]) as source:
        assert source.moves_wake  # XInput 2 raw motion on Xvfb
        assert source.wait(1.0) is not None  # the first report
        started = time.monotonic()
        assert source.wait(0.3) is None
        assert time.monotonic() - started >= 0.25

        def move() -> None:
            with X11Input(xserver.display) as other:
                other.move_pointer(700, 420)

        mover = threading.Timer(0.1, move)
        mover.start()
        started = time.monotonic()
        try:
            update = source.wait(10.0)
        finally:
            mover.join()
        # Woken by the motion itself, long before the timeout would have made it look.
        assert time.monotonic() - started < 5.0
        assert update is not None and update.position is not None
        assert (update.position.x, update.position.y) == (700, 420)
