"""Screen capture behind a small interface: :class:`CaptureBackend`, with X11 done (:class:`X11Capture`).

A Windows or macOS backend implements :class:`CaptureBackend` (mss grabs there too) and, lacking damage
events, waits with :class:`PollingChangeDetector`.
"""

from __future__ import annotations

import os
import sys

from ..errors import CaptureError
from ._base import (
    MAX_POLL_INTERVAL,
    MIN_POLL_INTERVAL,
    CaptureBackend,
    Frame,
    Monitor,
    PollingChangeDetector,
    Rect,
    bounding_rect,
    changed_rect,
)
from ._x11 import X11Capture


def open_capture(display: str | None = None, *, monitor: int = 0) -> CaptureBackend:
    """The capture backend of this desktop, on monitor ``monitor``.

    Raises CaptureError where no backend exists yet (Windows, macOS, a Wayland session without X).
    """
    if display is not None or (sys.platform.startswith(("linux", "freebsd")) and os.environ.get("DISPLAY")):
        return X11Capture(display, monitor=monitor)
    raise CaptureError(f"no screen capture backend for this desktop ({sys.platform}, no X display) yet")


__all__ = [
    "MAX_POLL_INTERVAL",
    "MIN_POLL_INTERVAL",
    "CaptureBackend",
    "CaptureError",
    "Frame",
    "Monitor",
    "PollingChangeDetector",
    "Rect",
    "X11Capture",
    "bounding_rect",
    "changed_rect",
    "open_capture",
]
