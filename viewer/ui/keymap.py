"""Qt key events to X11 keysyms.

A key that types a printable character is sent as that character's keysym (so the agent's layout decides
what "Shift+1" means: "!"), a special key by the table below. Keys Qt cannot name (media keys, dead keys
whose composed result arrives as text later) are not sent.
"""

from __future__ import annotations

import sys

from opensupport.viewer.events import InputError, Keysym, Modifier, keysym_for_char
from PySide6.QtCore import Qt

__all__ = ["keysym_for_qt_key", "modifiers_from_qt"]

K = Qt.Key

#: Special keys, whatever text Qt attaches to them.
SPECIAL_KEYS: dict[Qt.Key, int] = {
    K.Key_Escape: Keysym.ESCAPE,
    K.Key_Tab: Keysym.TAB,
    K.Key_Backtab: Keysym.TAB,  # Shift+Tab: Shift is already held at the host
    K.Key_Backspace: Keysym.BACKSPACE,
    K.Key_Return: Keysym.RETURN,
    K.Key_Enter: Keysym.KP_ENTER,
    K.Key_Insert: Keysym.INSERT,
    K.Key_Delete: Keysym.DELETE,
    K.Key_Pause: Keysym.PAUSE,
    K.Key_Print: Keysym.PRINT,
    K.Key_SysReq: Keysym.SYS_REQ,
    K.Key_Home: Keysym.HOME,
    K.Key_End: Keysym.END,
    K.Key_Left: Keysym.LEFT,
    K.Key_Up: Keysym.UP,
    K.Key_Right: Keysym.RIGHT,
    K.Key_Down: Keysym.DOWN,
    K.Key_PageUp: Keysym.PAGE_UP,
    K.Key_PageDown: Keysym.PAGE_DOWN,
    K.Key_Shift: Keysym.SHIFT_L,
    K.Key_Control: Keysym.CONTROL_L,
    K.Key_Meta: Keysym.SUPER_L,
    K.Key_Alt: Keysym.ALT_L,
    K.Key_AltGr: Keysym.ISO_LEVEL3_SHIFT,
    K.Key_CapsLock: Keysym.CAPS_LOCK,
    K.Key_NumLock: Keysym.NUM_LOCK,
    K.Key_ScrollLock: Keysym.SCROLL_LOCK,
    K.Key_Super_L: Keysym.SUPER_L,
    K.Key_Super_R: Keysym.SUPER_R,
    K.Key_Menu: Keysym.MENU,
    K.Key_Hangul: Keysym.HANGUL,
    K.Key_Hangul_Hanja: Keysym.HANGUL_HANJA,
    **{getattr(K, f"Key_F{n}"): Keysym.F1 + n - 1 for n in range(1, 36)},
}

if sys.platform == "darwin":
    # On macOS Qt calls the Command key Control and the Control key Meta.
    SPECIAL_KEYS[K.Key_Control] = Keysym.SUPER_L
    SPECIAL_KEYS[K.Key_Meta] = Keysym.CONTROL_L

#: Keys of the numeric keypad (with Qt's KeypadModifier).
KEYPAD_KEYS: dict[Qt.Key, int] = {
    **{getattr(K, f"Key_{n}"): Keysym.KP_0 + n for n in range(10)},
    K.Key_Asterisk: Keysym.KP_MULTIPLY,
    K.Key_Plus: Keysym.KP_ADD,
    K.Key_Minus: Keysym.KP_SUBTRACT,
    K.Key_Period: Keysym.KP_DECIMAL,
    K.Key_Comma: Keysym.KP_DECIMAL,
    K.Key_Slash: Keysym.KP_DIVIDE,
    K.Key_Enter: Keysym.KP_ENTER,
}

_QT_MODIFIERS = (
    (Qt.KeyboardModifier.ShiftModifier, Modifier.SHIFT),
    (Qt.KeyboardModifier.ControlModifier, Modifier.CONTROL),
    (Qt.KeyboardModifier.AltModifier, Modifier.ALT),
    (Qt.KeyboardModifier.MetaModifier, Modifier.SUPER),
    (Qt.KeyboardModifier.GroupSwitchModifier, Modifier.ALTGR),
)


def modifiers_from_qt(modifiers: Qt.KeyboardModifier) -> Modifier:
    """The event model's modifiers for Qt's (the keypad flag is not a modifier key and is dropped)."""
    result = Modifier.NONE
    for qt_flag, flag in _QT_MODIFIERS:
        if modifiers & qt_flag:
            result |= flag
    if sys.platform == "darwin":
        swapped = result & ~(Modifier.CONTROL | Modifier.SUPER)
        if result & Modifier.CONTROL:
            swapped |= Modifier.SUPER
        if result & Modifier.SUPER:
            swapped |= Modifier.CONTROL
        result = swapped
    return result


def _printable(text: str) -> str:
    try:
        keysym_for_char(text)
    except InputError:
        return ""
    return text


def keysym_for_qt_key(key: int, text: str, modifiers: Qt.KeyboardModifier) -> tuple[int, str] | None:
    """The keysym (and the printable text, "" if none) for a Qt key event; None for keys not sent."""
    qt_key = Qt.Key(key) if key in Qt.Key._value2member_map_ else None
    if qt_key is not None and modifiers & Qt.KeyboardModifier.KeypadModifier and qt_key in KEYPAD_KEYS:
        return KEYPAD_KEYS[qt_key], _printable(text)
    if qt_key is not None and qt_key in SPECIAL_KEYS:
        return SPECIAL_KEYS[qt_key], ""
    printable = _printable(text)
    if printable:
        return keysym_for_char(printable), printable
    # No printable text (Ctrl+C gives "\x03"): Qt's key code is the character on the key, upper case.
    if 0x20 <= key <= 0x7E or 0xA0 <= key <= 0xFF:
        ch = chr(key)
        ch = ch.upper() if modifiers & Qt.KeyboardModifier.ShiftModifier else ch.lower()
        return keysym_for_char(ch), ""
    return None
