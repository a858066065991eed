"""Run as a program by the Xvfb test: a viewer window on the real X display whose input sink prints every
event as one line of JSON, so that the test can drive it with real X input (xdotool, XTEST)."""

from __future__ import annotations

import dataclasses
import json
import os
import sys

os.environ["QT_QPA_PLATFORM"] = "xcb"

import numpy as np
from opensupport.viewer.decode import FrameUpdate
from opensupport.viewer.display import DisplayModel
from opensupport.viewer.events import InputEvent, InputSink
from opensupport.viewer.ui.window import ViewerWindow
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication


class PrintingSink(InputSink):
    def send(self, event: InputEvent) -> None:
        fields = {k: (int(v) if isinstance(v, int) else v) for k, v in dataclasses.asdict(event).items()}
        print(json.dumps({"type": type(event).__name__, **fields}), flush=True)


def main() -> int:
    app = QApplication(sys.argv[:1])
    window = ViewerWindow(DisplayModel(), PrintingSink())
    frame = np.zeros((600, 800, 4), np.uint8)
    frame[..., 3] = 255
    window.model.store.apply(frame, [])
    window.remote_screen.on_frame_update(FrameUpdate(1, ((0, 0, 800, 600),), True, 800, 600, 0))
    window.setGeometry(0, 0, 900, 700)
    window.show()

    def ready() -> None:
        window.activateWindow()
        window.remote_screen.setFocus()
        origin = window.remote_screen.mapToGlobal(window.remote_screen.rect().topLeft())
        size = window.remote_screen.size()
        print(json.dumps({"ready": [origin.x(), origin.y(), size.width(), size.height()]}), flush=True)

    QTimer.singleShot(300, ready)
    return int(app.exec())


if __name__ == "__main__":
    sys.exit(main())
