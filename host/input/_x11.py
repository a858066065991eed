"""X11 input replay through the XTEST extension, on one python-xlib connection.

Why XTEST directly rather than through pynput: pynput's X11 backend is itself a thin layer over these
XTEST calls, except for printable characters, which its keyboard sends with ``XSendEvent`` -- synthetic
events that xterm and many other programs ignore (docs PITFALLS.md). It also binds to ``$DISPLAY`` when it
is imported. One connection of our own keeps pointer and key events in order and lets us remap keycodes.

Typing a character: its keysym is looked up in the keyboard mapping at level 1 or 2 (unshifted, shifted);
Shift is pressed or released around the key as that level and Caps Lock require, and restored afterwards.
A character the keymap lacks (Hangul, most of Unicode) gets a *spare* keycode -- one with no keysyms --
mapped to it with ``ChangeKeyboardMapping`` (the way xdotool types them). Spare keycodes are reused least
recently used first, never within :data:`REMAP_REUSE_DELAY` of their last press: a client translates a key
event with the mapping it fetches after the ``MappingNotify``, and remapping a keycode it has not yet
translated would change the character it types. :meth:`X11Input.close` restores the spare keycodes.
"""

from __future__ import annotations

import collections
import logging
import time

from .._x11 import ErrorTrap, open_display
from ..errors import InputError, X11Unavailable
from ..events import MouseButton, char_for_keysym, is_character_keysym, keysym_for_char
from ._base import InputBackend

log = logging.getLogger(__name__)

#: Seconds a remapped spare keycode stays bound to its character after its last press: how far behind the
#: receiving program may be in reading its events (a loaded machine) without typing a wrong character. With
#: about 18 spare keycodes on a PC keymap, a paste of many distinct Hangul syllables types about 36 of them
#: a second once the spares are all in use; an input method's one syllable at a time never waits.
REMAP_REUSE_DELAY = 0.5
_SHIFT_L = 0xFFE1
#: X core wheel buttons: 4 up, 5 down, 6 left, 7 right.
_WHEEL_UP, _WHEEL_DOWN, _WHEEL_LEFT, _WHEEL_RIGHT = 4, 5, 6, 7


class X11Input(InputBackend):
    """Replays input on an X display (``None``: ``$DISPLAY``) with XTEST.

    Raises X11Unavailable if the display cannot be opened or has no XTEST.
    """

    #: The X server auto-repeats keys held through XTEST like physical ones.
    repeats_held_keys = True

    def __init__(self, display: str | None = None) -> None:
        from Xlib import X
        from Xlib.ext import xtest

        self._X = X
        self._xtest = xtest
        self._display = open_display(display)
        if not self._display.has_extension("XTEST"):
            self._display.close()
            raise X11Unavailable("the X display has no XTEST extension: input cannot be replayed")
        self._root = self._display.screen().root
        self._trap = ErrorTrap(self._display)
        info = self._display.display.info
        self._min_keycode: int = info.min_keycode
        self._max_keycode: int = info.max_keycode
        #: keysym -> (keycode, level): level 0 unshifted, 1 shifted, None when Shift makes no difference.
        self._lookup: dict[int, tuple[int, int | None]] | None = None
        self._syms: dict[int, tuple[int, ...]] = {}
        self._shift_keycodes: list[int] = []
        self._modifier_keycodes: set[int] = set()
        #: Spare keycodes bound to characters by us, least recently used first: keysym -> keycode.
        self._assigned: collections.OrderedDict[int, int] = collections.OrderedDict()
        self._last_used: dict[int, float] = {}
        self._keysyms_per_keycode = 2
        #: keysym -> keycode of the keys held through press_key.
        self._held: dict[int, int] = {}

    # -- keyboard mapping --------------------------------------------------------------------------------

    def _refresh_if_remapped(self) -> None:
        """Forget the mapping if the server announced a keyboard mapping change (ours or anyone's)."""
        X = self._X
        for _ in range(self._display.pending_events()):
            event = self._display.next_event()
            if event.type == X.MappingNotify and event.request in (X.MappingKeyboard, X.MappingModifier):
                self._lookup = None

    def _mapping(self) -> dict[int, tuple[int, int | None]]:
        if self._lookup is not None:
            return self._lookup
        count = self._max_keycode - self._min_keycode + 1
        table = self._display.get_keyboard_mapping(self._min_keycode, count)
        self._syms = {self._min_keycode + i: tuple(syms) for i, syms in enumerate(table)}
        self._keysyms_per_keycode = max((len(s) for s in self._syms.values()), default=2)
        lookup: dict[int, tuple[int, int | None]] = {}
        # An unshifted key anywhere beats a shifted one: a keysym on two keys is typed without Shift if it can.
        for level in (0, 1):
            for keycode, syms in self._syms.items():
                if len(syms) <= level or syms[level] == 0 or syms[level] in lookup:
                    continue
                shiftless = len(syms) < 2 or syms[1] == 0 or syms[0] == syms[1]
                lookup[syms[level]] = (keycode, None if shiftless else level)
        modifiers = self._display.get_modifier_mapping()
        self._shift_keycodes = [k for k in modifiers[0] if k]
        self._modifier_keycodes = {k for group in modifiers for k in group if k}
        # Spare keycodes someone else took over are no longer ours to restore or reuse.
        for keysym, keycode in list(self._assigned.items()):
            if self._syms.get(keycode, ())[:1] != (keysym,):
                del self._assigned[keysym]
        self._lookup = lookup
        return lookup

    def _free_keycode(self) -> int:
        """A keycode with no keysyms that we may bind, waiting out :data:`REMAP_REUSE_DELAY` if we must."""
        in_use = set(self._assigned.values()) | set(self._held.values()) | self._modifier_keycodes
        for keycode, syms in self._syms.items():
            # Keycode 8 is skipped: some toolkits treat the lowest keycode as invalid.
            if keycode > 8 and keycode not in in_use and not any(syms):
                return keycode
        for keysym, keycode in self._assigned.items():
            if keycode in self._held.values():
                continue
            wait = self._last_used.get(keycode, 0.0) + REMAP_REUSE_DELAY - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            del self._assigned[keysym]
            return keycode
        raise InputError("no spare keycode left to type this character")

    def _resolve(self, keysym: int) -> tuple[int, int | None]:
        """(keycode, level) for ``keysym``, binding a spare keycode to a character keysym the keymap lacks."""
        lookup = self._mapping()
        found = lookup.get(keysym)
        if found is not None:
            if keysym in self._assigned:
                self._assigned.move_to_end(keysym)
            return found
        if not is_character_keysym(keysym):
            raise InputError(f"the keyboard has no key for keysym {keysym:#x}")
        keycode = self._free_keycode()
        old = self._syms.get(keycode, ())
        with self._trap.checked(f"binding keysym {keysym:#x} to keycode {keycode}", InputError):
            self._display.change_keyboard_mapping(keycode, [(keysym, keysym)])
        for stale in [k for k, (c, _) in lookup.items() if c == keycode]:
            del lookup[stale]
        lookup[keysym] = (keycode, None)
        self._syms[keycode] = (keysym, keysym)
        self._assigned[keysym] = keycode
        if any(old):
            log.debug("keycode %d rebound from %#x to %#x", keycode, old[0], keysym)
        return keycode, None

    def _is_alphabetic(self, keycode: int) -> bool:
        """True when Caps Lock flips this key's level (a lower/upper case letter pair)."""
        syms = self._syms.get(keycode, ())
        if len(syms) < 2:
            return False
        lower, upper = char_for_keysym(syms[0]), char_for_keysym(syms[1])
        return lower is not None and upper is not None and lower != upper and lower.upper() == upper

    # -- keys --------------------------------------------------------------------------------------------

    def _fake(self, event_type: int, detail: int) -> None:
        self._xtest.fake_input(self._display, event_type, detail)

    def _tap_at_level(self, keycode: int, level: int | None, state: int, *, release: bool) -> None:
        """Press (and with ``release`` release) ``keycode`` with Shift set as ``level`` needs, then restore
        Shift. ``state`` is the modifier mask before the key."""
        X = self._X
        actions = [(X.KeyPress, keycode)] + ([(X.KeyRelease, keycode)] if release else [])
        if level is not None:
            need_shift = level == 1
            if state & X.LockMask and self._is_alphabetic(keycode):
                need_shift = not need_shift
            has_shift = bool(state & X.ShiftMask)
            if need_shift and not has_shift:
                shift = self._shift_keycodes[0] if self._shift_keycodes else self._resolve(_SHIFT_L)[0]
                actions = [(X.KeyPress, shift), *actions, (X.KeyRelease, shift)]
            elif has_shift and not need_shift:
                down = self._keys_down()
                held = [k for k in self._shift_keycodes if k in down]
                actions = (
                    [(X.KeyRelease, k) for k in held] + actions + [(X.KeyPress, k) for k in reversed(held)]
                )
        for event_type, detail in actions:
            self._fake(event_type, detail)
        self._last_used[keycode] = time.monotonic()

    def _keys_down(self) -> set[int]:
        bitmap = self._display.query_keymap()
        return {i * 8 + bit for i, byte in enumerate(bitmap) for bit in range(8) if byte & (1 << bit)}

    def _state(self) -> int:
        return int(self._root.query_pointer().mask)

    def press_key(self, keysym: int) -> None:
        with self._trap.checked(f"pressing keysym {keysym:#x}", InputError):
            self._refresh_if_remapped()
            keycode, level = self._resolve(keysym)
            if not is_character_keysym(keysym):
                level = None  # named keys are pressed as they are: Shift+Tab stays Shift+Tab
            self._tap_at_level(keycode, level, self._state() if level is not None else 0, release=False)
            self._held[keysym] = keycode

    def release_key(self, keysym: int) -> None:
        with self._trap.checked(f"releasing keysym {keysym:#x}", InputError):
            keycode = self._held.pop(keysym, None)
            if keycode is None:
                self._refresh_if_remapped()
                keycode = self._resolve(keysym)[0]
            self._fake(self._X.KeyRelease, keycode)

    def type_text(self, text: str) -> None:
        keysyms = [keysym_for_char(ch) for ch in text]
        with self._trap.checked("typing text", InputError):
            self._refresh_if_remapped()
            # Each character restores Shift after itself, so the state read once holds for the whole text.
            state = self._state()
            for keysym in keysyms:
                keycode, level = self._resolve(keysym)
                self._tap_at_level(keycode, level, state, release=True)

    # -- pointer -----------------------------------------------------------------------------------------

    def move_pointer(self, x: int, y: int) -> None:
        with self._trap.checked(f"moving the pointer to ({x}, {y})", InputError):
            self._xtest.fake_input(self._display, self._X.MotionNotify, x=x, y=y)

    def press_button(self, button: MouseButton) -> None:
        with self._trap.checked(f"pressing {button.name}", InputError):
            self._fake(self._X.ButtonPress, int(button))

    def release_button(self, button: MouseButton) -> None:
        with self._trap.checked(f"releasing {button.name}", InputError):
            self._fake(self._X.ButtonRelease, int(button))

    def scroll(self, dx: int, dy: int) -> None:
        X = self._X
        clicks = [
            (_WHEEL_UP if dy > 0 else _WHEEL_DOWN, abs(dy)),
            (_WHEEL_RIGHT if dx > 0 else _WHEEL_LEFT, abs(dx)),
        ]
        with self._trap.checked("turning the wheel", InputError):
            for button, count in clicks:
                for _ in range(count):
                    self._fake(X.ButtonPress, button)
                    self._fake(X.ButtonRelease, button)

    # -- end ---------------------------------------------------------------------------------------------

    def close(self) -> None:
        try:
            for keycode in self._held.values():
                self._fake(self._X.KeyRelease, keycode)
            self._held.clear()
            if self._assigned:
                newest = max(self._last_used.get(k, 0.0) for k in self._assigned.values())
                time.sleep(max(0.0, newest + REMAP_REUSE_DELAY - time.monotonic()))
                empty = tuple([0] * self._keysyms_per_keycode)
                for keycode in self._assigned.values():
                    self._display.change_keyboard_mapping(keycode, [empty])
                self._assigned.clear()
            self._display.sync()
            self._display.close()
        except Exception:  # the display may already be gone; nothing is left to undo then
            log.debug("closing the X input connection failed", exc_info=True)
