"""부분공유 in the applet: the customer picks what the agent sees — the whole screen, one window, or a region.

:class:`SharePicker` is the dialog: the whole screen, a list of the top-level windows with their titles
(:func:`~opensupport.host.capture.windows.list_windows`), or "drag a region", which hides the dialog and
covers the whole X screen with :class:`RegionOverlay`, on which the customer drags a rectangle. A drag
was chosen over typed coordinates because customers do not know coordinates; Escape (or a drag too small
to be meant) brings the dialog back. The choice is a :class:`ShareChoice`; the window applies it to the
session (whose policy may refuse it) and says what is shared.

Without a compositor a window cannot be see-through, so the overlay paints a frozen picture of the screen
(dimmed, the dragged rectangle bright), as the drawing overlay does in drawing mode.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from PySide6.QtCore import QPoint, QRect, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QGuiApplication,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from ..capture import Rect
from ..capture.windows import TopLevelWindow, list_windows, screen_rect
from ..errors import HostError
from ..overlay import compositing_available

__all__ = ["MIN_REGION", "RegionOverlay", "ShareChoice", "SharePicker"]

log = logging.getLogger(__name__)

#: The smallest region side (pixels) a drag may choose: a shorter drag is a slip, not a choice.
MIN_REGION = 16


@dataclass(frozen=True)
class ShareChoice:
    """What the customer chose: ``kind`` is "screen", "window" (``window_id``, ``title``) or "region"
    (``rect``, root coordinates)."""

    kind: str
    window_id: int | None = None
    title: str = ""
    rect: Rect | None = None

    def describe(self) -> tuple[str, str]:
        """What is shared, in Korean and in English: ("창 'xterm'", "window 'xterm'")."""
        if self.kind == "window":
            return f"창 '{self.title}'", f"window '{self.title}'"
        if self.kind == "region" and self.rect is not None:
            r = self.rect
            where = f"{r.w}×{r.h} ({r.x}, {r.y})"
            return f"영역 {where}", f"region {where}"
        return "전체 화면", "the whole screen"


class RegionOverlay(QWidget):
    """A frameless window over the whole X screen on which the customer drags the region to share.

    ``selected`` carries the :class:`Rect` in root coordinates; ``cancelled`` follows Escape, a right
    click or a drag smaller than :data:`MIN_REGION`.
    """

    selected = Signal(object)
    cancelled = Signal()

    def __init__(self, screen: Rect, *, translucent: bool | None = None) -> None:
        super().__init__(None)
        self.screen_area = screen
        self.translucent = compositing_available() if translucent is None else translucent
        self.setWindowFlags(
            Qt.WindowType.FramelessWindowHint
            | Qt.WindowType.WindowStaysOnTopHint
            | Qt.WindowType.X11BypassWindowManagerHint
        )
        self.setAttribute(Qt.WidgetAttribute.WA_TranslucentBackground, self.translucent)
        self.setWindowTitle("OpenSupport — 공유할 영역 / region to share")
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setMouseTracking(False)
        ratio = self._ratio()
        # Qt places widgets in device-independent pixels; the X root counts device pixels.
        self.setGeometry(
            QRect(
                round(screen.x / ratio),
                round(screen.y / ratio),
                round(screen.w / ratio),
                round(screen.h / ratio),
            )
        )
        self._frozen: QPixmap | None = None
        self._start: QPoint | None = None
        self._end: QPoint | None = None

    def _ratio(self) -> float:
        screen = QGuiApplication.primaryScreen()
        return float(screen.devicePixelRatio()) if screen is not None else 1.0

    def begin(self) -> None:
        """Show the overlay and take the pointer and the keyboard until the customer is done."""
        if not self.translucent:
            screen = QGuiApplication.primaryScreen()
            if screen is not None:
                g = self.geometry()
                self._frozen = screen.grabWindow(0, g.x(), g.y(), g.width(), g.height())
        self.show()
        self.raise_()
        self.activateWindow()
        self.grabMouse()
        self.grabKeyboard()

    def finish(self) -> None:
        """Let go of the pointer and keyboard and hide (the picker deletes the overlay)."""
        self.releaseMouse()
        self.releaseKeyboard()
        self._frozen = None
        self.hide()

    def dragged(self) -> Rect | None:
        """The rectangle dragged so far in root coordinates (None before a press)."""
        if self._start is None or self._end is None:
            return None
        ratio = self._ratio()
        g = self.geometry()
        x0, x1 = sorted((self._start.x(), self._end.x()))
        y0, y1 = sorted((self._start.y(), self._end.y()))
        left, top = round((g.x() + x0) * ratio), round((g.y() + y0) * ratio)
        right, bottom = round((g.x() + x1) * ratio), round((g.y() + y1) * ratio)
        rect = Rect(left, top, right - left, bottom - top)
        return rect.intersect(self.screen_area)  # never beyond the screen, whatever the pointer did

    # -- events ---------------------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.RightButton:
            self._start = self._end = None
            self.cancelled.emit()
            return
        if event.button() == Qt.MouseButton.LeftButton:
            self._start = self._end = event.position().toPoint()
            self.update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._start is not None:
            self._end = event.position().toPoint()
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self._start is None:
            return
        self._end = event.position().toPoint()
        rect = self.dragged()
        self._start = self._end = None
        self.update()
        if rect is None or rect.w < MIN_REGION or rect.h < MIN_REGION:
            self.cancelled.emit()
        else:
            self.selected.emit(rect)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self._start = self._end = None
            self.cancelled.emit()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            if self._frozen is not None:
                painter.drawPixmap(0, 0, self._frozen)
            elif self.translucent:
                painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Source)
            shade = QColor(0, 0, 0, 110)
            if self._start is None or self._end is None:
                painter.fillRect(self.rect(), shade)
                painter.setPen(QColor("white"))
                painter.drawText(
                    self.rect(),
                    Qt.AlignmentFlag.AlignCenter,
                    "공유할 영역을 끌어서 선택하세요 (Esc: 취소)\nDrag the region to share (Esc: cancel)",
                )
                return
            chosen = QRect(self._start, self._end).normalized()
            # Shade everything but the chosen rectangle (four bands around it).
            w, h = self.width(), self.height()
            for band in (
                QRect(0, 0, w, chosen.top()),
                QRect(0, chosen.bottom() + 1, w, h - chosen.bottom() - 1),
                QRect(0, chosen.top(), chosen.left(), chosen.height()),
                QRect(chosen.right() + 1, chosen.top(), w - chosen.right() - 1, chosen.height()),
            ):
                if band.isValid():
                    painter.fillRect(band, shade)
            painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceOver)
            painter.setPen(QPen(QColor("#c62828"), 2))
            painter.drawRect(chosen)
        finally:
            painter.end()


class SharePicker(QDialog):
    """The "what to share" dialog; ``chosen`` carries the customer's :class:`ShareChoice`."""

    chosen = Signal(object)

    def __init__(self, display: str | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.display = display
        self.setWindowTitle("공유 범위 / What to share")
        self.whole = QRadioButton("전체 화면 / The whole screen")
        self.one_window = QRadioButton("창 하나 / One window")
        self.region = QRadioButton("영역 / A region of the screen")
        self.kinds = QButtonGroup(self)
        for button in (self.whole, self.one_window, self.region):
            self.kinds.addButton(button)
        self.whole.setChecked(True)
        self.windows = QListWidget()
        self.windows.itemSelectionChanged.connect(lambda: self.one_window.setChecked(True))
        self.windows.itemDoubleClicked.connect(lambda _item: self.accept())
        self.refresh_button = QPushButton("새로 고침 / Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        self.drag_button = QPushButton("화면에서 영역 끌기… / Drag a region…")
        self.drag_button.clicked.connect(self.drag_region)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setVisible(False)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("상담원에게 보여줄 화면을 고르세요 / Choose what the agent sees:"))
        layout.addWidget(self.whole)
        layout.addWidget(self.one_window)
        layout.addWidget(self.windows, 1)
        layout.addWidget(self.refresh_button)
        layout.addWidget(self.region)
        layout.addWidget(self.drag_button)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.overlay: RegionOverlay | None = None
        self.listed: list[TopLevelWindow] = []
        self.resize(420, 420)
        self.refresh()

    def refresh(self) -> None:
        """List the top-level windows again."""
        self.windows.clear()
        try:
            self.listed = list_windows(self.display)
        except HostError as exc:
            self.listed = []
            self._say(f"창 목록을 읽을 수 없습니다 / Cannot list the windows: {exc}")
        for window in self.listed:
            item = QListWidgetItem(window.title)
            item.setData(Qt.ItemDataRole.UserRole, window.window_id)
            item.setToolTip(f"{window.rect.w}×{window.rect.h} ({window.rect.x}, {window.rect.y})")
            self.windows.addItem(item)

    def titles(self) -> list[str]:
        """The titles listed, in order."""
        return [self.windows.item(i).text() for i in range(self.windows.count())]

    def select_window(self, title: str) -> None:
        """Select the listed window titled ``title`` (the first such). Raises LookupError if none is."""
        for i in range(self.windows.count()):
            if self.windows.item(i).text() == title:
                self.windows.setCurrentRow(i)
                return
        raise LookupError(f"no window titled {title!r} is listed")

    def _say(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(True)

    def accept(self) -> None:
        """OK: the whole screen, or the selected window (a window kind with none selected asks for one)."""
        if self.region.isChecked():
            self.drag_region()
            return
        if self.one_window.isChecked():
            item = self.windows.currentItem()
            if item is None:
                self._say("공유할 창을 고르세요 / Choose the window to share")
                return
            choice = ShareChoice(
                "window", window_id=int(item.data(Qt.ItemDataRole.UserRole)), title=item.text()
            )
        else:
            choice = ShareChoice("screen")
        super().accept()
        self.chosen.emit(choice)

    # -- the region -----------------------------------------------------------------------------------------
    def drag_region(self) -> None:
        """Hide the dialog and let the customer drag the region on the whole screen."""
        self.region.setChecked(True)
        try:
            area = screen_rect(self.display)
        except HostError as exc:
            self._say(f"화면을 읽을 수 없습니다 / Cannot read the screen: {exc}")
            return
        self.hide()
        self.overlay = RegionOverlay(area)
        self.overlay.selected.connect(self._region_selected)
        self.overlay.cancelled.connect(self._region_cancelled)
        self.overlay.begin()

    def _end_overlay(self) -> None:
        if self.overlay is not None:
            self.overlay.finish()
            self.overlay.deleteLater()
            self.overlay = None

    def _region_selected(self, rect: Rect) -> None:
        self._end_overlay()
        super().accept()
        self.chosen.emit(ShareChoice("region", rect=rect))

    def _region_cancelled(self) -> None:
        self._end_overlay()
        self.show()

    def done(self, result: int) -> None:
        self._end_overlay()
        super().done(result)
