"""The agent's desk in the viewer window: the session's code and customer link, the end-of-session report,
and the next session (원격 종료 후 세션 자동 생성). The server calls are in :mod:`opensupport.viewer.account`."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from opensupport.viewer.account import (
    AccountError,
    AgentAccount,
    CreatedSession,
    FaultType,
    ViewerJourney,
    start_journey,
)
from PySide6.QtCore import QObject, Signal

__all__ = ["AgentDesk", "ReportAnswer", "run_agent"]

log = logging.getLogger(__name__)

#: (fault type id or None, what was done, resolved) or None when the agent cancels the report
ReportAnswer = tuple[int | None, str, str] | None


def _report_dialog(window: Any, fault_types: list[FaultType], summary: str) -> ReportAnswer:
    from opensupport.viewer.ui.report import ReportDialog
    from PySide6.QtWidgets import QDialog

    dialog = ReportDialog(fault_types, summary, window)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.values()


class AgentDesk(QObject):
    """Runs the agent's sessions one after the other in one window.

    ``ask_report(window, fault_types, summary)`` asks for the report (a dialog by default; tests answer
    directly). ``journey`` and ``session`` are the current ones.
    """

    _ended = Signal(str)
    _offered = Signal(object)

    def __init__(
        self,
        window: Any,
        account: AgentAccount,
        *,
        ask_report: Callable[[Any, list[FaultType], str], ReportAnswer] = _report_dialog,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.account = account
        self._ask_report = ask_report
        self.session: Any = None
        self.journey: ViewerJourney | None = None
        self.created: CreatedSession | None = None
        #: every session this desk ran, in order
        self.history: list[CreatedSession] = []
        self._ended.connect(self._after_session)
        self._offered.connect(self._pick_up)
        #: the session being replaced by one the administrator created (no report is asked for it)
        self._replaced: ViewerJourney | None = None
        menu = window.menuBar().addMenu("Session")
        self.request_control_action = menu.addAction("Request control")
        self.request_control_action.triggered.connect(self.request_control)
        # 상담원 초대: shown only when the agent's options allow it (the server and the host refuse too)
        self.invite_action = menu.addAction("Invite agent…")
        self.invite_action.setVisible(bool(account.options.get("invite_agent")))
        self.invite_action.triggered.connect(self.invite_agent)
        self.join_action = menu.addAction("Join an invitation…")
        self.join_action.triggered.connect(self.ask_join)
        #: (window, session) of the invitations this agent joined from the desk
        self.joined: list[tuple[Any, Any]] = []
        self.end_action = menu.addAction("End session")
        self.end_action.triggered.connect(self.end_session)

    def begin(self, created: CreatedSession) -> None:
        """Show the code and the customer link and wait for the customer's host."""
        self.created = created
        self.history.append(created)
        self.window.show_session_code(f"{created.code}\n\nCustomer link: {created.customer_url}")
        self.window.set_connection_status(f"Waiting for the customer — code {created.code}")
        self.session, self.journey = start_journey(
            self.window,
            self.account,
            created,
            on_message=lambda text: self.window.bridge.status_changed.emit(text),
            on_end=self._ended.emit,
        )
        journey = self.journey
        self.account.on_heartbeat = lambda sessions: self._heartbeat(journey, sessions)

    def _heartbeat(self, journey: ViewerJourney, sessions: list[dict[str, Any]]) -> None:
        # on the heartbeat thread
        journey.watch(sessions)
        known = {c.id for c in self.history}
        offered = [s for s in sessions if s.get("status") == "waiting" and s.get("id") not in known]
        if offered:
            self._offered.emit(offered)

    def _pick_up(self, offered: list[dict[str, Any]]) -> None:
        """A session the administrator created for this agent: taken over unless a call is in progress."""
        journey = self.journey
        if journey is None or journey.active.is_set() or self._replaced is not None:
            return
        try:
            claimed = self.account.claim_session(int(offered[0]["id"]))
        except (AccountError, KeyError, TypeError, ValueError) as exc:
            log.warning("the administrator's session could not be taken: %s", exc)
            return
        self._replaced = journey
        if self.session is not None:
            self.session.stop("the agent took another session")
        self.begin(claimed)

    def end_session(self) -> None:
        """End the current session (the report is asked next)."""
        if self.session is not None:
            self.session.stop("the agent ended the session")

    def request_control(self) -> None:
        """Ask the customer for control (when 접속시 자동제어모드 is off)."""
        if self.journey is not None:
            self.journey.request_control()

    def invite_agent(self) -> None:
        """Session > Invite agent…: view or control, then the code to give to the colleague."""
        from opensupport.viewer.ui.invite import ask_and_invite

        if self.journey is not None:
            ask_and_invite(self.window, self.journey)

    def ask_join(self) -> None:
        """Session > Join an invitation…: the invitations open for this agent, and the code to join."""
        from opensupport.viewer.ui.invite import ask_join_code

        code = ask_join_code(self.window, self.account)
        if code is not None:
            self.join_invitation(code)

    def join_invitation(self, code: Any) -> Any:
        """Join another agent's session with the invitation's ``code`` in a window of its own (closing it
        leaves). Returns the window; raises AccountError when the server refuses."""
        from opensupport.viewer.ui.invite import open_guest_window

        window, session = open_guest_window(self.account, code)
        self.joined.append((window, session))
        return window

    def _after_session(self, message: str) -> None:
        if self._replaced is not None:  # the waiting session given up for the administrator's one
            self._replaced = None
            return
        journey, session = self.journey, self.session
        if journey is None:
            return
        if session is not None:
            session.worker.stop(timeout=2.0)
        try:
            fault_types = self.account.fault_types()
        except AccountError as exc:
            log.warning("fault types not available: %s", exc)
            fault_types = []
        answer = self._ask_report(self.window, fault_types, message)
        if answer is None:
            self.window.set_connection_status(f"{message} (no report)")
            return
        fault_type_id, content, resolved = answer
        try:
            following = journey.finish(fault_type_id=fault_type_id, content=content, resolved=resolved)
        except AccountError as exc:
            self.window.set_connection_status(f"The report was not recorded: {exc}")
            return
        if following is not None:
            self.begin(following)
        else:
            self.window.set_connection_status(f"{message} — report recorded")

    def close(self) -> None:
        """End the current session and log the agent out."""
        for _window, guest in self.joined:
            guest.stop("the invited agent closed the viewer")
        if self.session is not None:
            self.session.stop("the agent closed the viewer")
        if self.journey is not None:
            self.journey.closed.wait(5.0)  # the record is closed before the token stops working
        self.account.logout()


def run_agent(app: Any, window: Any, config: Any) -> int:
    """``opensupport viewer --agent ID``: log in, create a session, run sessions until the window closes.
    Returns the exit code (1 when the login or the session creation is refused)."""
    from opensupport.viewer.cli import read_password

    try:
        password = read_password(config)
    except (OSError, ValueError) as exc:
        print(f"opensupport viewer: cannot read the password: {exc}", file=sys.stderr, flush=True)
        return 1
    account = AgentAccount(config.server)
    try:
        account.login(config.agent, password)
        created = account.create_session()
    except AccountError as exc:
        print(f"opensupport viewer: {exc}", file=sys.stderr, flush=True)
        return 1
    desk = AgentDesk(window, account)
    desk.begin(created)
    window.show()
    # The routing id only: the secret half of the code stays off the terminal (and any log collecting it).
    print(
        f"opensupport viewer: agent {account.login_id} logged in; session {created.code.routing_id} waits "
        f"for the customer ({created.customer_url})",
        flush=True,
    )
    try:
        return int(app.exec())
    finally:
        desk.close()
