"""X11 capture: pixels through mss (XShmGetImage), changes through the X DAMAGE extension.

Why this split: mss reads pixels fastest (shared memory, about 2 ms for 1920x1080 on Xvfb) but knows
nothing about change; DAMAGE tells which parts of the root window were drawn to, including every child
window, so an idle screen costs one sleeping ``select()``. The damage object reports *delta rectangles*:
one event per area newly damaged since the last ``DamageSubtract``. Waiting therefore means: sleep until
an event arrives, collect the queued ones, subtract (reset) the damage, make a round trip so the reset is
done before mss reads the pixels, and report what was collected. Anything drawn after the reset raises a
new event -- possibly during that very round trip, and then it is carried over to the next wait, since the
server will not report that area again until the next reset -- so no change is ever lost between a report
and the grab that follows it.

With DAMAGE the backend keeps the last grabbed frame and ``grab()`` reads from the server only the
bounding box of what was reported since the grab before (a typed character is a few hundred pixels, not
8 MB through the X server and again through a copy); a report of the whole monitor takes mss's fresh
buffer as the new frame without a copy. Frames handed out are read-only views of that kept frame, valid
until the next ``grab()``: the encoder copies what it needs into its own mirror.

Without DAMAGE (or with ``use_damage=False``) the backend polls with
:class:`~opensupport.host.capture._base.PollingChangeDetector`.
"""

from __future__ import annotations

import contextlib
import logging
import select
import time
from typing import Any

import numpy as np
from Xlib import X

from .._x11 import open_display
from ..errors import CaptureError
from ._base import (
    MAX_RECTS,
    CaptureBackend,
    Frame,
    Monitor,
    PollingChangeDetector,
    Rect,
    bounding_rect,
)

log = logging.getLogger(__name__)

#: How often (seconds) the monitor layout is read again while waiting: RandR sends no event when monitors
#: are redefined (``xrandr --setmonitor``), so a one-round-trip check replaces one.
LAYOUT_CHECK_INTERVAL = 1.0


def _open_mss(display: str | None) -> Any:
    try:
        import mss
    except ImportError as exc:  # pragma: no cover - the host extra installs mss
        raise CaptureError("mss is not installed: install opensupport[host]") from exc
    # mss 10 deprecates mss.mss() in favour of mss.MSS(); older releases only have the former.
    factory = getattr(mss, "MSS", None) or mss.mss
    try:
        return factory(display=display)
    except Exception as exc:  # mss raises ScreenShotError and ctypes/OS errors alike
        raise CaptureError(f"mss cannot open display {display or '$DISPLAY'!r}: {exc}") from exc


class _SharedMemoryReader:
    """Reads an area of the root window through mss's own MIT-SHM segment straight into a kept frame.

    Why: mss's ``grab`` copies the segment into a fresh bytearray per grab, and a fresh 8 MB buffer is
    page-faulted in again every frame (glibc hands buffers this large out as new mappings). This reader
    uses mss 10's XCB connection and segment (``MSSImplXShmGetImage``); with any other mss, or once a
    read failed, :meth:`of` / the caller falls back to ``grab``.
    """

    def __init__(self, impl: Any, xcb: Any, all_planes: int) -> None:
        self._impl = impl
        self._xcb = xcb
        self._all_planes = all_planes

    @classmethod
    def of(cls, sct: Any) -> _SharedMemoryReader | None:
        try:
            from mss.linux import xcb
            from mss.linux.base import ALL_PLANES
            from mss.linux.xshmgetimage import MSSImplXShmGetImage
        except ImportError:  # mss 9 and other platforms: its grab it is
            return None
        impl = getattr(sct, "_impl", None)
        if not isinstance(impl, MSSImplXShmGetImage) or getattr(impl, "_buf", None) is None:
            return None
        if getattr(impl, "_shmseg", None) is None:
            return None
        return cls(impl, xcb, ALL_PLANES)

    def read_into(self, out: np.ndarray, x: int, y: int) -> None:
        """Fill ``out`` (a (h, w, 4) view) with the root window's pixels at (x, y). Raises on failure."""
        impl, xcb = self._impl, self._xcb
        h, w = int(out.shape[0]), int(out.shape[1])
        size = w * h * 4
        if size > impl._bufsize:
            raise CaptureError(f"a {w}x{h} area is larger than the shared memory segment")
        reply = xcb.shm_get_image(
            impl.conn, impl.drawable, x, y, w, h, self._all_planes, xcb.ImageFormat.ZPixmap, impl._shmseg, 0
        )
        if reply.depth != impl.drawable_depth or reply.visual != impl.drawable_visual_id:
            raise CaptureError(f"the X server returned an image of depth {reply.depth}")
        # The view of the segment lives only for this copy: mss cannot close a segment still viewed.
        with memoryview(impl._buf) as segment:
            out[...] = np.frombuffer(segment[:size], dtype=np.uint8).reshape(h, w, 4)


class X11Capture(CaptureBackend):
    """Captures one monitor of an X display (``None``: ``$DISPLAY``), reporting changes at most ``max_fps``
    times a second.

    Raises X11Unavailable if the display cannot be opened, CaptureError if mss cannot read it.
    """

    def __init__(
        self, display: str | None = None, *, monitor: int = 0, use_damage: bool = True, max_fps: float = 60.0
    ) -> None:
        from Xlib.ext import damage

        if not max_fps > 0:
            raise CaptureError(f"max_fps must be positive, not {max_fps!r}")
        self._min_report_interval = 1.0 / max_fps
        self._last_report = -1.0

        self._display = open_display(display)
        self._root = self._display.screen().root
        try:
            self._sct = _open_mss(display)
        except CaptureError:
            self._display.close()
            raise
        self._damage: int | None = None
        #: 부분공유: the shared area (root coordinates) and the window it follows; None shares a monitor.
        self._area: Rect | None = None
        self._area_window: Any = None
        self._carried: list[Rect] = []
        self._poller: PollingChangeDetector | None = None
        if use_damage and self._display.has_extension("DAMAGE"):
            self._display.damage_query_version()
            self._damage = self._root.damage_create(damage.DamageReportDeltaRectangles)
            # python-xlib clones extension event classes per display: match on the event code, not the class.
            self._damage_code: int = self._display.extension_event.DamageNotify
            self._display.sync()
        else:
            log.info("X DAMAGE unavailable or disabled: capture polls for changes")
            self._poller = PollingChangeDetector(self._grab_now, min_interval=self._min_report_interval)
        try:
            self._monitor = self._monitor_at(monitor)
        except CaptureError:
            self.close()
            raise
        self._pending_full = True
        self._next_layout_check = time.monotonic() + LAYOUT_CHECK_INTERVAL
        #: DAMAGE only: the monitor's pixels as last grabbed (None: the next grab reads all of it) and the
        #: area reported since then (monitor coordinates), which the next grab reads again.
        self._frame: np.ndarray | None = None
        self._reader = _SharedMemoryReader.of(self._sct)
        self._frame_of: Monitor | None = None
        self._stale: Rect | None = None

    @property
    def uses_damage(self) -> bool:
        """True when changes come from X DAMAGE, False when the backend polls."""
        return self._damage is not None

    # -- monitors ----------------------------------------------------------------------------------------

    def monitors(self) -> list[Monitor]:
        """Every monitor of the screen (RandR 1.5 monitors; the whole root without RandR)."""
        found: list[tuple[int, int, int, int, str, bool]] = []
        if self._display.has_extension("RANDR"):
            version = self._display.xrandr_query_version()
            if (version.major_version, version.minor_version) >= (1, 5):
                reply = self._root.xrandr_get_monitors(is_active=True)
                for info in reply.monitors:
                    if info.width_in_pixels == 0 or info.height_in_pixels == 0:
                        continue  # a monitor without an area cannot be captured
                    name = self._display.get_atom_name(info.name) if info.name else ""
                    found.append(
                        (
                            info.x,
                            info.y,
                            info.width_in_pixels,
                            info.height_in_pixels,
                            name,
                            bool(info.primary),
                        )
                    )
        if not found:
            geometry = self._root.get_geometry()
            found.append((0, 0, geometry.width, geometry.height, "screen", True))
        found.sort(key=lambda m: (m[0], m[1]))
        return [
            Monitor(index=i, name=name, x=x, y=y, width=w, height=h, primary=primary)
            for i, (x, y, w, h, name, primary) in enumerate(found)
        ]

    def _monitor_at(self, index: int) -> Monitor:
        monitors = self.monitors()
        if type(index) is not int or not 0 <= index < len(monitors):
            raise CaptureError(f"no monitor {index!r}: this screen has {len(monitors)}")
        return monitors[index]

    @property
    def monitor(self) -> Monitor:
        return self._monitor

    def select_monitor(self, index: int) -> Monitor:
        self._monitor = self._monitor_at(index)
        self._end_area()
        self._pending_full = True
        if self._poller is not None:
            self._poller.reset()
        return self._monitor

    # -- 부분공유 partial sharing -------------------------------------------------------------------------

    def share_area(self, area: Rect | None = None, *, window: int | None = None) -> Monitor:
        if (area is None) == (window is None):
            raise CaptureError("share either a region or a window")
        self._end_area()
        if window is not None:
            if type(window) is not int or window <= 0:
                raise CaptureError(f"bad window id {window!r}")
            resource = self._display.create_resource_object("window", window)
            try:
                # ConfigureNotify tells when it moves or resizes (read in _queued_damage).
                resource.change_attributes(event_mask=X.StructureNotifyMask)
                self._display.sync()
            except Exception as exc:  # python-xlib raises BadWindow asynchronously, as an exception here
                raise CaptureError(f"no window {window:#x} on this display: {exc}") from exc
            self._area_window = resource
            area = self._window_rect()
        assert area is not None
        self._area = area
        try:
            self._monitor = self._area_monitor(area)
        except CaptureError:
            self._end_area()
            raise
        self._pending_full = True
        if self._poller is not None:
            self._poller.reset()
        return self._monitor

    @property
    def area(self) -> Rect | None:
        """The shared area in root coordinates while sharing a window or region, else None."""
        return self._area

    def _end_area(self) -> None:
        if self._area_window is not None:
            with contextlib.suppress(Exception):  # the window may be gone already
                self._area_window.change_attributes(event_mask=0)
        self._area = None
        self._area_window = None

    def _window_rect(self) -> Rect:
        """The followed window's rectangle in root coordinates. Raises CaptureError if it is gone."""
        try:
            geometry = self._area_window.get_geometry()
            origin = self._area_window.translate_coords(self._root, 0, 0)
        except Exception as exc:
            raise CaptureError(f"the shared window is gone: {exc}") from exc
        # window.translate_coords(root, 0, 0) is where the root's origin lies in the window: the negated
        # position of the window on the root.
        return Rect(-origin.x, -origin.y, geometry.width, geometry.height)

    def _area_monitor(self, area: Rect) -> Monitor:
        """The pseudo-monitor of an area: clipped to the screen, named after the monitor it starts on."""
        geometry = self._root.get_geometry()
        clipped = area.intersect(Rect(0, 0, geometry.width, geometry.height))
        if clipped is None:
            raise CaptureError(f"the shared area {tuple(area)} is off the screen")
        home = next((m for m in self.monitors() if m.rect.intersect(Rect(clipped.x, clipped.y, 1, 1))), None)
        return Monitor(
            index=home.index if home is not None else 0,
            name="window" if self._area_window is not None else "region",
            x=clipped.x,
            y=clipped.y,
            width=clipped.w,
            height=clipped.h,
            primary=False,
        )

    # -- pixels ------------------------------------------------------------------------------------------

    def _grab_now(self) -> Frame:
        m = self._monitor
        try:
            shot = self._sct.grab({"left": m.x, "top": m.y, "width": m.width, "height": m.height})
        except Exception as exc:
            raise CaptureError(f"cannot grab monitor {m.name!r}: {exc}") from exc
        # mss hands over a fresh bytearray per grab: viewing it avoids a second copy.
        frame = np.frombuffer(shot.raw, dtype=np.uint8)
        if frame.size != m.width * m.height * 4:
            raise CaptureError(f"mss returned {frame.size} bytes for a {m.width}x{m.height} monitor")
        return frame.reshape(m.height, m.width, 4)

    def _grab_area(self, area: Rect) -> Frame:
        """The pixels of ``area`` (monitor coordinates) now, as a (h, w, 4) array."""
        m = self._monitor
        try:
            shot = self._sct.grab(
                {"left": m.x + area.x, "top": m.y + area.y, "width": area.w, "height": area.h}
            )
        except Exception as exc:
            raise CaptureError(f"cannot grab monitor {m.name!r}: {exc}") from exc
        pixels = np.frombuffer(shot.raw, dtype=np.uint8)
        if pixels.size != area.w * area.h * 4:
            raise CaptureError(f"mss returned {pixels.size} bytes for a {area.w}x{area.h} area")
        return pixels.reshape(area.h, area.w, 4)

    def _grab_damaged(self) -> Frame:
        """The kept frame with the area reported since the last grab read again (DAMAGE only)."""
        m = self._monitor
        frame = self._frame
        if frame is None or self._frame_of != m:  # another monitor, area or layout: all of it is new
            self._stale = Rect(0, 0, m.width, m.height)
        stale, self._stale = self._stale, None
        if stale is not None and self._reader is not None:
            if frame is None or frame.shape != (m.height, m.width, 4):
                frame = self._frame = np.empty((m.height, m.width, 4), dtype=np.uint8)
            self._frame_of = m
            box = frame[stale.y : stale.y + stale.h, stale.x : stale.x + stale.w]
            try:
                self._reader.read_into(box, m.x + stale.x, m.y + stale.y)
            except Exception as exc:  # XCB errors are mss's own types: any failure ends this reader
                log.info("reading the screen through shared memory failed (%s): mss grabs from now on", exc)
                self._reader = None
                self._frame = None
                return self._grab_damaged()
        elif stale is not None and (stale.w, stale.h) == (m.width, m.height):
            frame = self._frame = self._grab_now()  # mss's fresh buffer, kept without a copy
            self._frame_of = m
        elif stale is not None:
            assert frame is not None
            try:
                frame[stale.y : stale.y + stale.h, stale.x : stale.x + stale.w] = self._grab_area(stale)
            except CaptureError:
                self._frame = None  # read it all next time: part of it may be older than reported
                raise
        assert frame is not None
        view = frame.view()
        view.flags.writeable = False  # shared with the next grab: nobody may paint into it
        return view

    def _mark_stale(self, rects: list[Rect]) -> None:
        if rects:
            self._stale = bounding_rect([*rects, self._stale] if self._stale is not None else rects)

    def grab(self) -> Frame:
        if self._poller is not None:
            frame = self._poller.take_frame()
            if frame is not None:
                return frame
        grab_now = self._grab_now if self._poller is not None else self._grab_damaged
        try:
            return grab_now()
        except CaptureError:
            # The screen may have shrunk under the monitor: follow the layout once, then try again.
            if not self._follow_layout():
                raise
            return grab_now()

    def _follow_layout(self) -> bool:
        """Read the monitors again and follow the selected one (by name) to its new geometry.

        True if the selected monitor changed: the next wait reports all of it, and :attr:`monitor` says
        where it is now (a monitor that went away is replaced by the one at its index, or the first).
        """
        self._next_layout_check = time.monotonic() + LAYOUT_CHECK_INTERVAL
        if self._area is not None:
            return self._follow_area()
        monitors = self.monitors()
        current = self._monitor
        same = next((m for m in monitors if current.name and m.name == current.name), None)
        if same is None:
            same = monitors[current.index] if current.index < len(monitors) else monitors[0]
        if same == current:
            return False
        log.info("monitor %r is now %r", current, same)
        self._monitor = same
        self._pending_full = True
        if self._poller is not None:
            self._poller.reset()
        return True

    def _follow_area(self) -> bool:
        """Re-read the shared window's geometry (or clip the region to a changed screen); True if it moved.

        A window that went away leaves the last area shared: the stream never widens by itself.
        """
        area = self._area
        assert area is not None
        if self._area_window is not None:
            try:
                area = self._window_rect()
            except CaptureError as exc:
                log.warning("%s: still sharing its last area", exc)
        try:
            monitor = self._area_monitor(area)
        except CaptureError as exc:
            log.warning("%s: still sharing the last part of it", exc)
            return False
        self._area = area
        if monitor == self._monitor:
            return False
        log.info("the shared area is now %r", monitor)
        self._monitor = monitor
        self._pending_full = True
        if self._poller is not None:
            self._poller.reset()
        return True

    # -- changes -----------------------------------------------------------------------------------------

    def wait_for_change(self, timeout: float) -> list[Rect]:
        if time.monotonic() >= self._next_layout_check:
            self._follow_layout()
        deadline = time.monotonic() + max(0.0, timeout)
        if self._poller is not None:
            while True:
                wait = min(deadline, self._next_layout_check) - time.monotonic()
                rects = self._poller.wait(max(0.0, wait))
                if rects or time.monotonic() >= deadline:
                    return rects
                if time.monotonic() >= self._next_layout_check:
                    self._follow_layout()  # a new layout resets the poller: its next wait reports it all
        mon = self._monitor.rect
        if self._pending_full:
            # A new consumer or a new monitor: everything counts as changed. Reset the damage first so that
            # the grab that follows covers what was drawn before.
            self._pending_full = False
            self._carried = []
            self._queued_damage()
            self._reset_damage()
            self._last_report = time.monotonic()
            self._frame = None
            return [Rect(0, 0, mon.w, mon.h)]
        # At most max_fps reports a second: a screen that never stops changing (a video) would otherwise be
        # grabbed as fast as mss can. The damage drawn meanwhile waits in the server and our queue.
        pause = min(self._last_report + self._min_report_interval, deadline) - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        while True:
            rects, self._carried = self._carried + self._queued_damage(), []
            if rects:
                self._reset_damage()
                clipped = [c for r in rects if (c := r.intersect(mon)) is not None]
                if clipped:
                    self._last_report = time.monotonic()
                    local = [Rect(r.x - mon.x, r.y - mon.y, r.w, r.h) for r in clipped]
                    self._mark_stale(local)
                    return [bounding_rect(local)] if len(local) > MAX_RECTS else local
                continue
            now = time.monotonic()
            if now >= deadline:
                return []
            if now >= self._next_layout_check and self._follow_layout():
                return self.wait_for_change(0.0)
            try:
                select.select([self._display.fileno()], [], [], min(deadline, self._next_layout_check) - now)
            except (OSError, ValueError) as exc:
                raise CaptureError(f"the X connection failed: {exc}") from exc

    def _queued_damage(self) -> list[Rect]:
        """The damaged rectangles (root coordinates) of the events queued on the connection."""
        try:
            rects: list[Rect] = []
            for _ in range(self._display.pending_events()):
                event = self._display.next_event()
                if event.type == self._damage_code:
                    area = event.area
                    rects.append(Rect(area.x, area.y, area.width, area.height))
                elif event.type == X.ConfigureNotify and self._area_window is not None:
                    self._next_layout_check = 0.0  # the shared window moved or resized: follow it now
            return rects
        except Exception as exc:  # python-xlib raises ConnectionClosedError and socket errors
            raise CaptureError(f"the X connection failed: {exc}") from exc

    def _reset_damage(self) -> None:
        """Empty the server's damage region, with a round trip so that the next grab follows the reset.

        Events that arrive during the round trip are damage drawn *after* the reset: it stays in the
        server's region (which reports only new areas), so it is carried to the next wait, not dropped.
        """
        try:
            self._display.damage_subtract(self._damage)
            self._display.sync()
        except Exception as exc:  # python-xlib raises ConnectionClosedError and socket errors
            raise CaptureError(f"the X connection failed: {exc}") from exc
        self._carried += self._queued_damage()

    def close(self) -> None:
        try:
            if self._damage is not None:
                self._display.damage_destroy(self._damage)
                self._damage = None
            self._display.close()
        except Exception:  # closing a dead connection is not an error worth raising
            log.debug("closing the X connection failed", exc_info=True)
        self._sct.close()
