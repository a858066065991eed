"""The capture backend interface, the monitor model, and change detection by polling.

Theory of operation: the host's capture loop calls ``wait_for_change(timeout)`` and, when it reports changed
rectangles, ``grab()`` and hands the frame to the encoder. A backend with change notifications (X DAMAGE)
sleeps in the kernel while the screen is idle; one without them uses :class:`PollingChangeDetector`, which
grabs and compares at up to 60 frames per second while the screen changes and backs off to a few grabs per
second when it does not. Either way a ``grab()`` after a report contains at least every reported change.
"""

from __future__ import annotations

import abc
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from ..errors import CaptureError

Frame = npt.NDArray[np.uint8]

#: Fastest polling rate: 60 frames per second while the screen changes.
MIN_POLL_INTERVAL = 1 / 60
#: Slowest polling rate when idle: a change is seen at most this late, and idle costs ~4 grabs a second.
MAX_POLL_INTERVAL = 0.25
#: Each idle poll waits this much longer than the one before.
POLL_BACKOFF = 1.5
#: More damaged rectangles than this in one report are merged into their bounding box.
MAX_RECTS = 64


class Rect(NamedTuple):
    """A rectangle in pixels: the same fields as the codec's ``Rect``."""

    x: int
    y: int
    w: int
    h: int

    def intersect(self, other: Rect) -> Rect | None:
        """The overlap of two rectangles, or None if they do not overlap."""
        x0, y0 = max(self.x, other.x), max(self.y, other.y)
        x1, y1 = min(self.x + self.w, other.x + other.w), min(self.y + self.h, other.y + other.h)
        if x1 <= x0 or y1 <= y0:
            return None
        return Rect(x0, y0, x1 - x0, y1 - y0)


def bounding_rect(rects: list[Rect]) -> Rect:
    """The smallest rectangle that holds every rectangle of a non-empty list."""
    x0 = min(r.x for r in rects)
    y0 = min(r.y for r in rects)
    x1 = max(r.x + r.w for r in rects)
    y1 = max(r.y + r.h for r in rects)
    return Rect(x0, y0, x1 - x0, y1 - y0)


@dataclass(frozen=True)
class Monitor:
    """One monitor of the host's screen, in root-window pixels."""

    #: Position in the list :meth:`CaptureBackend.monitors` returns (left to right, then top to bottom).
    index: int
    name: str
    x: int
    y: int
    width: int
    height: int
    primary: bool = False

    @property
    def rect(self) -> Rect:
        """The monitor's area in root-window coordinates."""
        return Rect(self.x, self.y, self.width, self.height)


class CaptureBackend(abc.ABC):
    """Captures one selected monitor of the host's screen as BGRA frames.

    Frames are C-contiguous ``uint8`` arrays of shape (height, width, 4), BGRA (the alpha byte is
    meaningless), as the codec's ``Encoder.encode`` takes them. The caller must not modify a frame.
    """

    @abc.abstractmethod
    def monitors(self) -> list[Monitor]:
        """Every monitor of the screen, asked afresh (monitors come and go). Raises CaptureError."""

    @property
    @abc.abstractmethod
    def monitor(self) -> Monitor:
        """The monitor being captured."""

    @abc.abstractmethod
    def select_monitor(self, index: int) -> Monitor:
        """Capture the monitor at ``index`` of :meth:`monitors` from now on.

        The next :meth:`wait_for_change` reports the whole monitor (the receiver needs a keyframe).
        Raises CaptureError for an index that names no monitor.
        """

    def share_area(self, area: Rect | None = None, *, window: int | None = None) -> Monitor:
        """부분공유: capture only ``area`` (root coordinates) or the window ``window`` (following it as it
        moves and resizes) instead of the whole monitor. Frames, damage, cursor and input all use the
        returned pseudo-monitor, so nothing outside it is grabbed. :meth:`select_monitor` ends it.

        Raises CaptureError if the backend cannot share an area, or for an area off the screen.
        """
        raise CaptureError(f"{type(self).__name__} cannot share a window or region")

    @abc.abstractmethod
    def grab(self) -> Frame:
        """The selected monitor's pixels now. Raises CaptureError."""

    @abc.abstractmethod
    def wait_for_change(self, timeout: float) -> list[Rect]:
        """Wait up to ``timeout`` seconds for the selected monitor to change.

        Returns the changed rectangles in the monitor's own coordinates (clipped to it), or an empty list
        when nothing changed in time. Raises CaptureError if the display went away.
        """

    @abc.abstractmethod
    def close(self) -> None:
        """Release the display connection; the backend cannot be used afterwards."""

    def __enter__(self) -> CaptureBackend:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def changed_rect(previous: Frame, current: Frame) -> Rect | None:
    """The bounding box of the pixels that differ between two frames of one shape, or None."""
    if previous.shape != current.shape:
        raise CaptureError("frames of different shapes cannot be compared")
    # One 32-bit word per pixel halves the work of comparing bytes.
    differs = previous.view(np.uint32)[..., 0] != current.view(np.uint32)[..., 0]
    rows = np.flatnonzero(differs.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(differs[rows[0] : rows[-1] + 1].any(axis=0))
    return Rect(int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1))


class PollingChangeDetector:
    """Change detection for displays that do not announce changes: grab, compare, back off when idle.

    ``grab`` is the backend's grab of the selected monitor. After :meth:`wait` reported a change, the frame
    it compared is handed out once by :meth:`take_frame`, so that the caller's ``grab()`` costs nothing.
    """

    def __init__(
        self,
        grab: Callable[[], Frame],
        *,
        min_interval: float = MIN_POLL_INTERVAL,
        max_interval: float = MAX_POLL_INTERVAL,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._grab = grab
        self._sleep = sleep
        self._clock = clock
        self.min_interval = min_interval
        self.max_interval = max_interval
        self.interval = min_interval
        self._previous: Frame | None = None
        self._fresh: Frame | None = None
        self._last_poll = 0.0

    def reset(self) -> None:
        """Forget the last frame: the next :meth:`wait` reports the whole monitor."""
        self._previous = None
        self._fresh = None
        self.interval = self.min_interval

    def take_frame(self) -> Frame | None:
        """The frame the last reported change was found in, once; None if already taken or stale."""
        frame, self._fresh = self._fresh, None
        return frame

    def wait(self, timeout: float) -> list[Rect]:
        """Poll until the frame differs from the last one or ``timeout`` passes; the changed bounding box."""
        deadline = self._clock() + max(0.0, timeout)
        while True:
            if self._previous is not None:
                next_poll = self._last_poll + self.interval
                now = self._clock()
                if next_poll > deadline:
                    self._sleep(max(0.0, deadline - now))
                    return []
                if next_poll > now:
                    self._sleep(next_poll - now)
            frame = self._grab()
            self._last_poll = self._clock()
            previous, self._previous = self._previous, frame
            if previous is None or previous.shape != frame.shape:
                self._fresh = frame
                self.interval = self.min_interval
                return [Rect(0, 0, frame.shape[1], frame.shape[0])]
            rect = changed_rect(previous, frame)
            if rect is not None:
                self._fresh = frame
                self.interval = self.min_interval
                return [rect]
            self._fresh = None
            self.interval = min(self.max_interval, self.interval * POLL_BACKOFF)
