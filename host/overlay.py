"""The drawing overlay: the strokes painted over the customer's real screen (PySide6).

An always-on-top, frameless, click-through window covers the shared monitor (stroke coordinates are
that monitor's frame pixels, as the pointer's are). Because it is a real window, the strokes are in the
screen the host captures, so the agent sees them in the stream too.

Click-through holds with or without a compositor:

- ``WindowTransparentForInput`` gives the window an empty X input shape, so clicks and the wheel reach
  the windows below;
- the window's *bounding* shape (``setMask``) is the strokes' own pixels. Without a compositing manager
  (Xvfb, bare X servers) a window has no transparent background, and anything outside the mask would
  paint over the customer's screen; with the mask, only the strokes exist. With a compositor the
  background is translucent as well, which lets the highlighter blend; without one it is opaque.
- override-redirect (``X11BypassWindowManagerHint``) keeps window managers from decorating, moving or
  focusing it; since stacking is then not managed, the overlay raises itself when strokes change and on a
  timer.

Drawing mode (양방향 그리기, when the options allow the customer to draw): the overlay takes the pointer
(it shows a frozen picture of the screen under it when there is no compositor, since its background
cannot be see-through) and turns presses and drags into strokes through :class:`StrokeBuilder`; each
stroke goes to ``on_customer_stroke``, which the host's tools check against the policy before sending.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from opensupport.protocol import DrawingClear, DrawingStroke
from opensupport.tools.drawing import Bounds, Drawing, StrokeBuilder, StrokeThrottle
from opensupport.tools.paint import StrokeCanvas, ViewMapping
from PySide6.QtCore import QRect, Qt, QTimer, Signal
from PySide6.QtGui import (
    QBitmap,
    QColor,
    QGuiApplication,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPixmap,
)
from PySide6.QtWidgets import QWidget

__all__ = ["DrawingOverlay", "compositing_available"]

log = logging.getLogger(__name__)

#: Least time between two reshapes of the overlay after its strokes changed (ms).
REFRESH_MS = 15
#: How often the overlay raises itself above newly mapped windows (ms).
RAISE_INTERVAL_MS = 500


def compositing_available(display: str | None = None) -> bool:
    """Whether an X compositing manager runs (it owns ``_NET_WM_CM_S<screen>``): only then can a window
    have a see-through background. False when it cannot be told (no X, no python-xlib)."""
    try:
        from Xlib import display as xdisplay

        d = xdisplay.Display(display)
        try:
            atom = d.intern_atom(f"_NET_WM_CM_S{d.get_default_screen()}")
            return bool(d.get_selection_owner(atom))
        finally:
            d.close()
    except Exception:
        return False


class DrawingOverlay(QWidget):
    """The strokes of ``drawing`` over the screen rectangle ``geometry`` (x, y, width, height in root
    window pixels: the shared monitor). Create and use it on the GUI thread; ``drawing`` may change from
    any thread (its ``on_change`` hook is taken over and relayed through a queued signal)."""

    _changed = Signal()

    def __init__(
        self,
        drawing: Drawing,
        geometry: tuple[int, int, int, int],
        *,
        translucent: bool | None = None,
        on_customer_stroke: Callable[[DrawingStroke | DrawingClear], object] | None = None,
    ) -> None:
        super().__init__(None)
        self.drawing = drawing
        self.on_customer_stroke = on_customer_stroke
        self.builder = StrokeBuilder(first_id=1)
        self._throttle = StrokeThrottle(self._emit)
        self.translucent = compositing_available() if translucent is None else translucent
        self.drawing_mode = False
        self._frozen: QPixmap | None = None
        self._input_flags = (
            Qt.WindowType.Tool
            | Qt.WindowType.FramelessWindowHint
            | Qt.WindowType.WindowStaysOnTopHint
            | Qt.WindowType.X11BypassWindowManagerHint
            | Qt.WindowType.WindowDoesNotAcceptFocus
        )
        self.setWindowFlags(self._input_flags | Qt.WindowType.WindowTransparentForInput)
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating, True)
        self.setAttribute(Qt.WidgetAttribute.WA_TranslucentBackground, self.translucent)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground, True)
        self.setWindowTitle("OpenSupport drawing")
        self.setGeometry(QRect(*geometry))
        # Changes are coalesced: a flood of strokes costs one reshape per REFRESH_MS, not one per stroke.
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(REFRESH_MS)
        self._refresh_timer.timeout.connect(self.refresh)
        self._changed.connect(self._schedule, Qt.ConnectionType.QueuedConnection)
        drawing.on_change = lambda _bounds: self._changed.emit()
        self._raise_timer = QTimer(self)
        self._raise_timer.timeout.connect(self._keep_on_top)
        self._raise_timer.start(RAISE_INTERVAL_MS)
        #: Repaints done (diagnostics and tests).
        self.refreshes = 0
        #: The strokes' image (painted incrementally).
        self.canvas = StrokeCanvas()

    def _schedule(self) -> None:
        if not self._refresh_timer.isActive():
            self._refresh_timer.start()

    def set_geometry(self, geometry: tuple[int, int, int, int]) -> None:
        """Follow another shared monitor."""
        self.setGeometry(QRect(*geometry))
        self.refresh()

    def refresh(self) -> None:
        """Repaint after the strokes changed: reshape the window to them, show or hide it, raise it."""
        self.refreshes += 1
        self._render()
        if self.drawing_mode:
            self.clearMask()
            self.update()
            return
        if len(self.drawing) == 0:
            self.hide()
            return
        mask = QBitmap.fromImage(self.canvas.image.createAlphaMask())
        if mask.isNull():
            self.hide()
            return
        self.setMask(mask)
        if not self.isVisible():
            self.show()
        self.raise_()
        self.update()

    def _render(self) -> None:
        self.canvas.update(self.drawing.keyed(), self.size(), ViewMapping())

    def _keep_on_top(self) -> None:
        if self.isVisible():
            self.raise_()

    def paintEvent(self, event: QPaintEvent) -> None:
        """The strokes (over the frozen screen in drawing mode without a compositor)."""
        painter = QPainter(self)
        try:
            if self.translucent:
                painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Source)
                painter.fillRect(event.rect(), QColor(0, 0, 0, 0))
                painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceOver)
            elif self._frozen is not None and self.drawing_mode:
                painter.drawPixmap(0, 0, self._frozen)
            painter.drawImage(event.rect(), self.canvas.image, event.rect())
        finally:
            painter.end()

    # -- drawing mode (the customer draws) --------------------------------------------------------------
    def set_drawing_mode(self, on: bool) -> None:
        """Let the customer draw (the overlay takes the pointer) or go back to click-through."""
        if on == self.drawing_mode:
            return
        self.drawing_mode = on
        if on:
            if not self.translucent:
                screen = self.screen() or QGuiApplication.primaryScreen()
                g = self.geometry()
                self._frozen = screen.grabWindow(0, g.x(), g.y(), g.width(), g.height())
            self.setWindowFlags(self._input_flags)
            self.setCursor(Qt.CursorShape.CrossCursor)
            self.clearMask()
            self.show()
            self.raise_()
            self.grabMouse()
        else:
            self.releaseMouse()
            self._frozen = None
            self.setWindowFlags(self._input_flags | Qt.WindowType.WindowTransparentForInput)
            self.unsetCursor()
            self.refresh()

    def _emit(self, stroke: DrawingStroke | DrawingClear | None) -> None:
        """Hand a customer stroke (or clear) to ``on_customer_stroke``."""
        if stroke is not None and self.on_customer_stroke is not None:
            try:
                self.on_customer_stroke(stroke)
            except Exception as exc:  # the policy refused: say so, keep the overlay alive
                log.info("customer stroke not drawn: %s", exc)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        """Start a stroke (drawing mode only)."""
        if self.drawing_mode and event.button() == Qt.MouseButton.LeftButton:
            p = event.position()
            self._throttle.update(self.builder.begin(round(p.x()), round(p.y())))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        """Extend the stroke."""
        if self.drawing_mode and self.builder.drawing:
            p = event.position()
            self._throttle.update(self.builder.move(round(p.x()), round(p.y())))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        """Finish the stroke."""
        if self.drawing_mode and event.button() == Qt.MouseButton.LeftButton:
            p = event.position()
            self._throttle.update(self.builder.end(round(p.x()), round(p.y())), final=True)

    def clear_drawing(self) -> None:
        """The customer clears every stroke."""
        self._emit(DrawingClear())

    def stroke_area(self) -> Bounds | None:
        """Where the strokes are (overlay pixels)."""
        return self.drawing.bounds()
