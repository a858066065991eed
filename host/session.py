"""The host's core: one support session from the customer's side, without any GUI.

Theory of operation
-------------------
Four threads, each owning what it touches, so that no X connection is shared between threads:

- the **link** thread runs the asyncio :class:`~opensupport.link.SessionLink` (relay, protocol session);
  every protocol event arrives there (:meth:`HostSession._on_event`) and every send happens there;
- the **capture** thread owns the capture backend and the codec's ``Encoder``. It sleeps in
  ``wait_for_change`` (X DAMAGE) while the screen is idle. A change marks the screen *dirty*; a frame is
  grabbed and encoded only when the link holds a *send token* (the protocol's frame window has room), so
  that a slow viewer never makes the host queue frames: while the window is full the changes pile up as
  "dirty", and the frame grabbed when it opens is the newest screen (skip to the newest frame, without
  encoding the ones skipped). The encoder's deltas stay valid because it encodes only frames that are sent;
  a frame the link could not send (the transport just dropped) makes the next one a key frame;
- the **cursor** thread owns the pointer source: position and shape travel as their own messages;
- the **input** thread owns the :class:`~opensupport.host.input.InputInjector`, the one place that decides
  whether the viewer's input reaches the desktop (view-only is enforced there, whatever the viewer sends).

What the protocol does not carry as messages of its own travels as ``ControlMessage`` topics
(:mod:`opensupport.link.topics`); PROTOCOL.md should adopt them.

Stopping (the customer's stop button, closing the applet, SIGTERM): input is blocked at once, capture
stops, the session is closed with a reason the viewer shows, and :meth:`HostSession.wait` returns.
"""

from __future__ import annotations

import contextlib
import enum
import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opensupport.link import LinkResult, LinkState, LinkThread, SessionLink
from opensupport.link.topics import (
    TOPIC_CURSOR_TRACKING,
    TOPIC_MONITOR_SELECT,
    TOPIC_MONITOR_SELECTED,
    TOPIC_PAUSED,
    TOPIC_SESSION_OPTIONS,
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
    Monitor,
    MonitorLayout,
    PointerEvent,
    Resumed,
    Role,
    ScreenUpdate,
    SessionCode,
    WheelEvent,
)
from opensupport.protocol import TextInput as TextInputMessage

from .budget import BudgetDriver
from .capture import CaptureBackend, Rect, open_capture
from .capture import Monitor as CaptureMonitor
from .cursor import CursorSource, X11CursorSource
from .desktop import DesktopBackground
from .errors import CaptureError, HostError, InvalidInputEvent
from .events import (
    ButtonPress,
    ButtonRelease,
    InputEvent,
    KeyPress,
    KeyRelease,
    MouseButton,
    PointerMove,
    TextInput,
    Wheel,
)
from .events import KeyCombo as KeyComboInput
from .input import InputBackend, InputInjector, open_input
from .policy import Feature, FeatureDisabled, HostPolicy
from .reboot import HostReboot
from .reverse import AgentScreenGuest

if TYPE_CHECKING:
    from opensupport.tools.clipboard_live import LiveClipboard

    from .tools.live import HostSessionTools

__all__ = [
    "END_REASON_STOPPED",
    "HostSession",
    "HostStatus",
    "InputTranslator",
]

log = logging.getLogger(__name__)

#: The reason sent when the customer stops the session.
END_REASON_STOPPED = "the customer ended the session"

#: Longest sleep of the capture thread between checks of its commands (seconds).
CAPTURE_TICK = 0.1
#: How often a still screen with lossy regions awaiting refinement is encoded again (seconds).
REFINE_TICK = 0.1
#: Input events waiting for the input thread; beyond this the newest are dropped (a flooding viewer).
MAX_PENDING_INPUT = 1024
#: Wheel units per notch (the protocol counts 1/120 notch).
WHEEL_UNIT = 120

_BUTTON_BITS = (
    MouseButton.LEFT,
    MouseButton.MIDDLE,
    MouseButton.RIGHT,
    MouseButton.BACK,
    MouseButton.FORWARD,
)
_KNOWN_BUTTON_MASK = (1 << len(_BUTTON_BITS)) - 1


@dataclass(frozen=True)
class _GuestInput:
    """An input event from an invited agent's viewer (replayed only while that agent has control)."""

    guest: Any
    event: InputEvent


class _Command(enum.Enum):
    SELECT_MONITOR = "select"
    SHARE_AREA = "area"
    #: The customer's own switch back from a window or region to a whole monitor.
    SHARE_MONITOR = "monitor"
    STOP = "stop"


@dataclass(frozen=True)
class HostStatus:
    """What the host's window shows."""

    link: LinkState
    detail: str
    #: a viewer is connected through an established session
    connected: bool
    #: the screen is being shared right now (connected and not paused)
    sharing: bool
    paused: bool
    view_only: bool
    #: how the session ended (None while it runs)
    ended: str | None = None


class InputTranslator:
    """Turns the protocol's input messages into the host's validated input events.

    Pointer messages carry the mask of held buttons: the translator remembers the last mask and turns each
    change into a press or release. Wheel messages count 1/120 notch: whole notches are replayed, the rest
    is carried to the next message. Raises InvalidInputEvent for anything malformed or out of range.
    """

    def __init__(self) -> None:
        self._buttons = 0
        self._wheel = [0, 0]

    def reset(self) -> None:
        """Forget held buttons and partial wheel turns (a new session, a resume, another monitor)."""
        self._buttons = 0
        self._wheel = [0, 0]

    def translate(self, event: Event) -> list[InputEvent]:
        """The host input events for one protocol message (possibly none)."""
        match event:
            case KeyEvent(keysym=keysym, down=down):
                return [KeyPress(keysym) if down else KeyRelease(keysym)]
            case TextInputMessage(text=text):
                return [TextInput(text)]
            case KeyCombo(keysyms=keysyms):
                return [KeyComboInput(keysyms)]
            case PointerEvent(x=x, y=y, buttons=buttons):
                if buttons & ~_KNOWN_BUTTON_MASK:
                    raise InvalidInputEvent(f"unknown pointer buttons in mask {buttons:#x}")
                changed = buttons ^ self._buttons
                out: list[InputEvent] = []
                if not changed:
                    return [PointerMove(x, y)]
                for bit, button in enumerate(_BUTTON_BITS):
                    if changed & (1 << bit):
                        out.append(
                            ButtonPress(button, x, y) if buttons & (1 << bit) else ButtonRelease(button, x, y)
                        )
                self._buttons = buttons
                return out
            case WheelEvent(x=x, y=y, dx=dx, dy=dy):
                self._wheel[0] += dx
                self._wheel[1] += dy
                notches = [int(v / WHEEL_UNIT) for v in self._wheel]
                if notches == [0, 0]:
                    return []
                self._wheel = [v - n * WHEEL_UNIT for v, n in zip(self._wheel, notches, strict=True)]
                return [Wheel(notches[0], notches[1], x, y)]
        raise InvalidInputEvent(f"not an input message: {type(event).__name__}")


def _protocol_monitors(monitors: list[CaptureMonitor]) -> MonitorLayout:
    return MonitorLayout(
        tuple(Monitor(m.x, m.y, m.width, m.height, m.primary) for m in monitors[:16])  # protocol bound
    )


class HostSession:
    """The customer's side of one support session (see the module docstring).

    ``server`` is the server URL, ``code`` the session code the customer typed. ``display`` is the X
    display (None: ``$DISPLAY``). ``on_status`` is called (from any of the session's threads) whenever
    :class:`HostStatus` changes. The factories exist for other platforms and for tests.

    ``on_event`` sees every protocol event after the core handled it (on the link's thread: chat, files,
    clipboard, drawing and the like belong to it); ``keyframe_allowed`` may refuse a viewer's key-frame
    request (a flood); after a resume the key frame is sent whatever it says.

    ``policy`` (the agent's options, from the server or the CLI) switches the in-session tools on: the
    session then owns a :class:`~opensupport.host.tools.live.HostSessionTools` (``self.tools``) that gets
    every event the core does not handle, announces the allowed tools after each handshake and resume, and
    filters key-frame requests; ``no_control`` makes the session view-only. ``download_dir`` receives the
    agent's files; ``consent_answer`` answers file-transfer consent without asking (None: the window asks).
    """

    def __init__(
        self,
        server: str,
        code: SessionCode,
        *,
        display: str | None = None,
        view_only: bool = False,
        monitor: int = 0,
        on_status: Callable[[HostStatus], None] | None = None,
        open_capture_backend: Callable[[str | None, int], CaptureBackend] | None = None,
        open_input_backend: Callable[[str | None], InputBackend] | None = None,
        open_cursor_source: Callable[[str | None, CaptureMonitor], CursorSource] | None = None,
        encoder_threads: int = 1,
        on_event: Callable[[Event], None] | None = None,
        keyframe_allowed: Callable[[KeyframeRequest], bool] | None = None,
        policy: HostPolicy | None = None,
        download_dir: Path | None = None,
        consent_answer: bool | None = False,
        on_notice: Callable[[str], None] | None = None,
        share_area: Rect | None = None,
        share_window: int | None = None,
        reboot: HostReboot | None = None,
        clipboard: LiveClipboard | None = None,
    ) -> None:
        if (share_area is not None or share_window is not None) and policy is not None:
            policy.require(Feature.PARTIAL_SHARING)  # 부분공유 refused: FeatureDisabled says why
        self._initial_share = (share_area, share_window)
        #: True while a window or region is shared rather than a monitor (written by the capture thread).
        self._area_shared = False
        if policy is not None and not policy.allows(Feature.CONTROL):
            view_only = True  # 상담원 제어 불가: the host drops input whatever the viewer sends
        #: 마우스 추적: the pointer's moves are sent (its shape always is); the agent may switch it.
        self._tracking = policy.tracks_pointer if policy is not None else True
        #: 바탕화면 공유 off: the capture thread paints the desktop background plain before encoding.
        self._hide_desktop = policy is not None and not policy.shares_desktop
        self._background: DesktopBackground | None = None  # the capture thread's
        self._display = display
        self._on_status = on_status
        self._open_capture = open_capture_backend or (lambda d, m: open_capture(d, monitor=m))
        self._open_input = open_input_backend or open_input
        self._open_cursor = open_cursor_source or (lambda d, m: X11CursorSource(d, m))
        self._encoder_threads = encoder_threads
        self._initial_monitor = monitor
        self._lock = threading.Lock()
        self._status = HostStatus(LinkState.CONNECTING, "", False, False, False, view_only)
        self._view_only = view_only
        self._paused = False
        self._stopping = threading.Event()
        self._send_token = threading.Event()
        self._keyframe_wanted = threading.Event()
        self._commands: queue.Queue[tuple[_Command, Any]] = queue.Queue()
        self._input: queue.Queue[InputEvent | _GuestInput | None] = queue.Queue(MAX_PENDING_INPUT)
        self._translator = InputTranslator()
        self._layout: tuple[MonitorLayout, int] | None = None
        self._cursor_monitor: CaptureMonitor | None = None
        self._cursor_changed = threading.Event()
        self._injector: InputInjector | None = None
        self._errors: list[BaseException] = []
        self.frames_sent = 0
        self.keyframes_sent = 0
        self.link = SessionLink(Role.HOST, code, server, self._on_event, on_state=self._on_link_state)
        self._link_thread = LinkThread(self.link, on_end=self._on_link_end, name="opensupport-host-link")
        #: the agent's quality mode, the link's measurements and the frame gate (host/budget.py)
        self.budget = BudgetDriver(self.link, self._refresh_token)
        self._extra_handler = on_event
        self._keyframe_allowed = keyframe_allowed
        #: 자동 재접속 / 수동 재부팅 (host/reboot.py); without one, restart requests are refused.
        self.reboot = reboot if reboot is not None else HostReboot(None)
        #: 상담원 화면 전송/제어: the agent's offers of its own screen (host/reverse.py).
        self.agent_screen = AgentScreenGuest(
            self.link, server, lambda: self.policy, post=self._link_thread.call
        )
        self.policy: HostPolicy | None = None
        self.tools: HostSessionTools | None = None
        self._tool_settings = (download_dir, consent_answer, on_notice)
        #: The customer's system clipboard (the applet's window; headless keeps one in memory).
        self._clipboard = clipboard
        if policy is not None:
            self._make_tools(policy)
        self._threads = [
            threading.Thread(target=self._guard(self._capture_main), name="opensupport-capture", daemon=True),
            threading.Thread(target=self._guard(self._cursor_main), name="opensupport-cursor", daemon=True),
            threading.Thread(target=self._guard(self._input_main), name="opensupport-input", daemon=True),
        ]
        self._capture_ready = threading.Event()
        #: 상담원 초대: invited agents' viewers fed from the same capture and encoder (host/invite.py)
        self._guests: list[Any] = []

    # -- public API -----------------------------------------------------------------------------------------
    def start(self) -> None:
        """Open the screen and input, then connect. Raises HostError if the desktop cannot be used."""
        self._threads[0].start()
        self._capture_ready.wait(10)
        if self._errors:
            raise self._errors[0]
        for thread in self._threads[1:]:
            thread.start()
        self._link_thread.start()

    def set_on_status(self, callback: Callable[[HostStatus], None] | None) -> None:
        """Report status changes to ``callback`` (called from any of the session's threads) from now on."""
        self._on_status = callback

    @property
    def status(self) -> HostStatus:
        """The current status."""
        return self._status

    @property
    def display(self) -> str | None:
        """The X display shared (None: ``$DISPLAY``)."""
        return self._display

    @property
    def shared_monitor(self) -> CaptureMonitor | None:
        """The monitor being shared (its place on the desktop), once the capture opened it."""
        return self._cursor_monitor

    @property
    def result(self) -> LinkResult | None:
        """How the session ended, once it ended cleanly."""
        return self._link_thread.result

    @property
    def error(self) -> BaseException | None:
        """Why the session failed (a relay refusal, a wrong code, a lost connection), once it did."""
        return self._link_thread.error or (self._errors[0] if self._errors else None)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the session to end; True if it ended."""
        return self._link_thread.join(timeout)

    def set_paused(self, paused: bool) -> None:
        """Pause or resume sharing: while paused no frame is sent and no input is replayed."""
        with self._lock:
            if paused == self._paused:
                return
            self._paused = paused
        if self._injector is not None:
            self._input_put(None)  # the input thread re-reads the rules
        self._link_thread.call(self._send_control, TOPIC_PAUSED, b"1" if paused else b"0")
        for guest in tuple(self._guests):
            guest.offer_paused(paused)
        self._keyframe_wanted.set()
        self._update_status(paused=paused)

    def set_view_only(self, view_only: bool) -> None:
        """Drop (True) or replay (False) the viewer's input from now on, and tell the viewer.

        The server journey (:mod:`opensupport.host.server_api`) starts view-only and opens control only
        when the agent's options and the customer allow it.
        """
        with self._lock:
            if view_only == self._view_only:
                return
            self._view_only = view_only
        self._input_put(None)  # the input thread re-reads the rules before the next event
        self._link_thread.call(self._send_control, TOPIC_VIEW_ONLY, b"1" if view_only else b"0")
        self._update_status(view_only=view_only)

    def share_area(self, area: Rect | None = None, *, window: int | None = None) -> None:
        """부분공유: share only ``area`` (root coordinates) or the window ``window`` from now on.

        Raises FeatureDisabled when the agent's options do not allow partial sharing.
        """
        if self.policy is not None:
            self.policy.require(Feature.PARTIAL_SHARING)
        self._commands.put((_Command.SHARE_AREA, (area, window)))

    def share_monitor(self, index: int | None = None) -> None:
        """End partial sharing: share the whole monitor ``index`` (None: the one the area lies on)."""
        monitor = self._cursor_monitor
        self._commands.put(
            (_Command.SHARE_MONITOR, index if index is not None else monitor.index if monitor else 0)
        )

    def stop(self, reason: str = END_REASON_STOPPED, timeout: float = 3.0) -> None:
        """End the session at once: input is blocked, capture stops, the viewer is told ``reason``."""
        self._stopping.set()
        self._send_token.set()
        self._input_put(None)
        self._commands.put((_Command.STOP, None))
        self._link_thread.call(self.link.close, reason)
        self._link_thread.join(timeout)
        self._join_threads(timeout)

    # -- invited agents (상담원 초대, host/invite.py) ------------------------------------------------------------
    def attach_guest(self, guest: Any) -> None:
        """Feed an invited agent's viewer from now on: every frame goes to every viewer (one encoder, one
        stream), so the next frame leaves only when each established viewer has room in its window."""
        self._guests.append(guest)

    def detach_guest(self, guest: Any) -> None:
        """Stop feeding ``guest`` (it left); input it queued is dropped."""
        with contextlib.suppress(ValueError):
            self._guests.remove(guest)
        self._input_put(None)

    def guest_input(self, guest: Any, event: InputEvent | None) -> None:
        """Input from an invited agent; the input thread replays it only while ``guest.control`` (None:
        nothing to replay, only re-read who controls)."""
        self._input_put(_GuestInput(guest, event) if event is not None else None)

    def request_keyframe(self) -> None:
        """The next frame, to every viewer, is a key frame (a viewer joined or lost its decoder state)."""
        self._keyframe_wanted.set()
        self._cursor_changed.set()

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def layout(self) -> tuple[MonitorLayout, int] | None:
        """The monitors and the index of the shared one, as last announced."""
        return self._layout

    def _frame_room(self) -> threading.Event | None:
        """What the next frame waits for: the main viewer's send token or a guest's room (None: all
        have room). A guest that is not established yet (or resuming) gets a key frame when it is."""
        if not self._send_token.is_set():
            return self._send_token
        for guest in tuple(self._guests):
            if guest.holds_pace and not guest.room.is_set():
                return guest.room
        return None

    def set_policy(self, policy: HostPolicy) -> None:
        """Apply the agent's options once they are known (the server journey fetches them after the
        handshake): the tools switch on and the viewer is told which ones it may show. Thread-safe."""
        self._link_thread.call(self._apply_policy, policy)

    @property
    def cursor_tracking(self) -> bool:
        """마우스 추적: whether the pointer's moves are sent to the viewer now."""
        return self._tracking

    def set_cursor_tracking(self, on: bool) -> None:
        """Send the pointer's moves (True) or only its shape (False) from now on. Thread-safe."""
        self._link_thread.call(self._set_tracking, on)

    def _set_tracking(self, on: bool) -> None:
        # on the link's thread; the state is announced even when unchanged, so the viewer's menu follows
        was, self._tracking = self._tracking, on
        if on and not was:
            self._cursor_changed.set()  # the cursor thread reports the position at once
        elif was and not on and self.link.established:
            self.link.send(CursorPosition(0, 0, False))  # the viewer stops drawing where it last was
        self._send_control(TOPIC_CURSOR_TRACKING, b"1" if on else b"0")

    def _send_options(self) -> None:
        """마우스 추적's state and what the viewer needs of the options (``session.options``)."""
        self._send_control(TOPIC_CURSOR_TRACKING, b"1" if self._tracking else b"0")
        if self.policy is not None:
            self._send_control(TOPIC_SESSION_OPTIONS, json.dumps(self.policy.viewer_options()).encode())

    def _make_tools(self, policy: HostPolicy) -> None:
        from .tools.live import HostSessionTools

        download_dir, consent_answer, on_notice = self._tool_settings
        self.policy = policy
        self.tools = HostSessionTools(
            self.link,
            self._link_thread,
            policy,
            download_dir=download_dir if download_dir is not None else Path.home() / "Downloads",
            consent_answer=consent_answer,
            on_notice=on_notice,
            clipboard=self._clipboard,
        )
        if self._clipboard is not None:
            self._clipboard.attach(self.tools.exchange.clipboard, self.tools.post)

    def _apply_policy(self, policy: HostPolicy) -> None:
        # on the link's thread: no event is being routed meanwhile
        old = self.tools
        self._make_tools(policy)
        if old is not None:
            old.close()  # the options changed under a running session: the tools start over
        self.agent_screen.follow_policy()  # an agent screen the new options forbid is closed
        for guest in tuple(self._guests):  # 상담원 초대: an invited agent follows the new options too
            guest.follow_policy(policy)
        if not policy.allows(Feature.PARTIAL_SHARING) and self._area_shared:
            # Widening the share to the whole monitor would show what the customer chose to hide: end.
            reason = str(FeatureDisabled(Feature.PARTIAL_SHARING))
            log.error("%s: the session ends", reason)
            self._stopping.set()
            self._send_token.set()
            self._link_thread.call(self.link.close, reason)
            return
        hide = not policy.shares_desktop
        if hide != self._hide_desktop:
            self._hide_desktop = hide
            self._keyframe_wanted.set()
        if policy.tracks_pointer != self._tracking:
            self._set_tracking(policy.tracks_pointer)
        self._send_options()
        if not policy.allows(Feature.CONTROL):
            with self._lock:
                self._view_only = True
            self._input_put(None)
            self._send_control(TOPIC_VIEW_ONLY, b"1")
            self._update_status(view_only=True)
        if self.link.established and self.tools is not None:
            self.tools.hello()

    # -- the link's loop --------------------------------------------------------------------------------------
    @property
    def link_thread(self) -> LinkThread:
        """The thread the link runs on: ``link_thread.call(link.send, event)`` sends from any thread."""
        return self._link_thread

    def _on_event(self, event: Event) -> None:
        handled = self._handle_event(event) or self.reboot.handle(event, self.policy, self._send_threadsafe)
        if self.tools is not None:
            if isinstance(event, HandshakeComplete | Resumed):
                self.tools.hello()
            elif not handled:
                try:
                    self.tools.handle(event)
                except Exception:
                    log.exception("a tool failed on %s", type(event).__name__)
        if self._extra_handler is not None:
            try:
                self._extra_handler(event)
            except Exception:
                log.exception("the session's extra event handler failed on %s", type(event).__name__)

    def _handle_event(self, event: Event) -> bool:
        """The core's part of an event; False for what it leaves to the tools."""
        if self.budget.handle(event):
            return True
        match event:
            case HandshakeComplete() | Resumed():
                self._translator.reset()
                self._input_put(None)
                self._send_layout()
                self._send_control(TOPIC_VIEW_ONLY, b"1" if self._view_only else b"0")
                self._send_control(TOPIC_PAUSED, b"1" if self._paused else b"0")
                self._keyframe_wanted.set()
                self._refresh_token()
                self._cursor_changed.set()
                self._send_options()
            case FrameAcknowledged():
                self._refresh_token()
            case KeyframeRequest():
                allowed = self._keyframe_allowed is None or self._keyframe_allowed(event)
                if self.tools is not None:
                    allowed = allowed and self.tools.keyframe_allowed(event)
                if allowed or event.reason == "resume":
                    self._keyframe_wanted.set()
                    self._refresh_token()
            case KeyEvent() | PointerEvent() | WheelEvent() | TextInputMessage() | KeyCombo():
                self._input_message(event)
            case ControlMessage(topic=topic, data=data):
                if topic == TOPIC_MONITOR_SELECT:
                    try:
                        index = int(data.decode("ascii"))
                    except (UnicodeDecodeError, ValueError):
                        log.warning("monitor selection with a malformed index dropped")
                        return True
                    self._commands.put((_Command.SELECT_MONITOR, index))
                elif topic == TOPIC_CURSOR_TRACKING:
                    if data in (b"0", b"1"):
                        self._set_tracking(data == b"1")
                    else:
                        log.warning("pointer tracking switch with a malformed value dropped")
                elif not self.agent_screen.handle(event):
                    return False
            case CloseSession(reason=reason):
                log.info("the viewer closed the session: %s", reason)
            case _:
                return False
        return True

    def _send_threadsafe(self, event: Event) -> None:
        self._link_thread.call(self.link.send, event)

    def _input_message(self, event: Event) -> None:
        try:
            events = self._translator.translate(event)
        except InvalidInputEvent as exc:
            log.warning("input message dropped: %s", exc)
            return
        for item in events:
            self._input_put(item)

    def _input_put(self, item: InputEvent | _GuestInput | None) -> None:
        try:
            self._input.put_nowait(item)
        except queue.Full:
            log.warning("input queue full: event dropped")

    def _refresh_token(self) -> None:
        if self.link.session.can_send_frame() and self.budget.may_send():
            self._send_token.set()

    def _send_frame(self, data: bytes, keyframe: bool) -> None:
        session = self.link.session
        if session.keyframe_required and not keyframe:
            self._keyframe_wanted.set()
            self._send_token.set()
            return
        if not self.link.send(ScreenUpdate(data, keyframe=keyframe)):
            # The window closed or the transport dropped under us: the encoder moved on, the viewer did
            # not, so the next frame must be a key frame.
            self._keyframe_wanted.set()
            self._refresh_token()
            return
        self.frames_sent += 1
        self.keyframes_sent += keyframe
        self.budget.frame_sent(len(data))
        self._refresh_token()

    def _send_layout(self) -> None:
        layout = self._layout
        if layout is None:
            return
        self.link.send(layout[0])
        self.link.send(ControlMessage(TOPIC_MONITOR_SELECTED, str(layout[1]).encode("ascii")))

    def _send_control(self, topic: str, data: bytes) -> None:
        if self.link.established:
            self.link.send(ControlMessage(topic, data))

    def _send_cursor(self, position: CursorPosition | None, shape: CursorShape | None) -> None:
        if not self.link.established or self._paused:
            return
        if shape is not None:
            self.link.send(shape)
        if position is not None and self._tracking:
            self.link.send(position)

    def _on_link_state(self, state: LinkState, detail: str) -> None:
        if state is not LinkState.CONNECTED:
            self._send_token.clear()
        self._update_status(link=state, detail=detail)

    def _on_link_end(self, result: LinkResult | None, error: BaseException | None) -> None:
        self.agent_screen.close()  # the agent's screen ends with the support session
        for guest in tuple(self._guests):  # the main session's end ends the invited agents' too
            guest.close("the support session ended")
        if self.tools is not None:
            try:
                self.tools.close()
            except Exception:
                log.exception("closing the tools failed")
        self._stopping.set()
        self._send_token.set()
        self._input_put(None)
        self._commands.put((_Command.STOP, None))
        if result is not None:
            ended = (
                f"the viewer ended the session: {result.reason}" if result.closed_by_peer else result.reason
            )
        else:
            ended = f"{type(error).__name__}: {error}"
        self._update_status(link=LinkState.CLOSED if error is None else LinkState.FAILED, ended=ended)

    def _update_status(self, **changes: Any) -> None:
        with self._lock:
            status = replace(self._status, **changes)
            connected = status.link is LinkState.CONNECTED and status.ended is None
            status = replace(
                status, connected=connected, sharing=connected and not self._paused, paused=self._paused
            )
            if status == self._status:
                return
            self._status = status
        if self._on_status is not None:
            try:
                self._on_status(status)
            except Exception:
                log.exception("the status callback failed")

    # -- threads --------------------------------------------------------------------------------------------
    def _guard(self, target: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                target()
            except BaseException as exc:
                if isinstance(exc, HostError):  # the desktop refused: a message, not a traceback
                    log.error("%s: %s", threading.current_thread().name, exc)
                else:
                    log.exception("%s failed", threading.current_thread().name)
                self._errors.append(exc)
                self._capture_ready.set()
                if not self._stopping.is_set():
                    self._stopping.set()
                    self._link_thread.call(self.link.close, f"the host failed: {exc}")

        return run

    def _capture_main(self) -> None:
        from opensupport.codec import Encoder

        capture = self._open_capture(self._display, self._initial_monitor)
        try:
            area, window = self._initial_share
            if area is not None or window is not None:
                capture.share_area(area, window=window)
                self._area_shared = True
            monitor = capture.monitor
            encoder = Encoder(monitor.width, monitor.height, threads=self._encoder_threads)
            self._publish_monitors(capture)
            self._capture_ready.set()
            self._capture_loop(capture, encoder)
        finally:
            capture.close()
            if self._background is not None:
                self._background.close()

    def _publish_monitors(self, capture: CaptureBackend) -> None:
        monitors = capture.monitors()
        self._layout = (_protocol_monitors(monitors), capture.monitor.index)
        self._cursor_monitor = capture.monitor
        self._cursor_changed.set()
        self._link_thread.call(self._send_layout)
        for guest in tuple(self._guests):
            guest.offer_layout()

    def _capture_loop(self, capture: CaptureBackend, encoder: Any) -> None:
        dirty = True
        keyframe = True
        while not self._stopping.is_set():
            while True:
                try:
                    command, arg = self._commands.get_nowait()
                except queue.Empty:
                    break
                if command is _Command.STOP:
                    return
                if command is _Command.SELECT_MONITOR and self._area_shared:
                    # The viewer cannot widen a window or region the customer chose to share.
                    log.warning("monitor selection refused: the customer shares a window or region only")
                    continue
                try:
                    if command is _Command.SHARE_AREA:
                        monitor = capture.share_area(arg[0], window=arg[1])
                    else:
                        monitor = capture.select_monitor(arg)
                    self._area_shared = command is _Command.SHARE_AREA
                except CaptureError as exc:
                    log.warning("%s refused: %s", command.name.lower().replace("_", " "), exc)
                    continue
                encoder.resize(monitor.width, monitor.height)
                keyframe = dirty = True
                self._publish_monitors(capture)
                self._input_put(None)
            if self._keyframe_wanted.is_set():
                self._keyframe_wanted.clear()
                keyframe = dirty = True
            if self._paused:
                time.sleep(CAPTURE_TICK)
                continue
            if dirty and self._frame_room() is None:
                self._send_token.clear()
                if self._stopping.is_set():
                    return
                frame = capture.grab()
                if self._hide_desktop:
                    frame = self._paint_background(capture, frame)
                before = capture.monitor
                if (frame.shape[1], frame.shape[0]) != (encoder.width, encoder.height):
                    encoder.resize(frame.shape[1], frame.shape[0])
                    keyframe = True
                self.budget.apply(encoder)
                data = encoder.encode(frame, keyframe=keyframe)
                self._link_thread.call(self._send_frame, data, keyframe)
                for guest in tuple(self._guests):
                    guest.offer_frame(data, keyframe)
                dirty = keyframe = False
                if capture.monitor != before:
                    self._publish_monitors(capture)
                continue
            if dirty:
                # Changed, but a window is full: wait for room (the damage keeps piling up meanwhile).
                room = self._frame_room()
                if room is not None:
                    room.wait(CAPTURE_TICK)
                continue
            monitor_before = capture.monitor
            # Lossy regions awaiting refinement: encode again soon though nothing changes (the encoder
            # refines a region still for 0.5 s; codec/FORMAT.md), so that a still screen ends up exact.
            refine = encoder.pending_refinement > 0
            if capture.wait_for_change(REFINE_TICK if refine else CAPTURE_TICK) or refine:
                dirty = True
            if capture.monitor != monitor_before:  # the layout changed under us
                encoder.resize(capture.monitor.width, capture.monitor.height)
                keyframe = dirty = True
                self._publish_monitors(capture)

    def _paint_background(self, capture: CaptureBackend, frame: Any) -> Any:
        """바탕화면 공유 off: the frame with the desktop background painted plain (capture thread)."""
        if self._background is None:
            self._background = DesktopBackground(self._display)
        if not frame.flags.writeable or not getattr(capture, "uses_damage", False):
            frame = frame.copy()  # the polling detector compares the next grab with this very array
        m = capture.monitor
        self._background.paint(frame, Rect(m.x, m.y, frame.shape[1], frame.shape[0]))
        return frame

    def _cursor_main(self) -> None:
        while self._cursor_monitor is None and not self._stopping.is_set():
            time.sleep(0.01)
        monitor = self._cursor_monitor
        if monitor is None:
            return
        try:
            source = self._open_cursor(self._display, monitor)
        except HostError as exc:
            log.warning("the pointer is not reported: %s", exc)
            return
        with source:
            while not self._stopping.is_set():
                if self._cursor_changed.is_set():
                    self._cursor_changed.clear()
                    if self._cursor_monitor is not None:
                        source.set_monitor(self._cursor_monitor)
                update = source.wait(CAPTURE_TICK)
                if update is None:
                    continue
                position = shape = None
                if update.position is not None:
                    p = update.position
                    position = CursorPosition(p.x, p.y, p.on_monitor)
                if update.shape is not None:
                    s = update.shape
                    try:
                        shape = CursorShape(s.width, s.height, s.hot_x, s.hot_y, s.pixels)
                    except ValueError:
                        log.info("cursor of %dx%d too large to send", s.width, s.height)
                self._link_thread.call(self._send_cursor, position, shape)
                for guest in tuple(self._guests):
                    guest.offer_cursor(position, shape)

    def _input_main(self) -> None:
        while self._cursor_monitor is None and not self._stopping.is_set():
            time.sleep(0.01)
        if self._stopping.is_set():
            return
        backend = self._open_input(self._display)
        assert self._cursor_monitor is not None
        injector = InputInjector(backend, self._cursor_monitor, view_only=self._view_only)
        self._injector = injector
        controlling: frozenset[object] = frozenset()
        try:
            while True:
                item = self._input.get()
                if self._stopping.is_set():
                    return
                # Who may control now: the main viewer unless view-only, each invited agent with control.
                now = frozenset(
                    {g for g in tuple(self._guests) if g.control} | (set() if self._view_only else {self})
                )
                if controlling - now:
                    injector.release_all()  # whoever lost control lets go of what they held
                controlling = now
                blocked = self._paused or not controlling
                if blocked != injector.view_only:
                    injector.set_view_only(blocked)
                monitor = self._cursor_monitor
                if monitor is not None and monitor != injector.monitor:
                    injector.set_monitor(monitor)
                source: object = self
                if isinstance(item, _GuestInput):
                    source, item = item.guest, item.event
                if item is not None and (source in controlling or injector.view_only):
                    injector.inject(item)  # when view-only, the injector drops it (and counts it)
        finally:
            injector.close()

    def _join_threads(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            if thread.is_alive():
                thread.join(max(0.0, deadline - time.monotonic()))

    def close(self) -> None:
        """Stop if still running and release the desktop (idempotent)."""
        if not self._link_thread.ended.is_set():
            self.stop()
        self._stopping.set()
        self._input_put(None)
        with contextlib.suppress(Exception):
            self._join_threads(3.0)
