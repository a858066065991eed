"""The viewer's side of the support tools, without any GUI: requests to the host and their answers.

:class:`ToolClient` numbers each request, sends it through ``send`` (the session link, thread-safe) and
calls the request's callback with the host's answer (a dict) or the refusal's reason. The host's
``tool.allowed`` list tells which tools to show (``allows``). Drawing lives in :class:`ViewerDrawing`: the
host's strokes (the customer's, when two-way drawing is on) and the agent's own, in one model the drawing
layer paints.

Ending a process takes two steps: :meth:`ToolClient.prepare_end` returns a :class:`PendingEnd` carrying the
question to put to the agent; only its :meth:`PendingEnd.confirm` sends the request.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from opensupport.protocol import ControlMessage, DrawingClear, DrawingStroke, Event
from opensupport.tools.drawing import Drawing, Origin, StrokeBuilder, StrokeThrottle
from opensupport.tools.messages import (
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
    control,
    parse,
)
from opensupport.tools.reboot import TOPIC_REBOOT_RESULT
from opensupport.tools.urls import validate_url

__all__ = ["Answer", "PendingEnd", "ToolClient", "ViewerDrawing"]

log = logging.getLogger(__name__)

#: (answer, refusal reason): exactly one is not None.
Answer = Callable[[dict[str, Any] | None, str | None], None]

_RESULT_TOPICS = {
    TOPIC_SYSINFO_RESULT,
    TOPIC_PROCESS_LIST_RESULT,
    TOPIC_PROCESS_END_RESULT,
    TOPIC_URL_RESULT,
    TOPIC_FAVOURITE_RESULT,
    TOPIC_CAPTURE_RESULT,
    TOPIC_REBOOT_RESULT,
}


@dataclass
class PendingEnd:
    """A process the agent chose to end, waiting for the agent's confirmation."""

    client: ToolClient
    pid: int
    name: str
    create_time: float | None
    callback: Answer

    @property
    def question(self) -> str:
        """What to ask the agent."""
        return f"End process {self.name} (PID {self.pid}) on the customer's PC? Unsaved work in it is lost."

    def confirm(self) -> int:
        """The agent said yes: send the request; returns its id."""
        payload: dict[str, Any] = {"pid": self.pid}
        if self.create_time is not None:
            payload["create_time"] = self.create_time
        return self.client.request(TOPIC_PROCESS_END, payload, self.callback)


class ToolClient:
    """Requests to the host's tools (see the module docstring). ``send`` must not block."""

    def __init__(self, send: Callable[[Event], object]) -> None:
        self._send = send
        self._ids = itertools.count(1)
        self._pending: dict[int, Answer] = {}
        self._lock = threading.Lock()
        #: Option keys of the tools the host allows (None until the host said).
        self.allowed: frozenset[str] | None = None
        #: Called when ``allowed`` changes.
        self.on_allowed: Callable[[frozenset[str]], None] | None = None

    def allows(self, key: str) -> bool:
        """Whether the host allows the tool with this option key (False until it said)."""
        return self.allowed is not None and key in self.allowed

    def request(self, topic: str, payload: dict[str, Any], callback: Answer) -> int:
        """Send one request; ``callback`` gets the answer. Returns the request's id."""
        with self._lock:
            request_id = next(self._ids)
            self._pending[request_id] = callback
        self._send(control(topic, {"id": request_id, **payload}))
        return request_id

    # -- the tools --------------------------------------------------------------------------------------
    def system_info(self, callback: Answer) -> int:
        """Ask for the customer PC's system information."""
        return self.request(TOPIC_SYSINFO, {}, callback)

    def processes(
        self,
        callback: Answer,
        *,
        sort: str = "cpu",
        descending: bool = True,
        offset: int = 0,
        limit: int = 200,
    ) -> int:
        """Ask for a page of the process list."""
        payload = {"sort": sort, "descending": descending, "offset": offset, "limit": limit}
        return self.request(TOPIC_PROCESS_LIST, payload, callback)

    def prepare_end(self, row: dict[str, Any], callback: Answer) -> PendingEnd:
        """Step one of ending a process: nothing is sent until the agent confirms."""
        return PendingEnd(self, int(row["pid"]), str(row.get("name", "")), row.get("create_time"), callback)

    def open_url(self, url: str, callback: Answer) -> int:
        """Open ``url`` in the customer's browser. Raises ToolError for a URL the host would refuse."""
        return self.request(TOPIC_URL_OPEN, {"url": validate_url(url)}, callback)

    def open_favourite(self, favourite_id: int, callback: Answer) -> int:
        """Open one of the agent's favourites (by id: the host holds the list)."""
        return self.request(TOPIC_FAVOURITE_OPEN, {"favourite": favourite_id}, callback)

    def capture(self, kind: str, active: bool, callback: Answer) -> int:
        """Announce a screenshot or the start/stop of a recording; the host answers or refuses."""
        return self.request(TOPIC_CAPTURE, {"kind": kind, "active": active}, callback)

    # -- answers ----------------------------------------------------------------------------------------
    def handle(self, event: Event) -> bool:
        """Take a tool answer from the host; False if ``event`` is not one."""
        if not isinstance(event, ControlMessage):
            return False
        topic = event.topic
        if topic not in _RESULT_TOPICS and topic not in (TOPIC_REFUSED, TOPIC_ALLOWED):
            return False
        try:
            payload = parse(event.data)
        except ToolError as exc:
            log.warning("malformed %s from the host: %s", topic, exc)
            return True
        if topic == TOPIC_ALLOWED:
            keys = payload.get("allowed")
            if isinstance(keys, list) and all(isinstance(k, str) for k in keys):
                self.allowed = frozenset(keys)
                if self.on_allowed is not None:
                    self.on_allowed(self.allowed)
            return True
        request_id = payload.get("id")
        with self._lock:
            callback = self._pending.pop(request_id, None) if isinstance(request_id, int) else None
        if callback is None:
            if topic == TOPIC_REFUSED:
                log.info("the host refused %s: %s", payload.get("request"), payload.get("reason"))
            return True
        if topic == TOPIC_REFUSED:
            callback(None, str(payload.get("reason", "refused")))
        else:
            callback(payload, None)
        return True


class ViewerDrawing:
    """The strokes over the remote screen as the viewer knows them, and the agent's own drawing.

    ``send`` takes the agent's strokes to the host. ``drawing.on_change`` is the layer's repaint hook.
    """

    def __init__(self, send: Callable[[Event], object]) -> None:
        self._send = send
        self.drawing = Drawing()
        self.builder = StrokeBuilder()
        self.throttle = StrokeThrottle(send)

    def handle(self, event: Event) -> bool:
        """Take the host's strokes (the customer's drawing) and clears; False for other events."""
        if isinstance(event, DrawingStroke | DrawingClear):
            self.drawing.apply(Origin.CUSTOMER, event)
            return True
        return False

    def draw(self, stroke: DrawingStroke | None, *, final: bool = True) -> None:
        """The agent drew (or extended, ``final`` False while the button is held) a stroke: show it at
        once, send it at most every SEND_INTERVAL and always when final."""
        if stroke is not None:
            self.drawing.apply(Origin.AGENT, stroke)
        self.throttle.update(stroke, final=final)

    def clear(self) -> None:
        """The agent cleared the drawing (both sides')."""
        self.drawing.apply(Origin.AGENT, DrawingClear())
        self._send(DrawingClear())
