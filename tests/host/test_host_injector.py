"""The injector's rules, with a backend that records calls: view-only, monitor bounds, held keys and
buttons, combinations, and a backend that fails. (The real X11 backend is tested in test_host_input_x11.)"""

from __future__ import annotations

import logging

import pytest
from opensupport.host.capture import Monitor
from opensupport.host.errors import InputError
from opensupport.host.events import (
    ButtonPress,
    ButtonRelease,
    KeyCombo,
    KeyPress,
    KeyRelease,
    Keysym,
    MouseButton,
    PointerMove,
    TextInput,
    Wheel,
)
from opensupport.host.input import MAX_HELD_KEYS, InputBackend, InputInjector

RIGHT = Monitor(index=1, name="right", x=1280, y=0, width=1024, height=768)


class RecordingBackend(InputBackend):
    def __init__(self) -> None:
        self.calls: list[tuple[object, ...]] = []
        self.refuse: set[int] = set()

    def press_key(self, keysym: int) -> None:
        if keysym in self.refuse:
            raise InputError(f"no key for {keysym:#x}")
        self.calls.append(("press", keysym))

    def release_key(self, keysym: int) -> None:
        self.calls.append(("release", keysym))

    def type_text(self, text: str) -> None:
        self.calls.append(("text", text))

    def move_pointer(self, x: int, y: int) -> None:
        self.calls.append(("move", x, y))

    def press_button(self, button: MouseButton) -> None:
        self.calls.append(("down", int(button)))

    def release_button(self, button: MouseButton) -> None:
        self.calls.append(("up", int(button)))

    def scroll(self, dx: int, dy: int) -> None:
        self.calls.append(("scroll", dx, dy))

    def close(self) -> None:
        self.calls.append(("close",))


@pytest.fixture
def backend() -> RecordingBackend:
    return RecordingBackend()


@pytest.fixture
def injector(backend: RecordingBackend) -> InputInjector:
    return InputInjector(backend, RIGHT)


def test_events_reach_the_backend_in_root_coordinates(
    backend: RecordingBackend, injector: InputInjector
) -> None:
    events = [
        PointerMove(10, 20),
        ButtonPress(MouseButton.LEFT, 11, 21),
        ButtonRelease(MouseButton.LEFT, 12, 22),
        Wheel(-1, 2, 1023, 767),
        KeyPress(Keysym.SHIFT_L),
        KeyPress(0x41),
        KeyRelease(0x41),
        KeyRelease(Keysym.SHIFT_L),
        TextInput("안녕"),
    ]
    assert all(injector.inject(e) for e in events)
    assert backend.calls == [
        ("move", 1290, 20),
        ("move", 1291, 21),
        ("down", 1),
        ("move", 1292, 22),
        ("up", 1),
        ("move", 2303, 767),
        ("scroll", -1, 2),
        ("press", 0xFFE1),
        ("press", 0x41),
        ("release", 0x41),
        ("release", 0xFFE1),
        ("text", "안녕"),
    ]
    assert (injector.replayed, injector.dropped) == (len(events), 0)


def test_combination_presses_in_order_and_releases_in_reverse(
    backend: RecordingBackend, injector: InputInjector
) -> None:
    assert injector.inject(KeyCombo((Keysym.CONTROL_L, Keysym.ALT_L, Keysym.DELETE)))
    assert backend.calls == [
        ("press", 0xFFE3),
        ("press", 0xFFE9),
        ("press", 0xFFFF),
        ("release", 0xFFFF),
        ("release", 0xFFE9),
        ("release", 0xFFE3),
    ]
    assert injector.held_keys == ()


def test_combination_that_fails_midway_releases_what_it_pressed(
    backend: RecordingBackend, injector: InputInjector
) -> None:
    backend.refuse.add(0xFFFF)
    assert not injector.inject(KeyCombo((Keysym.CONTROL_L, Keysym.ALT_L, Keysym.DELETE)))
    assert backend.calls == [("press", 0xFFE3), ("press", 0xFFE9), ("release", 0xFFE9), ("release", 0xFFE3)]


def test_out_of_range_and_foreign_events_are_dropped(
    backend: RecordingBackend, injector: InputInjector, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    dropped = [
        PointerMove(1024, 0),  # one past the right edge of the 1024x768 monitor
        PointerMove(0, 768),
        ButtonPress(MouseButton.LEFT, 5000, 5),
        Wheel(0, 1, 2000, 2000),
        KeyRelease(0x61),  # never pressed
        ButtonRelease(MouseButton.RIGHT, 1, 1),  # never pressed
        "a string",
        None,
        ("move", 1, 1),
    ]
    assert not any(injector.inject(e) for e in dropped)
    assert backend.calls == []
    assert injector.dropped == len(dropped)
    assert "input event dropped" in caplog.text


def test_release_outside_the_monitor_still_releases_the_button(
    backend: RecordingBackend, injector: InputInjector
) -> None:
    assert injector.inject(ButtonPress(MouseButton.LEFT, 5, 5))
    assert not injector.inject(ButtonRelease(MouseButton.LEFT, 4000, 5))
    assert backend.calls[-1] == ("up", 1) and ("move", 5280, 5) not in backend.calls
    assert injector.held_buttons == frozenset()


def test_view_only_drops_everything_and_releases_what_is_held(
    backend: RecordingBackend, injector: InputInjector
) -> None:
    assert injector.inject(KeyPress(Keysym.CONTROL_L))
    assert injector.inject(ButtonPress(MouseButton.LEFT, 1, 1))
    backend.calls.clear()
    injector.set_view_only(True)
    assert sorted(backend.calls) == [("release", 0xFFE3), ("up", 1)]
    backend.calls.clear()
    everything = [
        PointerMove(1, 1),
        ButtonPress(MouseButton.LEFT, 1, 1),
        ButtonRelease(MouseButton.LEFT, 1, 1),
        Wheel(0, 1, 1, 1),
        KeyPress(0x61),
        KeyRelease(0x61),
        KeyCombo((Keysym.CONTROL_L, Keysym.ALT_L, Keysym.DELETE)),
        TextInput("rm -rf ~"),
    ]
    assert not any(injector.inject(e) for e in everything)
    assert backend.calls == []
    injector.set_view_only(False)
    assert injector.inject(PointerMove(1, 1))


def test_held_keys_are_bounded_and_released_on_demand(
    backend: RecordingBackend, injector: InputInjector
) -> None:
    for i in range(MAX_HELD_KEYS):
        assert injector.inject(KeyPress(0x61 + i))
    assert injector.inject(KeyPress(0x61))  # auto-repeat of a held key is not a new key
    assert not injector.inject(KeyPress(0x7A))
    assert len(injector.held_keys) == MAX_HELD_KEYS
    backend.calls.clear()
    injector.release_all()
    assert sorted(backend.calls) == sorted(("release", 0x61 + i) for i in range(MAX_HELD_KEYS))
    assert injector.held_keys == ()


def test_a_failing_backend_never_raises(backend: RecordingBackend, injector: InputInjector) -> None:
    def explode(x: int, y: int) -> None:
        raise RuntimeError("display gone")

    backend.move_pointer = explode  # type: ignore[method-assign]
    assert not injector.inject(PointerMove(1, 1))
    backend.refuse.add(0xFF0D)
    assert not injector.inject(KeyPress(Keysym.RETURN))
    assert injector.held_keys == ()


def test_switching_monitor_changes_the_mapping(backend: RecordingBackend, injector: InputInjector) -> None:
    injector.set_monitor(Monitor(index=0, name="left", x=0, y=0, width=1280, height=800))
    assert injector.inject(PointerMove(1279, 799))
    assert backend.calls == [("move", 1279, 799)]


@pytest.mark.parametrize("desktop_repeats", [True, False])
def test_auto_repeat_comes_once(
    backend: RecordingBackend, injector: InputInjector, desktop_repeats: bool
) -> None:
    backend.repeats_held_keys = desktop_repeats
    for _ in range(4):
        assert injector.inject(KeyPress(0x61))
    assert injector.inject(KeyRelease(0x61))
    presses = 1 if desktop_repeats else 4
    assert backend.calls == [("press", 0x61)] * presses + [("release", 0x61)]


def test_the_log_never_shows_what_was_typed(
    injector: InputInjector, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opensupport.host.input import injector as injector_module

    monkeypatch.setattr(injector_module, "DROP_LOG_INTERVAL", 0.0)  # log every drop
    caplog.set_level(logging.WARNING)
    injector.set_view_only(True)
    assert not injector.inject(TextInput("hunter2"))
    assert "TextInput(7 characters)" in caplog.text and "hunter2" not in caplog.text
    caplog.clear()
    assert not injector.inject(KeyPress(0x68))
    assert "KeyPress" in caplog.text and "0x68" not in caplog.text and "104" not in caplog.text


def test_close_releases_everything_and_closes_the_backend(
    backend: RecordingBackend, injector: InputInjector
) -> None:
    assert injector.inject(KeyPress(Keysym.ALT_L))
    assert injector.inject(ButtonPress(MouseButton.MIDDLE, 3, 3))
    injector.close()
    assert backend.calls[-3:-1] == [("up", 2), ("release", 0xFFE9)] and backend.calls[-1] == ("close",)
    assert not injector.inject(PointerMove(1, 1))
