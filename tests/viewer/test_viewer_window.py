"""The viewer window offscreen: toolbar actions, the Send-keys menu, monitors, the status line."""

from __future__ import annotations

import re
import threading
import time

import numpy as np
import pytest
from opensupport.viewer.decode import FrameUpdate
from opensupport.viewer.display import CursorImage, DisplayModel, Monitor, ViewMode
from opensupport.viewer.events import KeyPress, KeyRelease, Keysym, Modifier, SelectMonitor
from opensupport.viewer.ui.window import ViewerWindow
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from viewer_helpers import RecordingSink

pytestmark = pytest.mark.usefixtures("qapp")


def make_window(sink: RecordingSink, frame_size: tuple[int, int] = (1600, 1000)) -> ViewerWindow:
    window = ViewerWindow(DisplayModel(), sink)
    window.resize(800, 600)
    window.show()
    QApplication.processEvents()
    w, h = frame_size
    frame = np.zeros((h, w, 4), np.uint8)
    frame[..., 3] = 255
    window.model.store.apply(frame, [])
    window.remote_screen.on_frame_update(FrameUpdate(1, ((0, 0, w, h),), True, w, h, 0))
    QApplication.processEvents()
    return window


def menu_action(menu: object, label: str) -> object:
    for action in menu.actions():  # type: ignore[attr-defined]
        if action.text() == label:
            return action
    raise AssertionError(f"no menu entry {label!r}")


def test_send_keys_menu_sends_ctrl_alt_del_in_order(sink: RecordingSink) -> None:
    window = make_window(sink)
    menu_action(window.send_keys_menu, "Ctrl+Alt+Del").trigger()
    assert sink.events == [
        KeyPress(Keysym.CONTROL_L, "", Modifier.CONTROL),
        KeyPress(Keysym.ALT_L, "", Modifier.CONTROL | Modifier.ALT),
        KeyPress(Keysym.DELETE, "", Modifier.CONTROL | Modifier.ALT),
        KeyRelease(Keysym.DELETE, "", Modifier.CONTROL | Modifier.ALT),
        KeyRelease(Keysym.ALT_L, "", Modifier.CONTROL),
        KeyRelease(Keysym.CONTROL_L, "", Modifier.NONE),
    ]
    sink.events.clear()
    menu_action(window.send_keys_menu, "Alt+F4").trigger()
    menu_action(window.send_keys_menu, "Win").trigger()
    assert [(type(e).__name__, e.keysym) for e in sink.events] == [
        ("KeyPress", Keysym.ALT_L),
        ("KeyPress", Keysym.F1 + 3),
        ("KeyRelease", Keysym.F1 + 3),
        ("KeyRelease", Keysym.ALT_L),
        ("KeyPress", Keysym.SUPER_L),
        ("KeyRelease", Keysym.SUPER_L),
    ]
    labels = [a.text() for a in window.send_keys_menu.actions()]
    assert {"Alt+Tab", "Print Screen", "Ctrl+Shift+Esc", "Win+L"} <= set(labels)
    window.close()


def test_view_only_action_blocks_input_and_the_send_keys_menu(sink: RecordingSink) -> None:
    window = make_window(sink)
    window.view_only_action.trigger()
    assert window.model.view_only and not window.send_keys_button.isEnabled()
    menu_action(window.send_keys_menu, "Ctrl+Alt+Del").trigger()
    QTest.keyClick(window.remote_screen, Qt.Key.Key_Q)
    QTest.mouseClick(
        window.remote_screen, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(300, 200)
    )
    assert sink.events == []
    window.refresh_status()
    assert window.stats_label.text().endswith("view only")
    window.view_only_action.trigger()
    assert not window.model.view_only and window.send_keys_button.isEnabled()
    window.close()


def test_fit_and_one_to_one_actions(sink: RecordingSink) -> None:
    window = make_window(sink)
    screen = window.remote_screen
    assert window.model.mode is ViewMode.FIT and window.fit_action.isChecked()
    assert not window.area.hbar.isVisible()
    window.one_to_one_action.trigger()
    QApplication.processEvents()
    assert window.model.mode is ViewMode.ONE_TO_ONE and not window.fit_action.isChecked()
    assert window.area.hbar.isVisible() and window.area.vbar.isVisible()
    t = screen.model.transform()
    assert window.area.hbar.maximum() == t.max_scroll_x == 1600 - screen.width()
    window.area.hbar.setValue(300)
    window.area.vbar.setValue(100)
    assert screen.model.transform().frame_pixel_at(0, 0) == (300, 100)
    window.refresh_status()
    assert " · 1:1 · 1600×1000" in window.stats_label.text()
    window.fit_action.trigger()
    QApplication.processEvents()
    assert window.model.mode is ViewMode.FIT and not window.area.hbar.isVisible()
    assert screen.model.transform().picture_rect()[2] == screen.width()
    window.close()


def test_full_screen_toggle(sink: RecordingSink) -> None:
    window = make_window(sink)
    window.full_screen_action.trigger()
    QApplication.processEvents()
    assert window.isFullScreen()
    window.full_screen_action.trigger()
    QApplication.processEvents()
    assert not window.isFullScreen()
    window.close()


def test_monitor_switch_sends_a_request(sink: RecordingSink) -> None:
    window = make_window(sink)
    assert not window.monitor_button.isEnabled()  # no monitor list from the host yet
    window.set_monitors([Monitor(0, 0, 0, 1600, 1000, primary=True), Monitor(1, 1600, 0, 1280, 1024)], 0)
    assert window.monitor_button.isEnabled()
    labels = [a.text() for a in window.monitor_menu.actions()]
    assert labels == ["0: 1600×1000 (primary)", "1: 1280×1024"]
    window.view_only_action.trigger()  # switching monitors is viewing, allowed in view-only
    menu_action(window.monitor_menu, "1: 1280×1024").trigger()
    assert sink.events == [SelectMonitor(1)]
    assert window.model.monitors.selected == 1
    assert [a.isChecked() for a in window.monitor_menu.actions()] == [False, True]
    with pytest.raises(KeyError):
        window.select_monitor(5)
    window.close()


def test_status_line_shows_rates_and_connection(sink: RecordingSink) -> None:
    window = make_window(sink)
    window.model.meter.record_frame(250_000)
    window.model.meter.record_latency(0.012)
    window.refresh_status()
    text = window.stats_label.text()
    assert re.fullmatch(r"\d+\.\d fps · latency 12 ms · [\d.]+ [kM]B/s · fit · 1600×1000", text), text
    window.set_connection_status("Waiting for the customer (code ABC-123)")
    assert window.connection_label.text() == "Waiting for the customer (code ABC-123)"
    window.close()


def test_the_session_bridge_carries_session_news_from_any_thread(sink: RecordingSink) -> None:
    window = make_window(sink)
    pixels = np.zeros((4, 4, 4), np.uint8)
    pixels[...] = (255, 0, 0, 255)
    seen_on: list[object] = []
    window.bridge.status_changed.connect(lambda _text: seen_on.append(threading.current_thread()))

    def session_thread() -> None:
        window.bridge.monitors_changed.emit([Monitor(0, 0, 0, 1600, 1000), Monitor(1, 1600, 0, 800, 600)], 1)
        window.bridge.cursor_shape_changed.emit(CursorImage(4, 4, 0, 0, pixels.tobytes()))
        window.bridge.cursor_moved.emit(10, 20, True)
        window.bridge.status_changed.emit("Connected to PC-042")

    thread = threading.Thread(target=session_thread)
    thread.start()
    thread.join()
    assert window.connection_label.text() != "Connected to PC-042"  # queued, not run on the session thread
    deadline = time.monotonic() + 10
    while window.connection_label.text() != "Connected to PC-042":
        assert time.monotonic() < deadline
        QApplication.processEvents()
    assert seen_on == [threading.main_thread()]
    assert [a.text() for a in window.monitor_menu.actions()] == ["0: 1600×1000", "1: 800×600"]
    assert window.model.monitors.selected == 1
    assert window.model.cursor_position == (10, 20) and window.model.cursor_image is not None
    assert window.remote_screen.cursor().hotSpot() == QPoint(0, 0)
    window.close()
