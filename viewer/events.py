"""The viewer's outgoing input: event dataclasses, the keysym helpers and the ``InputSink`` interface.

Theory of operation: the Qt layer turns key, pointer and IME events into these frozen dataclasses and hands
them to ``viewer.input.InputController``, which applies the view-only flag, tracks held keys and buttons
and passes what survives to an ``InputSink``. At integration the sink is the protocol's input channel;
until then the window uses ``DroppingInputSink``. The host validates everything again (a modified viewer
can send anything); the checks here only keep an honest viewer from sending nonsense.

Conventions: keysyms, buttons, coordinates, text and wheel notches follow the model the host checks
against, :mod:`opensupport.protocol.input_model` (the one definition of both ends). Beyond it:
- ``modifiers`` is the modifier state *after* the event, as Qt reports it (pressing Shift gives SHIFT,
  releasing it gives no SHIFT). The host replays the modifier keys themselves as they arrive; the field is
  there to resynchronise, not to synthesise.
"""

from __future__ import annotations

import abc
import enum
from dataclasses import dataclass

from opensupport.protocol import input_model as rules
from opensupport.protocol.input_model import (
    MAX_COORDINATE,
    MAX_TEXT_LENGTH,
    MAX_WHEEL_STEPS,
    Keysym,
    MouseButton,
    is_named_keysym,
    is_valid_keysym,
    keysym_for_char,
)

__all__ = [
    "MAX_COORDINATE",
    "MAX_TEXT_LENGTH",
    "MAX_WHEEL_STEPS",
    "ButtonPress",
    "ButtonRelease",
    "DroppingInputSink",
    "InputError",
    "InputEvent",
    "InputSink",
    "KeyPress",
    "KeyRelease",
    "Keysym",
    "Modifier",
    "MouseButton",
    "PointerMove",
    "SelectMonitor",
    "TextInput",
    "Wheel",
    "is_named_keysym",
    "is_valid_keysym",
    "keysym_for_char",
]

#: An input event with an out-of-range or malformed field (the shared model's error: ``keysym_for_char``
#: raises it too).
InputError = rules.InvalidInput


class Modifier(enum.IntFlag):
    """Modifier keys held, after the event."""

    NONE = 0
    SHIFT = 1
    CONTROL = 2
    ALT = 4
    #: The Windows / Super / Command key.
    SUPER = 8
    #: AltGr (ISO_Level3_Shift).
    ALTGR = 16


_ALL_MODIFIERS = Modifier.SHIFT | Modifier.CONTROL | Modifier.ALT | Modifier.SUPER | Modifier.ALTGR

#: Which modifier each modifier keysym drives.
MODIFIER_OF_KEYSYM: dict[int, Modifier] = {
    Keysym.SHIFT_L: Modifier.SHIFT,
    Keysym.SHIFT_R: Modifier.SHIFT,
    Keysym.CONTROL_L: Modifier.CONTROL,
    Keysym.CONTROL_R: Modifier.CONTROL,
    Keysym.ALT_L: Modifier.ALT,
    Keysym.ALT_R: Modifier.ALT,
    Keysym.SUPER_L: Modifier.SUPER,
    Keysym.SUPER_R: Modifier.SUPER,
    Keysym.ISO_LEVEL3_SHIFT: Modifier.ALTGR,
}


def _refuse(problem: str | None) -> None:
    if problem is not None:
        raise InputError(problem)


def _check_keysym(keysym: int) -> None:
    _refuse(rules.keysym_problem(keysym))


def _check_modifiers(modifiers: Modifier) -> None:
    if not isinstance(modifiers, Modifier) or int(modifiers) & ~int(_ALL_MODIFIERS):
        raise InputError(f"bad modifiers {modifiers!r}")


def _check_text(text: str, *, allow_empty: bool) -> None:
    _refuse(rules.text_problem(text, allow_empty=allow_empty))


def _check_point(x: int, y: int) -> None:
    _refuse(rules.point_problem(x, y))


def _check_button(button: MouseButton) -> None:
    if not isinstance(button, MouseButton):  # the viewer itself always names its buttons
        raise InputError(f"bad button {button!r}")


@dataclass(frozen=True)
class KeyPress:
    """A key went down (or auto-repeats: a second press without a release in between)."""

    keysym: int
    #: The text the key types with the current layout, "" for special keys; informational.
    text: str = ""
    modifiers: Modifier = Modifier.NONE

    def __post_init__(self) -> None:
        _check_keysym(self.keysym)
        _check_text(self.text, allow_empty=True)
        _check_modifiers(self.modifiers)


@dataclass(frozen=True)
class KeyRelease:
    """A key went up; ``keysym`` is the one its press carried."""

    keysym: int
    text: str = ""
    modifiers: Modifier = Modifier.NONE

    def __post_init__(self) -> None:
        _check_keysym(self.keysym)
        _check_text(self.text, allow_empty=True)
        _check_modifiers(self.modifiers)


@dataclass(frozen=True)
class TextInput:
    """Text committed by an input method (Hangul, Kana, ...): type it as it is, in any script."""

    text: str

    def __post_init__(self) -> None:
        _check_text(self.text, allow_empty=False)


@dataclass(frozen=True)
class PointerMove:
    """The pointer moved to (x, y) on the selected host monitor."""

    x: int
    y: int

    def __post_init__(self) -> None:
        _check_point(self.x, self.y)


@dataclass(frozen=True)
class ButtonPress:
    """A pointer button went down at (x, y)."""

    button: MouseButton
    x: int
    y: int

    def __post_init__(self) -> None:
        _check_button(self.button)
        _check_point(self.x, self.y)


@dataclass(frozen=True)
class ButtonRelease:
    """A pointer button went up at (x, y)."""

    button: MouseButton
    x: int
    y: int

    def __post_init__(self) -> None:
        _check_button(self.button)
        _check_point(self.x, self.y)


@dataclass(frozen=True)
class Wheel:
    """The wheel turned by whole notches (dy > 0: up, dx > 0: right) with the pointer at (x, y)."""

    dx: int
    dy: int
    x: int
    y: int

    def __post_init__(self) -> None:
        _refuse(rules.wheel_problem(self.dx, self.dy))
        _check_point(self.x, self.y)


@dataclass(frozen=True)
class SelectMonitor:
    """Ask the host to share another monitor (an index into the host's monitor list)."""

    index: int

    def __post_init__(self) -> None:
        if type(self.index) is not int or not 0 <= self.index < 64:
            raise InputError(f"bad monitor index {self.index!r}")


InputEvent = (
    KeyPress | KeyRelease | TextInput | PointerMove | ButtonPress | ButtonRelease | Wheel | SelectMonitor
)


class InputSink(abc.ABC):
    """Where the viewer's input and view requests go (the protocol's input channel at integration).

    ``send`` is called on the GUI thread, in the order the agent acted; an implementation hands the event
    to the session's thread (e.g. ``loop.call_soon_threadsafe``) and returns at once.
    """

    @abc.abstractmethod
    def send(self, event: InputEvent) -> None:
        """Send one event to the host, in order, without blocking."""


class DroppingInputSink(InputSink):
    """The sink while no session is connected: events are counted and dropped, never queued."""

    def __init__(self) -> None:
        self.dropped = 0

    def send(self, event: InputEvent) -> None:
        """Drop ``event``."""
        self.dropped += 1
