"""The input events the host replays: frozen dataclasses that validate themselves when built.

Theory of operation: whatever carries input from the viewer (the protocol's input channel) builds these
events from the bytes it received; building one checks every field's type and bound and raises
:class:`~opensupport.host.errors.InvalidInputEvent` otherwise, so a malformed event never exists. What an
event cannot know by itself -- whether its coordinates fall inside the monitor being shared right now, whether
the session is view-only -- is checked by :class:`opensupport.host.input.InputInjector` before anything
reaches the display.

The model -- keysyms, buttons, bounds and the rule of each field -- is the one the viewer uses too:
:mod:`opensupport.protocol.input_model`. This module holds the host's events, which raise the host's own
error.
"""

from __future__ import annotations

from dataclasses import dataclass

from opensupport.protocol import MAX_COMBO_KEYS
from opensupport.protocol import input_model as rules
from opensupport.protocol.input_model import (
    MAX_COORDINATE,
    MAX_TEXT_LENGTH,
    MAX_WHEEL_STEPS,
    Keysym,
    MouseButton,
    char_for_keysym,
    is_character_keysym,
    is_named_keysym,
)

from .errors import InvalidInputEvent

__all__ = [
    "MAX_COMBO_KEYS",
    "MAX_COORDINATE",
    "MAX_TEXT_LENGTH",
    "MAX_WHEEL_STEPS",
    "ButtonPress",
    "ButtonRelease",
    "InputEvent",
    "KeyCombo",
    "KeyPress",
    "KeyRelease",
    "Keysym",
    "MouseButton",
    "PointerMove",
    "TextInput",
    "Wheel",
    "char_for_keysym",
    "is_character_keysym",
    "is_named_keysym",
    "keysym_for_char",
]


def _refuse(problem: str | None) -> None:
    if problem is not None:
        raise InvalidInputEvent(problem)


def keysym_for_char(ch: str) -> int:
    """The X11 keysym that types the one character ``ch``.

    Raises InvalidInputEvent for anything but one printable character.
    """
    try:
        return rules.keysym_for_char(ch)
    except rules.InvalidInput as exc:
        raise InvalidInputEvent(str(exc)) from None


def _check_keysym(keysym: object) -> None:
    _refuse(rules.keysym_problem(keysym))


def _check_point(x: object, y: object) -> None:
    _refuse(rules.point_problem(x, y))


def _checked_button(button: object) -> MouseButton:
    _refuse(rules.button_problem(button))
    return MouseButton(button)  # type: ignore[call-overload]


@dataclass(frozen=True, slots=True)
class KeyPress:
    """A key went down (or auto-repeats: a second press without a release in between)."""

    keysym: int

    def __post_init__(self) -> None:
        _check_keysym(self.keysym)


@dataclass(frozen=True, slots=True)
class KeyRelease:
    """A key went up; ``keysym`` is the one its press carried."""

    keysym: int

    def __post_init__(self) -> None:
        _check_keysym(self.keysym)


@dataclass(frozen=True, slots=True)
class KeyCombo:
    """Keys pressed in order and released in reverse order: Ctrl+Alt+Del sent from the viewer's menu."""

    keysyms: tuple[int, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.keysyms, tuple) or not 1 <= len(self.keysyms) <= MAX_COMBO_KEYS:
            raise InvalidInputEvent(f"a key combination is a tuple of 1..{MAX_COMBO_KEYS} keysyms")
        for keysym in self.keysyms:
            _check_keysym(keysym)
        if len(set(self.keysyms)) != len(self.keysyms):
            raise InvalidInputEvent("a key combination names a key twice")


@dataclass(frozen=True, slots=True)
class TextInput:
    """Text to type as it is, in any script (an input method's commit: Hangul, Kana, ...)."""

    text: str

    def __post_init__(self) -> None:
        _refuse(rules.text_problem(self.text))


@dataclass(frozen=True, slots=True)
class PointerMove:
    """The pointer moved to (x, y) on the shared monitor."""

    x: int
    y: int

    def __post_init__(self) -> None:
        _check_point(self.x, self.y)


@dataclass(frozen=True, slots=True)
class ButtonPress:
    """A pointer button went down at (x, y)."""

    button: MouseButton
    x: int
    y: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "button", _checked_button(self.button))
        _check_point(self.x, self.y)


@dataclass(frozen=True, slots=True)
class ButtonRelease:
    """A pointer button went up at (x, y)."""

    button: MouseButton
    x: int
    y: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "button", _checked_button(self.button))
        _check_point(self.x, self.y)


@dataclass(frozen=True, slots=True)
class Wheel:
    """The wheel turned by whole notches (dy > 0: up, dx > 0: right) with the pointer at (x, y)."""

    dx: int
    dy: int
    x: int
    y: int

    def __post_init__(self) -> None:
        _refuse(rules.wheel_problem(self.dx, self.dy))
        _check_point(self.x, self.y)


InputEvent = KeyPress | KeyRelease | KeyCombo | TextInput | PointerMove | ButtonPress | ButtonRelease | Wheel
