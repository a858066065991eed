"""The overlay's stroke image is kept up to date by painting only what is new (Qt offscreen)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator

import numpy as np
import pytest
from opensupport.host.overlay import DrawingOverlay
from opensupport.protocol import DrawingClear, DrawingStroke, StrokeShape
from opensupport.tools.drawing import Drawing, Origin, StrokeBuilder
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication


@pytest.fixture(scope="module")
def app() -> Iterator[QApplication]:
    instance = QApplication.instance() or QApplication([])
    assert isinstance(instance, QApplication)
    yield instance


def alpha(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_ARGB32)
    raw = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return raw[:, : image.width() * 4].reshape(image.height(), image.width(), 4)[:, :, 3].copy()


def test_growing_strokes_are_painted_incrementally_and_match_a_full_render(app: QApplication) -> None:
    drawing = Drawing()
    overlay = DrawingOverlay(drawing, (0, 0, 640, 400), translucent=False)
    builder = StrokeBuilder()
    drawing.apply(
        Origin.AGENT, DrawingStroke(1, 0x00FF00FF, 6, ((10, 10), (300, 200)), StrokeShape.RECTANGLE)
    )
    overlay.refresh()
    assert overlay.canvas.full_renders == 1
    stroke = builder.begin(50, 300)
    for i in range(1, 120):
        stroke = builder.move(50 + i * 4, 300 + int(40 * np.sin(i / 8))) or stroke
        drawing.apply(Origin.CUSTOMER, stroke)
        overlay.refresh()
    assert overlay.canvas.full_renders == 1  # only new segments were painted
    incremental = alpha(overlay.canvas.image)
    drawing.apply(Origin.AGENT, DrawingStroke(2, 0xFF0000FF, 3, ((0, 0), (5, 5)), StrokeShape.LINE))
    overlay.refresh()
    assert overlay.canvas.full_renders == 1  # a new stroke goes on top
    drawing.apply(Origin.AGENT, DrawingStroke(2, 0xFF0000FF, 3, ((0, 0), (600, 5)), StrokeShape.LINE))
    overlay.refresh()
    assert overlay.canvas.full_renders == 2  # a line that moved: painted afresh
    drawing.apply(Origin.AGENT, DrawingClear())
    for key_stroke in [(Origin.AGENT, DrawingStroke(1, 0x00FF00FF, 6, ((10, 10), (300, 200)), StrokeShape.RECTANGLE)),
                       (Origin.CUSTOMER, stroke)]:  # fmt: skip
        drawing.apply(*key_stroke)
    overlay.canvas.invalidate()
    overlay.refresh()
    fresh = alpha(overlay.canvas.image)
    assert np.count_nonzero((incremental > 0) != (fresh > 0)) < 0.001 * fresh.size
    assert np.count_nonzero(fresh) > 2000
    overlay.close()
