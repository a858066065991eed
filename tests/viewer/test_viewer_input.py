"""The GUI-free input controller and the event model's validation."""

from __future__ import annotations

import numpy as np
import pytest
from opensupport.viewer.display import DisplayModel, Monitor
from opensupport.viewer.events import (
    ButtonPress,
    ButtonRelease,
    DroppingInputSink,
    InputError,
    KeyPress,
    KeyRelease,
    Keysym,
    Modifier,
    MouseButton,
    PointerMove,
    SelectMonitor,
    TextInput,
    Wheel,
    is_valid_keysym,
    keysym_for_char,
)
from opensupport.viewer.input import SEND_KEYS, InputController
from viewer_helpers import RecordingSink


def controller(sink: RecordingSink) -> InputController:
    model = DisplayModel()
    model.store.apply(np.zeros((100, 200, 4), np.uint8), [])
    model.widget_size = (200, 100)  # 1:1 in fit mode
    return InputController(model, sink)


def test_auto_repeat_is_repeated_presses_and_one_release(sink: RecordingSink) -> None:
    c = controller(sink)
    for _ in range(3):
        c.key_press(30, ord("x"), "x")
    c.key_release(30)
    c.key_release(30)  # a second release of a key the host no longer holds is not sent
    assert sink.events == [KeyPress(ord("x"), "x")] * 3 + [KeyRelease(ord("x"))]


def test_release_carries_the_keysym_of_the_press(sink: RecordingSink) -> None:
    c = controller(sink)
    c.key_press("shift", Keysym.SHIFT_L)
    c.key_press(10, ord("!"), "!")
    c.key_release("shift")
    c.key_release(10)  # Shift is up: the toolkit would now call this key "1"; the host held "!"
    assert sink.events == [
        KeyPress(Keysym.SHIFT_L, "", Modifier.SHIFT),
        KeyPress(ord("!"), "!", Modifier.SHIFT),
        KeyRelease(Keysym.SHIFT_L),
        KeyRelease(ord("!")),
    ]


def test_a_refused_keysym_is_not_sent_and_not_held(sink: RecordingSink) -> None:
    c = controller(sink)
    with pytest.raises(InputError):
        c.key_press(1, 0xFED5)  # Terminate_Server's page
    c.key_release(1)
    c.release_all()
    assert sink.events == []


def test_pointer_moves_are_deduplicated_and_buttons_paired(sink: RecordingSink) -> None:
    c = controller(sink)
    c.pointer_move(10, 10)
    c.pointer_move(10.4, 10.2)  # the same host pixel
    c.button_release(MouseButton.LEFT, 10, 10)  # never pressed: not sent
    c.button_press(MouseButton.MIDDLE, 20, 30)
    c.button_press(MouseButton.MIDDLE, 20, 30)  # already down
    c.button_release(MouseButton.MIDDLE, 500, -40)  # clamped
    assert sink.events == [
        PointerMove(10, 10),
        ButtonPress(MouseButton.MIDDLE, 20, 30),
        ButtonRelease(MouseButton.MIDDLE, 199, 0),
    ]


def test_wheel_accumulates_fine_steps(sink: RecordingSink) -> None:
    c = controller(sink)
    for _ in range(7):
        c.wheel(0, -40, 5, 5)
    c.wheel(-360, 0, 5, 5)
    assert sink.events == [Wheel(0, -1, 5, 5), Wheel(0, -1, 5, 5), Wheel(3, 0, 5, 5)]


def test_text_and_monitor_requests(sink: RecordingSink) -> None:
    c = controller(sink)
    c.text_commit("가나다 abc")
    c.text_commit("")
    with pytest.raises(InputError):
        c.text_commit("a\x00b")
    with pytest.raises(KeyError):
        c.select_monitor(1)
    c.model.monitors.replace([Monitor(0, 0, 0, 200, 100), Monitor(1, 200, 0, 300, 200)], 0)
    c.select_monitor(1)
    assert sink.events == [TextInput("가나다 abc"), SelectMonitor(1)]


def test_send_keys_table_is_valid() -> None:
    model = DisplayModel()
    sink = RecordingSink()
    c = InputController(model, sink)
    for combo in SEND_KEYS:
        c.send_combination(combo)
    presses = sum(isinstance(e, KeyPress) for e in sink.events)
    releases = sum(isinstance(e, KeyRelease) for e in sink.events)
    assert presses == releases == sum(len(combo.keysyms) for combo in SEND_KEYS)
    assert sink.events[-1] == KeyRelease(Keysym.CONTROL_L, "", Modifier.NONE)


def test_no_connection_drops_input() -> None:
    c = InputController(DisplayModel())
    assert isinstance(c.sink, DroppingInputSink)
    c.send_combination(SEND_KEYS[0])
    assert c.sink.dropped == 6


@pytest.mark.parametrize(
    "make",
    [
        lambda: KeyPress(0),
        lambda: KeyPress(0xFE50 - 1),
        lambda: KeyPress(0x01000041),  # U+0041 must be 0x41
        lambda: KeyPress(ord("a"), "a", Modifier(64)),
        lambda: KeyPress(ord("a"), "\x1b"),
        lambda: KeyRelease(1.5),  # type: ignore[arg-type]
        lambda: TextInput(""),
        lambda: TextInput("x" * 4097),
        lambda: TextInput("\ud800"),
        lambda: PointerMove(-1, 0),
        lambda: PointerMove(0, 65536),
        lambda: PointerMove(True, 0),  # type: ignore[arg-type]
        lambda: ButtonPress(4, 0, 0),  # type: ignore[arg-type]
        lambda: Wheel(0, 0, 1, 1),
        lambda: Wheel(101, 0, 1, 1),
        lambda: SelectMonitor(-1),
    ],
)
def test_events_refuse_bad_fields(make: object) -> None:
    with pytest.raises(InputError):
        make()  # type: ignore[operator]


def test_keysyms() -> None:
    assert (
        keysym_for_char("a") == 0x61 and keysym_for_char("é") == 0xE9 and keysym_for_char("한") == 0x0100D55C
    )
    with pytest.raises(InputError):
        keysym_for_char("ab")
    with pytest.raises(InputError):
        keysym_for_char("\n")
    assert (
        is_valid_keysym(Keysym.DELETE)
        and is_valid_keysym(Keysym.ISO_LEVEL3_SHIFT)
        and is_valid_keysym(0x0EB1)
    )
    assert not is_valid_keysym(0xFED5) and not is_valid_keysym(0x01000000 + 0x0A)
