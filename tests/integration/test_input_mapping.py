"""The input path's two translations, without X: viewer events -> protocol messages -> host events."""

from __future__ import annotations

import pytest
from opensupport.host.errors import InvalidInputEvent
from opensupport.host.events import (
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
from opensupport.host.session import InputTranslator
from opensupport.protocol import ControlMessage, KeyEvent, PointerEvent, WheelEvent
from opensupport.viewer import events as ve
from opensupport.viewer.session import protocol_input


def roundtrip(events: list[ve.InputEvent]) -> list[object]:
    """Viewer events through the viewer's mapping and the host's translator, as the host replays them."""
    translator = InputTranslator()
    buttons = 0
    out: list[object] = []
    for event in events:
        messages, buttons = protocol_input(event, buttons)
        for message in messages:
            out += translator.translate(message)
    return out


def test_keys_and_committed_text_in_any_script_stay_in_order() -> None:
    out = roundtrip([ve.KeyPress(0xFFE1), ve.TextInput("A한"), ve.KeyRelease(0xFFE1)])
    assert out == [KeyPress(0xFFE1), TextInput("A한"), KeyRelease(0xFFE1)]


def test_long_text_is_cut_at_character_boundaries_within_the_protocol_bound() -> None:
    from opensupport.protocol import MAX_TEXT_INPUT_SIZE
    from opensupport.protocol import TextInput as TextInputMessage

    text = "가" * 3000  # 9000 UTF-8 bytes
    messages, _ = protocol_input(ve.TextInput(text), 0)
    assert all(isinstance(m, TextInputMessage) for m in messages)
    assert "".join(m.text for m in messages) == text  # type: ignore[attr-defined]
    assert all(len(m.text.encode()) <= MAX_TEXT_INPUT_SIZE for m in messages)  # type: ignore[attr-defined]


def test_a_key_combination_message_becomes_one_combo() -> None:
    from opensupport.protocol import KeyCombo as KeyComboMessage

    assert InputTranslator().translate(KeyComboMessage((0xFFE3, 0xFFE9, 0xFFFF))) == [
        KeyCombo((0xFFE3, 0xFFE9, 0xFFFF))
    ]


def test_buttons_travel_as_a_mask_and_come_back_as_presses_and_releases() -> None:
    out = roundtrip(
        [
            ve.PointerMove(10, 20),
            ve.ButtonPress(ve.MouseButton.LEFT, 10, 20),
            ve.PointerMove(30, 40),
            ve.ButtonPress(ve.MouseButton.RIGHT, 30, 40),
            ve.ButtonRelease(ve.MouseButton.LEFT, 31, 41),
            ve.ButtonRelease(ve.MouseButton.RIGHT, 31, 41),
        ]
    )
    assert out == [
        PointerMove(10, 20),
        ButtonPress(MouseButton.LEFT, 10, 20),
        PointerMove(30, 40),
        ButtonPress(MouseButton.RIGHT, 30, 40),
        ButtonRelease(MouseButton.LEFT, 31, 41),
        ButtonRelease(MouseButton.RIGHT, 31, 41),
    ]


def test_wheel_notches_and_partial_turns() -> None:
    assert roundtrip([ve.Wheel(0, 2, 5, 6), ve.Wheel(-1, 0, 5, 6)]) == [Wheel(0, 2, 5, 6), Wheel(-1, 0, 5, 6)]
    translator = InputTranslator()
    # A high-resolution wheel sends fractions of a notch: they add up, the rest is carried.
    assert translator.translate(WheelEvent(1, 1, 0, 60)) == []
    assert translator.translate(WheelEvent(1, 1, 0, 90)) == [Wheel(0, 1, 1, 1)]
    assert translator.translate(WheelEvent(1, 1, 0, 90)) == [Wheel(0, 1, 1, 1)]


def test_monitor_selection_is_a_control_message() -> None:
    messages, _ = protocol_input(ve.SelectMonitor(1), 0)
    assert messages == [ControlMessage("monitor.select", b"1")]


@pytest.mark.parametrize(
    "message",
    [
        PointerEvent(-1, 5, 0),  # negative coordinates
        PointerEvent(5, 70000, 0),  # beyond any screen
        PointerEvent(5, 5, 0x40),  # an unknown button bit
        KeyEvent(0xFED5, True),  # Terminate_Server
        KeyEvent(0x20000000, True),  # no such keysym
        WheelEvent(1, 1, 0, 120 * 200),  # 200 notches at once
        ControlMessage("input.text", b"not an input message"),
    ],
)
def test_malformed_input_is_refused(message: object) -> None:
    with pytest.raises(InvalidInputEvent):
        InputTranslator().translate(message)  # type: ignore[arg-type]
