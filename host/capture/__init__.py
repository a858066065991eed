"""Screen capture behind a small interface: :class:`CaptureBackend`, with X11 done (:class:`X11Capture`).

A Windows or macOS backend implements :class:`CaptureBackend` (mss grabs there too) and, lacking damage
events, waits with :class:`PollingChangeDetector`.
"""

from __future__ import annotations

from opensupport.host.capture._base import (
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
from opensupport.host.capture._x11 import X11Capture
from opensupport.host.errors import CaptureError

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
]
