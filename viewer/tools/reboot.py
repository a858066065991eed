"""자동 재접속 / 수동 재부팅 in the viewer: "Restart the customer's PC…" and the wait for it to come back.

The entry sits in the Tools menu, visible only while the host allows ``auto_reconnect``. After the
agent's confirmation the viewer makes a *comeback code* (a fresh session code), arms the link with it
(:meth:`~opensupport.link.SessionLink.expect_comeback`: the next drop is not resumed; the link joins under
the comeback code and waits for the restarted host's handshake), and sends it inside the encrypted session
(``reboot.request``). A refusal or a failed restart command disarms the link. The session object, the
window, the tools and the server's record stay the same across the restart. Messages in
:mod:`opensupport.tools.reboot`; the host's side in :mod:`opensupport.host.reboot`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from opensupport.link import LinkThread, SessionLink
from opensupport.protocol import SessionCode
from opensupport.tools.reboot import COMEBACK_TIMEOUT, MODE_MANUAL, TOPIC_REBOOT
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QMenu, QWidget

from .client import ToolClient
from .panels import Confirm, ask

if TYPE_CHECKING:
    from opensupport.viewer.ui.window import ViewerWindow

__all__ = ["RESTART_QUESTION", "ViewerReboot"]

RESTART_QUESTION = (
    "Restart the customer's PC now? Unsaved work on it is lost. "
    "The session comes back by itself after the restart."
)


class ViewerReboot(QObject):
    """The restart entry of one viewer session (see the module docstring). GUI thread."""

    _answered = Signal(object, object)
    _allowed = Signal(object)

    def __init__(
        self,
        window: ViewerWindow,
        link: SessionLink,
        link_thread: LinkThread,
        client: ToolClient,
        menu: QMenu,
        *,
        confirm: Confirm = ask,
        wait: float = COMEBACK_TIMEOUT,
    ) -> None:
        super().__init__(window)
        self.window = window
        self._link = link
        self._link_thread = link_thread
        self.client = client
        self.confirm = confirm
        self.wait = wait
        self.action = menu.addAction("Restart the customer's PC (재부팅)…")
        self.action.triggered.connect(self.restart)
        #: The host's last answer (a dict) or refusal (a str), for the status line and tests.
        self.answer: dict[str, Any] | None = None
        self.refusal: str | None = None
        self._answered.connect(self._on_answer, Qt.ConnectionType.QueuedConnection)
        self._allowed.connect(self.follow, Qt.ConnectionType.QueuedConnection)
        previous = client.on_allowed

        def on_allowed(allowed: frozenset[str]) -> None:  # on the link's thread
            if previous is not None:
                previous(allowed)
            self._allowed.emit(allowed)

        client.on_allowed = on_allowed
        self.follow(client.allowed or frozenset())

    def follow(self, allowed: frozenset[str]) -> None:
        """Show the entry only while the host allows 자동 재접속."""
        self.action.setVisible("auto_reconnect" in allowed)

    def restart(self) -> bool:
        """Ask the agent, then ask the host to restart; False when nothing was sent."""
        if not self.client.allows("auto_reconnect"):
            return False
        parent: QWidget = self.window
        if not self.confirm(parent, RESTART_QUESTION):
            return False
        comeback = SessionCode.generate()
        self.answer = self.refusal = None
        # Armed before the request leaves: a host whose PC goes down before its answer still comes back.
        self._link_thread.call(self._link.expect_comeback, comeback, self.wait)
        self.client.request(
            TOPIC_REBOOT, {"code": f"{comeback.routing_id}-{comeback.secret}"}, self._answered.emit
        )
        self._status("Asking the customer's PC to restart…")
        return True

    def _on_answer(self, answer: dict[str, Any] | None, refusal: str | None) -> None:
        error = refusal if refusal is not None else (answer or {}).get("error")
        if error is not None or answer is None:
            self.refusal = str(error)
            self._link_thread.call(self._link.expect_comeback, None, 0.0)
            self._status(f"The customer's PC was not restarted: {error}")
            return
        self.answer = answer
        if answer.get("mode") == MODE_MANUAL:
            self._status("The customer was asked to restart the PC; the session comes back after the restart")
        else:
            self._status("The customer's PC is restarting; the session comes back after the restart")

    def _status(self, text: str) -> None:
        self.window.bridge.status_changed.emit(text)
