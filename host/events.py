"""The input events the host replays: frozen dataclasses that validate themselves when built.

Theory of operation: whatever carries input from the viewer (the protocol's input channel) builds these
events from the bytes it received; building one checks every field's type and bound and raises
:class:`~opensupport.host.errors.InvalidInputEvent` otherwise, so a malformed event never exists. What an
event cannot know by itself -- whether its coordinates fall inside the monitor being shared right now, whether
the session is view-only -- is checked by :class:`opensupport.host.input.InputInjector` before anything
reaches the display.

Conventions (the same as the viewer's ``viewer/events.py``, so that the protocol can carry one model):
- Keys are X11 keysyms. A printable character is its Latin-1 code point, or ``0x01000000 + code point``
  (X11's Unicode keysyms) above U+00FF. Only character keysyms and the named keys of :func:`is_named_keysym`
  are accepted: keysyms such as ``Terminate_Server`` or the pointer-emulation keys are refused outright.
- Coordinates are whole pixels of the shared monitor's frame, ``0 <= x < width``, (0, 0) its top-left
  corner; ``bool`` and ``float`` (so NaN) are refused.
- Wheel steps are whole notches; positive ``dy`` scrolls up (away from the user), positive ``dx`` right.
"""

from __future__ import annotations

import enum
import unicodedata
from dataclasses import dataclass

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

#: Largest coordinate a field may carry; no screen is 65536 pixels wide.
MAX_COORDINATE = 65535
#: Longest text in one event (an input method's commit or a pasted line is far shorter).
MAX_TEXT_LENGTH = 4096
#: Largest wheel movement in one event, in notches.
MAX_WHEEL_STEPS = 100
#: Most keys in one combination (Ctrl+Alt+Shift+Super+key is five).
MAX_COMBO_KEYS = 6

_UNICODE_KEYSYM_BASE = 0x01000000
_MAX_UNICODE_KEYSYM = _UNICODE_KEYSYM_BASE + 0x10FFFF


class MouseButton(enum.IntEnum):
    """Pointer buttons, numbered as X11 numbers them (the wheel is not a button here: see :class:`Wheel`)."""

    LEFT = 1
    MIDDLE = 2
    RIGHT = 3
    BACK = 8
    FORWARD = 9


class Keysym(enum.IntEnum):
    """Named X11 keysyms the host code and tests refer to (any keysym of :func:`is_named_keysym` is valid)."""

    BACKSPACE = 0xFF08
    TAB = 0xFF09
    RETURN = 0xFF0D
    ESCAPE = 0xFF1B
    HOME = 0xFF50
    LEFT = 0xFF51
    UP = 0xFF52
    RIGHT = 0xFF53
    DOWN = 0xFF54
    PAGE_UP = 0xFF55
    PAGE_DOWN = 0xFF56
    END = 0xFF57
    INSERT = 0xFF63
    F1 = 0xFFBE
    F12 = 0xFFC9
    SHIFT_L = 0xFFE1
    SHIFT_R = 0xFFE2
    CONTROL_L = 0xFFE3
    CONTROL_R = 0xFFE4
    CAPS_LOCK = 0xFFE5
    ALT_L = 0xFFE9
    ALT_R = 0xFFEA
    SUPER_L = 0xFFEB
    SUPER_R = 0xFFEC
    ISO_LEVEL3_SHIFT = 0xFE03
    DELETE = 0xFFFF


def _forbidden_char(ch: str) -> bool:
    # Control characters (Cc) and lone surrogates (Cs) are never typed text; Enter and Tab travel as keys.
    return unicodedata.category(ch) in ("Cc", "Cs")


def keysym_for_char(ch: str) -> int:
    """The X11 keysym that types the one character ``ch``.

    Raises InvalidInputEvent for anything but one printable character.
    """
    if not isinstance(ch, str) or len(ch) != 1 or _forbidden_char(ch):
        raise InvalidInputEvent(f"not one printable character: {ch!r}")
    code = ord(ch)
    if code <= 0xFF:
        return code
    return _UNICODE_KEYSYM_BASE + code


def char_for_keysym(keysym: int) -> str | None:
    """The character a Latin-1 or Unicode keysym types, or None for any other keysym."""
    if 0x20 <= keysym <= 0x7E or 0xA0 <= keysym <= 0xFF:
        return chr(keysym)
    if _UNICODE_KEYSYM_BASE + 0x100 <= keysym <= _MAX_UNICODE_KEYSYM:
        ch = chr(keysym - _UNICODE_KEYSYM_BASE)
        return None if _forbidden_char(ch) else ch
    return None


def is_character_keysym(keysym: int) -> bool:
    """True for keysyms that type one printable character.

    These are the Latin-1 and Unicode keysyms (in their one canonical form: U+0041 is 0x41, never
    0x01000041) and X11's legacy character pages 0x100..0x20FF (Latin-2..4, Kana, Cyrillic, Greek, Korean,
    ...). Only such keysyms may be given a spare keycode by the X11 backend.
    """
    return char_for_keysym(keysym) is not None or 0x100 <= keysym <= 0x20FF


def is_named_keysym(keysym: int) -> bool:
    """True for the named (non-character) keys a viewer may press.

    The whole 0xFF00 page (editing, cursor, keypad, function keys, modifiers, the Hangul keys), plus
    ISO_Level3_Shift (AltGr), ISO_Left_Tab and the dead keys. Refused: the rest of the 0xFE00 page, which
    holds Terminate_Server, the pointer-emulation and AccessX keys, and vendor keysyms (XF86 switch-VT and
    the like).
    """
    return 0xFF00 <= keysym <= 0xFFFF or keysym in (0xFE03, 0xFE20) or 0xFE50 <= keysym <= 0xFE93


def _check_keysym(keysym: object) -> None:
    if type(keysym) is not int and not isinstance(keysym, Keysym):
        raise InvalidInputEvent(f"keysym must be an int, got {type(keysym).__name__}")
    if not (is_character_keysym(keysym) or is_named_keysym(keysym)):
        raise InvalidInputEvent(f"unknown or refused keysym {keysym:#x}")


def _check_point(x: object, y: object) -> None:
    for name, value in (("x", x), ("y", y)):
        if type(value) is not int:
            raise InvalidInputEvent(f"{name} must be an int, got {type(value).__name__} {value!r}")
        if not 0 <= value <= MAX_COORDINATE:
            raise InvalidInputEvent(f"{name}={value} is outside 0..{MAX_COORDINATE}")


def _checked_button(button: object) -> MouseButton:
    if isinstance(button, MouseButton):
        return button
    if type(button) is int and button in MouseButton._value2member_map_:
        return MouseButton(button)
    raise InvalidInputEvent(f"unknown pointer button {button!r}")


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
        if not isinstance(self.text, str) or not self.text:
            raise InvalidInputEvent("text must be a non-empty str")
        if len(self.text) > MAX_TEXT_LENGTH:
            raise InvalidInputEvent(f"text longer than {MAX_TEXT_LENGTH} characters")
        for ch in self.text:
            if _forbidden_char(ch):
                raise InvalidInputEvent(f"text contains the control character {ch!r}")


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
        for name, value in (("dx", self.dx), ("dy", self.dy)):
            if type(value) is not int or not -MAX_WHEEL_STEPS <= value <= MAX_WHEEL_STEPS:
                raise InvalidInputEvent(
                    f"{name}={value!r} is not a whole number of notches within ±{MAX_WHEEL_STEPS}"
                )
        if self.dx == 0 and self.dy == 0:
            raise InvalidInputEvent("a wheel event must move")
        _check_point(self.x, self.y)


InputEvent = KeyPress | KeyRelease | KeyCombo | TextInput | PointerMove | ButtonPress | ButtonRelease | Wheel
