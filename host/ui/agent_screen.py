"""The agent's screen in the customer's applet (상담원 화면 전송 / 상담원 화면 제어).

:class:`AgentScreenViewer` is the presenter of :class:`~opensupport.host.reverse.AgentScreenGuest`: for an
offer the host allowed, it opens an :class:`AgentScreenWindow` (the viewer's own window, display widget and
decoder) and joins the reverse stream as a viewer-role
:class:`~opensupport.viewer.session.ViewerSession` (no tools: only the screen and, with control, input).
The window says whose screen it is and whether the customer may control it, and its Close button (or
closing the window) ends the stream at once; the agent is told. When the agent stops, the stream fails or
the support session ends, the window closes and the applet's window shows a notice.
"""

from __future__ import annotations

import inspect
import logging
import weakref
from collections.abc import Callable

from opensupport.tools.agent_screen import AgentScreenOffer
from opensupport.viewer.display import DisplayModel
from opensupport.viewer.session import ViewerSession
from opensupport.viewer.ui.window import ViewerWindow
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QLabel, QPushButton, QToolBar, QWidget

from ..reverse import END_REASON_CUSTOMER_CLOSED, AgentScreenGuest

__all__ = ["AgentScreenViewer", "AgentScreenWindow"]

log = logging.getLogger(__name__)

VIEW_TEXT = "상담원의 화면입니다 — This is the support agent's screen (view only)"
CONTROL_TEXT = "상담원의 화면입니다 — This is the support agent's screen: you may control it"
CLOSE_TEXT = "상담원 화면 닫기 — Close"
#: The notices in the applet's window when the agent's screen opens and closes.
OPENED_NOTICE = "The agent is showing you their screen (view only) — 상담원 화면 전송"
OPENED_NOTICE_CONTROL = "The agent is showing you their screen and lets you control it — 상담원 화면 제어"
ENDED_NOTICE = "The agent's screen was closed: {reason}"


class AgentScreenWindow(ViewerWindow):
    """The agent's screen, with a notice bar and a close button. ``on_close`` runs when it closes."""

    def __init__(self, control: bool, on_close: Callable[[], None], parent: QWidget | None = None) -> None:
        super().__init__(DisplayModel(view_only=not control), parent=parent)
        self.setWindowTitle("OpenSupport — 상담원 화면 (the agent's screen)")
        self._on_close: Callable[[], None] | None = on_close
        bar = QToolBar("Agent screen", self)
        bar.setMovable(False)
        self.notice = QLabel(CONTROL_TEXT if control else VIEW_TEXT)
        self.notice.setStyleSheet(
            "QLabel { background: #1565c0; color: white; font-weight: bold; padding: 6px; }"
        )
        self.close_button = QPushButton(CLOSE_TEXT)
        self.close_button.clicked.connect(self.close)
        bar.addWidget(self.notice)
        bar.addWidget(self.close_button)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        self.insertToolBarBreak(self.toolbar)
        self._hide_tool(self.monitor_button)  # the agent shows one monitor (viewer/agent_capture.py)
        if not control:  # the agent's host drops input anyway; the window does not pretend otherwise
            self.set_view_only(True)
            self.view_only_action.setVisible(False)
            self._hide_tool(self.send_keys_button)
        self.resize(1024, 700)

    def _hide_tool(self, widget: QWidget) -> None:
        # A widget in a tool bar is shown by its action: hiding the widget alone does not hide it.
        for action in self.toolbar.actions():
            if self.toolbar.widgetForAction(action) is widget:
                action.setVisible(False)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing the window ends the agent's screen (the agent is told)."""
        callback, self._on_close = self._on_close, None
        if callback is not None:
            callback()
        super().closeEvent(event)

    def close_quietly(self) -> None:
        """Close without telling anyone (the stream already ended)."""
        self._on_close = None
        self.close()


class AgentScreenViewer(QObject):
    """Shows the agent's screen for ``guest`` (GUI thread; :meth:`present` and :meth:`dismiss` from any)."""

    _present = Signal(object, str)
    _dismiss = Signal(str)
    _ended = Signal(object, str)

    def __init__(
        self,
        guest: AgentScreenGuest,
        *,
        on_notice: Callable[[str], None] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.guest = guest
        # Weakly: the notice goes to the applet's window, which owns this presenter.
        self._on_notice = weakref.WeakMethod(on_notice) if inspect.ismethod(on_notice) else on_notice
        self.window: AgentScreenWindow | None = None
        self.session: ViewerSession | None = None
        self._offer: AgentScreenOffer | None = None
        queued = Qt.ConnectionType.QueuedConnection
        self._present.connect(self._open, queued)
        self._dismiss.connect(self._close, queued)
        self._ended.connect(self._stream_ended, queued)
        guest.set_presenter(self)

    # -- AgentScreenPresenter (any thread) ------------------------------------------------------------------
    def present(self, offer: AgentScreenOffer, server: str) -> None:
        self._present.emit(offer, server)

    def dismiss(self, reason: str) -> None:
        self._dismiss.emit(reason)

    # -- GUI thread -----------------------------------------------------------------------------------------
    def _open(self, offer: AgentScreenOffer, server: str) -> None:
        self._close("the agent offered the screen again")
        window = AgentScreenWindow(offer.control, lambda: self._closed_by_customer(offer))
        session = ViewerSession(
            window, server, offer.code, tools=False, on_end=lambda message: self._ended.emit(offer, message)
        )
        self.window, self.session, self._offer = window, session, offer
        session.start()
        window.show()
        window.raise_()  # above the applet's own always-on-top window
        window.activateWindow()
        self._say(OPENED_NOTICE_CONTROL if offer.control else OPENED_NOTICE)

    def _closed_by_customer(self, offer: AgentScreenOffer) -> None:
        if self._offer is not offer:
            return
        session = self.session
        self.window = self.session = self._offer = None
        if session is not None:
            session.stop(END_REASON_CUSTOMER_CLOSED, timeout=1.0)
        self.guest.closed_by_customer(offer.id)
        self._notice(END_REASON_CUSTOMER_CLOSED)

    def _close(self, reason: str) -> None:
        window, session = self.window, self.session
        self.window = self.session = self._offer = None
        if session is not None:
            session.stop(reason, timeout=1.0)
        if window is not None:
            window.close_quietly()
            window.deleteLater()
            self._notice(reason)

    def _stream_ended(self, offer: AgentScreenOffer, message: str) -> None:
        # The reverse stream ended by itself (the agent's side stopped or it failed).
        if self._offer is not offer:
            return
        self._close(message)
        self.guest.closed_by_customer(offer.id, message)

    def _notice(self, reason: str) -> None:
        self._say(ENDED_NOTICE.format(reason=reason))

    def _say(self, text: str) -> None:
        callback = self._on_notice() if isinstance(self._on_notice, weakref.WeakMethod) else self._on_notice
        if callback is not None:
            callback(text)

    def close(self) -> None:
        """The applet closes: the agent's screen goes with it."""
        self.guest.set_presenter(None)
        self._close("the customer closed the applet")
