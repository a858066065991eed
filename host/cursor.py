"""The pointer as its own data: where it is on the shared monitor and what it looks like.

The screen capture never contains the pointer (mss grabs without it); the host sends the pointer's position
and shape as their own messages so that the viewer draws it on top, moves it without a new frame, and the
codec never encodes a pointer trail.

On X11 the shape comes from XFIXES (``GetCursorImage``), and XFIXES announces each new shape with a
``DisplayCursorNotify`` carrying the shape's serial, so the image is read only when it changed. Without
XFIXES the source reports the position only. XInput 2 raw motion events wake :meth:`X11CursorSource.wait`
whenever the pointer moves, so a still pointer costs nothing; without XInput 2 it polls, backing off from
60 to 4 times a second while the pointer stays still.
"""

from __future__ import annotations

import abc
import logging
import select
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import numpy as np

from ._x11 import open_display
from .capture import Monitor
from .errors import CaptureError

log = logging.getLogger(__name__)

#: Polling rates without XInput 2: 60 a second while the pointer moves, backing off to 4 when it is still.
MIN_POLL_INTERVAL = 1 / 60
MAX_POLL_INTERVAL = 0.25

#: Largest cursor image passed on, in pixels per side (X cursors are 16..64, accessibility ones up to 256).
MAX_CURSOR_SIDE = 256


@dataclass(frozen=True)
class CursorShape:
    """One pointer image: BGRA with premultiplied alpha, ``width * height * 4`` bytes, row after row."""

    #: Changes whenever the shape changes (the X server's cursor serial).
    serial: int
    width: int
    height: int
    #: The hot spot: the pixel of the image that sits at the pointer's position.
    hot_x: int
    hot_y: int
    pixels: bytes

    def __post_init__(self) -> None:
        if not (0 < self.width <= MAX_CURSOR_SIDE and 0 < self.height <= MAX_CURSOR_SIDE):
            raise ValueError(f"cursor size {self.width}x{self.height} out of range")
        if len(self.pixels) != self.width * self.height * 4:
            raise ValueError("cursor pixels do not match its size")
        if not (0 <= self.hot_x < self.width and 0 <= self.hot_y < self.height):
            raise ValueError("cursor hot spot outside the image")


@dataclass(frozen=True)
class CursorPosition:
    """Where the pointer is, in pixels of the shared monitor (may be outside it: see ``on_monitor``)."""

    x: int
    y: int
    on_monitor: bool


@dataclass(frozen=True)
class CursorUpdate:
    """What changed since the last poll; None fields are unchanged."""

    position: CursorPosition | None
    shape: CursorShape | None


class CursorSource(abc.ABC):
    """Reports the pointer's position (relative to the shared monitor) and shape changes."""

    @abc.abstractmethod
    def set_monitor(self, monitor: Monitor) -> None:
        """Report positions relative to ``monitor`` from now on (the next poll reports the position and
        the shape)."""

    @abc.abstractmethod
    def poll(self) -> CursorUpdate | None:
        """What changed since the last poll, or None. The first poll reports everything known.

        Raises CaptureError if the display went away.
        """

    @abc.abstractmethod
    def wait(self, timeout: float) -> CursorUpdate | None:
        """Wait up to ``timeout`` seconds for the pointer to move or change shape; what changed, or None.

        Raises CaptureError if the display went away.
        """

    @abc.abstractmethod
    def close(self) -> None:
        """Release the display connection."""

    def __enter__(self) -> CursorSource:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class X11CursorSource(CursorSource):
    """The pointer of an X display (``None``: ``$DISPLAY``), shapes through XFIXES when it is there.

    ``use_xinput=False`` makes :meth:`wait` poll even where XInput 2 could wake it.
    Raises X11Unavailable if the display cannot be opened.
    """

    def __init__(self, display: str | None, monitor: Monitor, *, use_xinput: bool = True) -> None:
        self._display = open_display(display)
        self._root = self._display.screen().root
        self._monitor = monitor
        self._last_position: CursorPosition | None = None
        self._serial: int | None = None
        self._shape_changed = False
        self._notify: tuple[int, int] | None = None
        if self._display.has_extension("XFIXES"):
            from Xlib.ext import xfixes

            self._display.xfixes_query_version()
            self._display.xfixes_select_cursor_input(self._root, xfixes.XFixesDisplayCursorNotifyMask)
            # python-xlib clones extension event classes per display: match on (code, sub-code).
            self._notify = self._display.extension_event.DisplayCursorNotify
            self._shape_changed = True
            self._display.sync()
        else:
            log.info("XFIXES unavailable: the pointer's shape is not reported")
        self._moves_wake = False
        if use_xinput and self._display.has_extension("XInputExtension"):
            from Xlib.ext import xinput

            version = self._display.xinput_query_version()
            if (version.major_version, version.minor_version) >= (2, 0):
                # Raw motion goes to the root window whoever else listens, for any pointer device.
                self._root.xinput_select_events([(xinput.AllMasterDevices, xinput.RawMotionMask)])
                self._display.sync()
                self._moves_wake = True
        self._poll_interval = MIN_POLL_INTERVAL

    @property
    def has_shapes(self) -> bool:
        """True when shapes are reported (XFIXES is there)."""
        return self._notify is not None

    def set_monitor(self, monitor: Monitor) -> None:
        self._monitor = monitor
        self._last_position = None
        # The shape too: this is also how a new handshake or a resume asks for everything again (a shape
        # read before the viewer was there never reached it).
        self._serial = None
        self._shape_changed = self._notify is not None

    def poll(self) -> CursorUpdate | None:
        try:
            self._drain_events()
            pointer = self._root.query_pointer()
            shape = self._read_shape() if self._shape_changed else None
        except CaptureError:
            raise
        except Exception as exc:  # python-xlib raises ConnectionClosedError and socket errors
            raise CaptureError(f"the X connection failed: {exc}") from exc
        m = self._monitor
        x, y = pointer.root_x - m.x, pointer.root_y - m.y
        position = CursorPosition(x, y, bool(pointer.same_screen) and 0 <= x < m.width and 0 <= y < m.height)
        if position == self._last_position:
            position_update = None
        else:
            position_update = self._last_position = position
        if position_update is None and shape is None:
            return None
        return CursorUpdate(position_update, shape)

    @property
    def moves_wake(self) -> bool:
        """True when pointer motion wakes :meth:`wait` (XInput 2), False when it polls."""
        return self._moves_wake

    def wait(self, timeout: float) -> CursorUpdate | None:
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            update = self.poll()
            if update is not None:
                self._poll_interval = MIN_POLL_INTERVAL
                return update
            now = time.monotonic()
            if now >= deadline:
                return None
            if self._moves_wake:
                try:
                    select.select([self._display.fileno()], [], [], deadline - now)
                except (OSError, ValueError) as exc:
                    raise CaptureError(f"the X connection failed: {exc}") from exc
            else:
                time.sleep(min(self._poll_interval, deadline - now))
                self._poll_interval = min(MAX_POLL_INTERVAL, self._poll_interval * 1.5)

    def _drain_events(self) -> None:
        for _ in range(self._display.pending_events()):
            event = self._display.next_event()
            notify = (event.type, getattr(event, "sub_code", None))
            if notify == self._notify and event.cursor_serial != self._serial:
                self._shape_changed = True

    def _read_shape(self) -> CursorShape | None:
        self._shape_changed = False
        image: Any = self._display.xfixes_get_cursor_image(self._root)
        if image.cursor_serial == self._serial:
            return None
        self._serial = image.cursor_serial
        w, h = image.width, image.height
        if not (0 < w <= MAX_CURSOR_SIDE and 0 < h <= MAX_CURSOR_SIDE) or len(image.cursor_image) != w * h:
            log.info("cursor image %dx%d not passed on", w, h)
            return None
        # 32-bit ARGB words, little-endian on the wire to us: the bytes come out as B, G, R, A.
        pixels = np.asarray(image.cursor_image, dtype="<u4").tobytes()
        hot_x, hot_y = min(image.xhot, w - 1), min(image.yhot, h - 1)
        return CursorShape(image.cursor_serial, w, h, hot_x, hot_y, pixels)

    def close(self) -> None:
        try:
            self._display.close()
        except Exception:  # closing a dead connection is not an error worth raising
            log.debug("closing the X connection failed", exc_info=True)
