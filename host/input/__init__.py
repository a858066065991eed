"""Input replay behind a small interface: :class:`InputBackend`, with X11 done (:class:`X11Input`).

:class:`InputInjector` sits in front of any backend and is the one place that decides whether a viewer's
event reaches the desktop (view-only, the shared monitor's bounds, held keys). A Windows or macOS backend
(pynput works there) implements :class:`InputBackend` and changes nothing else.
"""

from __future__ import annotations

from opensupport.host.input._base import InputBackend
from opensupport.host.input._x11 import REMAP_REUSE_DELAY, X11Input
from opensupport.host.input.injector import MAX_HELD_KEYS, InputInjector
from opensupport.host.input.mapping import ViewTransform, frame_to_root

__all__ = [
    "MAX_HELD_KEYS",
    "REMAP_REUSE_DELAY",
    "InputBackend",
    "InputInjector",
    "ViewTransform",
    "X11Input",
    "frame_to_root",
]
