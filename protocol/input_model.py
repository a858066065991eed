"""The input model both ends share: keysyms, pointer buttons, bounds, and the rule of each field.

The viewer builds input events from what the agent does, the host rebuilds them from what arrived and
checks them again (a modified viewer can send anything). Both must agree on what a valid key, character,
point, text or wheel turn is, so the rules live here, once; each side keeps its own event classes (the
viewer's keys carry text and modifiers for its own bookkeeping) and its own error type, and turns a
rule's complaint into that error.

Conventions:
- Keys are X11 keysyms (the host replays them with XTEST; Windows and macOS hosts would map them). A
  printable character is its Latin-1 code point, or ``0x01000000 + code point`` (X11's Unicode keysyms)
  above U+00FF. Only character keysyms and the named keys of :func:`is_named_keysym` are valid: keysyms
  such as ``Terminate_Server`` or the pointer-emulation keys are refused outright.
- Coordinates are whole pixels of the shared monitor's frame, ``0 <= x <= MAX_COORDINATE``, (0, 0) its
  top-left corner; ``bool`` and ``float`` (so NaN) are refused.
- Wheel steps are whole notches; positive ``dy`` scrolls up (away from the user), positive ``dx`` right.
"""

from __future__ import annotations

import enum
import unicodedata

__all__ = [
    "MAX_COORDINATE",
    "MAX_TEXT_LENGTH",
    "MAX_WHEEL_STEPS",
    "InvalidInput",
    "Keysym",
    "MouseButton",
    "button_problem",
    "char_for_keysym",
    "is_character_keysym",
    "is_forbidden_char",
    "is_named_keysym",
    "is_valid_keysym",
    "keysym_for_char",
    "keysym_problem",
    "point_problem",
    "text_problem",
    "wheel_problem",
]

#: Largest coordinate a field may carry; no screen is 65536 pixels wide.
MAX_COORDINATE = 65535
#: Longest text in one event, in characters (an input method's commit or a pasted line is far shorter).
MAX_TEXT_LENGTH = 4096
#: Largest wheel movement in one event, in notches.
MAX_WHEEL_STEPS = 100

_UNICODE_KEYSYM_BASE = 0x01000000
#: Largest Unicode keysym: code point U+10FFFF.
_MAX_UNICODE_KEYSYM = _UNICODE_KEYSYM_BASE + 0x10FFFF


class InvalidInput(ValueError):
    """An input event field that breaks the shared rules (each side raises a subclass or this)."""


class MouseButton(enum.IntEnum):
    """Pointer buttons, numbered as X11 numbers them (the wheel is not a button here)."""

    LEFT = 1
    MIDDLE = 2
    RIGHT = 3
    BACK = 8
    FORWARD = 9


class Keysym(enum.IntEnum):
    """The named X11 keysyms either end refers to (any keysym of :func:`is_named_keysym` is valid)."""

    BACKSPACE = 0xFF08
    TAB = 0xFF09
    RETURN = 0xFF0D
    PAUSE = 0xFF13
    SCROLL_LOCK = 0xFF14
    SYS_REQ = 0xFF15
    ESCAPE = 0xFF1B
    HANGUL = 0xFF31
    HANGUL_HANJA = 0xFF34
    HOME = 0xFF50
    LEFT = 0xFF51
    UP = 0xFF52
    RIGHT = 0xFF53
    DOWN = 0xFF54
    PAGE_UP = 0xFF55
    PAGE_DOWN = 0xFF56
    END = 0xFF57
    PRINT = 0xFF61
    INSERT = 0xFF63
    MENU = 0xFF67
    NUM_LOCK = 0xFF7F
    KP_ENTER = 0xFF8D
    KP_MULTIPLY = 0xFFAA
    KP_ADD = 0xFFAB
    KP_SUBTRACT = 0xFFAD
    KP_DECIMAL = 0xFFAE
    KP_DIVIDE = 0xFFAF
    KP_0 = 0xFFB0
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


def is_forbidden_char(ch: str) -> bool:
    """Control characters (Cc) and lone surrogates (Cs) are never typed text; Enter and Tab travel as keys."""
    return unicodedata.category(ch) in ("Cc", "Cs")


def keysym_for_char(ch: str) -> int:
    """The X11 keysym that types the one character ``ch``. Raises InvalidInput for anything but one
    printable character."""
    if not isinstance(ch, str) or len(ch) != 1 or is_forbidden_char(ch):
        raise InvalidInput(f"not one printable character: {ch!r}")
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
        return None if is_forbidden_char(ch) else ch
    return None


def is_character_keysym(keysym: int) -> bool:
    """True for keysyms that type one printable character: Latin-1 and Unicode (in their one canonical
    form: U+0041 is 0x41, never 0x01000041) and X11's legacy character pages 0x100..0x20FF (Latin-2..4,
    Kana, Cyrillic, Greek, Korean, ...)."""
    return char_for_keysym(keysym) is not None or 0x100 <= keysym <= 0x20FF


def is_named_keysym(keysym: int) -> bool:
    """True for the named (non-character) keys a viewer may press.

    The whole 0xFF00 page (editing, cursor, keypad, function keys, modifiers, the Hangul keys), plus
    ISO_Level3_Shift (AltGr), ISO_Left_Tab and the dead keys. Refused: the rest of the 0xFE00 page, which
    holds Terminate_Server, the pointer-emulation and AccessX keys, and vendor keysyms (XF86 switch-VT and
    the like).
    """
    return 0xFF00 <= keysym <= 0xFFFF or keysym in (0xFE03, 0xFE20) or 0xFE50 <= keysym <= 0xFE93


def is_valid_keysym(keysym: int) -> bool:
    """True for the keysyms a viewer may send and a host replays."""
    return is_character_keysym(keysym) or is_named_keysym(keysym)


# -- the rule of each field: None when it holds, else what is wrong (each side raises its own error) ------


def keysym_problem(keysym: object) -> str | None:
    """What is wrong with ``keysym`` as a key event's keysym, or None."""
    if type(keysym) is not int and not isinstance(keysym, enum.IntEnum):
        return f"keysym must be an int, got {type(keysym).__name__}"
    if not is_valid_keysym(int(keysym)):
        return f"unknown or refused keysym {int(keysym):#x}"
    return None


def point_problem(x: object, y: object) -> str | None:
    """What is wrong with (x, y) as a point of the shared monitor, or None."""
    for name, value in (("x", x), ("y", y)):
        if type(value) is not int:
            return f"{name} must be an int, got {type(value).__name__} {value!r}"
        if not 0 <= value <= MAX_COORDINATE:
            return f"{name}={value} is outside 0..{MAX_COORDINATE}"
    return None


def text_problem(text: object, *, allow_empty: bool = False) -> str | None:
    """What is wrong with ``text`` as typed text, or None."""
    if not isinstance(text, str):
        return "text must be a str"
    if not text and not allow_empty:
        return "text must not be empty"
    if len(text) > MAX_TEXT_LENGTH:
        return f"text longer than {MAX_TEXT_LENGTH} characters"
    for ch in text:
        if is_forbidden_char(ch):
            return f"text contains the control character {ch!r}"
    return None


def wheel_problem(dx: object, dy: object) -> str | None:
    """What is wrong with a wheel turn of (dx, dy) notches, or None."""
    for name, value in (("dx", dx), ("dy", dy)):
        if type(value) is not int or not -MAX_WHEEL_STEPS <= value <= MAX_WHEEL_STEPS:
            return f"{name}={value!r} is not a whole number of notches within ±{MAX_WHEEL_STEPS}"
    if dx == 0 and dy == 0:
        return "a wheel event must move"
    return None


def button_problem(button: object) -> str | None:
    """What is wrong with ``button`` as a pointer button (a :class:`MouseButton` or its X11 number)."""
    if isinstance(button, MouseButton):
        return None
    if type(button) is int and button in MouseButton._value2member_map_:
        return None
    return f"unknown pointer button {button!r}"
