"""The viewer's display model, without any GUI: the remote framebuffer, the view transform, the monitors.

Theory of operation: the decode worker owns the codec's ``Decoder``, whose framebuffer it mutates in place.
The GUI never looks at that buffer. After each decoded update the worker copies the changed rectangles
into ``FrameStore.buffer`` while holding ``FrameStore.lock``, and the widget holds the same lock while it
paints from that buffer. A whole update (all its rectangles) is copied under one acquisition, so a paint
sees either all of an update or none of it. Copying only the changed rectangles costs a memcpy of the
changed pixels, far less than double-buffering whole frames, and keeps one buffer that a ``QImage`` can
wrap without a copy.

The decode worker goes one step further (``FrameStore.decode``): it decodes *under* the lock and lends
the decoder's own framebuffer to the store, so there is no copy at all (a scrolled 1080p screen is a
1.3 ms copy per frame otherwise). The decoder leaves its framebuffer untouched when it refuses an update,
so the picture never shows half of one; a paint waits at most one decode (about 2 ms) for the lock.

``ViewTransform`` maps between widget coordinates (logical pixels) and frame coordinates (pixels of the
selected host monitor): fit-to-window keeps the aspect ratio and centres the picture, 1:1 shows one host
pixel per device pixel and scrolls when the picture is larger than the widget.
"""

from __future__ import annotations

import enum
import math
import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, TypeVar

import numpy as np

from .meter import StatsMeter

_Rects = TypeVar("_Rects")

__all__ = [
    "CursorImage",
    "DisplayModel",
    "FrameStore",
    "Monitor",
    "MonitorLayout",
    "ViewMode",
    "ViewTransform",
    "WidgetRect",
]


class ViewMode(enum.Enum):
    """How the remote screen is laid out in the widget."""

    #: Scale to the widget, keeping the aspect ratio, centred.
    FIT = "fit"
    #: One host pixel per device pixel; scroll when larger than the widget.
    ONE_TO_ONE = "1:1"


class WidgetRect(NamedTuple):
    """A rectangle in widget coordinates (logical pixels)."""

    x: int
    y: int
    w: int
    h: int


@dataclass(frozen=True)
class ViewTransform:
    """The mapping between widget and frame coordinates for one layout; build it with ``compute``.

    A frame point (fx, fy) lands at widget point (origin_x + fx * scale_x, origin_y + fy * scale_y).
    """

    frame_width: int
    frame_height: int
    widget_width: int
    widget_height: int
    mode: ViewMode
    origin_x: float
    origin_y: float
    scale_x: float
    scale_y: float
    #: The clamped scroll position (1:1 only).
    scroll_x: int
    scroll_y: int
    #: Scroll ranges: 0 when the picture fits along that axis.
    max_scroll_x: int
    max_scroll_y: int
    #: The whole picture's size in the widget (frame size times scale, exact in fit mode).
    picture_width: float
    picture_height: float
    device_pixel_ratio: float = 1.0

    @classmethod
    def compute(
        cls,
        frame_size: tuple[int, int],
        widget_size: tuple[int, int],
        mode: ViewMode,
        scroll: tuple[int, int] = (0, 0),
        device_pixel_ratio: float = 1.0,
    ) -> ViewTransform:
        """The transform for a frame of ``frame_size`` (w, h) shown in a widget of ``widget_size``.

        Raises ValueError for negative sizes or a non-positive device pixel ratio.
        """
        fw, fh = frame_size
        ww, wh = widget_size
        if min(fw, fh, ww, wh) < 0:
            raise ValueError(f"negative size: frame {frame_size}, widget {widget_size}")
        if not device_pixel_ratio > 0:
            raise ValueError(f"bad device pixel ratio {device_pixel_ratio}")
        if fw == 0 or fh == 0 or ww == 0 or wh == 0:
            return cls(fw, fh, ww, wh, mode, 0.0, 0.0, 1.0, 1.0, 0, 0, 0, 0, 0.0, 0.0, device_pixel_ratio)
        if mode is ViewMode.FIT:
            scale = min(ww / fw, wh / fh)
            # Whole-pixel picture size and origin: the edges land on pixel boundaries, so the corners map
            # exactly and nothing is smeared across a half pixel.
            dw = min(ww, max(1, round(fw * scale)))
            dh = min(wh, max(1, round(fh * scale)))
            ox, oy = (ww - dw) // 2, (wh - dh) // 2
            return cls(
                fw,
                fh,
                ww,
                wh,
                mode,
                float(ox),
                float(oy),
                dw / fw,
                dh / fh,
                0,
                0,
                0,
                0,
                dw,
                dh,
                device_pixel_ratio,
            )
        scale = 1.0 / device_pixel_ratio
        dwf, dhf = fw * scale, fh * scale
        max_sx, max_sy = max(0, math.ceil(dwf - ww)), max(0, math.ceil(dhf - wh))
        sx = min(max(0, scroll[0]), max_sx)
        sy = min(max(0, scroll[1]), max_sy)
        left = float(-sx) if max_sx else float(math.floor((ww - dwf) / 2))
        top = float(-sy) if max_sy else float(math.floor((wh - dhf) / 2))
        return cls(
            fw,
            fh,
            ww,
            wh,
            mode,
            left,
            top,
            scale,
            scale,
            sx,
            sy,
            max_sx,
            max_sy,
            dwf,
            dhf,
            device_pixel_ratio,
        )

    @property
    def empty(self) -> bool:
        """True when there is nothing to show (no frame yet, or a zero-sized widget)."""
        return 0 in (self.frame_width, self.frame_height, self.widget_width, self.widget_height)

    def picture_rect(self) -> tuple[float, float, float, float]:
        """Where the whole frame lands in the widget: (x, y, w, h), possibly beyond the widget's edges."""
        return self.origin_x, self.origin_y, self.picture_width, self.picture_height

    def to_frame(self, wx: float, wy: float) -> tuple[float, float]:
        """A widget point in continuous frame coordinates (no rounding, no clipping)."""
        return (wx - self.origin_x) / self.scale_x, (wy - self.origin_y) / self.scale_y

    def to_widget(self, fx: float, fy: float) -> tuple[float, float]:
        """A continuous frame point in widget coordinates (no rounding, no clipping)."""
        return self.origin_x + fx * self.scale_x, self.origin_y + fy * self.scale_y

    def _pointer_factors(self) -> tuple[float, float, float]:
        # Pointer positions step by one device pixel; u is that step in logical pixels. The first and the
        # last pointer position on the picture are the first and the last host pixel.
        u = 1.0 / self.device_pixel_ratio
        kx = (self.frame_width - 1) / (self.picture_width - u) if self.picture_width > u else 0.0
        ky = (self.frame_height - 1) / (self.picture_height - u) if self.picture_height > u else 0.0
        return u, kx, ky

    def frame_pixel_at(self, wx: float, wy: float, *, clamp: bool = False) -> tuple[int, int] | None:
        """The host pixel the pointer at widget position (wx, wy) points at.

        The picture's edges are the host screen's edges: in a downscaled view every corner pixel can still
        be clicked, and at 1:1 or when magnified it is the host pixel shown under the pointer. Outside the
        picture: None, or the nearest edge pixel with ``clamp``.
        """
        if self.empty:
            return None
        u, kx, ky = self._pointer_factors()
        px, py = wx - self.origin_x, wy - self.origin_y
        inside = (
            -1e-9 <= px <= self.picture_width - u + 1e-9 and -1e-9 <= py <= self.picture_height - u + 1e-9
        )
        if not inside and not clamp:
            return None
        ix, iy = math.floor(px * kx + 0.5), math.floor(py * ky + 0.5)
        return min(max(ix, 0), self.frame_width - 1), min(max(iy, 0), self.frame_height - 1)

    def widget_pixel_of(self, fx: int, fy: int) -> tuple[int, int]:
        """The widget pixel where the pointer points at host pixel (fx, fy) (inverse of frame_pixel_at)."""
        u, kx, ky = self._pointer_factors()
        wx = self.origin_x + (fx / kx if kx else 0.0)
        wy = self.origin_y + (fy / ky if ky else 0.0)
        return math.floor(wx + 0.5 * u), math.floor(wy + 0.5 * u)

    def frame_rect_to_widget(self, x: int, y: int, w: int, h: int, *, margin: int = 0) -> WidgetRect | None:
        """The widget rectangle to repaint when the frame rectangle (x, y, w, h) changed.

        Rounds outward so that every widget pixel the change touches is inside; ``margin`` grows the frame
        rectangle first (one pixel covers a smoothing filter's reach). Clipped to the widget; None when
        nothing of it is visible.
        """
        if self.empty or w <= 0 or h <= 0:
            return None
        fx0, fy0 = max(0, x - margin), max(0, y - margin)
        fx1, fy1 = min(self.frame_width, x + w + margin), min(self.frame_height, y + h + margin)
        if fx0 >= fx1 or fy0 >= fy1:
            return None
        left, top = self.to_widget(fx0, fy0)
        right, bottom = self.to_widget(fx1, fy1)
        x0, y0 = max(0, math.floor(left)), max(0, math.floor(top))
        x1 = min(self.widget_width, math.ceil(right))
        y1 = min(self.widget_height, math.ceil(bottom))
        if x0 >= x1 or y0 >= y1:
            return None
        return WidgetRect(x0, y0, x1 - x0, y1 - y0)


class FrameStore:
    """The GUI's copy of the remote framebuffer (BGRA, C-contiguous), guarded by ``lock``.

    The writer (the decode worker) and the reader (the paint) both hold ``lock``; ``buffer`` is replaced,
    never resized in place, when the remote size changes.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.buffer: np.ndarray | None = None
        #: True while ``buffer`` is a decoder's own framebuffer (lent by :meth:`decode`): :meth:`apply`
        #: then takes a copy first, so that it never writes into the decoder's picture.
        self._lent = False
        #: Bumped on every applied update; a reader can tell whether anything changed.
        self.generation = 0

    @property
    def size(self) -> tuple[int, int]:
        """(width, height), (0, 0) before the first frame."""
        buf = self.buffer
        return (0, 0) if buf is None else (int(buf.shape[1]), int(buf.shape[0]))

    def apply(self, framebuffer: np.ndarray, rects: Iterable[Sequence[int]]) -> bool:
        """Copy the changed ``rects`` (x, y, w, h) of ``framebuffer`` in, as one atomic update.

        A framebuffer of another size replaces the whole buffer. Returns True when the size changed.
        Raises ValueError for a framebuffer that is not (h, w, 4) uint8 or a rectangle outside it; the
        buffer is then left untouched.
        """
        if framebuffer.dtype != np.uint8 or framebuffer.ndim != 3 or framebuffer.shape[2] != 4:
            raise ValueError(
                f"framebuffer must be (h, w, 4) uint8, got {framebuffer.shape} {framebuffer.dtype}"
            )
        fh, fw = int(framebuffer.shape[0]), int(framebuffer.shape[1])
        checked: list[tuple[int, int, int, int]] = []
        for rect in rects:
            x, y, w, h = (int(v) for v in rect)
            if w <= 0 or h <= 0 or x < 0 or y < 0 or x + w > fw or y + h > fh:
                raise ValueError(f"rectangle {(x, y, w, h)} is outside the {fw}x{fh} framebuffer")
            checked.append((x, y, w, h))
        with self.lock:
            buf = self.buffer
            resized = buf is None or buf.shape != framebuffer.shape
            if resized:
                self.buffer = np.ascontiguousarray(framebuffer).copy()
            else:
                assert buf is not None
                if self._lent:  # the decoder's own picture: never written from here
                    buf = self.buffer = buf.copy()
                for x, y, w, h in checked:
                    buf[y : y + h, x : x + w] = framebuffer[y : y + h, x : x + w]
            self._lent = False
            self.generation += 1
        return resized

    def decode(self, decode: Callable[[], tuple[np.ndarray, _Rects]]) -> tuple[np.ndarray, _Rects, bool]:
        """Run ``decode`` (a decoder's update: it returns its framebuffer and the changed rects) under the
        lock and show the decoder's framebuffer itself from then on, without a copy.

        Returns (framebuffer, rects, resized). An exception from ``decode`` propagates and leaves the
        buffer as it was (the codec's decoder refuses an update before touching its framebuffer). Raises
        ValueError for a framebuffer that is not C-contiguous (h, w, 4) uint8 (``QImage`` wraps it).
        """
        with self.lock:
            framebuffer, rects = decode()
            if (
                framebuffer.dtype != np.uint8
                or framebuffer.ndim != 3
                or framebuffer.shape[2] != 4
                or not framebuffer.flags.c_contiguous
            ):
                raise ValueError(
                    f"framebuffer must be C-contiguous (h, w, 4) uint8, got {framebuffer.shape} {framebuffer.dtype}"
                )
            buf = self.buffer
            resized = buf is None or buf.shape != framebuffer.shape
            self.buffer = framebuffer
            self._lent = True
            self.generation += 1
        return framebuffer, rects, resized

    def snapshot(self) -> np.ndarray | None:
        """A consistent copy of the current buffer (None before the first frame)."""
        with self.lock:
            return None if self.buffer is None else self.buffer.copy()


@dataclass(frozen=True)
class Monitor:
    """One host monitor: its index in the host's list and its geometry on the host's desktop."""

    index: int
    x: int
    y: int
    width: int
    height: int
    primary: bool = False
    name: str = ""

    def __post_init__(self) -> None:
        if not 0 <= self.index < 64:
            raise ValueError(f"bad monitor index {self.index}")
        if not (0 < self.width <= 65535 and 0 < self.height <= 65535):
            raise ValueError(f"bad monitor size {self.width}x{self.height}")
        if not (-65535 <= self.x <= 65535 and -65535 <= self.y <= 65535):
            raise ValueError(f"bad monitor position {self.x},{self.y}")

    def label(self) -> str:
        """A short human label: "2: 1920×1080 (primary)"."""
        text = f"{self.index}: {self.width}×{self.height}"
        if self.name:
            text += f" {self.name}"
        return text + (" (primary)" if self.primary else "")


@dataclass
class MonitorLayout:
    """The host's monitors as the host announced them, and the one being shown."""

    monitors: list[Monitor] = field(default_factory=list)
    selected: int | None = None

    def replace(self, monitors: Sequence[Monitor], selected: int | None = None) -> None:
        """Take a new monitor list from the host. Raises ValueError on duplicate indexes or a bad selection."""
        indexes = [m.index for m in monitors]
        if len(set(indexes)) != len(indexes):
            raise ValueError(f"duplicate monitor indexes {indexes}")
        if selected is not None and selected not in indexes:
            raise ValueError(f"selected monitor {selected} is not in {indexes}")
        self.monitors = list(monitors)
        self.selected = selected

    def get(self, index: int) -> Monitor:
        """The monitor with ``index``. Raises KeyError if the host has none."""
        for monitor in self.monitors:
            if monitor.index == index:
                return monitor
        raise KeyError(index)


#: Largest cursor image accepted (the protocol's bound).
MAX_CURSOR_SIDE = 128
#: How many of the agent's latest pointer points are told apart from the customer's moves (a round trip
#: of pointer events at 60 a second is far fewer).
AGENT_POINTS_KEPT = 64


@dataclass(frozen=True)
class CursorImage:
    """The host's pointer shape: ``pixels`` is width*height*4 bytes BGRA with premultiplied alpha (as the
    host's ``host/cursor.py`` sends it), hot spot inside."""

    width: int
    height: int
    hot_x: int
    hot_y: int
    pixels: bytes

    def __post_init__(self) -> None:
        if not (0 < self.width <= MAX_CURSOR_SIDE and 0 < self.height <= MAX_CURSOR_SIDE):
            raise ValueError(f"bad cursor size {self.width}x{self.height}")
        if not (0 <= self.hot_x < self.width and 0 <= self.hot_y < self.height):
            raise ValueError(
                f"hot spot {self.hot_x},{self.hot_y} outside the {self.width}x{self.height} cursor"
            )
        if not isinstance(self.pixels, bytes) or len(self.pixels) != self.width * self.height * 4:
            raise ValueError("cursor pixels must be width*height*4 bytes")


class DisplayModel:
    """Everything the remote-screen widget shows, without Qt: framebuffer, layout, meter, view-only.

    The host's pointer travels as its own messages (shape and position). While the agent controls the
    host, the local pointer takes the remote shape and the host's position is not drawn where the agent
    put it (it follows the agent's pointer, a round trip late); with 마우스 추적 on, a position the agent
    did not send recently is the customer's own move and is drawn. In view-only mode the remote pointer
    is drawn where the host says it is, so that the agent sees where the customer points.
    """

    def __init__(
        self, *, mode: ViewMode = ViewMode.FIT, view_only: bool = False, smooth: bool = True
    ) -> None:
        self.store = FrameStore()
        self.mode = mode
        self.view_only = view_only
        #: Filter when scaling (readable downscaled text); 1:1 is never filtered.
        self.smooth = smooth
        self.widget_size: tuple[int, int] = (0, 0)
        self.scroll: tuple[int, int] = (0, 0)
        self.device_pixel_ratio = 1.0
        self.monitors = MonitorLayout()
        self.meter = StatsMeter()
        self.cursor_image: CursorImage | None = None
        #: Where the host's pointer is (frame pixels), None while hidden or unknown.
        self.cursor_position: tuple[int, int] | None = None
        #: 마우스 추적 as the host announced it: the customer's own pointer moves arrive.
        self.cursor_tracking = False
        #: The points the agent's last pointer events went to (frame pixels): a host position among them
        #: is the agent's own move coming back.
        self.agent_points: deque[tuple[int, int]] = deque(maxlen=AGENT_POINTS_KEPT)

    def draws_remote_cursor(self) -> bool:
        """Whether the widget draws the host's pointer itself: shape and position known, and view-only,
        or 마우스 추적 on and the position not one the agent's own pointer sent recently."""
        if self.cursor_image is None or self.cursor_position is None:
            return False
        if self.view_only:
            return True
        return self.cursor_tracking and self.cursor_position not in self.agent_points

    def cursor_origin(self, t: ViewTransform | None = None) -> tuple[int, int] | None:
        """The widget point where the drawn remote pointer's top-left corner goes (its hot spot lands on
        the host position; the image is not scaled, so it stays readable in a downscaled view)."""
        if self.cursor_image is None or self.cursor_position is None:
            return None
        t = self.transform() if t is None else t
        if t.empty:
            return None
        cx, cy = t.to_widget(self.cursor_position[0] + 0.5, self.cursor_position[1] + 0.5)
        return math.floor(cx) - self.cursor_image.hot_x, math.floor(cy) - self.cursor_image.hot_y

    def cursor_rect(self, t: ViewTransform | None = None) -> WidgetRect | None:
        """The widget rectangle the drawn remote pointer covers, clipped; None when off the widget."""
        t = self.transform() if t is None else t
        origin = self.cursor_origin(t)
        if origin is None or self.cursor_image is None:
            return None
        x, y = origin
        x0, y0 = max(0, x), max(0, y)
        x1 = min(t.widget_width, x + self.cursor_image.width)
        y1 = min(t.widget_height, y + self.cursor_image.height)
        if x0 >= x1 or y0 >= y1:
            return None
        return WidgetRect(x0, y0, x1 - x0, y1 - y0)

    def transform(self) -> ViewTransform:
        """The current widget <-> frame transform (scroll clamped)."""
        return ViewTransform.compute(
            self.store.size, self.widget_size, self.mode, self.scroll, self.device_pixel_ratio
        )

    def set_scroll(self, x: int, y: int) -> None:
        """Scroll the 1:1 view; clamped to the picture."""
        t = ViewTransform.compute(
            self.store.size, self.widget_size, self.mode, (x, y), self.device_pixel_ratio
        )
        self.scroll = (t.scroll_x, t.scroll_y)

    def filtered(self, t: ViewTransform) -> bool:
        """Whether painting with ``t`` uses a smoothing filter."""
        return self.smooth and (t.scale_x != 1.0 or t.scale_y != 1.0) and t.mode is ViewMode.FIT

    def repaint_rect(self, rect: Sequence[int], t: ViewTransform | None = None) -> WidgetRect | None:
        """The widget rectangle to repaint for the changed frame rectangle ``rect`` (x, y, w, h)."""
        t = self.transform() if t is None else t
        x, y, w, h = (int(v) for v in rect)
        # A smoothing filter blends each painted pixel from its neighbours: one frame pixel of margin.
        return t.frame_rect_to_widget(x, y, w, h, margin=1 if self.filtered(t) else 0)
