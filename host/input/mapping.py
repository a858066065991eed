"""Coordinate mapping: from a point of the viewer's (scaled) view to a pixel of the shared monitor's frame,
and from that pixel to the host's root window.

The viewer draws the frame scaled (fit-to-window, letterboxed and centred) or 1:1 (scrolled); a point of
its widget maps to a frame pixel by ``frame = (view - offset) / scale``. The host captures the monitor at
its own resolution, so a frame pixel is a monitor pixel and reaches the root window by adding the
monitor's origin; the host refuses anything outside the shared monitor. While a window or region is
shared (부분공유) the capture's monitor is that area, so a frame pixel is an area pixel and the same check
drops input outside the area.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..capture import Monitor
from ..errors import InvalidInputEvent


@dataclass(frozen=True)
class ViewTransform:
    """How the viewer draws a ``frame_width`` x ``frame_height`` frame: ``view = frame * scale + offset``."""

    frame_width: int
    frame_height: int
    scale: float
    offset_x: float = 0.0
    offset_y: float = 0.0

    def __post_init__(self) -> None:
        if self.frame_width <= 0 or self.frame_height <= 0:
            raise ValueError("the frame must have a size")
        if not (math.isfinite(self.scale) and self.scale > 0):
            raise ValueError(f"bad scale {self.scale!r}")
        if not (math.isfinite(self.offset_x) and math.isfinite(self.offset_y)):
            raise ValueError("offsets must be finite")

    @classmethod
    def fit(cls, view_width: int, view_height: int, frame_width: int, frame_height: int) -> ViewTransform:
        """The largest scale at which the whole frame fits the view, centred (letterboxed)."""
        if view_width <= 0 or view_height <= 0:
            raise ValueError("the view must have a size")
        scale = min(view_width / frame_width, view_height / frame_height)
        return cls(
            frame_width,
            frame_height,
            scale,
            (view_width - frame_width * scale) / 2,
            (view_height - frame_height * scale) / 2,
        )

    @classmethod
    def one_to_one(
        cls, frame_width: int, frame_height: int, scroll_x: int = 0, scroll_y: int = 0
    ) -> ViewTransform:
        """The frame at its own size, scrolled so that frame pixel (scroll_x, scroll_y) is the view's corner."""
        return cls(frame_width, frame_height, 1.0, -float(scroll_x), -float(scroll_y))

    def to_frame(self, view_x: float, view_y: float) -> tuple[int, int] | None:
        """The frame pixel under a point of the view, or None if the point is off the frame (or not finite)."""
        if not (math.isfinite(view_x) and math.isfinite(view_y)):
            return None
        x = math.floor((view_x - self.offset_x) / self.scale)
        y = math.floor((view_y - self.offset_y) / self.scale)
        if 0 <= x < self.frame_width and 0 <= y < self.frame_height:
            return x, y
        return None


def frame_to_root(monitor: Monitor, x: int, y: int) -> tuple[int, int]:
    """The root-window pixel of pixel (x, y) of ``monitor``'s frame.

    Raises InvalidInputEvent if the point is outside the monitor: input never reaches another monitor.
    """
    if type(x) is not int or type(y) is not int:
        raise InvalidInputEvent(f"coordinates must be ints, got {x!r}, {y!r}")
    if not (0 <= x < monitor.width and 0 <= y < monitor.height):
        raise InvalidInputEvent(f"({x}, {y}) is outside the shared {monitor.width}x{monitor.height} monitor")
    return monitor.x + x, monitor.y + y
