"""The viewer's drawing layer over the remote screen (Qt offscreen), wired to a host over a real protocol
session: the customer's strokes appear on the agent's picture at the right place, the agent's drags
become strokes in host pixels, and the layer takes no input while no tool is chosen."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from opensupport.protocol import DrawingClear, DrawingStroke, StrokeShape
from opensupport.tools.drawing import Origin
from opensupport.viewer.decode import FrameUpdate
from opensupport.viewer.display import DisplayModel
from opensupport.viewer.events import InputEvent, InputSink, PointerMove
from opensupport.viewer.tools.drawing_layer import attach_drawing_layer
from opensupport.viewer.ui.window import ViewerWindow
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QImage, QMouseEvent
from PySide6.QtWidgets import QApplication
from tools_pair import ToolsPair

FW, FH = 400, 250
GREY = 90


class Sink(InputSink):
    def __init__(self) -> None:
        self.events: list[InputEvent] = []

    def send(self, event: InputEvent) -> None:
        self.events.append(event)


@pytest.fixture(scope="module")
def app() -> Iterator[QApplication]:
    instance = QApplication.instance() or QApplication([])
    assert isinstance(instance, QApplication)
    yield instance


def pixels(widget: Any) -> np.ndarray:
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    w, h = image.width(), image.height()
    raw = np.frombuffer(image.constBits(), np.uint8).reshape(h, image.bytesPerLine() // 4, 4)
    return raw[:, :w, 2::-1].copy()  # RGB


def make_window(app: QApplication, sink: Sink) -> ViewerWindow:
    window = ViewerWindow(DisplayModel(), sink)
    frame = np.full((FH, FW, 4), GREY, np.uint8)
    frame[..., 3] = 255
    window.model.store.apply(frame, [])
    window.remote_screen.on_frame_update(FrameUpdate(1, ((0, 0, FW, FH),), True, FW, FH, 0))
    window.resize(900, 600)
    window.show()
    app.processEvents()
    return window


def mouse(widget: Any, kind: QEvent.Type, x: float, y: float, buttons: Qt.MouseButton) -> None:
    button = Qt.MouseButton.LeftButton if kind != QEvent.Type.MouseMove else Qt.MouseButton.NoButton
    point = QPointF(x, y)
    event = QMouseEvent(
        kind, point, widget.mapToGlobal(point), button, buttons, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(widget, event)


def test_strokes_both_ways_through_the_layer(app: QApplication) -> None:
    sink = Sink()
    window = make_window(app, sink)
    tools = ToolsPair()
    layer = attach_drawing_layer(window, tools.viewer_drawing, tools.client)
    try:
        app.processEvents()
        assert layer.toolbar_action is not None and layer.toolbar_action.isVisible()
        assert layer.geometry() == window.remote_screen.rect()
        t = window.model.transform()
        assert t.scale_x != 1.0  # the picture is scaled to fit: the mapping matters

        # the customer draws a thick blue line; the agent sees it where it is on the customer's screen
        stroke = DrawingStroke(1, 0x1E88E5FF, 10, ((50, 100), (350, 100)), StrokeShape.LINE)
        tools.pair.host.send(tools.host_tools.customer_draw(stroke))
        tools.pump()
        app.processEvents()
        shot = pixels(window.remote_screen)
        wx, wy = t.to_widget(200, 100)
        assert tuple(shot[round(wy), round(wx)]) == (0x1E, 0x88, 0xE5)
        far_x, far_y = t.to_widget(200, 200)
        assert tuple(shot[round(far_y), round(far_x)]) == (GREY, GREY, GREY)

        # without a tool the layer lets the mouse through to the remote screen (control as before)
        mouse(window.remote_screen, QEvent.Type.MouseMove, wx, wy + 40, Qt.MouseButton.NoButton)
        assert any(isinstance(e, PointerMove) for e in sink.events)
        assert layer.testAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)

        # with the rectangle tool, a drag on the layer is a rectangle in host pixels, not input
        layer.set_tool(StrokeShape.RECTANGLE)
        sent = len(sink.events)
        x0, y0 = t.to_widget(20, 30)
        x1, y1 = t.to_widget(120, 90)
        mouse(layer, QEvent.Type.MouseButtonPress, x0, y0, Qt.MouseButton.LeftButton)
        mouse(layer, QEvent.Type.MouseMove, (x0 + x1) / 2, (y0 + y1) / 2, Qt.MouseButton.LeftButton)
        mouse(layer, QEvent.Type.MouseButtonRelease, x1, y1, Qt.MouseButton.NoButton)
        tools.pump()
        assert len(sink.events) == sent
        agent = [s for o, s in tools.host_tools.drawing.strokes() if o is Origin.AGENT]
        assert len(agent) == 1 and agent[0].shape is StrokeShape.RECTANGLE
        assert agent[0].points == (t.frame_pixel_at(x0, y0), t.frame_pixel_at(x1, y1))
        assert abs(agent[0].points[0][0] - 20) <= 1 and abs(agent[0].points[1][1] - 90) <= 1

        # text goes through too
        assert layer.place_text(200, 180, "여기를 클릭")
        tools.pump()
        assert tools.host_tools.drawing.strokes()[-1][1].text == "여기를 클릭"

        # the customer's clear wipes the agent's picture of the drawing
        tools.pair.host.send(tools.host_tools.customer_draw(DrawingClear()))
        tools.pump()
        app.processEvents()
        assert len(tools.viewer_drawing.drawing) == 0
        assert tuple(pixels(window.remote_screen)[round(wy), round(wx)]) == (GREY, GREY, GREY)
    finally:
        window.close()


def test_the_draw_menu_is_hidden_when_the_host_does_not_allow_drawing(app: QApplication) -> None:
    window = make_window(app, Sink())
    tools = ToolsPair({"drawing": False, "two_way_drawing": False})
    layer = attach_drawing_layer(window, tools.viewer_drawing, tools.client)
    try:
        app.processEvents()
        assert layer.toolbar_action is not None and not layer.toolbar_action.isVisible()
        # the host's announcement arriving later (a resume) is followed too
        tools.client.on_allowed(frozenset({"drawing"}))  # type: ignore[misc]
        app.processEvents()
        assert layer.toolbar_action.isVisible()
    finally:
        window.close()
