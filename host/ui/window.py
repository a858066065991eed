"""The customer's window: who is connected, a banner whenever the screen is shared, pause and stop.

With the session's tools (its policy known): the drawing overlay over the shared monitor (created on this
GUI thread, following monitor switches), a "Draw" toggle for 양방향 그리기 when the options allow the
customer to draw, the chat, the transfer list with its consent dialogs, and the agent's notices ("The
agent is recording the screen"). The tools may appear after the window (the server journey learns the
options after the handshake): a timer picks them up.

부분공유: once the options are known, "공유 범위… / Share…" opens :class:`~.share_picker.SharePicker` (the whole
screen, one window, or a dragged region) when they allow partial sharing, and is disabled with the reason
when they do not; a line under the banner says what is shared.

The session runs on its own threads (:class:`~opensupport.host.session.HostSession`); its status reaches
the window through a queued Qt signal. Closing the window ends the session at once, as the stop button
does: the customer is always in control.
"""

from __future__ import annotations

import signal
import sys
from typing import TYPE_CHECKING

from opensupport.link import LinkState
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ..session import END_REASON_STOPPED, HostSession, HostStatus
from .share_picker import ShareChoice, SharePicker

if TYPE_CHECKING:
    from ..capture import Monitor as CaptureMonitor
    from ..cli import HostConfig
    from ..overlay import DrawingOverlay
    from ..tools.live import HostSessionTools

__all__ = ["HostWindow", "run_window"]

#: The banner shown while the screen is shared (and, paused, what it says instead).
SHARING_TEXT = "Your screen is being shared with a support agent"
PAUSED_TEXT = "Sharing is paused: the agent sees nothing and cannot control this computer"
_BANNER_STYLE = "QLabel {{ background: {bg}; color: white; font-weight: bold; padding: 8px; }}"


class _StatusBridge(QObject):
    # Signal(object): the status object crosses threads as a Python object (no C++ conversion).
    changed = Signal(object)
    notice = Signal(str)
    #: 수동 재부팅: the customer is asked to restart the PC (a dialog)
    restart = Signal(str)


class HostWindow(QMainWindow):
    """The window of one host session. ``session`` must not be started yet: the window starts it."""

    def __init__(self, session: HostSession, routing_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.setWindowTitle("OpenSupport — remote support")
        self.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint, True)
        self.bridge = _StatusBridge(self)
        self.bridge.changed.connect(self.show_status)
        self.banner = QLabel(SHARING_TEXT)
        self.banner.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.banner.setStyleSheet(_BANNER_STYLE.format(bg="#c62828"))
        self.banner.setVisible(False)
        self.who_label = QLabel("Connecting…")
        self.session_label = QLabel(f"Session {routing_id}")
        self.pause_button = QPushButton("Pause")
        self.pause_button.setCheckable(True)
        self.pause_button.toggled.connect(self._pause_toggled)
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(self.stop)
        self.draw_button = QPushButton("Draw")
        self.draw_button.setCheckable(True)
        self.draw_button.setVisible(False)
        self.draw_button.toggled.connect(self._draw_toggled)
        self.share_button = QPushButton("공유 범위… / Share…")
        self.share_button.setVisible(False)  # until the agent's options are known
        self.share_button.clicked.connect(self.open_share_picker)
        self.sharing_label = QLabel()
        self.sharing_label.setVisible(False)
        #: The customer's last choice (None: what the session started with).
        self.share_choice: ShareChoice | None = None
        self.share_picker: SharePicker | None = None
        self._window_lookup: tuple[CaptureMonitor, ShareChoice | None] | None = None
        self.notice_label = QLabel()
        self.notice_label.setVisible(False)
        self.bridge.notice.connect(self.show_notice)
        self.tabs = QTabWidget()
        self.tabs.setVisible(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.pause_button)
        buttons.addWidget(self.draw_button)
        buttons.addWidget(self.share_button)
        buttons.addWidget(self.stop_button)
        layout = QVBoxLayout()
        layout.addWidget(self.banner)
        layout.addWidget(self.sharing_label)
        layout.addWidget(self.who_label)
        layout.addWidget(self.session_label)
        layout.addWidget(self.notice_label)
        layout.addLayout(buttons)
        layout.addWidget(self.tabs, 1)
        central = QWidget()
        central.setLayout(layout)
        self.setCentralWidget(central)
        self.resize(420, 160)
        self._ended = False
        #: The tools wired into this window (None until the session has them).
        self.wired_tools: HostSessionTools | None = None
        self.overlay: DrawingOverlay | None = None
        self.chat_view: QWidget | None = None
        self.file_window: QWidget | None = None
        self._geometry: tuple[int, int, int, int] | None = None
        self._tools_timer = QTimer(self)
        self._tools_timer.timeout.connect(self.follow_tools)
        self._tools_timer.start(200)
        from .agent_screen import AgentScreenViewer  # 상담원 화면 전송/제어: the agent's screen, when offered

        self.agent_screen = AgentScreenViewer(session.agent_screen, on_notice=self.show_notice, parent=self)

    def start(self) -> None:
        """Start the session; raises HostError if the screen or input cannot be used."""
        self.session.set_on_status(self.bridge.changed.emit)
        self.session.start()
        self.show_status(self.session.status)

    def show_status(self, status: HostStatus) -> None:
        """Show ``status`` (GUI thread)."""
        if status.ended is not None:
            self._ended = True
            self.who_label.setText(f"Session ended — {status.ended}")
            self.banner.setVisible(False)
            self.sharing_label.setVisible(False)
            self.share_button.setEnabled(False)
            self._close_share_picker()
            self.pause_button.setEnabled(False)
            self.stop_button.setText("Close")
            return
        if status.connected:
            who = "A support agent is connected"
            if status.view_only:
                who += " (view only: the agent cannot control this computer)"
        elif status.link is LinkState.WAITING:
            who = "Waiting for the support agent…"
        elif status.link is LinkState.RECONNECTING:
            who = "Connection lost — reconnecting…"
        else:
            who = status.detail or status.link.value
        self.who_label.setText(who)
        self.banner.setVisible(status.connected)
        self.sharing_label.setVisible(status.connected)
        self.banner.setText(PAUSED_TEXT if status.paused else SHARING_TEXT)
        self.banner.setStyleSheet(_BANNER_STYLE.format(bg="#6d6d6d" if status.paused else "#c62828"))
        self.pause_button.setText("Resume" if status.paused else "Pause")

    def show_notice(self, text: str) -> None:
        """What the agent did, for the customer to see (GUI thread)."""
        self.notice_label.setText(text)
        self.notice_label.setVisible(True)

    def follow_tools(self) -> None:
        """Wire the session's tools once they exist, and keep the overlay on the shared monitor."""
        tools = self.session.tools
        if tools is not None and tools is not self.wired_tools and not tools.closed:
            self._wire(tools)
        self._follow_sharing()
        monitor = self.session.shared_monitor
        if self.overlay is not None and monitor is not None:
            geometry = (monitor.x, monitor.y, monitor.width, monitor.height)
            if geometry != self._geometry:
                self._geometry = geometry
                self.overlay.set_geometry(geometry)

    def _wire(self, tools: HostSessionTools) -> None:
        from opensupport.tools.qt_widgets import ChatView

        from ..overlay import DrawingOverlay
        from ..policy import Feature
        from ..tools.file_window import HostFileWindow

        self._unwire()
        self.wired_tools = tools
        tools.add_notice_listener(self.bridge.notice.emit)  # setText is idempotent: a repeat is harmless
        policy = tools.policy
        monitor = self.session.shared_monitor
        geometry = (0, 0, 1, 1) if monitor is None else (monitor.x, monitor.y, monitor.width, monitor.height)
        self._geometry = geometry if monitor is not None else None
        self.overlay = DrawingOverlay(tools.tools.drawing, geometry, on_customer_stroke=tools.customer_draw)
        self.overlay.refresh()  # strokes that arrived before the window picked the tools up
        self.draw_button.setVisible(policy.allows(Feature.DRAWING) and policy.allows(Feature.TWO_WAY_DRAWING))
        exchange = tools.exchange
        if policy.allows(Feature.CHAT):
            self.chat_view = ChatView(exchange.chat.chat, tools.post, say=exchange.chat.say)
            self.tabs.addTab(self.chat_view, "채팅")
        self.file_window = HostFileWindow(
            exchange.files,
            can_send=policy.allows(Feature.TWO_WAY_FILES),
            clipboard=exchange.clipboard if policy.allows(Feature.CLIPBOARD_FILES) else None,
            post=tools.post,
        )
        self.tabs.addTab(self.file_window, "파일 전송")
        self.tabs.setVisible(True)
        self.resize(max(self.width(), 460), max(self.height(), 420))

    def _unwire(self) -> None:
        if self.overlay is not None:
            self.overlay.close()
            self.overlay.deleteLater()
            self.overlay = None
        while self.tabs.count():
            widget = self.tabs.widget(0)
            self.tabs.removeTab(0)
            if widget is not None:
                widget.deleteLater()
        self.chat_view = self.file_window = None
        self.draw_button.setChecked(False)
        self.draw_button.setVisible(False)

    # -- 부분공유: what the customer shares ------------------------------------------------------------------
    def _follow_sharing(self) -> None:
        """Offer the picker as the policy says, and say what is shared."""
        from ..policy import Feature, FeatureDisabled

        policy = self.session.policy
        if policy is not None and not self._ended:
            allowed = policy.allows(Feature.PARTIAL_SHARING)
            self.share_button.setVisible(True)
            self.share_button.setEnabled(allowed)
            self.share_button.setToolTip(
                ""
                if allowed
                else f"부분 공유가 허용되지 않습니다 / {FeatureDisabled(Feature.PARTIAL_SHARING)}"
            )
            if not allowed:
                self._close_share_picker()
        text = self.sharing_what()
        if text != self.sharing_label.text():
            self.sharing_label.setText(text)

    def sharing_what(self) -> str:
        """What the agent sees now, Korean first (from the capture's shared area, not from the request)."""
        monitor = self.session.shared_monitor
        if monitor is None:
            return ""
        choice = self.share_choice
        if monitor.name == "window":
            if choice is None or choice.kind != "window":
                choice = self._window_at(monitor)  # shared from the command line (--share-window)
            ko, en = choice.describe() if choice is not None else ("창", "a window")
        elif monitor.name == "region":
            ko, en = ShareChoice("region", rect=monitor.rect).describe()
        else:
            ko, en = ShareChoice("screen").describe()
        return f"공유 중: {ko} / Sharing: {en}"

    def _window_at(self, monitor: CaptureMonitor) -> ShareChoice | None:
        """The listed window whose place is the shared area (looked up once per area)."""
        if self._window_lookup is None or self._window_lookup[0] != monitor:
            from ..capture.windows import list_windows
            from ..errors import HostError

            try:
                listed = list_windows(self.session.display)
            except HostError:
                listed = []  # the status then says "a window"
            found = next((w for w in listed if w.rect == monitor.rect), None)
            choice = ShareChoice("window", window_id=found.window_id, title=found.title) if found else None
            self._window_lookup = (monitor, choice)
        return self._window_lookup[1]

    def open_share_picker(self) -> SharePicker | None:
        """The "Share…" button: the picker (not modal, so the session's window keeps updating)."""
        from ..policy import Feature

        policy = self.session.policy
        if policy is None or not policy.allows(Feature.PARTIAL_SHARING):
            return None
        self._close_share_picker()
        self.share_picker = SharePicker(self.session.display, self)
        self.share_picker.chosen.connect(self.share)
        self.share_picker.show()
        return self.share_picker

    def _close_share_picker(self) -> None:
        if self.share_picker is not None:
            self.share_picker.reject()
            self.share_picker.deleteLater()
            self.share_picker = None

    def share(self, choice: ShareChoice) -> bool:
        """Share what the customer chose from now on (the viewer gets a key frame of it). False, with a
        notice, when the agent's options refuse it or the chosen window is gone."""
        from ..capture.windows import list_windows
        from ..errors import HostError
        from ..policy import FeatureDisabled

        if choice.kind == "window":
            # Closed while the picker was open: the capture would refuse it with only a log line, and the
            # status would name a window that is not shared.
            try:
                alive = any(w.window_id == choice.window_id for w in list_windows(self.session.display))
            except HostError as exc:
                self.show_notice(f"창 목록을 읽을 수 없습니다 / Cannot list the windows: {exc}")
                return False
            if not alive:
                self.show_notice(
                    f"창 '{choice.title}'이(가) 닫혔습니다 / The window '{choice.title}' is gone: still sharing "
                    "what was shared"
                )
                return False
        try:
            if choice.kind == "screen":
                self.session.share_monitor()
            else:
                self.session.share_area(choice.rect, window=choice.window_id)
        except FeatureDisabled as exc:
            self.show_notice(f"부분 공유가 허용되지 않습니다 / {exc}")
            return False
        self.share_choice = choice
        return True

    def _draw_toggled(self, on: bool) -> None:
        if self.overlay is not None:
            self.overlay.set_drawing_mode(on)

    def _pause_toggled(self, paused: bool) -> None:
        self.session.set_paused(paused)

    def stop(self) -> None:
        """The stop button: end the session at once (then the button closes the window)."""
        if self._ended:
            self.close()
            return
        self.session.stop(END_REASON_STOPPED)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing the applet ends the session at once."""
        self._tools_timer.stop()
        self._close_share_picker()
        self.agent_screen.close()
        self.session.stop(END_REASON_STOPPED)
        self.session.close()
        # A session thread slower than stop()'s wait must not signal this window once it is gone.
        self.session.set_on_status(None)
        if self.wired_tools is not None:
            self.wired_tools.remove_notice_listener(self.bridge.notice.emit)
        if self.overlay is not None:
            # Deleted by the event loop now, not by Python's collector at some later moment.
            self.overlay.close()
            self.overlay.deleteLater()
            self.overlay = None
        super().closeEvent(event)


def run_window(config: HostConfig) -> int:
    """Run the applet with its window until the window is closed; returns the exit code."""
    from opensupport.tools.clipboard_live import LiveClipboard
    from opensupport.tools.clipboard_qt import QtClipboard
    from PySide6.QtWidgets import QApplication

    from ..errors import HostError
    from ..policy import policy_from_options
    from ..reboot import HostReboot
    from ..server_api import server_manages_sessions
    from .journey import CustomerQuestions, window_journey

    app = QApplication.instance() or QApplication(["opensupport host"])
    notices = _StatusBridge()
    questions = CustomerQuestions()
    # A server-managed session: nothing is shared before the server's options are known (server_api.py).
    journey = (
        window_journey(config, questions, notices.notice.emit)
        if server_manages_sessions(config.server)
        else None
    )
    session = HostSession(
        config.server,
        config.code,
        display=config.display,
        view_only=config.view_only,
        monitor=config.monitor,
        policy=None if journey is not None else policy_from_options(config.options),
        download_dir=config.download_dir,
        consent_answer=config.file_consent,
        on_notice=notices.notice.emit,
        on_event=journey.on_event if journey is not None else None,
        reboot=HostReboot(
            config.restart_args,
            command=config.reboot_command,
            ask_restart=notices.restart.emit,
            on_notice=notices.notice.emit,
        ),
        clipboard=LiveClipboard(QtClipboard()),
    )
    window = HostWindow(session, config.code.routing_id)
    if journey is not None:
        journey.attach(session)
        questions.parent_widget = window
    notices.notice.connect(window.show_notice)
    notices.restart.connect(lambda text: QMessageBox.information(window, "OpenSupport", text))
    try:
        window.start()
    except HostError as exc:
        print(f"opensupport host: cannot share this screen: {exc}", file=sys.stderr, flush=True)
        return 1
    window.show()
    # SIGINT/SIGTERM close the window like the customer would (ending the session at once). Python runs
    # signal handlers only between bytecodes, so a timer wakes the interpreter while Qt's loop waits.
    previous = {
        sig: signal.signal(sig, lambda *_: QTimer.singleShot(0, window.close))
        for sig in (signal.SIGINT, signal.SIGTERM)
    }
    wake = QTimer()
    wake.timeout.connect(lambda: None)
    wake.start(200)
    try:
        code = int(app.exec())
    finally:
        wake.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    session.close()
    if journey is not None:
        journey.finish(dropped=session.error is not None)  # the survey's dialog, if it is on
        if journey.outcome == "refused":
            return 0
    return code if session.error is None else 1
