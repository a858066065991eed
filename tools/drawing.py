"""The drawing model that both ends keep: the strokes over the customer's screen, in drawing order.

Strokes are the protocol's :class:`~opensupport.protocol.DrawingStroke` (host screen coordinates). Each
side numbers its own strokes, so a stroke is known by ``(origin, stroke_id)``; a stroke that repeats a
known key replaces it in place (a pen stroke grows while it is drawn). ``DrawingClear`` removes both
sides' strokes. The model is bounded (:data:`MAX_STROKES`): beyond it the oldest stroke goes, so a
flooding peer costs bounded memory.

:class:`StrokeBuilder` turns pointer moves into strokes for whichever side is drawing (the viewer's
drawing layer, the host's overlay in drawing mode).
"""

from __future__ import annotations

import enum
import itertools
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import NamedTuple

from opensupport.protocol import MAX_STROKE_POINTS, DrawingClear, DrawingStroke, StrokeShape

__all__ = [
    "DEFAULT_COLORS",
    "MAX_STROKES",
    "Bounds",
    "Drawing",
    "Origin",
    "StrokeBuilder",
    "StrokeThrottle",
    "stroke_bounds",
    "stroke_growth",
]

#: Most strokes kept at once (both sides together).
MAX_STROKES = 2048
#: Colours offered in both UIs (0xRRGGBBAA): red, yellow highlighter, blue, green, black.
DEFAULT_COLORS = (0xE53935FF, 0xFFEB3B80, 0x1E88E5FF, 0x43A047FF, 0x000000FF)
#: Least time between two sends of a stroke that is still being drawn (seconds): 25 updates a second.
SEND_INTERVAL = 0.04
#: The highlighter's default alpha when the chosen colour is opaque.
HIGHLIGHTER_ALPHA = 0x70


class Origin(enum.Enum):
    """Who drew a stroke."""

    AGENT = "agent"
    CUSTOMER = "customer"


class Bounds(NamedTuple):
    """A rectangle in host screen pixels."""

    x: int
    y: int
    w: int
    h: int

    def union(self, other: Bounds | None) -> Bounds:
        """The smallest rectangle holding both."""
        if other is None:
            return self
        x0, y0 = min(self.x, other.x), min(self.y, other.y)
        x1 = max(self.x + self.w, other.x + other.w)
        y1 = max(self.y + self.h, other.y + other.h)
        return Bounds(x0, y0, x1 - x0, y1 - y0)


def stroke_growth(old: DrawingStroke, new: DrawingStroke) -> DrawingStroke | None:
    """What ``new`` adds to ``old`` when it only grows (a pen or highlighter stroke being drawn: same
    look, the old points followed by more): the new segment, starting at the old last point. None when
    ``new`` changes ``old`` in any other way (it must then be painted afresh)."""
    if (
        new.shape not in (StrokeShape.PEN, StrokeShape.HIGHLIGHTER)
        or (new.shape, new.color, new.width, new.stroke_id)
        != (old.shape, old.color, old.width, old.stroke_id)
        or len(new.points) <= len(old.points)
        or new.points[: len(old.points)] != old.points
    ):
        return None
    tail = new.points[len(old.points) - 1 :]
    return DrawingStroke(new.stroke_id, new.color, new.width, tail, new.shape)


def stroke_bounds(stroke: DrawingStroke) -> Bounds:
    """A rectangle that holds everything the stroke paints (generous for arrow heads and text, whose
    exact extent depends on the font)."""
    xs = [p[0] for p in stroke.points]
    ys = [p[1] for p in stroke.points]
    pad = stroke.width + 2
    if stroke.shape is StrokeShape.ARROW:
        pad = 4 * stroke.width + 16
    if stroke.shape is StrokeShape.TEXT:
        lines = stroke.text.split("\n")
        size = stroke.width
        return Bounds(xs[0] - 2, ys[0] - 2, max(len(t) for t in lines) * size + 8, len(lines) * size * 2 + 8)
    return Bounds(min(xs) - pad, min(ys) - pad, max(xs) - min(xs) + 2 * pad, max(ys) - min(ys) + 2 * pad)


class Drawing:
    """The strokes on the customer's screen, oldest first (thread-safe).

    ``on_change(bounds)`` is called after every change with the screen area to repaint (``None``: all).
    """

    def __init__(self, on_change: Callable[[Bounds | None], None] | None = None) -> None:
        self._strokes: OrderedDict[tuple[Origin, int], DrawingStroke] = OrderedDict()
        self._lock = threading.Lock()
        self.on_change = on_change

    def apply(self, origin: Origin, event: DrawingStroke | DrawingClear) -> Bounds | None:
        """Add or replace a stroke, or clear; returns the area that changed (None after a clear)."""
        with self._lock:
            if isinstance(event, DrawingClear):
                self._strokes.clear()
                changed: Bounds | None = None
            else:
                key = (origin, event.stroke_id)
                old = self._strokes.get(key)
                self._strokes[key] = event  # a replaced stroke keeps its place in the drawing order
                changed = stroke_bounds(event).union(stroke_bounds(old) if old is not None else None)
                while len(self._strokes) > MAX_STROKES:
                    self._strokes.popitem(last=False)
                    changed = None
        if self.on_change is not None:
            self.on_change(changed)
        return changed

    def strokes(self) -> list[tuple[Origin, DrawingStroke]]:
        """Every stroke with who drew it, in drawing order (a copy)."""
        with self._lock:
            return [(origin, stroke) for (origin, _), stroke in self._strokes.items()]

    def keyed(self) -> list[tuple[tuple[Origin, int], DrawingStroke]]:
        """Every stroke with its key ``(origin, stroke_id)``, in drawing order (a copy)."""
        with self._lock:
            return list(self._strokes.items())

    def __len__(self) -> int:
        with self._lock:
            return len(self._strokes)

    def bounds(self) -> Bounds | None:
        """The area all strokes cover (None when there is none)."""
        result: Bounds | None = None
        for _, stroke in self.strokes():
            result = stroke_bounds(stroke).union(result)
        return result


class StrokeBuilder:
    """Builds one side's strokes from pointer input: ``begin`` at the press, ``move`` while the button is
    held, ``end`` at the release. Each returns the stroke as it stands (send it: the peer replaces the
    earlier version), or None when nothing changed. Pen and highlighter strokes that reach
    MAX_STROKE_POINTS end there and the next move starts a new stroke, so a long scribble is never lost."""

    def __init__(self, first_id: int = 1) -> None:
        self._ids = itertools.count(first_id)
        self.shape = StrokeShape.PEN
        self.color = DEFAULT_COLORS[0]
        self.width = 4
        self._current: DrawingStroke | None = None

    def next_id(self) -> int:
        """A fresh stroke id (u32, wrapping)."""
        return next(self._ids) & 0xFFFFFFFF

    def _color(self) -> int:
        if self.shape is StrokeShape.HIGHLIGHTER and self.color & 0xFF == 0xFF:
            return (self.color & 0xFFFFFF00) | HIGHLIGHTER_ALPHA
        return self.color

    def _width(self) -> int:
        return max(self.width, 12) if self.shape is StrokeShape.HIGHLIGHTER else self.width

    @property
    def drawing(self) -> bool:
        """A stroke is being drawn."""
        return self._current is not None

    def begin(self, x: int, y: int) -> DrawingStroke | None:
        """The button went down at (x, y). Text strokes are made with :meth:`text`, not here."""
        if self.shape is StrokeShape.TEXT:
            return None
        points: tuple[tuple[int, int], ...] = ((x, y),)
        if self.shape in (StrokeShape.LINE, StrokeShape.RECTANGLE, StrokeShape.ARROW):
            points = ((x, y), (x, y))
        self._current = DrawingStroke(self.next_id(), self._color(), self._width(), points, self.shape)
        return self._current

    def move(self, x: int, y: int) -> DrawingStroke | None:
        """The pointer moved to (x, y) with the button held."""
        cur = self._current
        if cur is None:
            return None
        if cur.shape in (StrokeShape.PEN, StrokeShape.HIGHLIGHTER):
            if cur.points[-1] == (x, y):
                return None
            if len(cur.points) >= MAX_STROKE_POINTS:
                last = cur.points[-1]
                cur = DrawingStroke(self.next_id(), cur.color, cur.width, (last, (x, y)), cur.shape)
            else:
                cur = DrawingStroke(cur.stroke_id, cur.color, cur.width, (*cur.points, (x, y)), cur.shape)
        else:
            if cur.points[1] == (x, y):
                return None
            cur = DrawingStroke(cur.stroke_id, cur.color, cur.width, (cur.points[0], (x, y)), cur.shape)
        self._current = cur
        return cur

    def end(self, x: int, y: int) -> DrawingStroke | None:
        """The button went up at (x, y): the stroke is finished."""
        stroke = self.move(x, y)
        self._current = None
        return stroke

    def text(self, x: int, y: int, text: str) -> DrawingStroke:
        """A text stroke at (x, y); ``width`` is the font's pixel size. Raises InvalidEvent for bad text."""
        return DrawingStroke(
            self.next_id(), self.color, max(self.width, 8), ((x, y),), StrokeShape.TEXT, text
        )


class StrokeThrottle:
    """Passes on a stroke that is being drawn at most every ``interval`` seconds, and always its final
    version: a pen stroke resends all its points each time, so sending every pointer move would cost the
    square of its length on the wire."""

    def __init__(
        self,
        send: Callable[[DrawingStroke], object],
        interval: float = SEND_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._send = send
        self._interval = interval
        self._clock = clock
        self._pending: DrawingStroke | None = None
        self._sent_at = -float("inf")
        #: Versions passed on (diagnostics and tests).
        self.sent = 0

    def update(self, stroke: DrawingStroke | None, *, final: bool = False) -> None:
        """A new version of the stroke being drawn (None: unchanged); ``final`` when it is finished."""
        if stroke is not None:
            if self._pending is not None and self._pending.stroke_id != stroke.stroke_id:
                self._flush()  # a new stroke began (a long pen stroke continues in a new one)
            self._pending = stroke
        now = self._clock()
        if self._pending is not None and (final or now - self._sent_at >= self._interval):
            self._flush()
            self._sent_at = now

    def _flush(self) -> None:
        stroke, self._pending = self._pending, None
        if stroke is not None:
            self.sent += 1
            self._send(stroke)
