"""The input event model: every malformed field is refused when the event is built."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from opensupport.host.errors import InvalidInputEvent
from opensupport.host.events import (
    MAX_TEXT_LENGTH,
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
    char_for_keysym,
    is_character_keysym,
    is_named_keysym,
    keysym_for_char,
)


def test_valid_events_build() -> None:
    assert KeyPress(Keysym.RETURN).keysym == 0xFF0D
    assert KeyRelease(keysym_for_char("한")).keysym == 0x0100D55C
    assert KeyCombo((Keysym.CONTROL_L, Keysym.ALT_L, Keysym.DELETE)).keysyms[-1] == 0xFFFF
    assert TextInput("안녕하세요 OpenSupport!").text.endswith("!")
    assert PointerMove(0, 65535) == PointerMove(0, 65535)
    assert ButtonPress(1, 3, 4).button is MouseButton.LEFT  # a wire decoder may give the number
    assert ButtonRelease(MouseButton.FORWARD, 0, 0).button == 9
    assert Wheel(0, -3, 10, 10).dy == -3


@pytest.mark.parametrize(
    "build",
    [
        lambda: PointerMove(math.nan, 0),
        lambda: PointerMove(1.5, 0),
        lambda: PointerMove(True, 0),
        lambda: PointerMove(-1, 0),
        lambda: PointerMove(0, 65536),
        lambda: PointerMove("1", 0),
        lambda: ButtonPress(4, 0, 0),  # the wheel is not a button
        lambda: ButtonPress(0, 0, 0),
        lambda: ButtonRelease(1.0, 0, 0),
        lambda: Wheel(0, 0, 0, 0),
        lambda: Wheel(101, 0, 0, 0),
        lambda: Wheel(0, math.inf, 0, 0),
        lambda: KeyPress(0),
        lambda: KeyPress(-5),
        lambda: KeyPress(0xFED5),  # Terminate_Server
        lambda: KeyPress(0x1008FE01),  # XF86Switch_VT_1
        lambda: KeyPress(0xFEE0),  # Pointer_Left: pointer emulation
        lambda: KeyPress(0x01000041),  # "A" in non-canonical Unicode form
        lambda: KeyPress(0x01000007),  # a control character
        lambda: KeyPress(0x0100D800),  # a lone surrogate
        lambda: KeyPress(0x01110000),  # past U+10FFFF
        lambda: KeyPress(0x0D),  # carriage return as a Latin-1 keysym
        lambda: KeyPress(65.0),
        lambda: KeyRelease(None),
        lambda: KeyCombo(()),
        lambda: KeyCombo([0xFFE3, 0xFFFF]),
        lambda: KeyCombo((0xFFE3, 0xFFE3)),
        lambda: KeyCombo(tuple(range(0x61, 0x68))),
        lambda: KeyCombo((0xFFE3, 0xFED5)),
        lambda: TextInput(""),
        lambda: TextInput("x" * (MAX_TEXT_LENGTH + 1)),
        lambda: TextInput("line\nbreak"),
        lambda: TextInput("tab\t"),
        lambda: TextInput("\x1b[31m"),
        lambda: TextInput("\ud800"),
        lambda: TextInput(b"bytes"),
    ],
)
def test_malformed_events_are_refused(build) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInputEvent):
        build()


def test_events_are_frozen() -> None:
    event = PointerMove(1, 2)
    with pytest.raises(AttributeError):
        event.x = 5  # type: ignore[misc]


@given(st.characters(blacklist_categories=("Cc", "Cs")))
def test_every_printable_character_has_a_keysym_that_maps_back(ch: str) -> None:
    keysym = keysym_for_char(ch)
    assert is_character_keysym(keysym) and not is_named_keysym(keysym)
    assert char_for_keysym(keysym) == ch
    assert KeyPress(keysym).keysym == keysym


def test_keysym_classes() -> None:
    assert all(is_named_keysym(k) for k in Keysym)
    assert not any(is_character_keysym(k) for k in Keysym)
    assert is_character_keysym(0x0EB1)  # legacy Hangul keysym page
    assert char_for_keysym(0x0EB1) is None
    with pytest.raises(InvalidInputEvent):
        keysym_for_char("ab")
