"""The viewer's main window: the remote screen, a toolbar, the status line.

No action has a keyboard shortcut: every key belongs to the remote screen. Combinations the agent's own
desktop would catch (Ctrl+Alt+Del, Alt+Tab, the Windows key...) are sent from the "Send keys" menu.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from opensupport.link.topics import QualityMode
from opensupport.viewer.decode import DecodeWorker, FrameDecoder
from opensupport.viewer.display import DisplayModel, Monitor, ViewMode
from opensupport.viewer.events import InputSink
from opensupport.viewer.input import SEND_KEYS, InputController, KeyCombination
from opensupport.viewer.meter import format_status
from opensupport.viewer.quality import MODE_LABELS, QualityState, format_quality
from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent
from PySide6.QtWidgets import QLabel, QMainWindow, QMenu, QToolBar, QToolButton, QWidget

from .bridge import SessionBridge
from .options import SessionOptions
from .screen import RemoteScreen, RemoteScreenArea

__all__ = ["ViewerWindow"]

log = logging.getLogger(__name__)

#: How often the status line is refreshed.
STATUS_INTERVAL_MS = 500


class ViewerWindow(QMainWindow):
    """The agent's window onto one remote screen."""

    #: The agent switched 마우스 추적 in the Options menu (the session asks the host).
    cursor_tracking_requested = Signal(bool)
    #: The agent chose a bandwidth mode in the Quality menu (a ``QualityMode``); the session sends it.
    quality_mode_chosen = Signal(object)

    def __init__(
        self, model: DisplayModel | None = None, sink: InputSink | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("OpenSupport viewer")
        self.model = DisplayModel() if model is None else model
        self.controller = InputController(self.model, sink)
        self.remote_screen = RemoteScreen(self.controller)
        self.area = RemoteScreenArea(self.remote_screen)
        self.setCentralWidget(self.area)
        self.bridge = SessionBridge(self)
        #: the host's latest report of the quality in force (None before the first)
        self.quality_state: QualityState | None = None
        self._workers: list[DecodeWorker] = []
        self._build_toolbar()
        self._build_options_menu()
        self.connection_label = QLabel("Not connected")
        self.stats_label = QLabel()
        self.quality_label = QLabel(format_quality(None))
        self.statusBar().addWidget(self.connection_label, 1)
        self.statusBar().addPermanentWidget(self.quality_label)
        self.statusBar().addPermanentWidget(self.stats_label)
        self._status_timer = QTimer(self)
        self._status_timer.timeout.connect(self.refresh_status)
        self._status_timer.start(STATUS_INTERVAL_MS)
        self.refresh_status()
        self._connect_bridge()
        self.resize(1280, 800)

    def _connect_bridge(self) -> None:
        bridge = self.bridge
        bridge.frame_updated.connect(self.remote_screen.on_frame_update)
        bridge.cursor_shape_changed.connect(self.remote_screen.set_cursor_shape)
        bridge.cursor_moved.connect(self.remote_screen.set_cursor_position)
        bridge.monitors_changed.connect(self.set_monitors)
        bridge.status_changed.connect(self.set_connection_status)
        bridge.cursor_tracking_changed.connect(self.set_cursor_tracking)
        bridge.session_options_changed.connect(self.set_session_options)
        bridge.quality_changed.connect(self.set_quality_state)

    def _build_toolbar(self) -> None:
        bar = QToolBar("View", self)
        bar.setMovable(False)
        self.addToolBar(bar)
        self.toolbar = bar
        modes = QActionGroup(self)
        self.fit_action = QAction("Fit", self, checkable=True)
        self.one_to_one_action = QAction("1:1", self, checkable=True)
        for action, mode in ((self.fit_action, ViewMode.FIT), (self.one_to_one_action, ViewMode.ONE_TO_ONE)):
            modes.addAction(action)
            action.setChecked(self.model.mode is mode)
            action.triggered.connect(lambda _=False, m=mode: self.set_mode(m))
            bar.addAction(action)
        self.full_screen_action = QAction("Full screen", self, checkable=True)
        self.full_screen_action.toggled.connect(self.set_full_screen)
        bar.addAction(self.full_screen_action)
        self.view_only_action = QAction("View only", self, checkable=True)
        self.view_only_action.setChecked(self.model.view_only)
        self.view_only_action.toggled.connect(self.set_view_only)
        bar.addAction(self.view_only_action)
        bar.addSeparator()
        self.monitor_menu = QMenu("Monitor", self)
        self.monitor_button = self._menu_button("Monitor", self.monitor_menu)
        bar.addWidget(self.monitor_button)
        self.send_keys_menu = QMenu("Send keys", self)
        for combo in SEND_KEYS:
            action = self.send_keys_menu.addAction(combo.label)
            action.triggered.connect(lambda _=False, c=combo: self.send_combination(c))
        self.send_keys_button = self._menu_button("Send keys", self.send_keys_menu)
        bar.addWidget(self.send_keys_button)
        self.quality_menu = QMenu("Quality (화질)", self)
        qualities = QActionGroup(self)
        self.quality_actions: dict[QualityMode, QAction] = {}
        for quality_mode in QualityMode:
            action = self.quality_menu.addAction(MODE_LABELS[quality_mode])
            action.setCheckable(True)
            action.setChecked(quality_mode is QualityMode.AUTO)  # the host's default
            qualities.addAction(action)
            action.triggered.connect(lambda _=False, m=quality_mode: self.choose_quality_mode(m))
            self.quality_actions[quality_mode] = action
        self.quality_button = self._menu_button("Quality (화질)", self.quality_menu)
        bar.addWidget(self.quality_button)
        self._rebuild_monitor_menu()

    def _build_options_menu(self) -> None:
        menu = self.menuBar().addMenu("Options")
        self.options_menu = menu
        self.tracking_action = QAction("마우스 추적: show the customer's pointer moves", self, checkable=True)
        self.tracking_action.setEnabled(False)  # until a host says whether it streams them
        self.tracking_action.triggered.connect(
            lambda: self.cursor_tracking_requested.emit(self.tracking_action.isChecked())
        )
        menu.addAction(self.tracking_action)
        #: disabled entries, one per option switched on that the host cannot apply (with why)
        self.not_applicable_actions: list[QAction] = []
        self.session_options: SessionOptions | None = None

    @staticmethod
    def _menu_button(text: str, menu: QMenu) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setMenu(menu)
        button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        return button

    def _return_focus(self) -> None:
        # After a toolbar click the keyboard goes back to the remote screen.
        self.remote_screen.setFocus()

    # -- actions ----------------------------------------------------------------------------------------

    def set_mode(self, mode: ViewMode) -> None:
        """Fit-to-window or 1:1."""
        self.controller.set_mode(mode)
        self.fit_action.setChecked(mode is ViewMode.FIT)
        self.one_to_one_action.setChecked(mode is ViewMode.ONE_TO_ONE)
        self.area.sync_scroll_bars()
        self.remote_screen.update()
        self.refresh_status()
        self._return_focus()

    def set_full_screen(self, on: bool) -> None:
        """Full screen on or off (the toolbar stays, so that it can be switched off again)."""
        if on:
            self.showFullScreen()
        else:
            self.showNormal()
        if self.full_screen_action.isChecked() != on:
            self.full_screen_action.setChecked(on)
        self._return_focus()

    def set_view_only(self, on: bool) -> None:
        """View-only: no input reaches the host from this viewer (the host enforces it too)."""
        self.controller.set_view_only(on)
        self.remote_screen.view_only_changed()
        if self.view_only_action.isChecked() != on:
            self.view_only_action.setChecked(on)
        self.send_keys_button.setEnabled(not on)
        self.refresh_status()
        self._return_focus()

    def send_combination(self, combo: KeyCombination) -> None:
        """Send a key combination from the "Send keys" menu."""
        self.controller.send_combination(combo)
        self._return_focus()

    def choose_quality_mode(self, mode: QualityMode) -> None:
        """The agent's bandwidth mode: the session sends it to the host, whose report confirms it."""
        self.quality_actions[mode].setChecked(True)
        self.quality_mode_chosen.emit(mode)
        self._return_focus()

    def set_quality_state(self, state: QualityState) -> None:
        """Show the host's report: the mode and quality in force, the link's throughput and round trip."""
        self.quality_state = state
        self.quality_actions[state.mode].setChecked(True)
        self.quality_label.setText(format_quality(state))

    def set_monitors(self, monitors: Sequence[Monitor], selected: int | None) -> None:
        """Show the host's monitors (as the host announced them) in the monitor menu."""
        self.model.monitors.replace(monitors, selected)
        self._rebuild_monitor_menu()

    def select_monitor(self, index: int) -> None:
        """Ask the host to share monitor ``index``. Raises KeyError for a monitor the host did not list."""
        self.controller.select_monitor(index)
        self._rebuild_monitor_menu()
        self._return_focus()

    def _rebuild_monitor_menu(self) -> None:
        self.monitor_menu.clear()
        layout = self.model.monitors
        for monitor in layout.monitors:
            action = self.monitor_menu.addAction(monitor.label())
            action.setCheckable(True)
            action.setChecked(monitor.index == layout.selected)
            action.triggered.connect(lambda _=False, i=monitor.index: self.select_monitor(i))
        self.monitor_button.setEnabled(len(layout.monitors) > 1)

    # -- session ----------------------------------------------------------------------------------------

    def start_decoding(self, decoder: FrameDecoder) -> DecodeWorker:
        """Decode updates with ``decoder`` on a worker thread; feed it with ``worker.submit(data)``.

        The worker is stopped when the window closes.
        """
        worker = self.bridge.start_worker(decoder, self.model)
        self._workers.append(worker)
        return worker

    def closeEvent(self, event: QCloseEvent) -> None:
        """Release what the host holds and stop decoding."""
        self.controller.release_all()
        self._status_timer.stop()
        for worker in self._workers:
            try:
                worker.stop(timeout=2.0)
            except TimeoutError:
                log.warning("a decode worker did not stop in time")
        self._workers.clear()
        super().closeEvent(event)

    def set_sink(self, sink: InputSink) -> None:
        """Send input to ``sink`` from now on (the session's input channel once connected)."""
        self.controller.release_all()
        self.controller.sink = sink

    def show_session_code(self, code: str) -> None:
        """Show the code to read to the customer, large, until the host's screen arrives."""
        self.remote_screen.waiting_text = (
            f"Session code: {code}\n\nRead it to the customer; waiting for the host's screen…"
        )
        self.remote_screen.update()

    def set_cursor_tracking(self, on: bool) -> None:
        """The host streams its pointer's moves (on) or only its shape: the menu follows; off, the
        customer's pointer is no longer drawn (the agent's own pointer stays)."""
        self.tracking_action.setEnabled(True)
        self.tracking_action.setChecked(on)
        self.model.cursor_tracking = on
        if not on:
            self.remote_screen.set_cursor_position(0, 0, False)

    def set_session_options(self, options: SessionOptions) -> None:
        """The host's announcement: list the options it cannot apply as disabled entries, saying why."""
        self.session_options = options
        for action in self.not_applicable_actions:
            self.options_menu.removeAction(action)
        self.not_applicable_actions = []
        notices = options.notices()
        if notices:
            self.not_applicable_actions.append(
                self.options_menu.addSection("Not available for this customer")
            )
        for text in notices:
            action = self.options_menu.addAction(text)
            action.setEnabled(False)
            self.not_applicable_actions.append(action)

    def set_connection_status(self, text: str) -> None:
        """The left part of the status line: who we are connected to, or what we wait for."""
        self.connection_label.setText(text)

    def refresh_status(self) -> None:
        """Refresh the right part of the status line: fps, latency, bandwidth, mode."""
        mode = "fit" if self.model.mode is ViewMode.FIT else "1:1"
        self.stats_label.setText(
            format_status(self.model.meter.read(), mode, self.model.view_only, self.model.store.size)
        )
