"""The agent's side of the server: login, heartbeat, sessions and the end-of-session report.

``AgentAccount`` is the API client of ``opensupport viewer --server URL --agent ID``: it logs the agent in
(상담원 강제 로그인 is the server's rule: with it off a second login is refused, with it on it cuts the
first one off), keeps it online with a heartbeat thread, creates sessions (상담 생성: the server issues the
routing id; the viewer makes the secret half of the code, which never leaves the two ends), moves them on
and sends the agent's report.

``ViewerJourney`` ties one session to a running ``ViewerSession``: right after the handshake it hands the
host its host token inside the encrypted session (never through the relay in the clear, never on a
command line), marks the session active when the host says the customer accepted, and closes the record
when the link ends (``ended`` for a clean close by either side, ``disconnected`` for a failure).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from opensupport.link.machine import api_base, pc_name, private_ip
from opensupport.link.topics import TOPIC_CONTROL_REQUEST, TOPIC_HOST_READY, TOPIC_HOST_TOKEN, TOPIC_PAUSED
from opensupport.protocol import ControlMessage, Event, HandshakeComplete, SessionCode

__all__ = [
    "AccountError",
    "AgentAccount",
    "CreatedSession",
    "FaultType",
    "LoginRefused",
    "ViewerJourney",
]

log = logging.getLogger(__name__)

HTTP_TIMEOUT = 10.0


class AccountError(Exception):
    """The server refused or did not answer an agent API call; ``status`` is the HTTP status if any."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class LoginRefused(AccountError):
    """The login was refused: wrong ID or password (401), already logged in elsewhere (409), throttled (429)."""


@dataclass(frozen=True)
class CreatedSession:
    """A session the server created: its record id, the whole code (routing id + our secret), the host
    token to hand to the host, and the customer link."""

    id: int
    code: SessionCode
    host_token: str
    customer_url: str


@dataclass(frozen=True)
class FaultType:
    id: int
    name: str


class AgentAccount:
    """One logged-in agent (see the module docstring). Every method raises AccountError on a refusal."""

    def __init__(self, server: str, *, timeout: float = HTTP_TIMEOUT) -> None:
        self.server = server
        self._client = httpx.Client(base_url=api_base(server), timeout=timeout)
        self._lock = threading.Lock()
        self.login_id: str | None = None
        self.name: str | None = None
        self.options: dict[str, bool] = {}
        self.customer_url: str | None = None
        self.heartbeat_interval = 20.0
        self.pc_name = pc_name()
        self.private_ip = private_ip(server)
        self._stop = threading.Event()
        self._heartbeat: threading.Thread | None = None
        #: the last heartbeat's error (None while heartbeats succeed)
        self.heartbeat_error: AccountError | None = None
        #: called with the agent's open sessions (the server's list) after every heartbeat
        self.on_heartbeat: Callable[[list[dict[str, Any]]], None] | None = None

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        with self._lock:
            try:
                response = self._client.request(method, path, json=body)
            except httpx.HTTPError as exc:
                raise AccountError(f"the server did not answer: {exc}") from None
            except RuntimeError:  # httpx: the client was closed (logged out)
                raise AccountError("logged out") from None
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail")
            except (ValueError, AttributeError):
                detail = response.text[:200]
            if not isinstance(detail, str):
                detail = str(detail)[:300]
            kind = LoginRefused if path == "/api/agent/login" else AccountError
            raise kind(detail, response.status_code)
        return response.json()

    # -- login and presence -------------------------------------------------------------------------------
    def login(self, login_id: str, password: str) -> None:
        """Log in and start the heartbeat thread. Raises LoginRefused with the server's reason."""
        body: dict[str, Any] = {"login_id": login_id, "password": password, "pc_name": self.pc_name}
        if self.private_ip:
            body["private_ip"] = self.private_ip
        data = self._call("POST", "/api/agent/login", body)
        self._client.headers["Authorization"] = f"Bearer {data['token']}"
        self.login_id = str(data["agent"]["login_id"])
        self.name = str(data["agent"]["name"])
        self.options = {str(k): bool(v) for k, v in data["options"].items()}
        self.customer_url = str(data["customer_url"])
        self.heartbeat_interval = float(data["heartbeat_interval_s"])
        self._stop.clear()
        self._heartbeat = threading.Thread(
            target=self._heartbeat_main, name="opensupport-heartbeat", daemon=True
        )
        self._heartbeat.start()

    def heartbeat(self) -> None:
        """One heartbeat now (the thread sends them on its own); refreshes :attr:`options`.

        Raises AccountError; a 401 means a newer login cut this one off (its sessions end here too)."""
        try:
            data = self._call("POST", "/api/agent/heartbeat")
        except AccountError as exc:
            if exc.status == 401 and self.on_heartbeat is not None:
                # cut off by a newer login (상담원 강제 로그인): the server closed this login's sessions
                self.on_heartbeat([])
            raise
        self.options = {str(k): bool(v) for k, v in data["options"].items()}
        callback = self.on_heartbeat
        if callback is not None:
            callback([dict(s) for s in data.get("sessions", [])])

    def _heartbeat_main(self) -> None:
        while not self._stop.wait(self.heartbeat_interval):
            try:
                self.heartbeat()
                self.heartbeat_error = None
            except AccountError as exc:
                # 401: a newer login (상담원 강제 로그인) cut this one off; keep saying so, stop trying.
                self.heartbeat_error = exc
                log.warning("heartbeat failed: %s", exc)
                if exc.status == 401:
                    return

    def logout(self) -> None:
        """Stop the heartbeat and log out (the agent shows offline at once). Never raises."""
        self._stop.set()
        if self._client.is_closed:
            return
        try:
            self._call("POST", "/api/agent/logout")
        except AccountError as exc:
            log.info("logout: %s", exc)
        self._client.close()

    # -- sessions -------------------------------------------------------------------------------------------
    def create_session(self) -> CreatedSession:
        """상담 생성: a new waiting session; the code's secret half is made here and never sent."""
        body: dict[str, Any] = {"pc_name": self.pc_name}
        if self.private_ip:
            body["private_ip"] = self.private_ip
        data = self._call("POST", "/api/sessions", body)
        code = SessionCode.generate(str(data["routing_id"]))
        return CreatedSession(int(data["id"]), code, str(data["host_token"]), str(data["customer_url"]))

    def claim_session(self, record_id: int) -> CreatedSession:
        """Take a waiting session the administrator created (상담 생성 in the admin web): a fresh host
        token, and the secret half made here."""
        data = self._call("POST", f"/api/sessions/{int(record_id)}/claim")
        code = SessionCode.generate(str(data["routing_id"]))
        return CreatedSession(int(data["id"]), code, str(data["host_token"]), str(data["customer_url"]))

    def set_status(self, record_id: int, status: str) -> dict[str, Any]:
        """Move the session on (active, ended, disconnected, fault, refused); returns the record."""
        return dict(self._call("POST", f"/api/sessions/{int(record_id)}/status", {"status": status}))

    def session(self, record_id: int) -> dict[str, Any]:
        """The session's record as the server has it."""
        return dict(self._call("GET", f"/api/sessions/{int(record_id)}"))

    def fault_types(self) -> list[FaultType]:
        """The company's fault types, in the administrator's order."""
        return [FaultType(int(f["id"]), str(f["name"])) for f in self._call("GET", "/api/fault-types")]

    # -- 상담원 초대 (opensupport.viewer.invite) --------------------------------------------------------------
    def invite(self, record_id: int, *, control: bool, invitee: str | None = None) -> dict[str, Any]:
        """Invite another agent into the running session ``record_id``; the server's invitation (its
        routing id; the secret half of the code is made by the caller)."""
        body = {"control": control, "invitee": invitee}
        return dict(self._call("POST", f"/api/sessions/{int(record_id)}/invitations", body))

    def invitations(self, record_id: int) -> list[dict[str, Any]]:
        """The invitations of the session ``record_id`` (who joined, who left, refusals)."""
        return [dict(i) for i in self._call("GET", f"/api/sessions/{int(record_id)}/invitations")]

    def open_invitations(self) -> list[dict[str, Any]]:
        """Invitations this agent may join now (named for it, or for any agent of its company)."""
        return [dict(i) for i in self._call("GET", "/api/invitations")]

    def join_invitation(self, routing_id: str) -> dict[str, Any]:
        """Register as the invited agent before connecting with the invitation's code."""
        return dict(self._call("POST", "/api/invitations/join", {"routing_id": routing_id}))

    def leave_invitation(self, invitation_id: int) -> None:
        """The invited agent left the session."""
        self._call("POST", f"/api/invitations/{int(invitation_id)}/leave")

    def report(
        self, record_id: int, *, fault_type_id: int | None, content: str, resolved: str
    ) -> dict[str, Any]:
        """The end-of-session report (resolved: resolved | unresolved | unset); returns the record."""
        body = {"fault_type_id": fault_type_id, "content": content, "resolved": resolved}
        return dict(self._call("POST", f"/api/sessions/{int(record_id)}/report", body))


class ViewerJourney:
    """One server-managed session on the viewer (see the module docstring).

    Pass :meth:`on_event` as the ``ViewerSession``'s event hook and :meth:`on_end` as (part of) its end
    callback, and :meth:`attach` the ``ViewerSession`` before it starts. Server calls run on a worker
    thread, never on the link's loop.
    """

    def __init__(
        self,
        account: AgentAccount,
        created: CreatedSession,
        *,
        on_message: Callable[[str], None] | None = None,
    ) -> None:
        self.account = account
        self.created = created
        self._on_message = on_message or (lambda text: None)
        self.session: Any = None
        #: set once the host said the customer accepted (the record is active)
        self.active = threading.Event()
        #: set once the record was closed (ended / disconnected) after the link ended
        self.closed = threading.Event()
        self.final_status: str | None = None
        from opensupport.viewer.invite import AgentInvitations

        #: 상담원 초대: the invitations of this session (Session > Invite agent)
        self.invitations = AgentInvitations(self, on_message=self._on_message)

    def attach(self, session: Any) -> None:
        """The ``ViewerSession`` this journey drives."""
        self.session = session

    def on_event(self, event: Event) -> None:
        """The session's event hook (on the link's loop)."""
        match event:
            case HandshakeComplete():
                # After every handshake: a resume has none (the host keeps its identity), but a host back
                # from a restart (자동 재접속) is a new process that must learn the session again.
                token = self.created.host_token.encode("ascii")
                self.session.link.send(ControlMessage(TOPIC_HOST_TOKEN, token))
            case ControlMessage(topic=topic, data=b"1") if topic == TOPIC_PAUSED and not self.active.is_set():
                # the host holds the screen back until the customer accepted (or the options are known)
                self._on_message("Connected — waiting for the customer to accept the connection")
            case ControlMessage(topic=topic, data=data) if topic == TOPIC_HOST_READY and data == b"1":
                if not self.active.is_set():
                    self.active.set()
                    self._in_background(self._mark_active)
            case ControlMessage():
                self.invitations.on_event(event)
            case _:
                pass

    def watch(self, open_sessions: list[dict[str, Any]]) -> None:
        """After a heartbeat: a session no longer open on the server (강제 종료 in 상담 관리) ends here too."""
        if self.closed.is_set() or self.session is None:
            return
        if all(s.get("id") != self.created.id for s in open_sessions):
            self._on_message("the administrator ended the session")
            self.session.link_thread.call(self.session.link.close, "the administrator ended the session")

    def request_control(self) -> None:
        """Ask the customer for control (접속시 자동제어모드 off); the answer arrives as ``host.view_only``."""
        self.session.link_thread.call(self.session.link.send, ControlMessage(TOPIC_CONTROL_REQUEST, b""))

    def on_end(self, dropped: bool) -> None:
        """The link ended: close the record (``disconnected`` when ``dropped``, else ``ended``)."""
        self._in_background(self._close, "disconnected" if dropped else "ended")

    def finish(
        self, *, fault_type_id: int | None, content: str, resolved: str, timeout: float = 10.0
    ) -> CreatedSession | None:
        """The agent's end-of-session report (from the viewer's dialog, or called directly headless).

        Waits for the record to be closed first. With 원격 종료 후 세션 자동 생성 (``auto_new_session``) on,
        a new session is created at once and returned (its code is shown to the agent); else None.
        Raises AccountError when the server refuses the report.
        """
        self.closed.wait(timeout)
        self.account.report(self.created.id, fault_type_id=fault_type_id, content=content, resolved=resolved)
        if self.account.options.get("auto_new_session"):
            return self.account.create_session()
        return None

    def _mark_active(self) -> None:
        try:
            self.account.set_status(self.created.id, "active")
        except AccountError as exc:
            self._on_message(f"the server did not record the start of the session: {exc}")

    def _close(self, status: str) -> None:
        try:
            record = self.account.set_status(self.created.id, status)
            self.final_status = str(record.get("status"))
        except AccountError as exc:
            if exc.status == 409:  # already finished (refused by the customer, ended by the administrator)
                try:
                    self.final_status = str(self.account.session(self.created.id).get("status"))
                except AccountError as again:
                    self._on_message(f"the server did not say how the session ended: {again}")
            else:
                self._on_message(f"the server did not record the end of the session: {exc}")
        finally:
            self.closed.set()

    @staticmethod
    def _in_background(target: Callable[..., None], *args: Any) -> None:
        threading.Thread(target=target, args=args, name="opensupport-account", daemon=True).start()


def start_journey(
    window: Any,
    account: AgentAccount,
    created: CreatedSession,
    *,
    on_message: Callable[[str], None] | None = None,
    on_end: Callable[[str], None] | None = None,
) -> tuple[Any, ViewerJourney]:
    """Connect ``window`` (a ``ViewerWindow``) to the host of ``created``: returns the started
    ``ViewerSession`` and its journey. The code is guarded (five wrong codes retire it)."""
    from opensupport.protocol import CodeGuard
    from opensupport.viewer.session import ViewerSession

    journey = ViewerJourney(account, created, on_message=on_message)
    holder: list[Any] = []

    def ended(message: str) -> None:
        session = holder[0] if holder else None
        journey.on_end(dropped=session is None or session.error is not None)
        if on_end is not None:
            on_end(message)

    session = ViewerSession(
        window, account.server, created.code, guard=CodeGuard(), on_end=ended, on_event=journey.on_event
    )
    holder.append(session)
    journey.attach(session)
    account.on_heartbeat = journey.watch
    session.start()
    return session, journey
