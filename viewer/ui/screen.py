"""The remote-screen widget: paints the framebuffer, captures keyboard, pointer and wheel.

Painting: ``FrameStore.buffer`` is wrapped by a ``QImage`` without a copy (``Format_RGB32`` is BGRA in
little-endian memory, as mss and the decoder lay pixels out). ``paintEvent`` holds the store's lock while
it draws, and the decode worker holds it while it copies an update in, so a paint never shows half an
update. Each decoded update asks Qt to repaint only its rectangles, mapped to widget pixels (rounded
outward); Qt clips the paint to the union of those rectangles.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
from opensupport.viewer.decode import FrameUpdate
from opensupport.viewer.display import CursorImage, ViewMode
from opensupport.viewer.events import InputError, MouseButton, is_named_keysym
from opensupport.viewer.input import InputController
from PySide6.QtCore import QEvent, QPoint, QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QCursor,
    QFocusEvent,
    QGuiApplication,
    QImage,
    QInputMethodEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPixmap,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QGridLayout, QScrollBar, QWidget

from .keymap import keysym_for_qt_key, modifiers_from_qt

__all__ = ["RemoteScreen", "RemoteScreenArea"]

log = logging.getLogger(__name__)

BACKGROUND = QColor(40, 40, 40)
PREEDIT_BACKGROUND = QColor(255, 255, 200)
PREEDIT_PADDING = 4
#: Above this many changed rectangles in one update, their bounding rectangle is repainted instead.
MAX_SEPARATE_REPAINTS = 16

_BUTTONS: dict[Qt.MouseButton, MouseButton] = {
    Qt.MouseButton.LeftButton: MouseButton.LEFT,
    Qt.MouseButton.MiddleButton: MouseButton.MIDDLE,
    Qt.MouseButton.RightButton: MouseButton.RIGHT,
    Qt.MouseButton.BackButton: MouseButton.BACK,
    Qt.MouseButton.ForwardButton: MouseButton.FORWARD,
}


class RemoteScreen(QWidget):
    """The remote screen. Input goes to ``controller``; pixels come from ``controller.model.store``."""

    #: The remote screen changed size, or the view did (scroll ranges must follow).
    layout_changed = Signal()

    def __init__(self, controller: InputController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.model = controller.model
        self._image: QImage | None = None
        self._image_source: np.ndarray | None = None
        self._cursor_qimage: QImage | None = None
        #: Frame updates received (diagnostics and tests).
        self.updates_received = 0
        #: What the agent's input method is composing (shown in a box at the bottom left).
        self.preedit_text = ""
        #: Shown until the first frame arrives (the session code to read to the customer, for instance).
        self.waiting_text = "Waiting for the host's screen…"
        # On X11 Qt hands over the X keysym itself: it tells the right-hand modifiers and the keypad apart.
        self.use_native_keysyms = QGuiApplication.platformName() == "xcb"
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.setAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled, True)
        self.setMinimumSize(64, 48)

    # -- frames -----------------------------------------------------------------------------------------

    def on_frame_update(self, update: FrameUpdate) -> None:
        """Repaint what ``update`` changed (GUI thread; connected to ``SessionBridge.frame_updated``)."""
        self.updates_received += 1
        if update.resized:
            self.layout_changed.emit()
            self.update()
            return
        t = self.model.transform()
        rects = update.rects
        if len(rects) > MAX_SEPARATE_REPAINTS:
            # Hundreds of tiles (a scroll, a keyframe): one bounding rectangle repaints faster than a region
            # of hundreds of pieces, and costs one mapping instead of hundreds.
            x0, y0 = min(r[0] for r in rects), min(r[1] for r in rects)
            x1, y1 = max(r[0] + r[2] for r in rects), max(r[1] + r[3] for r in rects)
            rects = ((x0, y0, x1 - x0, y1 - y0),)
        for rect in rects:
            r = self.model.repaint_rect(rect, t)
            if r is not None:
                self.update(QRect(r.x, r.y, r.w, r.h))

    # -- the host's pointer ------------------------------------------------------------------------------

    def set_cursor_shape(self, image: CursorImage) -> None:
        """The host's pointer shape changed (GUI thread)."""
        self._update_cursor_rect()
        self.model.cursor_image = image
        # Premultiplied BGRA bytes in memory (as XFixes hands them to the host) are Qt's
        # ARGB32_Premultiplied on little-endian machines; copy() makes the QImage own its pixels.
        self._cursor_qimage = QImage(
            image.pixels,
            image.width,
            image.height,
            image.width * 4,
            QImage.Format.Format_ARGB32_Premultiplied,
        ).copy()
        self.view_only_changed()

    def set_cursor_position(self, x: int, y: int, visible: bool = True) -> None:
        """The host's pointer moved to frame pixel (x, y), or was hidden (GUI thread)."""
        self._update_cursor_rect()
        self.model.cursor_position = (x, y) if visible else None
        self._update_cursor_rect()

    def view_only_changed(self) -> None:
        """Follow the view-only flag: draw the host's pointer, or lend its shape to the local one."""
        if self.model.view_only or self._cursor_qimage is None or self.model.cursor_image is None:
            self.unsetCursor()
        else:
            image = self.model.cursor_image
            self.setCursor(QCursor(QPixmap.fromImage(self._cursor_qimage), image.hot_x, image.hot_y))
        self._update_cursor_rect()

    def _update_cursor_rect(self) -> None:
        r = self.model.cursor_rect()
        if r is not None:
            self.update(QRect(r.x, r.y, r.w, r.h))

    def paintEvent(self, event: QPaintEvent) -> None:
        """Draw the picture (scaled through the view transform) and the background around it."""
        painter = QPainter(self)
        try:
            t = self.model.transform()
            store = self.model.store
            with store.lock:
                buf = store.buffer
                if buf is None or t.empty:
                    painter.fillRect(event.rect(), BACKGROUND)
                    painter.setPen(QColor(200, 200, 200))
                    painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.waiting_text)
                    return
                if self._image_source is not buf:
                    height, width = int(buf.shape[0]), int(buf.shape[1])
                    self._image = QImage(buf.data, width, height, width * 4, QImage.Format.Format_RGB32)
                    self._image_source = buf
                assert self._image is not None
                x, y, w, h = t.picture_rect()
                target = QRectF(x, y, w, h)
                self._fill_around(painter, target)
                painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.model.filtered(t))
                painter.drawImage(target, self._image, QRectF(0, 0, t.frame_width, t.frame_height))
            origin = self.model.cursor_origin(t)
            if self.model.draws_remote_cursor() and origin is not None and self._cursor_qimage is not None:
                painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
                painter.drawImage(QPoint(*origin), self._cursor_qimage)
            if self.preedit_text:
                box = self._preedit_rect()
                painter.fillRect(box, PREEDIT_BACKGROUND)
                painter.setPen(QColor(0, 0, 0))
                painter.drawText(box, Qt.AlignmentFlag.AlignCenter, self.preedit_text)
        finally:
            painter.end()

    def _fill_around(self, painter: QPainter, picture: QRectF) -> None:
        width, height = float(self.width()), float(self.height())
        bands = (
            QRectF(0, 0, width, max(0.0, picture.top())),
            QRectF(0, picture.bottom(), width, max(0.0, height - picture.bottom())),
            QRectF(0, 0, max(0.0, picture.left()), height),
            QRectF(picture.right(), 0, max(0.0, width - picture.right()), height),
        )
        for band in bands:
            if band.width() > 0 and band.height() > 0:
                painter.fillRect(band, BACKGROUND)

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Follow the widget's size in the display model."""
        self.model.widget_size = (self.width(), self.height())
        self.model.device_pixel_ratio = self.devicePixelRatioF()
        self.model.set_scroll(*self.model.scroll)
        self.layout_changed.emit()
        super().resizeEvent(event)

    # -- keyboard ---------------------------------------------------------------------------------------

    def event(self, event: QEvent) -> bool:
        """Keep every key for the remote: no shortcut or focus chain may take one first."""
        if event.type() == QEvent.Type.ShortcutOverride:
            event.accept()
            return True
        return super().event(event)

    @staticmethod
    def _key_id(event: QKeyEvent) -> int:
        # The scan code pairs a release with its press even when Shift changed the key's meaning between
        # them; offscreen and synthetic events have none, then the key code has to do.
        scan = event.nativeScanCode()
        return (1 << 32) | scan if scan else int(event.key())

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """A key went down (auto-repeats are sent as repeated presses, as X11 servers do)."""
        event.accept()
        mapped = keysym_for_qt_key(int(event.key()), event.text(), event.modifiers())
        native = event.nativeVirtualKey()
        if self.use_native_keysyms and mapped is not None and not mapped[1] and is_named_keysym(native):
            mapped = (native, "")
        if mapped is None:
            if len(event.text()) > 1:
                self._commit_text(event.text())
            return
        keysym, text = mapped
        self.controller.key_press(self._key_id(event), keysym, text, modifiers_from_qt(event.modifiers()))

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        """A key went up (auto-repeat releases are not sent)."""
        event.accept()
        if event.isAutoRepeat():
            return
        self.controller.key_release(self._key_id(event), modifiers_from_qt(event.modifiers()))

    def inputMethodEvent(self, event: QInputMethodEvent) -> None:
        """Text committed by the agent's input method (Hangul, Kana...) goes to the host as text; the text
        still being composed is shown locally, since the host sees nothing of it until it is committed."""
        event.accept()
        if event.commitString():
            self._commit_text(event.commitString())
        if event.preeditString() != self.preedit_text:
            self.update(self._preedit_rect())
            self.preedit_text = event.preeditString()
            self.update(self._preedit_rect())

    def _preedit_rect(self) -> QRect:
        if not self.preedit_text:
            return QRect()
        metrics = self.fontMetrics()
        width = metrics.horizontalAdvance(self.preedit_text) + 2 * PREEDIT_PADDING
        height = metrics.height() + 2 * PREEDIT_PADDING
        return QRect(PREEDIT_PADDING, self.height() - height - PREEDIT_PADDING, width, height)

    def _commit_text(self, text: str) -> None:
        # Control characters never travel as text; what remains of the commit still does.
        cleaned = "".join(ch for ch in text if ch.isprintable() or ch == " ")
        try:
            self.controller.text_commit(cleaned)
        except InputError as exc:
            log.warning("committed text not sent: %s", exc)

    def inputMethodQuery(self, query: Qt.InputMethodQuery) -> object:
        """Tell the input method it may compose here."""
        if query == Qt.InputMethodQuery.ImEnabled:
            return True
        if query == Qt.InputMethodQuery.ImCursorRectangle:
            return QRect(0, 0, 1, 1)
        return super().inputMethodQuery(query)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        """The agent's desktop took the keyboard: release what the host holds."""
        self.controller.release_all()
        super().focusOutEvent(event)

    def focusNextPrevChild(self, next: bool) -> bool:
        """Tab belongs to the remote screen, not to focus navigation."""
        return False

    # -- pointer ----------------------------------------------------------------------------------------

    def _with_position(
        self, event: QMouseEvent | QWheelEvent, action: Callable[[float, float], None]
    ) -> None:
        pos: QPointF = event.position()
        action(pos.x(), pos.y())

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        """Pointer moves (with or without buttons held)."""
        self._with_position(event, self.controller.pointer_move)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        """A button went down."""
        button = _BUTTONS.get(event.button())
        if button is not None:
            self.setFocus(Qt.FocusReason.MouseFocusReason)
            self._with_position(event, lambda x, y: self.controller.button_press(button, x, y))
        event.accept()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        """Qt turns a double click's second press into this event: it is a press for the host."""
        self.mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        """A button went up."""
        button = _BUTTONS.get(event.button())
        if button is not None:
            self._with_position(event, lambda x, y: self.controller.button_release(button, x, y))
        event.accept()

    def wheelEvent(self, event: QWheelEvent) -> None:
        """The wheel turned: forwarded in whole notches."""
        delta = event.angleDelta()
        self._with_position(event, lambda x, y: self.controller.wheel(delta.x(), delta.y(), x, y))
        event.accept()


class RemoteScreenArea(QWidget):
    """The remote screen with the scroll bars that 1:1 mode needs when the picture is larger."""

    def __init__(self, screen: RemoteScreen, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.remote_screen = screen
        self.hbar = QScrollBar(Qt.Orientation.Horizontal)
        self.vbar = QScrollBar(Qt.Orientation.Vertical)
        for bar in (self.hbar, self.vbar):
            bar.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            bar.valueChanged.connect(self._scrolled)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(0)
        grid.addWidget(screen, 0, 0)
        grid.addWidget(self.vbar, 0, 1)
        grid.addWidget(self.hbar, 1, 0)
        screen.layout_changed.connect(self.sync_scroll_bars)
        self.sync_scroll_bars()

    def sync_scroll_bars(self) -> None:
        """Show and size the scroll bars for the current mode and sizes."""
        model = self.remote_screen.model
        t = model.transform()
        one_to_one = model.mode is ViewMode.ONE_TO_ONE
        for bar, maximum, value, page in (
            (self.hbar, t.max_scroll_x, t.scroll_x, t.widget_width),
            (self.vbar, t.max_scroll_y, t.scroll_y, t.widget_height),
        ):
            bar.blockSignals(True)
            bar.setRange(0, maximum)
            bar.setPageStep(max(1, page))
            bar.setSingleStep(max(1, page // 20))
            bar.setValue(value)
            bar.blockSignals(False)
            bar.setVisible(one_to_one and maximum > 0)

    def _scrolled(self) -> None:
        self.remote_screen.model.set_scroll(self.hbar.value(), self.vbar.value())
        self.remote_screen.update()
