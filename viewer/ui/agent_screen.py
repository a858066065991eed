"""The agent's Session menu entries for 상담원 화면 전송 / 상담원 화면 제어 (:mod:`opensupport.viewer.reverse`).

"Show my screen" and "Show my screen and let the customer control it" appear only for what the customer's
host announced in ``tool.allowed`` (the host refuses the rest anyway); "Stop showing my screen" while an
offer or a stream runs. One menu per window: the agent desk runs its sessions one after the other in the
same window, and each new session is attached to the same entries.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QMenu

from ..reverse import AgentScreenState

if TYPE_CHECKING:
    from ..session import ViewerSession

__all__ = ["AgentScreenMenu"]

#: The menu the entries go into (the agent desk's own "Session" menu, or a new one).
SESSION_MENU = "Session"
SHOW_TEXT = "Show my screen — 상담원 화면 전송"
CONTROL_TEXT = "Show my screen and let the customer control it — 상담원 화면 제어"
STOP_TEXT = "Stop showing my screen"
#: How often the entries follow the session (ms).
REFRESH_MS = 250


class AgentScreenMenu(QObject):
    """The entries in ``window``'s Session menu (GUI thread)."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        menu = _session_menu(window)
        menu.addSeparator()
        self.show_action = menu.addAction(SHOW_TEXT)
        self.control_action = menu.addAction(CONTROL_TEXT)
        self.stop_action = menu.addAction(STOP_TEXT)
        self.show_action.triggered.connect(lambda: self.offer(False))
        self.control_action.triggered.connect(lambda: self.offer(True))
        self.stop_action.triggered.connect(self.stop)
        self._session: weakref.ref[ViewerSession] | None = None
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.refresh)
        self._timer.start(REFRESH_MS)
        self.refresh()

    @classmethod
    def for_window(cls, window: Any) -> AgentScreenMenu:
        """The window's entries (made the first time)."""
        # Found as the window's child, not kept in a Python attribute: a window -> menu -> session ->
        # window cycle would leave the window to the garbage collector, on whichever thread it runs.
        existing = window.findChild(AgentScreenMenu)
        return existing if isinstance(existing, AgentScreenMenu) else cls(window)

    @property
    def session(self) -> ViewerSession | None:
        """The session the entries act on (held weakly: the session owns the window, not the reverse)."""
        return self._session() if self._session is not None else None

    def attach(self, session: ViewerSession) -> None:
        """Follow ``session`` from now on (the previous one has ended)."""
        self._session = weakref.ref(session)
        self.refresh()

    def offer(self, control: bool) -> None:
        """Offer the agent's screen to the customer (view only, or with control)."""
        session = self.session
        if session is not None and not session.ended.is_set():
            session.agent_screen.offer(control)
        self.refresh()

    def stop(self) -> None:
        """Stop showing the agent's screen."""
        session = self.session
        if session is not None:
            session.agent_screen.stop()
        self.refresh()

    def refresh(self) -> None:
        """Show the entries the host allows, enable them for the session's state."""
        session = self.session
        allowed: frozenset[str] = frozenset()
        live = False
        state = AgentScreenState.IDLE
        if session is not None:
            live = session.link.established and not session.ended.is_set()
            if session.tools is not None and session.tools.allowed is not None:
                allowed = session.tools.allowed
            state = session.agent_screen.status.state
        send = "agent_screen_send" in allowed
        self.show_action.setVisible(send)
        self.control_action.setVisible(send and "agent_screen_control" in allowed)
        idle = state is AgentScreenState.IDLE
        self.show_action.setEnabled(live and idle)
        self.control_action.setEnabled(live and idle)
        self.stop_action.setVisible(send)
        self.stop_action.setEnabled(not idle)


def _session_menu(window: Any) -> QMenu:
    bar = window.menuBar()
    for action in bar.actions():
        menu = action.menu()
        if isinstance(menu, QMenu) and action.text() == SESSION_MENU:
            return menu
    made = bar.addMenu(SESSION_MENU)
    assert isinstance(made, QMenu)
    return made
