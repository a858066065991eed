"""상담원 초대 on the host: a second agent's viewer joins the running session, to view or to control.

How an invitation runs
----------------------
1. The inviting agent's viewer asks the server for an invitation (a routing id of its own), makes the
   secret half of its code and sends the code to the host **inside the encrypted main session**
   (``TOPIC_INVITE``); the invited agent gets the code from the inviting agent, registers with the server
   and connects its viewer with it.
2. :class:`HostInvitations` checks the host's own :class:`~opensupport.host.policy.HostPolicy` (상담원 초대
   ``invite_agent`` off: refused, whatever the server or the viewer say), reads the invitation from the
   server with the session's host token (the routing id must match the code; view or control is the
   server's word, not the viewer's) and, with 상담원 초대전 고객동의 (``consent_before_invite``) on, asks the
   customer. The answer is recorded on the server; a refusal opens nothing.
3. Accepted: a :class:`GuestViewer` opens a second host-role pairing with the relay on the invitation's
   routing id. After its handshake the host asks the server who registered for the invitation; nobody
   registered (someone who only had the code) -> closed before a single frame is sent.
4. The invited agent controls only when invited with control, the policy allows control (상담원 제어 불가
   off), the customer did not start view-only, and the customer agreed to control: by accepting the
   invitation (the question says "with control"), or through 접속시 자동제어모드.

One capture and one encoder feed both viewers: every encoded frame goes to every established viewer, so a
key frame for one (a join, a resume, a decoder failure) is a key frame for both, and both decoders always
hold the same stream. The next frame leaves only when every established viewer has room in its frame
window: the slower viewer sets the pace of both (frames skipped meanwhile are never encoded; the newest
screen goes when room opens), rather than keeping a second encoder per viewer. A guest that is still
handshaking or resuming does not hold the other back; it gets a key frame once it is established. Nor
does a guest whose window stays full for :data:`GUEST_STALL_LIMIT` (a stalled or hostile viewer must not
freeze the customer's session): it stops holding the pace, its frames are dropped, and once it has room
again it asks for a key frame (which every viewer gets) and rejoins the stream with it.

Leaving: the invited agent closes its viewer (the main session goes on, the invitation is recorded
``left``); the main session's end closes every guest (``HostSession`` closes them with its link).
The in-session tools (chat, files, drawing...) stay with the inviting agent: the guest link routes only
screen, cursor and input.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from opensupport.link import LinkResult, LinkThread, SessionLink
from opensupport.link.topics import (
    TOPIC_CURSOR_TRACKING,
    TOPIC_INVITE,
    TOPIC_INVITE_STATE,
    TOPIC_MONITOR_SELECTED,
    TOPIC_PAUSED,
    TOPIC_VIEW_ONLY,
)
from opensupport.protocol import (
    CloseSession,
    ControlMessage,
    CursorPosition,
    CursorShape,
    Event,
    FrameAcknowledged,
    HandshakeComplete,
    KeyCombo,
    KeyEvent,
    KeyframeRequest,
    PointerEvent,
    Resumed,
    Role,
    ScreenUpdate,
    SessionCode,
    TextInput,
    WheelEvent,
)

from .errors import InvalidInputEvent
from .policy import AUTO_CONTROL, CONSENT_BEFORE_INVITE, Feature
from .server_api import ServerApiError
from .session import InputTranslator

__all__ = ["MAX_GUESTS", "GuestViewer", "HostInvitations", "Invitation"]

log = logging.getLogger(__name__)

#: Invited agents connected at the same time (each costs a relay pairing and holds the frame pace).
MAX_GUESTS = 2
#: Largest TOPIC_INVITE payload accepted.
MAX_INVITE_MESSAGE = 512
#: Seconds between two key frames an invited agent may ask for (a resume always gets one).
GUEST_KEYFRAME_INTERVAL = 1.0
#: Seconds a guest's full frame window may hold the other viewers back before it is left behind.
GUEST_STALL_LIMIT = 5.0
#: How long after the guest's handshake the host waits for the server to know who joined.
JOIN_CHECK_TIMEOUT = 5.0


@dataclass(frozen=True)
class Invitation:
    """An invitation as the server has it (``GET /api/host/invitations/{id}``)."""

    id: int
    routing_id: str
    control: bool
    status: str
    invited_by_name: str
    invitee_login_id: str | None
    joined_login_id: str | None
    joined_name: str | None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Invitation:
        def text(key: str) -> str | None:
            value = data.get(key)
            return None if value is None else str(value)

        return cls(
            int(data["id"]), str(data["routing_id"]), bool(data["control"]), str(data["status"]),
            str(data.get("invited_by_name") or ""), text("invitee_login_id"), text("joined_login_id"),
            text("joined_name"),
        )  # fmt: skip

    def who(self) -> str:
        """The invited agent for the customer's question: named, or any agent of the company."""
        return f"agent {self.invitee_login_id}" if self.invitee_login_id else "another agent"


class GuestViewer:
    """One invited agent's viewer: a second host-role link fed by the host's capture (see the module
    docstring). The host calls ``offer_*`` from its threads; everything else runs on the guest's link."""

    def __init__(
        self,
        host: Any,
        server: str,
        code: SessionCode,
        invitation: Invitation,
        *,
        control: bool,
        check_joined: Callable[[], Invitation],
        on_joined: Callable[[GuestViewer, Invitation], None],
        on_end: Callable[[GuestViewer, str], None],
    ) -> None:
        self.host = host
        self.invitation = invitation
        #: input from this guest is replayed (still not while the customer paused)
        self.control = control
        #: set while this guest's frame window has room (cleared by the capture thread per frame)
        self.room = threading.Event()
        #: set once the server confirmed which agent joined
        self.admitted = threading.Event()
        self._check_joined = check_joined
        self._on_joined = on_joined
        self._on_end = on_end
        self._translator = InputTranslator()
        self._last_keyframe = 0.0
        self._cursor_shape: CursorShape | None = None
        self.frames_sent = 0
        #: left behind (see GUEST_STALL_LIMIT) until a key frame brings it back into the stream
        self.stalled = False
        #: set once the guest's end was handled (reported to the server and the inviting viewer)
        self.finished = threading.Event()
        self._room_lost_at = time.monotonic()
        self._resync_asked = False
        self.link = SessionLink(Role.HOST, code, server, self._on_event)
        self.thread = LinkThread(self.link, on_end=self._ended, name="opensupport-guest-link")

    @property
    def established(self) -> bool:
        """Admitted and connected: only then does this guest hold the frame pace."""
        return self.admitted.is_set() and self.link.established

    @property
    def holds_pace(self) -> bool:
        """Whether the next frame waits for this guest's room (capture thread): established, and not
        stalled; a window full for longer than GUEST_STALL_LIMIT leaves it behind."""
        if not self.established or self.stalled:
            return False
        if not self.room.is_set() and time.monotonic() - self._room_lost_at > GUEST_STALL_LIMIT:
            log.warning("an invited agent's viewer takes no frames: the others go on without it")
            self.stalled = True
            return False
        return True

    def start(self) -> None:
        self.thread.start()

    def close(self, reason: str, timeout: float = 10.0) -> None:
        """Close this guest's session and wait until its end is reported (idempotent; the main session
        goes on). Waiting matters when the applet is about to exit: the server records the guest's end.
        The wait ends as soon as the end is reported; the bound is generous because on a loaded machine
        the closing handshake alone took over 2 s and the guest's end went unrecorded."""
        self.thread.stop(reason, timeout)
        self.finished.wait(timeout + JOIN_CHECK_TIMEOUT)

    # -- from the host's threads ------------------------------------------------------------------------------
    def offer_frame(self, data: bytes, keyframe: bool) -> None:
        if self.room.is_set():
            self._room_lost_at = time.monotonic()
        self.room.clear()
        self.thread.call(self._send_frame, data, keyframe)

    def offer_cursor(self, position: CursorPosition | None, shape: CursorShape | None) -> None:
        if shape is not None:
            self._cursor_shape = shape
        self.thread.call(self._send_cursor, position, shape)

    def offer_layout(self) -> None:
        self.thread.call(self._send_layout)

    def offer_paused(self, paused: bool) -> None:
        self.thread.call(self._send_control, TOPIC_PAUSED, b"1" if paused else b"0")

    def follow_policy(self, policy: Any) -> None:
        """The agent's options changed under the session: 상담원 초대 off closes this guest, 상담원 제어 불가
        on takes its control away (its input stops at once; the host releases what it held)."""
        if not policy.allows(Feature.INVITE_AGENT):
            self.thread.call(self.link.close, "inviting an agent was switched off")
            return
        if self.control and not policy.allows(Feature.CONTROL):
            self.control = False
            self.host.guest_input(self, None)  # the input thread re-reads who controls
            self.thread.call(self._send_control, TOPIC_VIEW_ONLY, b"1")

    # -- on the guest's link ----------------------------------------------------------------------------------
    def _on_event(self, event: Event) -> None:
        match event:
            case HandshakeComplete():
                self._translator.reset()
                threading.Thread(target=self._admit, name="opensupport-guest-admit", daemon=True).start()
            case Resumed():
                self._translator.reset()
                self._welcome()
            case FrameAcknowledged():
                self._refresh_room()
                if self.stalled and self.room.is_set() and not self._resync_asked:
                    self._resync_asked = True  # room again: back into the stream with a key frame
                    self.host.request_keyframe()
            case KeyframeRequest(reason=reason):
                now = time.monotonic()
                if reason == "resume" or now - self._last_keyframe >= GUEST_KEYFRAME_INTERVAL:
                    self._last_keyframe = now
                    self.host.request_keyframe()
            case KeyEvent() | PointerEvent() | WheelEvent() | TextInput() | KeyCombo():
                if not (self.control and self.admitted.is_set()):
                    return  # a view-only guest's input goes nowhere
                try:
                    items = self._translator.translate(event)
                except InvalidInputEvent as exc:
                    log.warning("an invited agent's input dropped: %s", exc)
                    return
                for item in items:
                    self.host.guest_input(self, item)
            case CloseSession(reason=reason):
                log.info("the invited agent left: %s", reason)
            case _:
                pass  # monitor choice and the tools belong to the inviting agent

    def _admit(self) -> None:
        # on a worker thread: the server call may take a moment
        deadline = time.monotonic() + JOIN_CHECK_TIMEOUT
        while True:
            try:
                info = self._check_joined()
            except ServerApiError as exc:
                log.warning("the invitation could not be checked: %s", exc)
                info = None
            if info is not None and info.joined_login_id:
                break
            if time.monotonic() > deadline:
                self.thread.call(self.link.close, "no agent registered for this invitation")
                return
            time.sleep(0.25)
        self.invitation = info
        self.admitted.set()
        self.thread.call(self._welcome)
        self._on_joined(self, info)

    def _welcome(self) -> None:
        """Everything a viewer needs after a handshake or resume, then a key frame for all viewers."""
        if not self.admitted.is_set() or not self.link.established:
            return
        self._send_layout()
        self._send_control(TOPIC_VIEW_ONLY, b"0" if self.control else b"1")
        self._send_control(TOPIC_PAUSED, b"1" if self.host.paused else b"0")
        self._send_control(TOPIC_CURSOR_TRACKING, b"1" if self.host.cursor_tracking else b"0")
        if self._cursor_shape is not None:
            self.link.send(self._cursor_shape)
        self._refresh_room()
        self.host.request_keyframe()

    def _refresh_room(self) -> None:
        if self.link.session.can_send_frame():
            self.room.set()

    def _send_frame(self, data: bytes, keyframe: bool) -> None:
        if not self.established:
            return  # it gets a key frame once admitted and connected
        if self.stalled:
            if not (keyframe and self.link.session.can_send_frame()):
                self._refresh_room()
                if self.room.is_set() and not self._resync_asked:
                    self._resync_asked = True
                    self.host.request_keyframe()
                return  # left behind: only a key frame brings it back
            self.stalled = self._resync_asked = False
        if self.link.session.keyframe_required and not keyframe:
            self.host.request_keyframe()
            self._refresh_room()
            return
        if not self.link.send(ScreenUpdate(data, keyframe=keyframe)):
            self.host.request_keyframe()  # this viewer missed one: everyone restarts from a key frame
        else:
            self.frames_sent += 1
        self._refresh_room()

    def _send_cursor(self, position: CursorPosition | None, shape: CursorShape | None) -> None:
        if not self.established or self.host.paused:
            return
        if shape is not None:
            self.link.send(shape)
        if position is not None and self.host.cursor_tracking:  # 마우스 추적 as the inviting agent set it
            self.link.send(position)

    def _send_layout(self) -> None:
        layout = self.host.layout
        if layout is None or not self.established:
            return
        self.link.send(layout[0])
        self.link.send(ControlMessage(TOPIC_MONITOR_SELECTED, str(layout[1]).encode("ascii")))

    def _send_control(self, topic: str, data: bytes) -> None:
        if self.established:
            self.link.send(ControlMessage(topic, data))

    def _ended(self, result: LinkResult | None, error: BaseException | None) -> None:
        try:
            self.admitted.clear()
            self.room.set()
            self.host.detach_guest(self)
            if result is not None:
                how = f"left: {result.reason}" if result.closed_by_peer else f"closed: {result.reason}"
            else:
                how = f"failed: {error}"
            self._on_end(self, how)
        finally:
            self.finished.set()


class HostInvitations:
    """The invitations of one server-managed host session (see the module docstring).

    Pass :meth:`on_event` as (part of) the session's event hook, next to the journey's. ``consent(info)``
    asks the customer (a dialog, or ``--invite-consent`` headless) and may block; ``on_message`` tells the
    customer what happened.
    """

    def __init__(
        self,
        journey: Any,
        *,
        consent: Callable[[Invitation], bool],
        on_message: Callable[[str], None] | None = None,
    ) -> None:
        self.journey = journey
        self._consent = consent
        self._on_message = on_message or (lambda text: None)
        self._lock = threading.Lock()
        self.guests: list[GuestViewer] = []
        #: invitation id -> its last state (refused, open, joined, left, failed)
        self.states: dict[int, str] = {}

    def on_event(self, event: Event) -> None:
        """On the main link's thread: an invitation from the inviting agent's viewer."""
        if not (isinstance(event, ControlMessage) and event.topic == TOPIC_INVITE):
            return
        try:
            if len(event.data) > MAX_INVITE_MESSAGE:
                raise ValueError("too long")
            request = json.loads(event.data.decode("utf-8"))
            invitation_id = int(request["id"])
            code = SessionCode.parse(str(request["code"]))
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
            log.warning("a malformed invitation was dropped: %s", exc)
            return
        threading.Thread(
            target=self._open, args=(invitation_id, code), name="opensupport-invitation", daemon=True
        ).start()

    # -- worker threads ---------------------------------------------------------------------------------------
    def _open(self, invitation_id: int, code: SessionCode) -> None:
        journey = self.journey
        session = journey.session
        api, policy = journey.api, journey.policy
        if not journey.ready.is_set() or api is None or policy is None:
            self._reply(invitation_id, "failed", "the session has not started")
            return
        if not policy.allows(Feature.INVITE_AGENT):
            # The server refuses such invitations too; the host does not rely on it.
            self._reply(invitation_id, "refused", "inviting an agent is switched off for this agent")
            self._on_message("an invitation of another agent was refused: 상담원 초대 is switched off")
            return
        with self._lock:
            if invitation_id in self.states or len(self.guests) >= MAX_GUESTS:
                self._reply(invitation_id, "failed", "already answered, or too many invited agents")
                return
            self.states[invitation_id] = "pending"
        try:
            invitation = Invitation.from_api(api.invitation(invitation_id))
            if invitation.routing_id != code.routing_id or invitation.status not in ("pending", "joined"):
                raise ServerApiError("the invitation does not match the server's")
            asked = policy.flag(CONSENT_BEFORE_INVITE)
            accepted = self._consent(invitation) if asked else True
            api.invitation_consent(invitation_id, accepted)
        except (ServerApiError, KeyError, TypeError, ValueError) as exc:
            self._reply(invitation_id, "failed", f"the server did not confirm the invitation: {exc}")
            return
        if not accepted:
            self._reply(invitation_id, "refused", "the customer refused the invitation")
            self._on_message(f"you refused the invitation of {invitation.who()}")
            return
        control = (
            invitation.control
            and policy.allows(Feature.CONTROL)
            and not journey.view_only
            and (asked or policy.flag(AUTO_CONTROL))
        )
        guest = GuestViewer(
            session, journey.server, code, invitation, control=control,
            check_joined=lambda: Invitation.from_api(api.invitation(invitation_id)),
            on_joined=self._joined, on_end=self._guest_ended,
        )  # fmt: skip
        with self._lock:
            self.guests.append(guest)
        session.attach_guest(guest)
        guest.start()
        self._reply(invitation_id, "open", "waiting for the invited agent")

    def _joined(self, guest: GuestViewer, info: Invitation) -> None:
        mode = "with control" if guest.control else "view only"
        self._reply(info.id, "joined", f"{info.joined_name} ({info.joined_login_id}) joined, {mode}")
        self._on_message(f"the agent {info.joined_name} ({info.joined_login_id}) joined the session ({mode})")

    def _guest_ended(self, guest: GuestViewer, how: str) -> None:
        with self._lock:
            if guest in self.guests:
                self.guests.remove(guest)
        api = self.journey.api
        if api is not None:
            try:
                api.invitation_left(guest.invitation.id)
            except ServerApiError as exc:
                log.info("the invited agent's leaving was not recorded: %s", exc)
        self._reply(guest.invitation.id, "left", how)
        if guest.invitation.joined_login_id:
            self._on_message(f"the agent {guest.invitation.joined_login_id} {how}")

    def _reply(self, invitation_id: int, state: str, detail: str) -> None:
        self.states[invitation_id] = state
        session = self.journey.session
        data = json.dumps({"id": invitation_id, "state": state, "detail": detail[:300]}).encode("utf-8")

        def send() -> None:
            if session.link.established:
                session.link.send(ControlMessage(TOPIC_INVITE_STATE, data))

        session.link_thread.call(send)

    def close(self, reason: str = "the support session ended") -> None:
        """Close every guest (the host does it with its link's end too)."""
        for guest in tuple(self.guests):
            guest.close(reason)
