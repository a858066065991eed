"""The drawing layer: a transparent child of the remote screen that paints the strokes over the picture
and, while a drawing tool is chosen, turns the agent's drags into strokes.

It is an add-on: :func:`attach_drawing_layer` puts it over an existing ``RemoteScreen`` without changing
that widget. While no tool is chosen the layer is transparent for the mouse, so the remote screen gets
every event as before; with a tool chosen the layer takes the pointer (the agent draws instead of
controlling) and the keyboard still goes to the remote screen. Strokes are in frame pixels (the host's
monitor pixels, as pointer events are), mapped through the screen's current view transform.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from opensupport.protocol import InvalidEvent, StrokeShape
from opensupport.tools.drawing import DEFAULT_COLORS
from opensupport.tools.paint import StrokeCanvas, ViewMapping, qcolor
from PySide6.QtCore import QEvent, QObject, QRect, QRectF, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QIcon, QMouseEvent, QPainter, QPaintEvent, QPixmap
from PySide6.QtWidgets import QInputDialog, QMenu, QToolButton, QWidget

from .client import ToolClient, ViewerDrawing

if TYPE_CHECKING:
    from opensupport.viewer.ui.window import ViewerWindow

__all__ = ["DrawingLayer", "attach_drawing_layer"]

SHAPE_LABELS = (
    (StrokeShape.PEN, "Pen"),
    (StrokeShape.LINE, "Line"),
    (StrokeShape.RECTANGLE, "Rectangle"),
    (StrokeShape.ARROW, "Arrow"),
    (StrokeShape.HIGHLIGHTER, "Highlighter"),
    (StrokeShape.TEXT, "Text"),
)


class DrawingLayer(QWidget):
    """Strokes over ``screen`` (a ``RemoteScreen``); ``viewer_drawing`` holds them and sends the agent's."""

    _changed = Signal()
    #: The host's allowed tools changed (emitted from any thread, handled on the GUI thread).
    allowed_changed = Signal(object)

    def __init__(self, screen: QWidget, viewer_drawing: ViewerDrawing) -> None:
        super().__init__(screen)
        #: The toolbar entry and menu (set by :func:`attach_drawing_layer`).
        self.toolbar_action: QAction | None = None
        self.menu: QMenu | None = None
        self.screen_widget = screen
        self.model = screen.model  # type: ignore[attr-defined]
        self.viewer_drawing = viewer_drawing
        #: The chosen tool (None: the agent controls the remote screen).
        self.tool: StrokeShape | None = None
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground, True)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setGeometry(screen.rect())
        self.canvas = StrokeCanvas()
        screen.installEventFilter(self)
        self._changed.connect(self.update, Qt.ConnectionType.QueuedConnection)
        viewer_drawing.drawing.on_change = lambda _bounds: self._changed.emit()
        self.show()
        self.raise_()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Follow the remote screen's size."""
        if watched is self.screen_widget and event.type() == QEvent.Type.Resize:
            self.setGeometry(self.screen_widget.rect())
        return False

    def mapping(self, ratio: float = 1.0) -> ViewMapping:
        """Frame pixels -> layer pixels (device pixels with ``ratio``), as the remote screen shows the
        picture now."""
        t = self.model.transform()
        return ViewMapping(t.scale_x * ratio, t.origin_x * ratio, t.origin_y * ratio, t.scale_y * ratio)

    def set_tool(self, tool: StrokeShape | None) -> None:
        """Choose a drawing tool, or None to go back to controlling the remote screen."""
        self.tool = tool
        if tool is not None:
            self.viewer_drawing.builder.shape = tool
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, tool is None)
        if tool is None:
            self.unsetCursor()
        else:
            self.setCursor(Qt.CursorShape.CrossCursor)

    def set_color(self, rgba: int) -> None:
        """The colour of the next strokes (0xRRGGBBAA)."""
        self.viewer_drawing.builder.color = rgba

    def paintEvent(self, event: QPaintEvent) -> None:
        """The strokes, mapped onto the picture: a blit of the canvas, which paints only what is new (the
        remote screen repaints under the layer at the frame rate)."""
        strokes = self.viewer_drawing.drawing.keyed()
        if not strokes:
            return
        ratio = self.devicePixelRatioF()
        image = self.canvas.update(strokes, self.size() * ratio, self.mapping(ratio))
        image.setDevicePixelRatio(ratio)
        painter = QPainter(self)
        try:
            painter.drawImage(QRectF(event.rect()), image, _scaled(event.rect(), ratio))
        finally:
            painter.end()

    def _frame_point(self, event: QMouseEvent) -> tuple[int, int] | None:
        p = event.position()
        return self.model.transform().frame_pixel_at(p.x(), p.y(), clamp=True)  # type: ignore[no-any-return]

    def mousePressEvent(self, event: QMouseEvent) -> None:
        """Start a stroke, or place a text."""
        point = self._frame_point(event)
        if self.tool is None or point is None or event.button() != Qt.MouseButton.LeftButton:
            return
        if self.tool is StrokeShape.TEXT:
            text, ok = QInputDialog.getText(self, "Text", "Text to show on the customer's screen:")
            if ok and text:
                self.place_text(point[0], point[1], text)
            return
        self.viewer_drawing.draw(self.viewer_drawing.builder.begin(*point), final=False)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        """Extend the stroke."""
        point = self._frame_point(event)
        if point is not None and self.viewer_drawing.builder.drawing:
            self.viewer_drawing.draw(self.viewer_drawing.builder.move(*point), final=False)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        """Finish the stroke."""
        point = self._frame_point(event)
        if point is not None and self.viewer_drawing.builder.drawing:
            self.viewer_drawing.draw(self.viewer_drawing.builder.end(*point))

    def place_text(self, x: int, y: int, text: str) -> bool:
        """Put ``text`` at frame pixel (x, y); False if the text is refused (too long)."""
        try:
            stroke = self.viewer_drawing.builder.text(x, y, text)
        except InvalidEvent:
            return False
        self.viewer_drawing.draw(stroke)
        return True


def _scaled(rect: QRect, ratio: float) -> QRectF:
    return QRectF(rect.x() * ratio, rect.y() * ratio, rect.width() * ratio, rect.height() * ratio)


def _swatch(rgba: int) -> QIcon:
    pixmap = QPixmap(16, 16)
    pixmap.fill(qcolor(rgba | 0xFF))
    return QIcon(pixmap)


def attach_drawing_layer(
    window: ViewerWindow, viewer_drawing: ViewerDrawing, client: ToolClient
) -> DrawingLayer:
    """Put a drawing layer over ``window``'s remote screen and a "Draw" menu in its toolbar; the menu is
    shown only while the host allows drawing (``client.allowed``)."""
    layer = DrawingLayer(window.remote_screen, viewer_drawing)
    menu = QMenu("Draw", window)
    tools = QActionGroup(window)
    off = QAction("Control (no drawing)", window, checkable=True, checked=True)
    off.triggered.connect(lambda: layer.set_tool(None))
    tools.addAction(off)
    menu.addAction(off)
    for shape, label in SHAPE_LABELS:
        action = QAction(label, window, checkable=True)
        action.triggered.connect(lambda _=False, s=shape: layer.set_tool(s))
        tools.addAction(action)
        menu.addAction(action)
    menu.addSeparator()
    for rgba in DEFAULT_COLORS:
        action = menu.addAction(_swatch(rgba), f"#{rgba >> 8:06X}")
        action.triggered.connect(lambda _=False, c=rgba: layer.set_color(c))
    menu.addSeparator()
    menu.addAction("Clear drawing").triggered.connect(viewer_drawing.clear)
    button = QToolButton()
    button.setText("Draw")
    button.setMenu(menu)
    button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
    action = window.toolbar.addWidget(button)
    layer.toolbar_action = action
    layer.menu = menu

    def follow(allowed: frozenset[str]) -> None:
        visible = "drawing" in allowed
        action.setVisible(visible)
        if not visible:
            layer.set_tool(None)
            off.setChecked(True)

    layer.allowed_changed.connect(follow, Qt.ConnectionType.QueuedConnection)
    action.setVisible(client.allows("drawing"))
    previous = client.on_allowed

    def on_allowed(allowed: frozenset[str]) -> None:
        if previous is not None:
            previous(allowed)
        layer.allowed_changed.emit(allowed)

    client.on_allowed = on_allowed
    return layer
