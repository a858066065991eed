"""The capture of the agent's own screen for 상담원 화면 전송 (:mod:`opensupport.viewer.reverse`).

The agent shows one monitor: the customer's applet (a viewer on the reverse stream) may ask for another
with ``monitor.select``, and the host would normally follow. Here the agent decides what the customer
sees, so the capture refuses any other monitor and any window or region (the host's capture loop logs a
refused selection and goes on with the same monitor). Imported only when the agent shows its screen:
it needs the host's X11 capture.
"""

from __future__ import annotations

from opensupport.host.capture import CaptureBackend, Frame, Monitor, Rect, open_capture
from opensupport.host.errors import CaptureError

__all__ = ["AgentMonitorCapture", "open_agent_capture"]


class AgentMonitorCapture(CaptureBackend):
    """``backend`` pinned to the monitor it captures; ``refused`` counts the customer's attempts."""

    def __init__(self, backend: CaptureBackend) -> None:
        self._backend = backend
        self.refused = 0

    def monitors(self) -> list[Monitor]:
        return self._backend.monitors()

    @property
    def monitor(self) -> Monitor:
        return self._backend.monitor

    def select_monitor(self, index: int) -> Monitor:
        if index == self._backend.monitor.index:
            return self._backend.monitor
        self.refused += 1
        raise CaptureError("the agent shows one monitor only")

    def share_area(self, area: Rect | None = None, *, window: int | None = None) -> Monitor:
        self.refused += 1
        raise CaptureError("the agent decides what of its screen is shown")

    def grab(self) -> Frame:
        return self._backend.grab()

    def wait_for_change(self, timeout: float) -> list[Rect]:
        return self._backend.wait_for_change(timeout)

    def close(self) -> None:
        self._backend.close()


def open_agent_capture(display: str | None, monitor: int) -> AgentMonitorCapture:
    """The agent's monitor ``monitor`` on ``display``, pinned. Raises CaptureError where none exists."""
    return AgentMonitorCapture(open_capture(display, monitor=monitor))
