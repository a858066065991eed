"""The viewer's side of a session: a :class:`~opensupport.link.SessionLink` wired to a ``ViewerWindow``.

Theory of operation: the link runs on its own thread (:class:`~opensupport.link.LinkThread`). Screen
updates go to the window's decode worker (``submit`` blocks when 8 updates wait; the link then awaits it
off the loop, so that the host's frame window closes behind a slow decoder instead of frames piling up).
Cursor, monitor and status news reach the GUI through ``SessionBridge`` signals. The agent's input comes
from the GUI thread through :class:`LinkInputSink`, which turns it into protocol input messages and queues
them on the link's loop. A decode failure asks the host for a key frame. A ping every
:data:`PING_INTERVAL` gives the round-trip latency shown in the status line.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import struct
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opensupport.link import LinkResult, LinkState, LinkThread, SessionLink
from opensupport.link.topics import (
    TOPIC_CURSOR_TRACKING,
    TOPIC_MONITOR_SELECT,
    TOPIC_MONITOR_SELECTED,
    TOPIC_PAUSED,
    TOPIC_QUALITY_MODE,
    TOPIC_QUALITY_STATE,
    TOPIC_SESSION_OPTIONS,
    TOPIC_VIEW_ONLY,
    QualityMode,
)
from opensupport.protocol import (
    MAX_TEXT_INPUT_SIZE,
    AuthenticationFailed,
    CloseSession,
    CodeGuard,
    ControlMessage,
    CursorPosition,
    CursorShape,
    Event,
    HandshakeComplete,
    KeyCombo,
    KeyEvent,
    KeyframeRequest,
    MonitorLayout,
    Ping,
    PointerEvent,
    Pong,
    Role,
    ScreenUpdate,
    SessionCode,
    WheelEvent,
)
from opensupport.protocol import TextInput as TextInputMessage
from opensupport.viewer.display import CursorImage, Monitor
from opensupport.viewer.events import (
    ButtonPress,
    ButtonRelease,
    InputEvent,
    InputSink,
    KeyPress,
    KeyRelease,
    MouseButton,
    PointerMove,
    SelectMonitor,
    TextInput,
    Wheel,
    keysym_for_char,
)
from opensupport.viewer.quality import InvalidQualityState, QualityState, parse_state
from opensupport.viewer.reverse import AgentScreenShare
from opensupport.viewer.ui.options import SessionOptions, parse_session_options

if TYPE_CHECKING:
    from opensupport.tools.clipboard_live import LiveClipboard
    from opensupport.tools.urls import Favourite
    from opensupport.viewer.decode import DecodeWorker
    from opensupport.viewer.tools.live import ViewerSessionTools
    from opensupport.viewer.tools.reboot import ViewerReboot
    from opensupport.viewer.ui.window import ViewerWindow

__all__ = ["PING_INTERVAL", "LinkInputSink", "ViewerSession", "protocol_input"]

log = logging.getLogger(__name__)

#: Seconds between two latency pings.
PING_INTERVAL = 1.0
#: The protocol counts wheel turns in 1/120 notch.
WHEEL_UNIT = 120
_BUTTON_BIT = {
    MouseButton.LEFT: 1,
    MouseButton.MIDDLE: 2,
    MouseButton.RIGHT: 4,
    MouseButton.BACK: 8,
    MouseButton.FORWARD: 16,
}
_PING = struct.Struct(">Q")


def protocol_input(event: InputEvent, buttons: int) -> tuple[list[Event], int]:
    """The protocol messages for one viewer input event, and the button mask after it.

    ``buttons`` is the mask of held buttons before the event. Committed text (an input method's, any
    script) becomes ``TextInput`` messages (cut at character boundaries to the protocol's bound): on the
    input lane, so that it stays in order with the keys and pointer moves around it. Raises ValueError for
    an unknown event.
    """
    match event:
        case KeyPress(keysym=keysym):
            return [KeyEvent(keysym, True)], buttons
        case KeyRelease(keysym=keysym):
            return [KeyEvent(keysym, False)], buttons
        case TextInput(text=text):
            for ch in text:
                keysym_for_char(ch)  # raises InputError for a control character, as before
            return [TextInputMessage(part) for part in _text_parts(text)], buttons
        case PointerMove(x=x, y=y):
            return [PointerEvent(x, y, buttons)], buttons
        case ButtonPress(button=button, x=x, y=y):
            buttons |= _BUTTON_BIT[button]
            return [PointerEvent(x, y, buttons)], buttons
        case ButtonRelease(button=button, x=x, y=y):
            buttons &= ~_BUTTON_BIT[button]
            return [PointerEvent(x, y, buttons)], buttons
        case Wheel(dx=dx, dy=dy, x=x, y=y):
            return [WheelEvent(x, y, dx * WHEEL_UNIT, dy * WHEEL_UNIT)], buttons
        case SelectMonitor(index=index):
            return [ControlMessage(TOPIC_MONITOR_SELECT, str(index).encode("ascii"))], buttons
    raise ValueError(f"not an input event: {event!r}")


def _text_parts(text: str) -> list[str]:
    """``text`` cut at character boundaries into pieces of at most MAX_TEXT_INPUT_SIZE UTF-8 bytes."""
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for ch in text:
        n = len(ch.encode("utf-8"))
        if size + n > MAX_TEXT_INPUT_SIZE:
            parts.append("".join(current))
            current, size = [], 0
        current.append(ch)
        size += n
    if current:
        parts.append("".join(current))
    return parts


class LinkInputSink(InputSink):
    """The agent's input, from the GUI thread to the session's input channel (never blocks)."""

    def __init__(self, link_thread: LinkThread) -> None:
        self._link_thread = link_thread
        self._buttons = 0
        self._lock = threading.Lock()
        #: Events handed to the link.
        self.sent = 0

    def send_combo(self, keysyms: tuple[int, ...]) -> None:
        """Queue one key combination (pressed in order, released in reverse by the host), in order with
        the other input. Raises InvalidEvent for an empty, repeated or too long combination."""
        message = KeyCombo(keysyms)
        with self._lock:
            if self._link_thread.call(self._link_thread.link.send, message):
                self.sent += 1

    def send(self, event: InputEvent) -> None:
        """Queue ``event`` on the link's loop, in order."""
        with self._lock:
            messages, self._buttons = protocol_input(event, self._buttons)
            for message in messages:
                if self._link_thread.call(self._link_thread.link.send, message):
                    self.sent += 1


class ViewerSession:
    """Connects a ``ViewerWindow`` to a host through the relay (see the module docstring).

    ``on_end(message)`` is called (from the link's thread) with a sentence for the agent when the session
    ends, however it ends. ``on_event`` sees every protocol event after the session handled it (on the
    link's thread; chat, files, clipboard, drawing belong to it).

    With ``tools`` (the default) the session owns a :class:`~opensupport.viewer.tools.live.ViewerSessionTools`
    (``self.tools``: Tools and Draw menus, chat and file panels, screenshot and recording) that gets every
    event the core does not handle and every screen update; received files land in ``download_dir``.
    """

    def __init__(
        self,
        window: ViewerWindow,
        server: str,
        code: SessionCode,
        *,
        guard: CodeGuard | None = None,
        on_end: Callable[[str], None] | None = None,
        on_event: Callable[[Event], None] | None = None,
        tools: bool = True,
        download_dir: Path | None = None,
        favourites: Sequence[Favourite] = (),
    ) -> None:
        from opensupport.codec import Decoder

        self.window = window
        self.code = code
        self._on_end = on_end
        self._extra_handler = on_event
        self.link = SessionLink(
            Role.VIEWER, code, server, self._on_event, guard=guard, on_state=self._on_link_state
        )
        self.link_thread = LinkThread(self.link, on_end=self._ended, name="opensupport-viewer-link")
        self.sink = LinkInputSink(self.link_thread)
        self.worker: DecodeWorker = window.start_decoding(Decoder(16, 16))
        self._layout: MonitorLayout | None = None
        self._selected: int | None = None
        self.host_paused = False
        self.host_view_only = False
        self.updates_received = 0
        self.keyframes_received = 0
        self.keyframe_requests = 0
        self.end_message: str | None = None
        self.ended = threading.Event()
        self._pinger: Any = None
        #: the agent's bandwidth mode (None: the host's default, automatic) and the host's latest report
        self.quality_mode: QualityMode | None = None
        self.quality_state: QualityState | None = None
        window.bridge.decode_failed.connect(self._decode_failed)
        #: 마우스 추적 as the host announced it (None before), and the host's ``session.options``
        self.cursor_tracking: bool | None = None
        self.session_options: SessionOptions | None = None
        window.cursor_tracking_requested.connect(self.set_cursor_tracking)
        window.quality_mode_chosen.connect(self.set_quality_mode)
        #: 상담원 화면 전송/제어: the agent's own screen shown to the customer (viewer/reverse.py).
        self.agent_screen = AgentScreenShare(
            self.link, self.link_thread, server, on_status=lambda status: self._status(status.message)
        )
        self.tools: ViewerSessionTools | None = None
        self.clipboard: LiveClipboard | None = None
        #: 자동 재접속: "Restart the customer's PC…" (with the tools only)
        self.reboot: ViewerReboot | None = None
        if tools:
            from opensupport.tools.clipboard_live import LiveClipboard
            from opensupport.tools.clipboard_qt import QtClipboard
            from opensupport.viewer.tools.live import ViewerSessionTools

            folder = download_dir if download_dir is not None else Path.home() / "Downloads"
            # The agent's own clipboard, synchronised with the customer's (text; files when allowed).
            self.clipboard = LiveClipboard(QtClipboard())
            self.tools = ViewerSessionTools(
                window, self.link, self.link_thread, download_dir=folder, favourites=favourites,
                clipboard=self.clipboard,
            )  # fmt: skip
            self.clipboard.attach(self.tools.exchange.clipboard, self.tools.post)
            from opensupport.viewer.tools.reboot import ViewerReboot

            support = self.tools.tools
            self.reboot = ViewerReboot(window, self.link, self.link_thread, support.client, support.menu.menu)
            from opensupport.viewer.ui.agent_screen import AgentScreenMenu

            AgentScreenMenu.for_window(window).attach(self)

    # -- public API -----------------------------------------------------------------------------------------
    def start(self) -> None:
        """Connect (in the background) and route the window's input to the session."""
        self.link_thread.start()
        self.window.set_sink(self.sink)
        self._status(f"Connecting to the relay — code {self.code}")

    def stop(self, reason: str = "the agent ended the session", timeout: float = 3.0) -> None:
        """Close the session and wait for the link to end."""
        self.link_thread.stop(reason, timeout)

    @property
    def result(self) -> LinkResult | None:
        """How the session ended cleanly, once it did."""
        return self.link_thread.result

    @property
    def error(self) -> BaseException | None:
        """Why the session failed, once it did."""
        return self.link_thread.error

    def request_keyframe(self, reason: str) -> None:
        """Ask the host for a key frame (thread-safe)."""
        self.keyframe_requests += 1
        self.link_thread.call(self.link.send, KeyframeRequest(reason[:200]))

    def set_cursor_tracking(self, on: bool) -> None:
        """Ask the host to stream its pointer's moves (on) or only its shape (thread-safe)."""
        self.link_thread.call(self.link.send, ControlMessage(TOPIC_CURSOR_TRACKING, b"1" if on else b"0"))

    def set_quality_mode(self, mode: QualityMode) -> None:
        """Ask the host for bandwidth mode ``mode`` (thread-safe); sent again after a new handshake."""
        self.quality_mode = mode
        self.link_thread.call(self._send_quality_mode)

    def _send_quality_mode(self) -> None:
        if self.quality_mode is not None and self.link.established:
            self.link.send(ControlMessage(TOPIC_QUALITY_MODE, self.quality_mode.value.encode("ascii")))

    # -- callbacks ------------------------------------------------------------------------------------------
    def _status(self, text: str) -> None:
        self.window.bridge.status_changed.emit(text)

    def _decode_failed(self, failure: object) -> None:
        self.request_keyframe(f"decode failed: {getattr(failure, 'error', failure)}")

    def _on_link_state(self, state: LinkState, detail: str) -> None:
        texts = {
            LinkState.CONNECTING: "Connecting to the relay",
            LinkState.WAITING: f"Waiting for the customer — code {self.code}",
            LinkState.HANDSHAKING: "Checking the session code",
            LinkState.CONNECTED: "Connected",
            LinkState.RECONNECTING: "Connection lost — reconnecting",
        }
        if state in texts:
            text = texts[state]
            if state is LinkState.WAITING and self.link.code != self.code:  # the comeback code: not shown
                text = "The customer's PC is restarting — waiting for it to come back"
            elif state is LinkState.WAITING and detail and "wrong code" in detail:
                text += f" ({detail})"
            elif state is LinkState.CONNECTED and self.host_paused:
                text += " — the customer paused sharing"
            self._status(text)
        if state is LinkState.CONNECTED and self._pinger is None:
            self._pinger = asyncio.ensure_future(self._ping_loop())

    async def _ping_loop(self) -> None:
        while True:
            if self.link.established:
                self.link.send(Ping(_PING.pack(time.monotonic_ns())))
            await asyncio.sleep(PING_INTERVAL)

    async def _on_event(self, event: Event) -> None:
        handled = await self._handle_event(event)
        if self.tools is not None:
            try:
                if isinstance(event, ScreenUpdate):
                    self.tools.on_screen_update(event.data, event.keyframe)
                elif not handled:
                    self.tools.handle(event)
            except Exception:
                log.exception("a tool failed on %s", type(event).__name__)
        if self._extra_handler is not None:
            try:
                self._extra_handler(event)
            except Exception:
                log.exception("the session's extra event handler failed on %s", type(event).__name__)

    async def _handle_event(self, event: Event) -> bool:
        """The core's part of an event; False for what it leaves to the tools."""
        match event:
            case ScreenUpdate(data=data, keyframe=keyframe):
                self.updates_received += 1
                self.keyframes_received += keyframe
                try:
                    self.worker.submit(data, timeout=0)
                except queue.Full:
                    # The decoder is behind: wait off the loop. The frame window closes meanwhile.
                    await asyncio.to_thread(self.worker.submit, data)
            case CursorShape(width=w, height=h, hot_x=hx, hot_y=hy, pixels=pixels):
                try:
                    image = CursorImage(w, h, hx, hy, pixels)
                except ValueError as exc:
                    log.info("cursor shape not shown: %s", exc)
                    return True
                self.window.bridge.cursor_shape_changed.emit(image)
            case CursorPosition(x=x, y=y, visible=visible):
                self.window.bridge.cursor_moved.emit(x, y, visible)
            case MonitorLayout():
                self._layout = event
                self._publish_monitors()
            case ControlMessage(topic=topic, data=data):
                return self._control(topic, data) or self.agent_screen.handle(event)
            case HandshakeComplete():
                self._send_quality_mode()  # a new host starts in automatic mode
                return False
            case Pong(payload=payload) if len(payload) == _PING.size:
                (sent,) = _PING.unpack(payload)
                rtt = (time.monotonic_ns() - sent) / 1e9
                if rtt >= 0:
                    self.window.model.meter.record_latency(rtt)
            case CloseSession(reason=reason):
                self.end_message = f"The customer ended the session: {reason}" if reason else "Session ended"
            case _:
                return False
        return True

    def _control(self, topic: str, data: bytes) -> bool:
        if topic == TOPIC_MONITOR_SELECTED:
            try:
                self._selected = int(data.decode("ascii"))
            except (UnicodeDecodeError, ValueError):
                log.warning("malformed monitor selection from the host")
                return True
            self._publish_monitors()
        elif topic == TOPIC_PAUSED:
            self.host_paused = data == b"1"
            self._status("The customer paused sharing" if self.host_paused else "Connected")
        elif topic == TOPIC_VIEW_ONLY:
            self.host_view_only = data == b"1"
        elif topic == TOPIC_CURSOR_TRACKING:
            self.cursor_tracking = data == b"1"
            self.window.bridge.cursor_tracking_changed.emit(self.cursor_tracking)
        elif topic == TOPIC_SESSION_OPTIONS:
            try:
                self.session_options = parse_session_options(data)
            except ValueError as exc:
                log.warning("malformed session options from the host: %s", exc)
                return True
            self.window.bridge.session_options_changed.emit(self.session_options)
        elif topic == TOPIC_QUALITY_STATE:
            try:
                self.quality_state = parse_state(data)
            except InvalidQualityState as exc:
                log.warning("quality report from the host ignored: %s", exc)
                return True
            self.window.bridge.quality_changed.emit(self.quality_state)
        else:
            return False
        return True

    def _publish_monitors(self) -> None:
        if self._layout is None:
            return
        monitors = [
            Monitor(i, m.x, m.y, m.width, m.height, m.primary) for i, m in enumerate(self._layout.monitors)
        ]
        selected = self._selected if self._selected is not None and self._selected < len(monitors) else None
        self.window.bridge.monitors_changed.emit(monitors, selected)

    def _ended(self, result: LinkResult | None, error: BaseException | None) -> None:
        if result is not None:
            if result.closed_by_peer:
                message = self.end_message or f"The customer ended the session: {result.reason}"
            else:
                message = f"Session ended: {result.reason}"
        elif isinstance(error, AuthenticationFailed):
            message = f"The session code failed too many times and is retired: {error}"
        else:
            message = f"Session failed: {error}"
        self.end_message = message
        if self.clipboard is not None:
            self.clipboard.detach()
        self.agent_screen.close()  # the agent's screen ends with the support session
        if self.tools is not None:
            try:
                self.tools.close()
            except Exception:
                log.exception("closing the tools failed")
        self._status(message)
        self.ended.set()
        if self._on_end is not None:
            self._on_end(message)
