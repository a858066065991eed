"""The input backend interface: what a platform must do to replay a viewer's input.

Backends take root-window coordinates and keysyms that :class:`~opensupport.host.input.InputInjector` has
already validated; they only translate them for their platform. Every method raises
:class:`~opensupport.host.errors.InputError` when the platform refuses.
"""

from __future__ import annotations

import abc
from types import TracebackType

from ..events import MouseButton


class InputBackend(abc.ABC):
    """Replays keys, text and pointer input on the host's desktop."""

    #: True when the desktop repeats a held key by itself (the X server does): the viewer's own repeats of a
    #: held key are then absorbed, or every repeat would come twice.
    repeats_held_keys: bool = False

    @abc.abstractmethod
    def press_key(self, keysym: int) -> None:
        """Press the key of ``keysym``. A character keysym types that very character whatever Shift and Caps
        Lock are doing (the backend adjusts Shift around the press); a named key is pressed as it is, so
        Shift+Tab stays Shift+Tab."""

    @abc.abstractmethod
    def release_key(self, keysym: int) -> None:
        """Release the key a :meth:`press_key` of the same keysym pressed."""

    @abc.abstractmethod
    def type_text(self, text: str) -> None:
        """Type ``text`` (printable characters of any script) exactly as given."""

    @abc.abstractmethod
    def move_pointer(self, x: int, y: int) -> None:
        """Move the pointer to (x, y) in root-window (whole desktop) coordinates."""

    @abc.abstractmethod
    def press_button(self, button: MouseButton) -> None:
        """Press a pointer button where the pointer is."""

    @abc.abstractmethod
    def release_button(self, button: MouseButton) -> None:
        """Release a pointer button where the pointer is."""

    @abc.abstractmethod
    def scroll(self, dx: int, dy: int) -> None:
        """Turn the wheel by whole notches: dy > 0 up, dx > 0 right."""

    @abc.abstractmethod
    def close(self) -> None:
        """Undo what the backend changed on the desktop (keyboard mapping) and release the connection."""

    def __enter__(self) -> InputBackend:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
