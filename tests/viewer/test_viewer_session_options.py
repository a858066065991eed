"""The viewer's side of the host's ``session.options`` and 마우스 추적: the announcement checked, the Options
menu's notices, the tracking entry, and where the file-transfer window opens (Qt offscreen)."""

from __future__ import annotations

import json
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from opensupport.viewer.ui.options import SessionOptions, parse_session_options
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDockWidget, QLabel


@pytest.fixture(scope="module")
def app() -> QApplication:
    return QApplication.instance() or QApplication([])  # type: ignore[return-value]


def test_the_announcement_is_checked_whole() -> None:
    good = {"file_transfer_viewer_mode": True, "not_applicable": {"driver_mode": "Windows only"}}
    parsed = parse_session_options(json.dumps(good).encode())
    assert parsed == SessionOptions(True, {"driver_mode": "Windows only"})
    assert parsed.notices() == ["드라이버 모드 사용 — Windows only"]
    for bad in (
        b"\xff",
        b"[1]",
        b'{"file_transfer_viewer_mode": 1}',
        b'{"not_applicable": {"driver_mode": 5}}',
        json.dumps({"not_applicable": {"x": "y" * 301}}).encode(),
        json.dumps({"not_applicable": {str(i): "" for i in range(33)}}).encode(),
    ):
        with pytest.raises(ValueError):
            parse_session_options(bad)


def test_menu_lists_the_notices_disabled_and_follows_the_tracking_state(app: QApplication) -> None:
    from opensupport.viewer.ui.window import ViewerWindow

    window = ViewerWindow()
    asked: list[bool] = []
    window.cursor_tracking_requested.connect(asked.append)
    assert not window.tracking_action.isEnabled()  # nothing known before a host says
    window.bridge.cursor_tracking_changed.emit(False)
    window.bridge.session_options_changed.emit(SessionOptions(False, {"remote_printer": "Windows only: x"}))
    app.processEvents()
    assert window.tracking_action.isEnabled() and not window.tracking_action.isChecked()
    notices = [a for a in window.not_applicable_actions if not a.isSeparator()]
    assert [a.text() for a in notices] == ["원격프린터 — Windows only: x"] and not notices[0].isEnabled()
    window.tracking_action.trigger()
    assert asked == [True]
    window.remote_screen.set_cursor_position(5, 6)
    window.set_cursor_tracking(False)
    assert window.model.cursor_position is None and not window.tracking_action.isChecked()
    window.set_session_options(SessionOptions())
    assert window.not_applicable_actions == [] and window.options_menu.actions() == [window.tracking_action]
    window.close()


def test_the_transfer_window_docks_or_floats(app: QApplication) -> None:
    from opensupport.viewer.tools.file_panel import place_transfer_window
    from opensupport.viewer.ui.window import ViewerWindow

    window = ViewerWindow()
    window.show()
    panel = QLabel("transfers")
    dock = QDockWidget("파일 전송", window)
    dock.setWidget(panel)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    app.processEvents()
    assert panel.window() is window
    place_transfer_window(dock, docked=False)
    app.processEvents()
    assert dock.isFloating() and dock.isWindow() and panel.window() is dock and dock.isVisible()
    assert dock.geometry().left() > window.frameGeometry().right()  # beside the viewer, not over it
    place_transfer_window(dock, docked=True)
    app.processEvents()
    assert not dock.isFloating() and panel.window() is window
    assert window.dockWidgetArea(dock) == Qt.DockWidgetArea.RightDockWidgetArea
    window.close()


def test_under_control_with_tracking_the_customers_own_moves_are_drawn_not_the_agents(
    app: QApplication,
) -> None:
    import numpy as np
    from opensupport.viewer.decode import FrameUpdate
    from opensupport.viewer.display import CursorImage, DisplayModel, ViewMode
    from opensupport.viewer.input import InputController
    from opensupport.viewer.ui.screen import RemoteScreen
    from viewer_helpers import RecordingSink, grab_pixels

    frame = np.zeros((60, 80, 4), np.uint8)
    frame[..., 1] = 200  # green
    frame[..., 3] = 255
    model = DisplayModel(mode=ViewMode.ONE_TO_ONE)
    screen = RemoteScreen(InputController(model, RecordingSink()))
    screen.resize(80, 60)
    screen.show()
    model.store.apply(frame, [])
    screen.on_frame_update(FrameUpdate(1, ((0, 0, 80, 60),), True, 80, 60, 0))
    red = np.zeros((4, 4, 4), np.uint8)
    red[...] = (0, 0, 255, 255)
    screen.set_cursor_shape(CursorImage(4, 4, 0, 0, red.tobytes()))

    def red_at(x: int, y: int) -> bool:
        return bool((grab_pixels(screen)[y : y + 4, x : x + 4, :3] == (0, 0, 255)).all())

    screen.set_cursor_position(30, 20)  # the customer moved it, tracking off: nothing drawn
    assert not red_at(30, 20)
    model.cursor_tracking = True
    screen.set_cursor_position(31, 21)  # the customer's own move: drawn
    assert red_at(31, 21)
    screen.controller.pointer_move(50, 40)  # the agent's move comes back from the host: not drawn twice
    screen.set_cursor_position(50, 40)
    assert not red_at(50, 40) and not red_at(31, 21)
    screen.close()
