"""Run as a program by the overlay test: the host's drawing overlay on a real X display.

argv[1] is JSON: {"geometry": [x, y, w, h], "strokes": [[shape, rgba, width, [[x, y], ...], text], ...]}.
Commands arrive on stdin as JSON lines ({"drawing_mode": bool}, {"stroke": [...]}, {"clear": true});
after each the probe prints {"ready": n}. Strokes the customer draws in drawing mode are printed as
{"customer": [shape, rgba, width, points]}.
"""

from __future__ import annotations

import json
import os
import sys
import threading

os.environ["QT_QPA_PLATFORM"] = "xcb"

from opensupport.host.overlay import DrawingOverlay
from opensupport.protocol import DrawingClear, DrawingStroke, StrokeShape
from opensupport.tools.drawing import Drawing, Origin
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication


def stroke(sid: int, spec: list) -> DrawingStroke:
    shape, rgba, width, points, text = spec
    return DrawingStroke(sid, rgba, width, tuple(tuple(p) for p in points), StrokeShape(shape), text)


class Commands(QObject):
    line = Signal(str)


def main() -> int:
    app = QApplication(sys.argv[:1])
    config = json.loads(sys.argv[1])
    drawing = Drawing()

    def customer(event: DrawingStroke | DrawingClear) -> None:
        drawing.apply(Origin.CUSTOMER, event)
        if isinstance(event, DrawingStroke):
            print(
                json.dumps({"customer": [int(event.shape), event.color, event.width, event.points]}),
                flush=True,
            )

    overlay = DrawingOverlay(drawing, tuple(config["geometry"]), on_customer_stroke=customer)
    for i, spec in enumerate(config["strokes"], 1):
        drawing.apply(Origin.AGENT, stroke(i, spec))
    count = [0]

    def ready() -> None:
        count[0] += 1
        print(
            json.dumps(
                {"ready": count[0], "visible": overlay.isVisible(), "translucent": overlay.translucent}
            ),
            flush=True,
        )

    commands = Commands()

    def run(text: str) -> None:
        command = json.loads(text)
        if "drawing_mode" in command:
            overlay.set_drawing_mode(command["drawing_mode"])
        if "stroke" in command:
            drawing.apply(Origin.AGENT, stroke(1000 + count[0], command["stroke"]))
        if "clear" in command:
            drawing.apply(Origin.AGENT, DrawingClear())
        QTimer.singleShot(400, ready)

    commands.line.connect(run)

    def read() -> None:
        for text in sys.stdin:
            commands.line.emit(text)
        app.quit()

    threading.Thread(target=read, daemon=True).start()
    QTimer.singleShot(600, ready)
    return int(app.exec())


if __name__ == "__main__":
    sys.exit(main())
