"""Helpers shared by the viewer's tests: a recording input sink, reading a widget's pixels."""

from __future__ import annotations

import numpy as np
from opensupport.viewer.events import InputEvent, InputSink


class RecordingSink(InputSink):
    """Keeps every event it is sent, in order."""

    def __init__(self) -> None:
        self.events: list[InputEvent] = []

    def send(self, event: InputEvent) -> None:
        self.events.append(event)


def grab_pixels(widget: object) -> np.ndarray:
    """What ``widget`` renders, as an (h, w, 4) BGRA array (alpha 255)."""
    from PySide6.QtGui import QImage

    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)  # type: ignore[attr-defined]
    w, h = image.width(), image.height()
    raw = np.frombuffer(image.constBits(), np.uint8).reshape(h, image.bytesPerLine() // 4, 4)
    return raw[:, :w].copy()
