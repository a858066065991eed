"""Every in-session tool of one live viewer session, wired to its link and its window.

:class:`ViewerSessionTools` is built by :class:`~opensupport.viewer.session.ViewerSession` on the GUI
thread. It puts on the window the drawing layer, the Draw and Tools menus (:class:`ViewerTools`), and two
dock panels: 문자 채팅 (:class:`ChatPanel`) and 파일 전송 (:class:`FileTransferPanel`). The session hands it
every event the core does not handle (on the link's thread) and every screen update (a recording keeps
it). File transfers pump after every received record and after each action the panels post.

Nothing is shown before the host's ``tool.allowed`` announcement, and only what it lists: the host
enforces the options anyway, the viewer only hides what would be refused.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from opensupport.link import LinkOutbox, LinkThread, SessionLink
from opensupport.protocol import Event, Session
from opensupport.tools.clipboard import ClipboardBackend
from opensupport.tools.urls import Favourite
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QDockWidget

from .exchange import ViewerExchange
from .file_panel import ChatPanel, FileTransferPanel, place_transfer_window
from .session_tools import ViewerTools

if TYPE_CHECKING:
    from opensupport.viewer.ui.window import ViewerWindow

__all__ = ["ViewerSessionTools"]

_FILE_TOOLS = frozenset({"send_files", "fetch_files", "two_way_file_transfer", "clipboard_file_transfer"})


class _AllowedRelay(QObject):
    changed = Signal(object)


class ViewerSessionTools:
    """The tools of one viewer session (see the module docstring). GUI thread for construction."""

    def __init__(
        self,
        window: ViewerWindow,
        link: SessionLink,
        link_thread: LinkThread,
        *,
        download_dir: Path,
        favourites: Sequence[Favourite] = (),
        clipboard: ClipboardBackend | None = None,
    ) -> None:
        self._link = link
        self._link_thread = link_thread
        self.tools = ViewerTools(window, lambda e: link_thread.call(link.send, e), favourites)
        # ViewerExchange needs of a session only what an Outbox offers (send, role, credit, buffer space).
        self.exchange = ViewerExchange(
            cast(Session, LinkOutbox(link)), download_dir=download_dir, clipboard=clipboard
        )
        link.add_round_hook(self.exchange.pump)
        self.chat_panel = ChatPanel(self.exchange.chat, self.post)
        self.file_panel = FileTransferPanel(
            self.exchange.files,
            clipboard=self.exchange.clipboard,
            browser=self.exchange.browser,
            post=self.post,
        )
        self.chat_dock = self._dock(window, "문자 채팅", self.chat_panel)
        self.file_dock = self._dock(window, "파일 전송", self.file_panel)
        window.bridge.session_options_changed.connect(self._place_file_window)
        self._relay = _AllowedRelay()
        self._relay.changed.connect(self.follow, Qt.ConnectionType.QueuedConnection)
        client = self.tools.client
        previous = client.on_allowed

        def on_allowed(allowed: frozenset[str]) -> None:  # on the link's thread
            if previous is not None:
                previous(allowed)
            self._relay.changed.emit(allowed)

        client.on_allowed = on_allowed
        self.follow(frozenset())
        self.closed = False

    @staticmethod
    def _dock(window: ViewerWindow, title: str, widget: Any) -> QDockWidget:
        dock = QDockWidget(title, window)
        dock.setObjectName(title)
        dock.setWidget(widget)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        return dock

    def follow(self, allowed: frozenset[str]) -> None:
        """Show the panels the host allows, hide the others (GUI thread)."""
        self.chat_panel.apply_allowed(allowed)
        self.file_panel.apply_allowed(allowed)
        self.chat_dock.setVisible("text_chat" in allowed)
        self.file_dock.setVisible(bool(_FILE_TOOLS & allowed))

    def _place_file_window(self, options: Any) -> None:
        # 파일 전송 뷰어 모드, from the host's session.options (GUI thread); a later session of the same
        # window has panels of its own
        if not self.closed:
            place_transfer_window(self.file_dock, options.file_transfer_docked)

    @property
    def allowed(self) -> frozenset[str] | None:
        """What the host announced (None before its announcement)."""
        return self.tools.client.allowed

    # -- from the session loop (link thread) --------------------------------------------------------------
    def handle(self, event: Event) -> bool:
        """Route one event from the host; False if no tool takes it."""
        if self.closed:
            return False
        if self.exchange.handle(event):
            self.exchange.pump()
            return True
        return self.tools.handle(event)

    def on_screen_update(self, data: bytes, keyframe: bool) -> None:
        """Every screen update (a running recording keeps it)."""
        self.tools.on_screen_update(data, keyframe)

    # -- from any thread ---------------------------------------------------------------------------------
    def post(self, func: Callable[..., Any], *args: Any) -> bool:
        """Run ``func(*args)`` on the link's thread, then pump the transfers (the panels' ``post``)."""

        def run() -> None:
            try:
                func(*args)
            finally:
                self.exchange.pump()

        return self._link_thread.call(run)

    def close(self) -> None:
        """The session ended: a running recording is finished, partial files dealt with (idempotent)."""
        if self.closed:
            return
        self.closed = True
        self.tools.close()
        self.exchange.close()
