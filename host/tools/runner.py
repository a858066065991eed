"""Runs the host's support tools beside a session link, so the link's loop never waits for a tool.

:class:`HostToolsRunner` takes the events the session does not handle itself. Drawing and capture
notices are quick and run at once; system info, processes, URLs and favourites run in one worker thread
(listing processes takes tens of milliseconds, ending one waits up to 3 s, opening a URL forks a program).
The worker's queue is bounded: a viewer that floods requests gets ``tool.refused`` ("busy") for the
excess, and the host stays responsive. Answers go back through ``call(send, answer)``, i.e. on the link's
own thread (``LinkThread.call``), in the order the worker produced them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from opensupport.protocol import ControlMessage, Event
from opensupport.tools.messages import (
    TOPIC_FAVOURITE_OPEN,
    TOPIC_PROCESS_END,
    TOPIC_PROCESS_LIST,
    TOPIC_REFUSED,
    TOPIC_SYSINFO,
    TOPIC_URL_OPEN,
    control,
)

from .support import HostTools

__all__ = ["MAX_QUEUED_REQUESTS", "HostToolsRunner"]

log = logging.getLogger(__name__)

#: Requests waiting for the worker; beyond this they are refused as busy.
MAX_QUEUED_REQUESTS = 16
#: The requests that run in the worker thread.
SLOW_TOPICS = frozenset(
    {TOPIC_SYSINFO, TOPIC_PROCESS_LIST, TOPIC_PROCESS_END, TOPIC_URL_OPEN, TOPIC_FAVOURITE_OPEN}
)


class HostToolsRunner:
    """``tools`` for one session. ``send(event)`` sends on the link (call it only on the link's thread);
    ``call(fn, *args)`` runs ``fn`` on the link's thread (``LinkThread.call``)."""

    def __init__(
        self,
        tools: HostTools,
        send: Callable[[Event], object],
        call: Callable[..., object],
    ) -> None:
        self.tools = tools
        self._send = send
        self._call = call
        self._queue: queue.Queue[ControlMessage | None] = queue.Queue(MAX_QUEUED_REQUESTS)
        self._idle = threading.Event()
        self._idle.set()
        self._worker = threading.Thread(target=self._work, name="opensupport-host-tools", daemon=True)
        self._worker.start()

    def hello(self) -> None:
        """After a handshake or resume (on the link's thread): the allowed tools and the strokes."""
        for event in self.tools.hello():
            self._send(event)

    def on_event(self, event: Event) -> bool:
        """Handle a tool message (on the link's thread); False if ``event`` is not one."""
        if isinstance(event, ControlMessage) and event.topic in SLOW_TOPICS:
            self._idle.clear()
            try:
                self._queue.put_nowait(event)
            except queue.Full:
                self._send(self._busy(event))
                if self._queue.empty():
                    self._idle.set()
            return True
        replies = self.tools.handle(event)
        if replies is None:
            return False
        for reply in replies:
            self._send(reply)
        return True

    def _busy(self, event: ControlMessage) -> Event:
        request_id: Any = None
        with contextlib.suppress(ValueError, AttributeError):
            request_id = json.loads(event.data).get("id")
        if not (isinstance(request_id, int) and not isinstance(request_id, bool) and 0 <= request_id < 2**53):
            request_id = None
        self.tools.refusals += 1
        payload = {
            "id": request_id,
            "request": event.topic,
            "tool": None,
            "reason": "busy: too many requests",
        }
        return control(TOPIC_REFUSED, payload)

    def _work(self) -> None:
        while True:
            event = self._queue.get()
            if event is None:
                return
            try:
                replies = self.tools.handle(event) or []
            except Exception:  # a tool's bug must not kill the worker (and with it every later request)
                log.exception("tool request %s failed", event.topic)
                replies = [self._busy(event)]
            for reply in replies:
                self._call(self._send, reply)
            if self._queue.empty():
                self._idle.set()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until every queued request has been answered (tests, orderly shutdown)."""
        return self._idle.wait(timeout)

    def close(self) -> None:
        """Stop the worker once it has answered what is queued."""
        try:
            self._queue.put(None, timeout=5)
        except queue.Full:
            log.warning("tool worker still busy at close")
        self._worker.join(5)
