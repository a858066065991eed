"""The host's side of the server: its API client and the journey of one support call seen by the customer.

How a session managed by the server runs on the host (``HostJourney``):

1. The host starts **paused and view-only**: nothing is shown and nothing is replayed before the host knows
   the agent's options.
2. Right after the handshake the viewer sends the session's host token inside the encrypted session
   (``TOPIC_HOST_TOKEN``); the host asks the server (``GET /api/host/session``) who is connecting and which
   options apply, and builds :class:`~opensupport.host.policy.HostPolicy` from the server's answer, never
   from the viewer's. A viewer that sends no token within :data:`TOKEN_TIMEOUT` is disconnected.
3. 접속전 고객동의 on: the customer is asked (``consent`` callback: a dialog, or ``--consent`` headless).
   A refusal is recorded (``refused``) and ends the session.
4. The host reports the customer's name, PC name, OS and private address, then shares the screen and tells
   the viewer (``TOPIC_HOST_READY``: the viewer marks the session active).
5. Control: 상담원 제어 불가 on -> view-only for the whole session, whatever the viewer asks. Otherwise with
   접속시 자동제어모드 on the agent controls at once; with it off the session stays view-only until the agent
   asks (``TOPIC_CONTROL_REQUEST``) and the customer grants it (``grant_control`` callback: a dialog, or
   ``--grant-control`` headless, which refuses by default because nobody is there to agree).
6. At the end: a dropped session is reported ``disconnected``; if 고객 만족도 조사 is on, the customer's
   answer (``survey`` callback) is sent.

Whether the server manages sessions at all is asked once (``GET /api/health``): a relay-only server (tests,
a bare relay deployment) has no options to enforce, and the host then runs as before.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from opensupport.link.machine import api_base, operating_system, pc_name, private_ip
from opensupport.link.topics import TOPIC_CONTROL_REQUEST, TOPIC_HOST_READY, TOPIC_HOST_TOKEN, TOPIC_VIEW_ONLY
from opensupport.protocol import ControlMessage, Event

from .errors import HostError
from .policy import AUTO_CONTROL, CONSENT_BEFORE_CONNECT, Feature, HostPolicy

__all__ = [
    "TOKEN_TIMEOUT",
    "HostApi",
    "HostJourney",
    "ServerApiError",
    "SessionInfo",
    "SurveyAnswer",
    "server_manages_sessions",
]

log = logging.getLogger(__name__)

#: Seconds the host waits after the handshake for the viewer's host token before it ends the session.
TOKEN_TIMEOUT = 20.0
#: Seconds of one API call.
HTTP_TIMEOUT = 10.0
REFUSED_REASON = "the customer refused the connection"


class ServerApiError(HostError):
    """The server refused or did not answer an API call (the message says which and why)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class SessionInfo:
    """Who is connecting and what the host must enforce (``GET /api/host/session``)."""

    routing_id: str
    status: str
    agent_login_id: str
    agent_name: str
    service_name: str
    options: dict[str, bool]


@dataclass(frozen=True)
class SurveyAnswer:
    """The customer's satisfaction answer: 1..5 or None (no answer), and a comment."""

    satisfaction: int | None
    comment: str = ""


def server_manages_sessions(server: str, timeout: float = HTTP_TIMEOUT) -> bool:
    """Whether ``server`` runs the OpenSupport API (True) or is a bare relay (False).

    A server that does not answer counts as managing sessions: the host then insists on the server's
    options (it cannot be talked out of them by a blocked request), and the relay on the same address is
    most likely unreachable too, which the session reports in its own words.
    """
    try:
        response = httpx.get(api_base(server) + "/api/health", timeout=timeout)
    except httpx.HTTPError as exc:
        log.info("the server %s does not answer (%s): sessions are taken as managed", server, exc)
        return True
    if response.status_code != 200:
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("status") == "ok"


class HostApi:
    """The host's API client: every call carries the session's host token. Raises ServerApiError."""

    def __init__(self, server: str, token: str, *, timeout: float = HTTP_TIMEOUT) -> None:
        self._client = httpx.Client(
            base_url=api_base(server), timeout=timeout, headers={"Authorization": f"Bearer {token}"}
        )

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        try:
            response = self._client.request(method, path, json=body)
        except httpx.HTTPError as exc:
            raise ServerApiError(f"{method} {path}: the server did not answer ({exc})") from None
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail")
            except ValueError:
                detail = response.text[:200]
            raise ServerApiError(f"{method} {path}: {response.status_code} {detail}", response.status_code)
        return response.json()

    def session(self) -> SessionInfo:
        """Who is connecting and the agent's effective options."""
        data = self._call("GET", "/api/host/session")
        options = {str(k): bool(v) for k, v in dict(data.get("options", {})).items()}
        return SessionInfo(
            str(data["routing_id"]), str(data["status"]), str(data["agent_login_id"]),
            str(data["agent_name"]), str(data["service_name"]), options,
        )  # fmt: skip

    def report(
        self, *, customer_name: str | None, pc_name: str | None, os: str | None, private_ip: str | None
    ) -> None:
        """The customer's PC (the server takes the public address from this very request)."""
        body = {"customer_name": customer_name, "pc_name": pc_name, "os": os, "private_ip": private_ip}
        self._call("POST", "/api/host/report", {k: v for k, v in body.items() if v})

    def status(self, status: str) -> None:
        """``refused`` (the customer declined) or ``disconnected`` (the host lost the session)."""
        self._call("POST", "/api/host/status", {"status": status})

    def satisfaction(self, answer: SurveyAnswer) -> None:
        """The customer's survey answer (the server refuses it when the survey is off)."""
        self._call(
            "POST", "/api/host/satisfaction", {"satisfaction": answer.satisfaction, "comment": answer.comment}
        )

    def invitation(self, invitation_id: int) -> dict[str, Any]:
        """상담원 초대: one invitation of this session (routing id, view or control, who joined)."""
        return dict(self._call("GET", f"/api/host/invitations/{int(invitation_id)}"))

    def invitation_consent(self, invitation_id: int, accepted: bool) -> None:
        """The customer's answer to an invitation (recorded; a refusal ends it)."""
        self._call("POST", f"/api/host/invitations/{int(invitation_id)}/consent", {"accepted": accepted})

    def invitation_left(self, invitation_id: int) -> None:
        """The invited agent's connection ended."""
        self._call("POST", f"/api/host/invitations/{int(invitation_id)}/left")

    def close(self) -> None:
        """Release the connection pool."""
        self._client.close()


class HostJourney:
    """One server-managed support call on the host (see the module docstring).

    Pass :meth:`on_event` as the session's event hook, :meth:`attach` the ``HostSession`` (duck-typed:
    ``set_paused``, ``set_view_only``, ``set_policy``, ``stop``, ``link_thread``, ``link``) before
    ``session.start()``,
    and call :meth:`finish` after the session ended.
    The callbacks run on a worker thread and may block (a dialog): ``consent(info) -> bool``,
    ``grant_control(info) -> bool``, ``survey(info) -> SurveyAnswer | None``.
    """

    def __init__(
        self,
        server: str,
        *,
        customer_name: str | None = None,
        consent: Callable[[SessionInfo], bool],
        grant_control: Callable[[SessionInfo], bool],
        survey: Callable[[SessionInfo], SurveyAnswer | None] | None = None,
        on_message: Callable[[str], None] | None = None,
        api_factory: Callable[[str, str], HostApi] = HostApi,
        token_timeout: float = TOKEN_TIMEOUT,
        view_only: bool = False,
    ) -> None:
        self.server = server
        self.session: Any = None
        self.customer_name = customer_name
        self._consent = consent
        self._grant_control = grant_control
        self._survey = survey
        self._on_message = on_message or (lambda text: None)
        self._api_factory = api_factory
        self._token_timeout = token_timeout
        #: the customer asked for view-only (``--view-only``): no option or request opens control
        self.view_only = view_only
        self._token_arrived = threading.Event()
        self._lock = threading.Lock()
        self.api: HostApi | None = None
        self.info: SessionInfo | None = None
        self.policy: HostPolicy | None = None
        #: "accepted", "refused" or "failed" once decided
        self.outcome: str | None = None
        self.control_granted = False
        self.ready = threading.Event()
        #: 상담원 초대 (:class:`~opensupport.host.invite.HostInvitations`); None: invitations go unanswered
        self.invitations: Any = None

    def attach(self, session: Any) -> None:
        """Before ``session.start()``: nothing is shared or replayed until the options are known."""
        self.session = session
        self.session.set_paused(True)
        self.session.set_view_only(True)

    # -- on the link's thread ---------------------------------------------------------------------------------
    def on_event(self, event: Event) -> None:
        """The session's event hook: the token, the agent's control request and the token deadline."""
        from opensupport.protocol import HandshakeComplete

        match event:
            case HandshakeComplete():
                threading.Thread(
                    target=self._token_deadline, name="opensupport-token-wait", daemon=True
                ).start()
            case ControlMessage(topic=topic, data=data) if topic == TOPIC_HOST_TOKEN:
                with self._lock:
                    if self._token_arrived.is_set():
                        return  # the first token counts; a later one cannot swap the session's identity
                    self._token_arrived.set()
                try:
                    token = data.decode("ascii")
                except UnicodeDecodeError:
                    token = ""
                threading.Thread(
                    target=self._begin, args=(token,), name="opensupport-journey", daemon=True
                ).start()
            case ControlMessage(topic=topic) if topic == TOPIC_CONTROL_REQUEST:
                threading.Thread(
                    target=self._control_requested, name="opensupport-control", daemon=True
                ).start()
            case ControlMessage() if self.invitations is not None:
                self.invitations.on_event(event)
            case _:
                pass

    # -- worker threads ---------------------------------------------------------------------------------------
    def _token_deadline(self) -> None:
        if not self._token_arrived.wait(self._token_timeout):
            self.outcome = "failed"
            self._on_message("the agent's viewer did not identify the session: disconnected")
            self.session.stop("the viewer did not identify the session to the host")

    def _begin(self, token: str) -> None:
        try:
            if not token or len(token) > 200:
                raise ServerApiError("the viewer sent a malformed session token")
            self.api = self._api_factory(self.server, token)
            info = self.info = self.api.session()
            policy = self.policy = HostPolicy(info.options)
            if policy.flag(CONSENT_BEFORE_CONNECT) and not self._consent(info):
                self.outcome = "refused"
                self.api.status("refused")
                self._on_message(f"you refused the connection of {info.agent_name} ({info.agent_login_id})")
                self.session.stop(REFUSED_REASON)
                return
            self.api.report(
                customer_name=self.customer_name,
                pc_name=pc_name(),
                os=operating_system(),
                private_ip=private_ip(self.server),
            )
        except ServerApiError as exc:
            self.outcome = "failed"
            self._on_message(f"the server did not confirm this session: {exc}")
            self.session.stop("the server did not confirm the session to the host")
            return
        self.outcome = "accepted"
        self.session.set_policy(policy)  # the in-session tools follow the server's options too
        control = not self.view_only and policy.allows(Feature.CONTROL) and policy.flag(AUTO_CONTROL)
        self.control_granted = control
        self.session.set_view_only(not control)
        self.session.set_paused(False)
        self.session.link_thread.call(self._send, ControlMessage(TOPIC_HOST_READY, b"1"))
        self._on_message(f"connected to {info.agent_name} ({info.agent_login_id}) of {info.service_name}")
        self.ready.set()

    def _send(self, message: ControlMessage) -> None:
        if self.session.link.established:
            self.session.link.send(message)

    def _control_requested(self) -> None:
        if not self.ready.wait(self._token_timeout) or self.info is None or self.policy is None:
            return
        if self.control_granted:
            self.session.set_view_only(False)
            return
        granted = (
            not self.view_only and self.policy.allows(Feature.CONTROL) and self._grant_control(self.info)
        )
        if granted:
            self.control_granted = True
            self.session.set_view_only(False)
        else:
            # Say so explicitly (the view-only state did not change, so the session would not repeat it).
            self.session.link_thread.call(self._send, ControlMessage(TOPIC_VIEW_ONLY, b"1"))
        self._on_message("control granted to the agent" if granted else "control refused")

    # -- after the session ------------------------------------------------------------------------------------
    def finish(self, dropped: bool) -> None:
        """After the session ended: record a dropped session, then run the survey if it is on.

        ``dropped`` is True when the session failed rather than being closed by either side. Problems
        reaching the server are logged (the session is over either way).
        """
        api, info, policy = self.api, self.info, self.policy
        if api is None or info is None or policy is None or self.outcome != "accepted":
            return
        try:
            if dropped:
                api.status("disconnected")
            if self._survey is not None and policy.flag("satisfaction_survey"):
                answer = self._survey(info)
                if answer is not None:
                    api.satisfaction(answer)
        except ServerApiError as exc:
            log.warning("the end of the session could not be reported: %s", exc)
        finally:
            api.close()


def headless_journey(config: Any) -> HostJourney:
    """The journey of ``opensupport host --headless``: every question is answered by the command line
    (``config`` is a ``HostConfig``): consent (``--consent``, refused when not given: nobody is there to
    agree), control (``--grant-control``), the survey (``--satisfaction``/``--comment``, no answer when
    not given)."""

    def say(text: str) -> None:
        print(f"opensupport host: {text}", flush=True)

    def consent(info: SessionInfo) -> bool:
        say(f"{info.agent_name} ({info.agent_login_id}) of {info.service_name} asks to see this screen")
        return bool(config.consent)

    def survey(info: SessionInfo) -> SurveyAnswer | None:
        if config.satisfaction is None and not config.comment:
            return None
        return SurveyAnswer(config.satisfaction, config.comment)

    journey = HostJourney(
        config.server,
        customer_name=config.customer_name,
        consent=consent,
        grant_control=lambda info: bool(config.grant_control),
        survey=survey,
        on_message=say,
        view_only=config.view_only,
    )
    from .invite import HostInvitations

    def invite_consent(invitation: Any) -> bool:
        say(f"{invitation.invited_by_name} invites {invitation.who()} to this session")
        return bool(getattr(config, "invite_consent", False))

    journey.invitations = HostInvitations(journey, consent=invite_consent, on_message=say)
    return journey
