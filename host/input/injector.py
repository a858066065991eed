"""The one place where the host decides whether a viewer's input event reaches the desktop.

Theory of operation: every event from the viewer goes through :meth:`InputInjector.inject`, which never
raises. An event is dropped (and logged, at most once a second with a count) when:
- the session is view-only (the rule is enforced here, whatever a modified viewer sends);
- it is not one of the event types of :mod:`opensupport.host.events`;
- its coordinates fall outside the shared monitor (a viewer cannot reach another monitor);
- it releases a key or button it never pressed, or holds more keys than a hand can;
- the backend refuses it (a named key the keyboard does not have).
A repeated press of a held key (the viewer's auto-repeat) is absorbed when the desktop repeats held keys
by itself (X does), so that a held key repeats once, at the customer's own repeat rate. A button released
outside the monitor is dropped too, but released where the pointer is. The injector remembers what it holds down, so that switching to view-only, pausing or ending the session
releases every key and button: a Ctrl must never stay stuck on the customer's desktop.
"""

from __future__ import annotations

import logging
import time

from ..capture import Monitor
from ..errors import InputError
from ..events import (
    ButtonPress,
    ButtonRelease,
    KeyCombo,
    KeyPress,
    KeyRelease,
    MouseButton,
    PointerMove,
    TextInput,
    Wheel,
)
from ._base import InputBackend
from .mapping import frame_to_root

log = logging.getLogger(__name__)

#: Most keys held down at once through the injector.
MAX_HELD_KEYS = 10
#: Dropped events are logged at most this often (seconds), with a count of the ones in between.
DROP_LOG_INTERVAL = 1.0


def _describe(event: object) -> str:
    """An event for the log, without what was typed: keys and text may be a password."""
    match event:
        case PointerMove() | ButtonPress() | ButtonRelease() | Wheel():
            return repr(event)
        case TextInput(text=text):
            return f"TextInput({len(text)} characters)"
        case _:
            return type(event).__name__


class InputInjector:
    """Validates a viewer's input events against the shared monitor and replays them through a backend."""

    def __init__(self, backend: InputBackend, monitor: Monitor, *, view_only: bool = False) -> None:
        self._backend = backend
        self._monitor = monitor
        self._view_only = view_only
        self._keys: list[int] = []
        self._buttons: set[MouseButton] = set()
        #: Events replayed and dropped since the injector was made.
        self.replayed = 0
        self.dropped = 0
        self._unlogged_drops = 0
        self._last_drop_log = -DROP_LOG_INTERVAL

    @property
    def monitor(self) -> Monitor:
        """The monitor the viewer sees; event coordinates are pixels of it."""
        return self._monitor

    def set_monitor(self, monitor: Monitor) -> None:
        """Follow the capture to another monitor (held keys stay held, held buttons are released)."""
        self._release_buttons()
        self._monitor = monitor

    @property
    def view_only(self) -> bool:
        """True while every event is dropped."""
        return self._view_only

    def set_view_only(self, view_only: bool) -> None:
        """Switch view-only on or off; switching it on releases everything held."""
        if view_only and not self._view_only:
            self.release_all()
        self._view_only = view_only

    @property
    def held_keys(self) -> tuple[int, ...]:
        """Keysyms held down through the injector, in the order they were pressed."""
        return tuple(self._keys)

    @property
    def held_buttons(self) -> frozenset[MouseButton]:
        """Pointer buttons held down through the injector."""
        return frozenset(self._buttons)

    def inject(self, event: object) -> bool:
        """Replay ``event`` if the rules allow it; True if it reached the desktop. Never raises."""
        if self._view_only:
            return self._drop(event, "the session is view-only")
        try:
            reason = self._replay(event)
        except InputError as exc:
            return self._drop(event, str(exc))
        except Exception as exc:  # a broken display must not take the host down with it
            log.exception("input backend failed")
            return self._drop(event, f"backend failure: {exc}")
        if reason is not None:
            return self._drop(event, reason)
        self.replayed += 1
        return True

    def _replay(self, event: object) -> str | None:
        """Replay one event; a reason string if it is refused without touching the desktop."""
        backend = self._backend
        match event:
            case PointerMove(x=x, y=y):
                backend.move_pointer(*frame_to_root(self._monitor, x, y))
            case ButtonPress(button=button, x=x, y=y):
                backend.move_pointer(*frame_to_root(self._monitor, x, y))
                backend.press_button(button)
                self._buttons.add(button)
            case ButtonRelease(button=button, x=x, y=y):
                if button not in self._buttons:
                    return f"release of {button.name}, which is not pressed"
                self._buttons.discard(button)
                try:
                    backend.move_pointer(*frame_to_root(self._monitor, x, y))
                finally:
                    # Even when the position is refused, the button goes up where the pointer is: a
                    # button must never stay stuck down on the customer's desktop.
                    backend.release_button(button)
            case Wheel(dx=dx, dy=dy, x=x, y=y):
                backend.move_pointer(*frame_to_root(self._monitor, x, y))
                backend.scroll(dx, dy)
            case KeyPress(keysym=keysym):
                if keysym in self._keys:
                    if not backend.repeats_held_keys:
                        backend.press_key(keysym)  # the viewer's auto-repeat is the only one
                elif len(self._keys) >= MAX_HELD_KEYS:
                    return f"more than {MAX_HELD_KEYS} keys held"
                else:
                    backend.press_key(keysym)
                    self._keys.append(keysym)
            case KeyRelease(keysym=keysym):
                if keysym not in self._keys:
                    return f"release of keysym {keysym:#x}, which is not pressed"
                self._keys.remove(keysym)
                backend.release_key(keysym)
            case KeyCombo(keysyms=keysyms):
                self._combo(keysyms)
            case TextInput(text=text):
                backend.type_text(text)
            case _:
                return f"not an input event: {type(event).__name__}"
        return None

    def _combo(self, keysyms: tuple[int, ...]) -> None:
        pressed: list[int] = []
        try:
            for keysym in keysyms:
                self._backend.press_key(keysym)
                pressed.append(keysym)
        finally:
            for keysym in reversed(pressed):
                if keysym not in self._keys:  # a key the viewer holds itself stays held
                    self._backend.release_key(keysym)

    def close(self) -> None:
        """End of the session: drop everything from now on, release what is held, close the backend."""
        self.set_view_only(True)
        try:
            self._backend.close()
        except Exception:
            log.warning("closing the input backend failed", exc_info=True)

    def release_all(self) -> None:
        """Release every key and button held through the injector. Never raises."""
        self._release_buttons()
        while self._keys:
            keysym = self._keys.pop()
            try:
                self._backend.release_key(keysym)
            except Exception:
                log.warning("could not release keysym %#x", keysym, exc_info=True)

    def _release_buttons(self) -> None:
        while self._buttons:
            button = self._buttons.pop()
            try:
                self._backend.release_button(button)
            except Exception:
                log.warning("could not release button %s", button.name, exc_info=True)

    def _drop(self, event: object, reason: str) -> bool:
        self.dropped += 1
        now = time.monotonic()
        if now - self._last_drop_log >= DROP_LOG_INTERVAL:
            suppressed = (
                f" ({self._unlogged_drops} more dropped since the last report)"
                if self._unlogged_drops
                else ""
            )
            log.warning("input event dropped: %s: %s%s", reason, _describe(event), suppressed)
            self._last_drop_log = now
            self._unlogged_drops = 0
        else:
            self._unlogged_drops += 1
        return False
