"""Turns the agent's keyboard and pointer into host input events, without Qt.

The Qt widget reports keys (already as keysyms), buttons and wheel turns in widget coordinates; the
``InputController`` maps coordinates through the display's transform, applies the view-only flag, keeps
track of what is held down and sends what survives to the ``InputSink``.

Held keys and buttons are remembered so that every press the host saw gets its release: when the widget
loses focus (the agent's own desktop took the keyboard, e.g. Alt+Tab), when view-only is switched on, and
when the session ends, ``release_all`` sends the missing releases. Without it the host would be left with a
stuck Alt or a button held down.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from .display import DisplayModel, ViewMode
from .events import (
    MODIFIER_OF_KEYSYM,
    ButtonPress,
    ButtonRelease,
    DroppingInputSink,
    InputError,
    InputEvent,
    InputSink,
    KeyPress,
    KeyRelease,
    Keysym,
    Modifier,
    MouseButton,
    PointerMove,
    SelectMonitor,
    TextInput,
    Wheel,
)

__all__ = ["SEND_KEYS", "InputController", "KeyCombination"]

#: Qt (and most toolkits) report wheel turns in eighths of a degree; one notch is 15 degrees.
WHEEL_NOTCH = 120


@dataclass(frozen=True)
class KeyCombination:
    """A combination sent from the "Send keys" menu: keys pressed in order, released in reverse."""

    label: str
    keysyms: tuple[int, ...]


#: Combinations the agent's own desktop would catch before the viewer sees them.
SEND_KEYS: tuple[KeyCombination, ...] = (
    KeyCombination("Ctrl+Alt+Del", (Keysym.CONTROL_L, Keysym.ALT_L, Keysym.DELETE)),
    KeyCombination("Ctrl+Shift+Esc", (Keysym.CONTROL_L, Keysym.SHIFT_L, Keysym.ESCAPE)),
    KeyCombination("Alt+Tab", (Keysym.ALT_L, Keysym.TAB)),
    KeyCombination("Alt+Shift+Tab", (Keysym.ALT_L, Keysym.SHIFT_L, Keysym.TAB)),
    KeyCombination("Alt+F4", (Keysym.ALT_L, Keysym.F1 + 3)),
    KeyCombination("Win", (Keysym.SUPER_L,)),
    KeyCombination("Win+D", (Keysym.SUPER_L, ord("d"))),
    KeyCombination("Win+E", (Keysym.SUPER_L, ord("e"))),
    KeyCombination("Win+L", (Keysym.SUPER_L, ord("l"))),
    KeyCombination("Win+R", (Keysym.SUPER_L, ord("r"))),
    KeyCombination("Ctrl+Esc", (Keysym.CONTROL_L, Keysym.ESCAPE)),
    KeyCombination("Print Screen", (Keysym.PRINT,)),
    KeyCombination("Alt+Print Screen", (Keysym.ALT_L, Keysym.PRINT)),
    KeyCombination("Ctrl+Alt+Backspace", (Keysym.CONTROL_L, Keysym.ALT_L, Keysym.BACKSPACE)),
)


class InputController:
    """The one place where viewer input becomes host events (view-only, mapping, held-state tracking)."""

    def __init__(self, model: DisplayModel, sink: InputSink | None = None) -> None:
        self.model = model
        self.sink: InputSink = DroppingInputSink() if sink is None else sink
        #: Events withheld because the view is view-only.
        self.suppressed = 0
        #: Key identity (the toolkit's key code or scan code) -> the keysym its press sent.
        self._held_keys: dict[Hashable, int] = {}
        #: Buttons whose press the host saw.
        self._held_buttons: set[MouseButton] = set()
        self._last_point: tuple[int, int] | None = None
        self._wheel_acc = [0, 0]

    # -- plumbing ---------------------------------------------------------------------------------------

    def _emit(self, event: InputEvent) -> bool:
        if self.model.view_only:
            self.suppressed += 1
            return False
        self.sink.send(event)
        if isinstance(event, PointerMove | ButtonPress | ButtonRelease | Wheel):
            self.model.agent_points.append((event.x, event.y))  # the host's pointer will come back here
        return True

    def _modifiers(self) -> Modifier:
        mods = Modifier.NONE
        for keysym in self._held_keys.values():
            mods |= MODIFIER_OF_KEYSYM.get(keysym, Modifier.NONE)
        return mods

    def _point(self, wx: float, wy: float, *, clamp: bool) -> tuple[int, int] | None:
        return self.model.transform().frame_pixel_at(wx, wy, clamp=clamp)

    # -- keyboard ---------------------------------------------------------------------------------------

    def key_press(
        self, key_id: Hashable, keysym: int, text: str = "", modifiers: Modifier | None = None
    ) -> None:
        """A key went down (again, for auto-repeat). ``modifiers`` None: derived from the held keys.

        Raises InputError for a bad keysym or text (the event is not sent).
        """
        if self.model.view_only:
            self.suppressed += 1
            return
        previous = self._held_keys.get(key_id)
        if previous is not None and previous != keysym:
            # The layout changed under a held key: release what the host holds before the new press.
            self._key_release_held(key_id)
        self._held_keys[key_id] = keysym
        mods = self._modifiers() if modifiers is None else modifiers
        try:
            self._emit(KeyPress(keysym, text, mods))
        except InputError:
            del self._held_keys[key_id]
            raise

    def key_release(self, key_id: Hashable, modifiers: Modifier | None = None) -> None:
        """A key went up; sends the release of the keysym its press sent (nothing if the host never saw it)."""
        if key_id not in self._held_keys:
            return
        keysym = self._held_keys.pop(key_id)
        mods = self._modifiers() if modifiers is None else modifiers
        self._emit(KeyRelease(keysym, "", mods))

    def _key_release_held(self, key_id: Hashable) -> None:
        keysym = self._held_keys.pop(key_id)
        self._emit(KeyRelease(keysym, "", self._modifiers()))

    def text_commit(self, text: str) -> None:
        """Text committed by the input method (any script). Raises InputError for control characters."""
        if not text:
            return
        event = TextInput(text)
        self._emit(event)

    def send_combination(self, combo: KeyCombination | Sequence[int]) -> None:
        """Press the keys of ``combo`` in order, then release them in reverse order."""
        keysyms = combo.keysyms if isinstance(combo, KeyCombination) else tuple(combo)
        if self.model.view_only:
            self.suppressed += 1
            return
        held: list[int] = []
        mods = Modifier.NONE
        events: list[InputEvent] = []
        for keysym in keysyms:
            mods |= MODIFIER_OF_KEYSYM.get(keysym, Modifier.NONE)
            events.append(KeyPress(keysym, "", mods))
            held.append(keysym)
        for keysym in reversed(held):
            mods &= ~MODIFIER_OF_KEYSYM.get(keysym, Modifier.NONE)
            events.append(KeyRelease(keysym, "", mods))
        # Everything is validated before the first event goes out: never half a combination.
        send_combo = getattr(self.sink, "send_combo", None)
        if send_combo is not None:  # a session sink: one KeyCombo message, replayed whole by the host
            send_combo(tuple(held))
            return
        for event in events:
            self.sink.send(event)

    # -- pointer ----------------------------------------------------------------------------------------

    def pointer_move(self, wx: float, wy: float) -> None:
        """The pointer moved to widget point (wx, wy); outside the picture it is sent only while dragging."""
        point = self._point(wx, wy, clamp=bool(self._held_buttons))
        if point is None or point == self._last_point:
            return
        if self._emit(PointerMove(*point)):
            self._last_point = point

    def button_press(self, button: MouseButton, wx: float, wy: float) -> None:
        """A button went down at widget point (wx, wy); ignored outside the picture."""
        point = self._point(wx, wy, clamp=False)
        if point is None or button in self._held_buttons:
            return
        if self._emit(ButtonPress(button, *point)):
            self._held_buttons.add(button)
            self._last_point = point

    def button_release(self, button: MouseButton, wx: float, wy: float) -> None:
        """A button went up; the position is clamped to the picture so a drag can end outside it."""
        if button not in self._held_buttons:
            return
        point = self._point(wx, wy, clamp=True)
        self._held_buttons.discard(button)
        if point is not None:
            self._emit(ButtonRelease(button, *point))
            self._last_point = point

    def wheel(self, angle_dx: int, angle_dy: int, wx: float, wy: float) -> None:
        """The wheel turned by (angle_dx, angle_dy) eighths of a degree, Qt's convention (x > 0: left).

        Fine-grained turns (touchpads) accumulate until a whole notch.
        """
        point = self._point(wx, wy, clamp=False)
        if point is None:
            return
        # Qt's positive x means left; the events' positive dx means right.
        self._wheel_acc[0] -= angle_dx
        self._wheel_acc[1] += angle_dy
        steps = [int(acc / WHEEL_NOTCH) for acc in self._wheel_acc]
        if steps == [0, 0]:
            return
        self._wheel_acc = [acc - s * WHEEL_NOTCH for acc, s in zip(self._wheel_acc, steps, strict=True)]
        limit = 100
        dx, dy = (max(-limit, min(limit, s)) for s in steps)
        self._emit(Wheel(dx, dy, *point))

    # -- state ------------------------------------------------------------------------------------------

    def release_all(self) -> None:
        """Release every key and button the host holds down (focus lost, view-only on, session end)."""
        point = self._last_point or (0, 0)
        for button in sorted(self._held_buttons):
            self.sink.send(ButtonRelease(button, *point))
        self._held_buttons.clear()
        while self._held_keys:
            key_id = next(reversed(self._held_keys))
            keysym = self._held_keys.pop(key_id)
            self.sink.send(KeyRelease(keysym, "", self._modifiers()))
        self._wheel_acc = [0, 0]

    def set_view_only(self, view_only: bool) -> None:
        """Switch view-only; switching it on first releases whatever the host holds."""
        if view_only and not self.model.view_only:
            self.release_all()
        self.model.view_only = view_only

    def set_mode(self, mode: ViewMode) -> None:
        """Switch between fit and 1:1 (the pointer position is re-sent on the next move)."""
        self.model.mode = mode
        self._last_point = None

    def select_monitor(self, index: int) -> None:
        """Ask the host to show monitor ``index`` (a view request: allowed in view-only too).

        Raises KeyError when the host announced no such monitor.
        """
        self.model.monitors.get(index)
        self.sink.send(SelectMonitor(index))
        self.model.monitors.selected = index
        self._last_point = None
