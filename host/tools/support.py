"""The host's support tools: drawing, capture notices, system info, processes, URLs and favourites.

:class:`HostTools` is handed every protocol event the session does not handle itself
(:meth:`HostTools.handle` returns None for the others) and answers with the events to send back. Every
request passes :class:`~opensupport.host.policy.HostPolicy` first: a tool that is off does nothing here,
whatever a viewer sends, and the viewer gets ``tool.refused`` with the reason. Malformed requests are
refused the same way and never reach a tool.

Theory of operation for the session loop (integration): call :meth:`hello` after every handshake and
resume and send what it returns (the allowed tools, so the viewer hides the rest, and the current
strokes); call :meth:`handle` for each event; send the customer's own strokes from :meth:`customer_draw`.
``handle`` runs the tool in the caller's thread: listing processes takes tens of milliseconds and ending
one waits up to :data:`~opensupport.tools.processes.END_WAIT`, so a session loop that must stay responsive
runs it in a worker and sends the answer when it returns.

Screen capture and recording happen in the viewer, from pixels the viewer already has: the host cannot
stop an agent from keeping what it was shown. What the host does enforce is that the official viewer
asks first (``capture.request``: refused when the option is off, and then the viewer's tool stays off),
that the customer is told (``on_notice``), and that key frames asked for "recording" are refused while
recording is not allowed (the recorder's periodic key frames are what make a recording seekable).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from opensupport.host.policy import Feature, FeatureDisabled, HostPolicy
from opensupport.protocol import ControlMessage, DrawingClear, DrawingStroke, Event, KeyframeRequest
from opensupport.tools.drawing import Drawing, Origin
from opensupport.tools.messages import (
    RECORDING_KEYFRAME_REASON,
    TOPIC_ALLOWED,
    TOPIC_CAPTURE,
    TOPIC_CAPTURE_RESULT,
    TOPIC_FAVOURITE_OPEN,
    TOPIC_FAVOURITE_RESULT,
    TOPIC_PROCESS_END,
    TOPIC_PROCESS_END_RESULT,
    TOPIC_PROCESS_LIST,
    TOPIC_PROCESS_LIST_RESULT,
    TOPIC_REFUSED,
    TOPIC_SYSINFO,
    TOPIC_SYSINFO_RESULT,
    TOPIC_URL_OPEN,
    TOPIC_URL_RESULT,
    ToolError,
    ToolRequestError,
    control,
    field,
    parse,
)
from opensupport.tools.processes import MAX_ROWS, ProcessTable
from opensupport.tools.sysinfo import collect_system_info
from opensupport.tools.urls import DesktopOpener, Favourites, Opener, validate_url

__all__ = ["RECORDING_KEYFRAME_REASON", "HostTools"]

log = logging.getLogger(__name__)

#: Which option governs each request topic.
_TOPIC_FEATURE = {
    TOPIC_SYSINFO: Feature.SYSTEM_INFO,
    TOPIC_PROCESS_LIST: Feature.PROCESS_INFO,
    TOPIC_PROCESS_END: Feature.PROCESS_INFO,
    TOPIC_URL_OPEN: Feature.SEND_URL,
    TOPIC_FAVOURITE_OPEN: Feature.FAVOURITES,
}
_CAPTURE_FEATURE = {"screenshot": Feature.SCREEN_CAPTURE, "recording": Feature.SCREEN_RECORDING}


class HostTools:
    """The host's tools for one session (see the module docstring).

    ``drawing`` is the stroke model the overlay paints (its ``on_change`` repaints). ``favourites`` is the
    agent's list from the server (None: no favourites). ``opener`` opens URLs, folders and programs.
    ``on_notice(text)`` tells the customer what the agent did (shown in the host's window).
    """

    def __init__(
        self,
        policy: HostPolicy,
        *,
        drawing: Drawing | None = None,
        processes: ProcessTable | None = None,
        favourites: Favourites | None = None,
        opener: Opener | None = None,
        on_notice: Callable[[str], None] | None = None,
    ) -> None:
        self.policy = policy
        self.drawing = drawing if drawing is not None else Drawing()
        self.processes = processes if processes is not None else ProcessTable()
        self.opener: Opener = opener if opener is not None else DesktopOpener()
        self.favourites = favourites if favourites is not None else Favourites([], self.opener)
        self._on_notice = on_notice
        #: The agent is recording (as the viewer announced it).
        self.recording = False
        #: Requests refused (diagnostics and tests).
        self.refusals = 0

    # -- session hooks ----------------------------------------------------------------------------------
    def hello(self) -> list[Event]:
        """What to send after a handshake or resume: the allowed tools, then the strokes on screen."""
        allowed = sorted(f.value for f in self.policy.allowed)
        out: list[Event] = [control(TOPIC_ALLOWED, {"allowed": allowed})]
        out += [stroke for _, stroke in self.drawing.strokes()] if self.policy.allows(Feature.DRAWING) else []
        return out

    def keyframe_allowed(self, request: KeyframeRequest) -> bool:
        """Whether to honour a key-frame request (recording key frames need the recording option)."""
        if request.reason == RECORDING_KEYFRAME_REASON:
            return bool(self.policy.allows(Feature.SCREEN_RECORDING))
        return True

    def handle(self, event: Event) -> list[Event] | None:
        """The answer to a tool message from the viewer, or None if ``event`` is not one."""
        match event:
            case DrawingStroke() | DrawingClear():
                if not self.policy.allows(Feature.DRAWING):
                    return [self._refuse("drawing", None, Feature.DRAWING, "drawing is switched off")]
                self.drawing.apply(Origin.AGENT, event)
                return []
            case ControlMessage(topic=topic, data=data) if topic in _TOPIC_FEATURE or topic == TOPIC_CAPTURE:
                return [self._request(topic, data)]
        return None

    def customer_draw(self, event: DrawingStroke | DrawingClear) -> Event:
        """The customer drew (or cleared) on the overlay: apply it and return the event to send. Clearing
        is always allowed (it is the customer's screen); drawing needs two-way drawing, and drawing itself
        (two-way drawing is the agent's drawing made mutual). Raises FeatureDisabled."""
        if isinstance(event, DrawingStroke):
            self.policy.require(Feature.TWO_WAY_DRAWING)
            self.policy.require(Feature.DRAWING)
        self.drawing.apply(Origin.CUSTOMER, event)
        return event

    # -- requests ---------------------------------------------------------------------------------------
    def _refuse(self, request: str, request_id: int | None, feature: Feature | None, reason: str) -> Event:
        self.refusals += 1
        log.info("refused %s: %s", request, reason)
        tool = feature.value if feature is not None else None
        return control(TOPIC_REFUSED, {"id": request_id, "request": request, "tool": tool, "reason": reason})

    def _request(self, topic: str, data: bytes) -> Event:
        request_id: int | None = None
        feature = _TOPIC_FEATURE.get(topic)
        try:
            payload = parse(data)
            request_id = field(payload, "id", int)
            if topic == TOPIC_CAPTURE:
                kind = field(payload, "kind", str, limit=16)
                feature = _CAPTURE_FEATURE.get(kind)
                if feature is None:
                    raise ToolRequestError(f"unknown capture kind {kind!r}")
            assert feature is not None
            self.policy.require(feature)
            return self._serve(topic, request_id, payload)
        except FeatureDisabled as exc:
            return self._refuse(topic, request_id, feature, str(exc))
        except ToolError as exc:
            return self._refuse(topic, request_id, feature, str(exc))

    def _serve(self, topic: str, request_id: int, payload: dict[str, Any]) -> Event:
        if topic == TOPIC_SYSINFO:
            return control(TOPIC_SYSINFO_RESULT, {"id": request_id, "info": collect_system_info()})
        if topic == TOPIC_PROCESS_LIST:
            page = self.processes.page(
                sort=field(payload, "sort", str, "cpu", limit=16),
                descending=field(payload, "descending", bool, True),
                offset=field(payload, "offset", int, 0),
                limit=field(payload, "limit", int, MAX_ROWS),
            )
            return control(TOPIC_PROCESS_LIST_RESULT, {"id": request_id, **page})
        if topic == TOPIC_PROCESS_END:
            pid = field(payload, "pid", int)
            create_time = field(payload, "create_time", float, None)
            result = self.processes.end(pid, None if create_time is None else float(create_time))
            if result.ended:
                self._notice(f"The agent ended process {pid}")
            answer = {
                "id": request_id,
                "pid": pid,
                "ended": result.ended,
                "error": result.error,
                "exit_code": result.exit_code,
            }
            return control(TOPIC_PROCESS_END_RESULT, answer)
        if topic == TOPIC_URL_OPEN:
            url = validate_url(field(payload, "url", str, limit=4096))
            self.opener.open_url(url)
            self._notice(f"The agent opened {url}")
            return control(TOPIC_URL_RESULT, {"id": request_id, "url": url, "opened": True, "error": None})
        if topic == TOPIC_FAVOURITE_OPEN:
            entry = self.favourites.open(field(payload, "favourite", int))
            self._notice(f"The agent opened the favourite {entry.label}")
            answer = {"id": request_id, "favourite": entry.id, "opened": True, "error": None}
            return control(TOPIC_FAVOURITE_RESULT, answer)
        # capture: the option allows it; tell the customer
        kind = payload["kind"]
        active = field(payload, "active", bool, True)
        if kind == "recording":
            self.recording = active
            self._notice("The agent is recording the screen" if active else "The agent stopped recording")
        else:
            self._notice("The agent took a screenshot")
        return control(TOPIC_CAPTURE_RESULT, {"id": request_id, "kind": kind, "active": active})

    def _notice(self, text: str) -> None:
        if self._on_notice is not None:
            try:
                self._on_notice(text)
            except Exception:
                log.exception("the notice callback failed")
