"""Run as a program by the region overlay test: 부분공유's region overlay on a real X display (xcb).

Prints {"ready": n, "translucent": bool} each time the overlay is shown, {"cancelled": true} when the
customer backs out (the overlay is shown again), and {"selected": [x, y, w, h]} when a region is chosen
(then it exits).
"""

from __future__ import annotations

import json
import os
import sys

os.environ["QT_QPA_PLATFORM"] = "xcb"

from opensupport.host.capture import Rect
from opensupport.host.capture.windows import screen_rect
from opensupport.host.ui.share_picker import RegionOverlay
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication


def main() -> int:
    app = QApplication(sys.argv[:1])
    overlay = RegionOverlay(screen_rect(None))
    shown = [0]

    def begin() -> None:
        overlay.begin()
        shown[0] += 1
        QTimer.singleShot(
            500,
            lambda: print(json.dumps({"ready": shown[0], "translucent": overlay.translucent}), flush=True),
        )

    def cancelled() -> None:
        overlay.finish()
        print(json.dumps({"cancelled": True}), flush=True)
        QTimer.singleShot(300, begin)

    def selected(rect: Rect) -> None:
        overlay.finish()
        print(json.dumps({"selected": list(rect)}), flush=True)
        app.quit()

    overlay.cancelled.connect(cancelled)
    overlay.selected.connect(selected)
    QTimer.singleShot(0, begin)
    return int(app.exec())


if __name__ == "__main__":
    sys.exit(main())
