"""The viewer's outgoing input: event dataclasses, the keysym helpers and the ``InputSink`` interface.

Theory of operation: the Qt layer turns key, pointer and IME events into these frozen dataclasses and hands
them to ``viewer.input.InputController``, which applies the view-only flag, tracks held keys and buttons
and passes what survives to an ``InputSink``. At integration the sink is the protocol's input channel;
until then the window uses ``DroppingInputSink``. The host validates everything again (a modified viewer
can send anything); the checks here only keep an honest viewer from sending nonsense.

Conventions:
- Keys are X11 keysyms (the host replays them with XTEST; Windows and macOS hosts map them). A printable
  character uses its Latin-1 code point or ``0x01000000 + code point`` (X11's Unicode keysyms).
- ``modifiers`` is the modifier state *after* the event, as Qt reports it (pressing Shift gives SHIFT,
  releasing it gives no SHIFT). The host replays the modifier keys themselves as they arrive; the field is
  there to resynchronise, not to synthesise.
- Coordinates are pixels of the selected host monitor, ``0 <= x < width``; (0, 0) is its top-left corner.
- Wheel steps are whole notches; positive ``dy`` scrolls up (away from the user), positive ``dx`` right.
"""

from __future__ import annotations

import abc
import enum
import unicodedata
from dataclasses import dataclass

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

#: Largest coordinate accepted; no screen is 65536 pixels wide.
MAX_COORDINATE = 65535
#: Longest committed text in one event (an IME commit or a paste-sized burst is far shorter).
MAX_TEXT_LENGTH = 4096
#: Largest wheel movement in one event, in notches.
MAX_WHEEL_STEPS = 100
_UNICODE_KEYSYM_BASE = 0x01000000
#: Largest Unicode keysym: code point U+10FFFF.
_MAX_UNICODE_KEYSYM = _UNICODE_KEYSYM_BASE + 0x10FFFF


class InputError(ValueError):
    """An input event with an out-of-range or malformed field."""


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


class MouseButton(enum.IntEnum):
    """Pointer buttons, numbered as X11 numbers them."""

    LEFT = 1
    MIDDLE = 2
    RIGHT = 3
    BACK = 8
    FORWARD = 9


class Keysym(enum.IntEnum):
    """The X11 keysyms the viewer names itself (special keys and modifiers)."""

    BACKSPACE = 0xFF08
    TAB = 0xFF09
    RETURN = 0xFF0D
    PAUSE = 0xFF13
    SCROLL_LOCK = 0xFF14
    SYS_REQ = 0xFF15
    ESCAPE = 0xFF1B
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
    HANGUL = 0xFF31
    HANGUL_HANJA = 0xFF34


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


def _is_forbidden_char(ch: str) -> bool:
    # Control characters (Cc) and lone surrogates (Cs) are never typed text; Enter and Tab travel as keys.
    return unicodedata.category(ch) in ("Cc", "Cs")


def keysym_for_char(ch: str) -> int:
    """The X11 keysym that types the one character ``ch``.

    Raises InputError for anything but one printable character.
    """
    if len(ch) != 1 or _is_forbidden_char(ch):
        raise InputError(f"not one printable character: {ch!r}")
    code = ord(ch)
    if 0x20 <= code <= 0x7E or 0xA0 <= code <= 0xFF:
        return code
    return _UNICODE_KEYSYM_BASE + code


def is_named_keysym(keysym: int) -> bool:
    """True for the named (non-character) keys a viewer may send: the 0xFF00 page, ISO_Level3_Shift,
    ISO_Left_Tab and the dead keys."""
    return 0xFF00 <= keysym <= 0xFFFF or keysym in (0xFE03, 0xFE20) or 0xFE50 <= keysym <= 0xFE93


def is_valid_keysym(keysym: int) -> bool:
    """True for the keysyms a viewer may send (the set the host accepts).

    Character keysyms: Latin-1, Unicode in its canonical form (U+0041 is 0x41, never 0x01000041), X11's
    legacy character pages 0x100..0x20FF. Named keys: the 0xFF00 page, ISO_Level3_Shift, ISO_Left_Tab
    and the dead keys. Refused: the rest of the 0xFE00 page (Terminate_Server, pointer emulation, ...).
    """
    if 0x20 <= keysym <= 0x7E or 0xA0 <= keysym <= 0xFF or 0x100 <= keysym <= 0x20FF:
        return True
    if _UNICODE_KEYSYM_BASE + 0x100 <= keysym <= _MAX_UNICODE_KEYSYM:
        return not _is_forbidden_char(chr(keysym - _UNICODE_KEYSYM_BASE))
    return is_named_keysym(keysym)


def _check_keysym(keysym: int) -> None:
    if type(keysym) is not int and not isinstance(keysym, enum.IntEnum):
        raise InputError(f"keysym must be an int, got {type(keysym).__name__}")
    if not is_valid_keysym(keysym):
        raise InputError(f"keysym {keysym:#x} is unknown or refused")


def _check_modifiers(modifiers: Modifier) -> None:
    if not isinstance(modifiers, Modifier) or int(modifiers) & ~int(_ALL_MODIFIERS):
        raise InputError(f"bad modifiers {modifiers!r}")


def _check_text(text: str, *, allow_empty: bool) -> None:
    if not isinstance(text, str):
        raise InputError("text must be a str")
    if not text and not allow_empty:
        raise InputError("text must not be empty")
    if len(text) > MAX_TEXT_LENGTH:
        raise InputError(f"text longer than {MAX_TEXT_LENGTH} characters")
    for ch in text:
        if _is_forbidden_char(ch):
            raise InputError(f"text contains the control character {ch!r}")


def _check_point(x: int, y: int) -> None:
    for name, value in (("x", x), ("y", y)):
        if type(value) is not int:
            raise InputError(f"{name} must be an int, got {type(value).__name__}")
        if not 0 <= value <= MAX_COORDINATE:
            raise InputError(f"{name}={value} is outside 0..{MAX_COORDINATE}")


def _check_button(button: MouseButton) -> None:
    if not isinstance(button, MouseButton):
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
        for name, value in (("dx", self.dx), ("dy", self.dy)):
            if type(value) is not int or not -MAX_WHEEL_STEPS <= value <= MAX_WHEEL_STEPS:
                raise InputError(
                    f"{name}={value!r} is not a whole number of notches within ±{MAX_WHEEL_STEPS}"
                )
        if self.dx == 0 and self.dy == 0:
            raise InputError("a wheel event must move")
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
