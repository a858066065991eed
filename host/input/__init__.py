"""Input replay behind a small interface: :class:`InputBackend`, with X11 done (:class:`X11Input`).

:class:`InputInjector` sits in front of any backend and is the one place that decides whether a viewer's
event reaches the desktop (view-only, the shared monitor's bounds, held keys). A Windows or macOS backend
(pynput works there) implements :class:`InputBackend` and changes nothing else.
"""

from __future__ import annotations

import os
import sys

from ..errors import InputError
from ._base import InputBackend
from ._x11 import REMAP_REUSE_DELAY, X11Input
from .injector import MAX_HELD_KEYS, InputInjector
from .mapping import ViewTransform, frame_to_root


def open_input(display: str | None = None) -> InputBackend:
    """The input backend of this desktop.

    Raises InputError where no backend exists yet (Windows, macOS, a Wayland session without X).
    """
    if display is not None or (sys.platform.startswith(("linux", "freebsd")) and os.environ.get("DISPLAY")):
        return X11Input(display)
    raise InputError(f"no input backend for this desktop ({sys.platform}, no X display) yet")


__all__ = [
    "MAX_HELD_KEYS",
    "REMAP_REUSE_DELAY",
    "InputBackend",
    "InputInjector",
    "ViewTransform",
    "X11Input",
    "frame_to_root",
    "open_input",
]
