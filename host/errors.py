"""The host applet's one error hierarchy.

Every problem the host's capture and input layers detect is a :class:`HostError`. A hostile or broken
viewer's input is an :class:`InvalidInputEvent` (dropped and logged by the injector, never fatal); a display
the host cannot use is an :class:`X11Unavailable`.
"""

from __future__ import annotations

from opensupport.protocol.input_model import InvalidInput


class HostError(Exception):
    """Base class of every error raised by ``opensupport.host``."""


class CaptureError(HostError):
    """The screen cannot be captured (no display, an unsupported pixel format, a bad monitor index)."""


class InputError(HostError):
    """An input event could not be replayed (the display refused it, or no keycode can type it)."""


class InvalidInputEvent(InputError, InvalidInput):
    """An input event with a malformed or out-of-range field: it never reaches the display (the shared
    input model's :class:`~opensupport.protocol.input_model.InvalidInput`, raised by the host)."""


class X11Unavailable(CaptureError, InputError):
    """The X display cannot be opened or lacks an extension the X11 backends need (XTEST)."""
