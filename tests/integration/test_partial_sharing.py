"""부분공유 partial sharing end to end: the host shares one region of a real Xvfb, the viewer sees exactly that
region, nothing outside it is ever decoded, and input reaches only the region.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from e2e import FrameWitness, HostProcess, RecorderWindow, SolidWindow, Viewer, XServer, XtermCat, wait_until
from opensupport.protocol import SessionCode
from relay_proc import RelayProcess

os.environ["QT_QPA_PLATFORM"] = "offscreen"

pytestmark = pytest.mark.xvfb

#: The shared region (root coordinates): on the left monitor, away from its edges.
AREA = (100, 80, 400, 300)
#: The marker outside the region: magenta, a colour nothing inside the region has.
MARKER_BGR = (0xFF, 0x00, 0xFF)


def grab_area(server: XServer) -> np.ndarray:
    """The region's pixels now (BGRA), grabbed with mss as an independent witness."""
    import mss

    x, y, w, h = AREA
    with mss.MSS(display=server.display) as sct:
        shot = sct.grab({"left": x, "top": y, "width": w, "height": h})
    return np.frombuffer(shot.raw, dtype=np.uint8).reshape(h, w, 4)


@pytest.fixture
def shared_region(
    xserver: XServer, shared_relay: RelayProcess, qapp: Any, tmp_path: Path
) -> Iterator[tuple[Viewer, FrameWitness]]:
    # Windows inside and outside the region exist before the host starts, so the first frame holds them.
    xterm = XtermCat(xserver, tmp_path, x=AREA[0] + 10, y=AREA[1] + 10)
    marker = SolidWindow(xserver.display, 560, 300, 120, 120, 0xFF00FF)
    code = SessionCode.generate()
    viewer = Viewer(qapp, shared_relay.url, code)
    witness = FrameWitness(viewer, MARKER_BGR)
    host = HostProcess(xserver, shared_relay.url, str(code), "--share-region", ",".join(map(str, AREA)))
    try:
        wait_until(lambda: viewer.session.link.established, 20, "the session to be established")
        yield viewer, witness
    finally:
        host.terminate()
        host.finish()
        viewer.close()
        marker.close()
        xterm.close()


def test_the_viewer_sees_exactly_the_region_and_never_the_marker_outside(
    xserver: XServer, shared_region: tuple[Viewer, FrameWitness]
) -> None:
    viewer, witness = shared_region
    last: dict[str, Any] = {}

    def same() -> bool:
        fb, grab = viewer.framebuffer(), grab_area(xserver)
        last.update(fb=fb)
        return fb is not None and fb.shape == grab.shape and np.array_equal(fb[..., :3], grab[..., :3])

    wait_until(same, 15, "the viewer's framebuffer to equal the shared region")
    # A change inside the region reaches the viewer; the marker outside moves and stays unseen.
    inside = SolidWindow(xserver.display, AREA[0] + 250, AREA[1] + 200, 60, 40, 0x22CC44)
    try:
        wait_until(same, 15, "the change inside the region to reach the viewer")
    finally:
        inside.close()
    wait_until(same, 15, "the viewer to follow the region again")
    # The agent cannot widen the share: a monitor selection from the viewer is refused by the host.
    from opensupport.viewer.events import SelectMonitor

    viewer.sink.send(SelectMonitor(1))
    viewer.sink.send(SelectMonitor(0))
    inside = SolidWindow(xserver.display, AREA[0] + 20, AREA[1] + 220, 50, 50, 0x4411AA)
    try:
        wait_until(same, 15, "the change after the refused selection to reach the viewer")
    finally:
        inside.close()
    with witness.lock:
        assert witness.frames >= 2
        assert witness.shapes == {(AREA[3], AREA[2])}, witness.shapes
        assert witness.marker_seen == 0


def test_input_lands_inside_the_region_and_is_dropped_outside(
    xserver: XServer, shared_region: tuple[Viewer, FrameWitness]
) -> None:
    from opensupport.protocol import PointerEvent
    from opensupport.viewer.events import ButtonPress, ButtonRelease, MouseButton, PointerMove

    viewer, _ = shared_region
    wait_until(lambda: (fb := viewer.framebuffer()) is not None and fb.shape[1] == AREA[2], 15, "a frame")
    inside = RecorderWindow(xserver.display, 150, 250, 200, 100)  # root; region (50, 170)
    outside = RecorderWindow(xserver.display, 520, 60, 200, 150)  # right of the region
    try:
        # Aimed outside the region (region x 450 is root x 550, on the outside window): dropped.
        for event in (PointerEvent(450, 10, 0), PointerEvent(450, 10, 1), PointerEvent(450, 10, 0)):
            viewer.session.link_thread.call(viewer.session.link.send, event)
        viewer.sink.send(PointerMove(100, 200))
        viewer.sink.send(ButtonPress(MouseButton.LEFT, 100, 200))
        viewer.sink.send(ButtonRelease(MouseButton.LEFT, 100, 200))
        events = inside.wait_for(
            lambda evs: any(e.kind == "button-release" for e in evs), "the click inside the region"
        )
        press = next(e for e in events if e.kind == "button-press")
        # Region (100, 200) is root (200, 280): window-relative (50, 30).
        assert (press.detail, press.x, press.y) == (1, 50, 30)
        assert outside.pump() == []
    finally:
        inside.close()
        outside.close()


def test_partial_sharing_switched_off_is_refused(xserver: XServer, shared_relay: RelayProcess) -> None:
    options = json.dumps({"partial_sharing": False})
    host = HostProcess(
        xserver,
        shared_relay.url,
        str(SessionCode.generate()),
        "--share-region",
        "0,0,10,10",
        "--options",
        options,
    )
    try:
        code, out, err = host.finish()
    finally:
        host.close()
    assert code == 1
    assert "partial sharing is switched off" in err, (out, err)


def test_a_shared_window_is_followed_and_the_monitor_comes_back(xserver: XServer) -> None:
    from opensupport.host.capture import X11Capture

    window = SolidWindow(xserver.display, 30, 40, 120, 90, 0x1188EE)
    capture = X11Capture(xserver.display)
    try:
        area = capture.share_area(window=window.window.id)
        assert (area.x, area.y, area.width, area.height) == (30, 40, 120, 90)
        capture.wait_for_change(0.5)
        frame = capture.grab()
        assert frame.shape == (90, 120, 4)
        assert np.all(frame[..., :3] == np.array((0xEE, 0x88, 0x11), dtype=np.uint8))
        window.window.configure(x=200, y=100, width=80, height=60)
        window.d.sync()
        wait_until(
            lambda: capture.wait_for_change(0.1) is not None and capture.monitor.x == 200,
            what="the capture to follow the window",
        )
        m = capture.monitor
        assert (m.x, m.y, m.width, m.height) == (200, 100, 80, 60)
        frame = capture.grab()
        assert frame.shape == (60, 80, 4)
        assert np.all(frame[..., :3] == np.array((0xEE, 0x88, 0x11), dtype=np.uint8))
        full = capture.select_monitor(0)
        assert (full.width, full.height) == (800, 600)
        assert capture.area is None
        assert capture.grab().shape == (600, 800, 4)
    finally:
        capture.close()
        window.close()
