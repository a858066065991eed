"""A host's tools and a viewer's tool client joined by a real protocol session (ConnectionPair)."""

from __future__ import annotations

from typing import Any

from opensupport.host.policy import HostPolicy
from opensupport.host.tools.support import HostTools
from opensupport.protocol import Event, Role
from opensupport.protocol.testing import ConnectionPair
from opensupport.server.options import defaults
from opensupport.viewer.tools.client import ToolClient, ViewerDrawing


class ToolsPair:
    """Everything the viewer sends reaches ``host_tools`` through sealed records, and its answers come back
    the same way. ``answers`` collects (answer, refusal) per request id."""

    def __init__(self, options: dict[str, bool] | None = None, **tools: Any) -> None:
        self.pair = ConnectionPair()
        self.pair.handshake()
        self.policy = HostPolicy({**defaults(), **(options or {})})
        self.host_tools = HostTools(self.policy, **tools)
        self.client = ToolClient(self.pair.viewer.send)
        self.viewer_drawing = ViewerDrawing(self.pair.viewer.send)
        self.answers: dict[int, tuple[dict[str, Any] | None, str | None]] = {}
        self._seen = {Role.HOST: 0, Role.VIEWER: 0}
        self.unhandled: list[Event] = []
        for event in self.host_tools.hello():
            self.pair.host.send(event)
        self.pump()

    def pump(self) -> None:
        """Move records and hand every new event to the tools until nothing moves."""
        for _ in range(100):
            self.pair.pump()
            host_events = self.pair.events[Role.HOST][self._seen[Role.HOST] :]
            viewer_events = self.pair.events[Role.VIEWER][self._seen[Role.VIEWER] :]
            if not host_events and not viewer_events:
                return
            self._seen[Role.HOST] += len(host_events)
            self._seen[Role.VIEWER] += len(viewer_events)
            for event in host_events:
                replies = self.host_tools.handle(event)
                if replies is None:
                    self.unhandled.append(event)
                for reply in replies or []:
                    self.pair.host.send(reply)
            for event in viewer_events:
                if not (self.client.handle(event) or self.viewer_drawing.handle(event)):
                    self.unhandled.append(event)
        raise AssertionError("the tools kept talking")

    def ask(self, start: Any) -> tuple[dict[str, Any] | None, str | None]:
        """Run ``start(callback)`` (a client call), pump, and return its (answer, refusal)."""
        got: list[tuple[dict[str, Any] | None, str | None]] = []
        start(lambda answer, refusal: got.append((answer, refusal)))
        self.pump()
        assert len(got) == 1, f"expected one answer, got {got}"
        return got[0]
