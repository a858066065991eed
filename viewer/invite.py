"""상담원 초대 in the viewer: the inviting agent's side and the invited agent's side.

The inviting agent (Session > Invite agent…, :class:`AgentInvitations`): the server issues the invitation
for the running session (a routing id of its own; refused when 상담원 초대 is off), this viewer makes the
secret half of the code, sends the whole code to the host inside the encrypted session and shows it to
the agent, who gives it to the colleague (as the customer's code is read out). The host answers with
``TOPIC_INVITE_STATE`` (refused, open, joined, left) after its own checks and the customer's consent.

The invited agent (``opensupport viewer --server URL --agent ID --join CODE``, :func:`join_invitation`):
registers with the server (who joined is kept with the session's record), then connects a viewer without
the tools with the invitation's code; the host says whether it may control (``host.view_only``). Closing
the viewer leaves the session without ending it; the main session's end ends this one too.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from opensupport.link.topics import TOPIC_INVITE, TOPIC_INVITE_STATE
from opensupport.protocol import CodeGuard, ControlMessage, Event, SessionCode

__all__ = ["AgentInvitations", "JoinedInvitation", "SentInvitation", "join_invitation", "run_guest"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SentInvitation:
    """An invitation this agent issued: its id, the whole code to give to the colleague, view or control."""

    id: int
    code: SessionCode
    control: bool
    invitee: str | None


class AgentInvitations:
    """The invitations of one session on the inviting agent's viewer (owned by its ``ViewerJourney``)."""

    def __init__(self, journey: Any, *, on_message: Callable[[str], None] | None = None) -> None:
        self.journey = journey
        self._on_message = on_message or (lambda text: None)
        self.sent: list[SentInvitation] = []
        #: invitation id -> (state, detail) as the host last said
        self.states: dict[int, tuple[str, str]] = {}
        self._changed = threading.Condition()

    def invite(self, *, control: bool, invitee: str | None = None) -> SentInvitation:
        """Issue an invitation and hand its code to the host. Raises AccountError when the server refuses
        (403: 상담원 초대 is off; 409: the session is not running; 429: too many)."""
        journey = self.journey
        data = journey.account.invite(journey.created.id, control=control, invitee=invitee)
        sent = SentInvitation(
            int(data["id"]), SessionCode.generate(str(data["routing_id"])), bool(data["control"]), invitee
        )
        self.sent.append(sent)
        payload = json.dumps({"id": sent.id, "code": str(sent.code)}).encode("utf-8")
        session = journey.session
        session.link_thread.call(session.link.send, ControlMessage(TOPIC_INVITE, payload))
        return sent

    def on_event(self, event: Event) -> None:
        """The host's answers (on the link's loop)."""
        if not (isinstance(event, ControlMessage) and event.topic == TOPIC_INVITE_STATE):
            return
        try:
            answer = json.loads(event.data.decode("utf-8"))
            invitation_id, state = int(answer["id"]), str(answer["state"])[:20]
            detail = str(answer.get("detail", ""))[:300]
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            log.warning("a malformed invitation state from the host was dropped")
            return
        with self._changed:
            self.states[invitation_id] = (state, detail)
            self._changed.notify_all()
        self._on_message(f"Invitation {invitation_id}: {state} — {detail}" if detail else state)

    def wait_for(self, invitation_id: int, states: tuple[str, ...], timeout: float) -> str | None:
        """Wait until the host reports one of ``states`` for the invitation; the state, or None."""
        with self._changed:
            self._changed.wait_for(lambda: self.states.get(invitation_id, ("", ""))[0] in states, timeout)
            state = self.states.get(invitation_id, ("", ""))[0]
        return state if state in states else None


@dataclass(frozen=True)
class JoinedInvitation:
    """The invitation the invited agent joined, as the server has it."""

    id: int
    record_id: int
    control: bool
    invited_by_name: str


def join_invitation(
    window: Any,
    account: Any,
    code: SessionCode,
    *,
    on_end: Callable[[str], None] | None = None,
) -> tuple[Any, JoinedInvitation]:
    """Register ``account`` as the invited agent and connect ``window`` with the invitation's ``code``;
    the started ``ViewerSession`` (no tools: they stay with the inviting agent) and the invitation.
    Raises AccountError when the server refuses (no such invitation, for another agent, refused...)."""
    from opensupport.viewer.session import ViewerSession

    data = account.join_invitation(code.routing_id)
    joined = JoinedInvitation(
        int(data["id"]), int(data["record_id"]), bool(data["control"]), str(data.get("invited_by_name") or "")
    )

    def ended(message: str) -> None:
        def leave() -> None:
            try:
                account.leave_invitation(joined.id)
            except Exception as exc:  # the session is over either way; the host records it too
                log.info("leaving was not recorded: %s", exc)

        threading.Thread(target=leave, name="opensupport-leave", daemon=True).start()
        if on_end is not None:
            on_end(message)

    session = ViewerSession(window, account.server, code, guard=CodeGuard(), on_end=ended, tools=False)
    window.show_session_code(f"Invitation {code.routing_id} of {joined.invited_by_name}")
    session.start()
    return session, joined


def run_guest(app: Any, window: Any, config: Any) -> int:
    """``opensupport viewer --agent ID --join CODE``: log in, join, show the customer's screen until the
    window is closed (the session goes on without this agent). Returns the exit code."""
    from opensupport.viewer.account import AccountError, AgentAccount
    from opensupport.viewer.cli import read_password

    try:
        password = read_password(config)
    except (OSError, ValueError) as exc:
        print(f"opensupport viewer: cannot read the password: {exc}", file=sys.stderr, flush=True)
        return 1
    account = AgentAccount(config.server)
    try:
        account.login(config.agent, password)
        session, joined = join_invitation(window, account, config.join)
    except AccountError as exc:
        print(f"opensupport viewer: {exc}", file=sys.stderr, flush=True)
        account.logout()
        return 1
    window.show()
    print(
        f"opensupport viewer: agent {account.login_id} joins invitation {config.join.routing_id} "
        f"of {joined.invited_by_name}",
        flush=True,
    )
    try:
        return int(app.exec())
    finally:
        session.stop("the invited agent left")
        account.logout()
