"""Painting strokes with Qt: one renderer for the host's overlay and the viewer's drawing layer.

``paint_strokes`` maps host screen coordinates through (scale, offset) so the same strokes land on the
customer's real screen (scale 1, the overlay's origin) and on the agent's scaled picture.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Sequence

from opensupport.protocol import DrawingStroke, StrokeShape
from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPainterPath, QPen, QPolygonF

from .drawing import stroke_growth

__all__ = ["StrokeCanvas", "ViewMapping", "paint_strokes", "qcolor"]


class ViewMapping:
    """Host screen pixel (x, y) -> painter coordinates ``(x * scale + dx, y * scale_y + dy)``
    (``scale_y`` defaults to ``scale``). Widths and text sizes scale by ``scale``."""

    def __init__(
        self, scale: float = 1.0, dx: float = 0.0, dy: float = 0.0, scale_y: float | None = None
    ) -> None:
        self.scale, self.dx, self.dy = scale, dx, dy
        self.scale_y = scale if scale_y is None else scale_y

    def key(self) -> tuple[float, float, float, float]:
        """What identifies the mapping (a canvas repaints everything when it changes)."""
        return (self.scale, self.dx, self.dy, self.scale_y)

    def point(self, x: int, y: int) -> QPointF:
        """The painter point of a host pixel."""
        return QPointF(x * self.scale + self.dx, y * self.scale_y + self.dy)


def qcolor(rgba: int) -> QColor:
    """0xRRGGBBAA as a QColor."""
    return QColor((rgba >> 24) & 0xFF, (rgba >> 16) & 0xFF, (rgba >> 8) & 0xFF, rgba & 0xFF)


class StrokeCanvas:
    """The strokes painted into an image that is kept up to date by painting only what is new.

    A new stroke, and a stroke that only grew (a pen stroke being drawn), are painted on top of what is
    there; anything else (a clear, a moved line, a dropped stroke, another size or mapping) repaints the
    whole image. Painting a hundred strokes of a hundred points afresh costs about 16 ms at 1920x1080
    here; a growing stroke costs its new segment."""

    def __init__(self) -> None:
        self.image = QImage()
        self._painted: dict[Hashable, DrawingStroke] = {}
        self._mapping_key: tuple[float, float, float, float] | None = None
        #: How many updates painted everything afresh (diagnostics and tests).
        self.full_renders = 0

    def invalidate(self) -> None:
        """Paint everything afresh next time."""
        self._mapping_key = None

    def update(
        self, strokes: Sequence[tuple[Hashable, DrawingStroke]], size: QSize, mapping: ViewMapping
    ) -> QImage:
        """Bring the image (``size``, premultiplied ARGB) up to ``strokes`` (keyed, in drawing order)."""
        full = self.image.size() != size or self._mapping_key != mapping.key()
        if full:
            self.image = QImage(size, QImage.Format.Format_ARGB32_Premultiplied)
            self._mapping_key = mapping.key()
        additions: list[DrawingStroke] = []
        keys = {key for key, _ in strokes}
        full = full or any(key not in keys for key in self._painted)
        for key, stroke in [] if full else strokes:
            old = self._painted.get(key)
            if old is None:
                additions.append(stroke)
            elif old != stroke:
                grown = stroke_growth(old, stroke)
                if grown is None:
                    full = True
                    break
                additions.append(grown)
        if full:
            self.image.fill(Qt.GlobalColor.transparent)
            additions = [stroke for _, stroke in strokes]
            self.full_renders += 1
        if additions and not self.image.isNull():
            painter = QPainter(self.image)
            try:
                paint_strokes(painter, additions, mapping)
            finally:
                painter.end()
        self._painted = dict(strokes)
        return self.image


def paint_strokes(painter: QPainter, strokes: Iterable[DrawingStroke], mapping: ViewMapping) -> None:
    """Paint ``strokes`` in order."""
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    for stroke in strokes:
        _paint_one(painter, stroke, mapping)


def _paint_one(painter: QPainter, stroke: DrawingStroke, m: ViewMapping) -> None:
    color = qcolor(stroke.color)
    width = max(1.0, stroke.width * m.scale)
    pen = QPen(color, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
    if stroke.shape is StrokeShape.HIGHLIGHTER:
        pen.setCapStyle(Qt.PenCapStyle.FlatCap)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    points = [m.point(x, y) for x, y in stroke.points]
    match stroke.shape:
        case StrokeShape.PEN | StrokeShape.HIGHLIGHTER:
            if len(points) == 1:
                painter.drawPoint(points[0])
            else:
                path = QPainterPath(points[0])
                for p in points[1:]:
                    path.lineTo(p)
                painter.drawPath(path)
        case StrokeShape.LINE:
            painter.drawLine(points[0], points[1])
        case StrokeShape.RECTANGLE:
            painter.drawRect(QRectF(points[0], points[1]).normalized())
        case StrokeShape.ARROW:
            tail, head = points
            painter.drawLine(tail, head)
            angle = math.atan2(head.y() - tail.y(), head.x() - tail.x())
            size = max(10.0, 4 * width)
            wing = math.radians(28)
            left = QPointF(head.x() - size * math.cos(angle - wing), head.y() - size * math.sin(angle - wing))
            right = QPointF(
                head.x() - size * math.cos(angle + wing), head.y() - size * math.sin(angle + wing)
            )
            painter.setBrush(color)
            painter.drawPolygon(QPolygonF([head, left, right]))
        case StrokeShape.TEXT:
            font = QFont()
            font.setPixelSize(max(1, round(stroke.width * m.scale)))
            painter.setFont(font)
            metrics = painter.fontMetrics()
            origin = points[0]
            for i, line in enumerate(stroke.text.split("\n")):
                baseline = origin.y() + metrics.ascent() + i * metrics.lineSpacing()
                painter.drawText(QPointF(origin.x(), baseline), line)
