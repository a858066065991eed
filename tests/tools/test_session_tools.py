"""The session-side wrappers: the host's runner (slow tools in a bounded worker) and the viewer's bundle,
over a real protocol session."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from opensupport.host.policy import HostPolicy
from opensupport.host.tools.runner import MAX_QUEUED_REQUESTS, HostToolsRunner
from opensupport.host.tools.support import HostTools
from opensupport.protocol import ControlMessage, DrawingStroke, Role, StrokeShape
from opensupport.protocol.testing import ConnectionPair
from opensupport.server.options import defaults
from opensupport.tools.drawing import Origin
from opensupport.tools.messages import TOPIC_PROCESS_LIST, parse
from opensupport.tools.processes import ProcessTable
from opensupport.viewer.decode import FrameUpdate
from opensupport.viewer.display import DisplayModel
from opensupport.viewer.tools.session_tools import ViewerTools
from opensupport.viewer.ui.window import ViewerWindow
from PySide6.QtWidgets import QApplication


@pytest.fixture(scope="module")
def app() -> Iterator[QApplication]:
    instance = QApplication.instance() or QApplication([])
    assert isinstance(instance, QApplication)
    yield instance


class SlowTable(ProcessTable):
    """A process table whose listing waits until the test lets it go."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()

    def page(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        self.gate.wait(10)
        return super().page(*args, **kwargs)


def test_a_flood_of_requests_is_answered_busy_beyond_the_queue_and_the_rest_in_order() -> None:
    pair = ConnectionPair()
    pair.handshake()
    table = SlowTable()
    tools = HostTools(HostPolicy(defaults()), processes=table)
    lock = threading.Lock()

    def call(fn: Any, *args: Any) -> None:
        with lock:  # the link's thread, played by a lock
            fn(*args)

    runner = HostToolsRunner(tools, pair.host.send, call)
    sent = 20
    for i in range(sent):
        pair.viewer.send(ControlMessage(TOPIC_PROCESS_LIST, b'{"id": %d, "limit": 5}' % i))
    with lock:
        pair.pump()
        for event in pair.events[Role.HOST]:
            assert runner.on_event(event) or not isinstance(event, ControlMessage)
    table.gate.set()
    assert runner.wait_idle(10)
    with lock:
        pair.pump()
    answers = [(e.topic, parse(e.data)) for e in pair.events[Role.VIEWER] if isinstance(e, ControlMessage)]
    busy = [a["id"] for topic, a in answers if topic == "tool.refused"]
    served = [a["id"] for topic, a in answers if topic == "process.list.result"]
    assert sent - MAX_QUEUED_REQUESTS - 1 <= len(busy) <= sent - MAX_QUEUED_REQUESTS
    assert sorted(busy + served) == list(range(sent))
    assert served == sorted(served)  # the worker answers in order
    runner.close()


def test_viewer_tools_bundle_over_a_session(app: QApplication, tmp_path: Path) -> None:
    pair = ConnectionPair()
    pair.handshake()
    tools = HostTools(HostPolicy(defaults()))
    runner = HostToolsRunner(tools, pair.host.send, lambda fn, *a: fn(*a))
    window = ViewerWindow(DisplayModel())
    frame = np.zeros((60, 80, 4), np.uint8)
    frame[..., 1] = 200
    frame[..., 3] = 255
    window.model.store.apply(frame, [])
    window.remote_screen.on_frame_update(FrameUpdate(1, ((0, 0, 80, 60),), True, 80, 60, 0))
    viewer = ViewerTools(window, pair.viewer.send)
    seen = {Role.HOST: 0, Role.VIEWER: 0}

    def pump() -> None:
        for _ in range(20):
            pair.pump()
            runner.wait_idle(5)
            host = pair.events[Role.HOST][seen[Role.HOST] :]
            view = pair.events[Role.VIEWER][seen[Role.VIEWER] :]
            seen[Role.HOST] += len(host)
            seen[Role.VIEWER] += len(view)
            for event in host:
                runner.on_event(event)
            for event in view:
                viewer.handle(event)
            app.processEvents()
            if not host and not view:
                return

    try:
        runner.hello()
        pump()
        assert viewer.client.allows("drawing") and viewer.layer.toolbar_action is not None
        assert viewer.layer.toolbar_action.isVisible()
        tools.customer_draw(DrawingStroke(1, 0xFF0000FF, 3, ((1, 1), (9, 9)), StrokeShape.LINE))
        pair.host.send(tools.drawing.strokes()[0][1])
        viewer.drawing.draw(DrawingStroke(1, 0x00FF00FF, 3, ((2, 2), (3, 3)), StrokeShape.LINE))
        got: list[Any] = []
        viewer.capture.screenshot(tmp_path / "s.png", lambda p, why: got.append((p, why)))
        pump()
        assert (Origin.CUSTOMER, DrawingStroke(1, 0xFF0000FF, 3, ((1, 1), (9, 9)), StrokeShape.LINE)) in (
            viewer.drawing.drawing.strokes()
        )
        assert [o for o, _ in tools.drawing.strokes()] == [Origin.CUSTOMER, Origin.AGENT]
        assert got == [(tmp_path / "s.png", None)]
        with av.open(str(tmp_path / "s.png")) as container:
            [picture] = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
        assert np.array_equal(picture, frame[:, :, 2::-1])  # the window's own framebuffer
    finally:
        viewer.close()
        runner.close()
        window.close()
