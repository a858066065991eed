"""The input model both ends share (``protocol/input_model.py``): the viewer builds only what the host
accepts, and each side raises its own error for the same broken field."""

from __future__ import annotations

import pytest
from opensupport.host import events as host
from opensupport.host.errors import InvalidInputEvent
from opensupport.protocol import input_model as model
from opensupport.viewer import events as viewer

# The same rules reach both sides: every keysym a viewer may build, the host accepts, and the other way.
SAMPLES = [
    0, 0x1F, 0x20, 0x41, 0x7E, 0x7F, 0x9F, 0xA0, 0xFF, 0x100, 0x20FF, 0x2100, 0xFE03, 0xFE20, 0xFE50,
    0xFE93, 0xFE94, 0xFED5, 0xFF08, 0xFFFF, 0x10000, 0x01000041, 0x010000FF, 0x01000100, 0x0100AC00,
    0x0100D800, 0x0110FFFF, 0x01110000, 0x1008FE01,
]  # fmt: skip


@pytest.mark.parametrize("keysym", SAMPLES)
def test_viewer_and_host_agree_on_every_keysym(keysym: int) -> None:
    expected = model.is_valid_keysym(keysym)
    for build, error in ((viewer.KeyPress, viewer.InputError), (host.KeyPress, InvalidInputEvent)):
        if expected:
            assert build(keysym).keysym == keysym
        else:
            with pytest.raises(error):
                build(keysym)


def test_the_model_itself() -> None:
    assert model.keysym_for_char("A") == 0x41 and model.keysym_for_char("한") == 0x0100D55C
    assert model.char_for_keysym(0x0100D55C) == "한" and model.char_for_keysym(0xFF0D) is None
    for bad in ("", "ab", "\n", "\x7f"):
        with pytest.raises(model.InvalidInput):
            model.keysym_for_char(bad)
    assert model.point_problem(0, model.MAX_COORDINATE) is None
    assert model.point_problem(-1, 0) and model.point_problem(True, 0) and model.point_problem(0.5, 0)
    assert model.text_problem("") and model.text_problem("", allow_empty=True) is None
    assert model.text_problem("a\x00") and model.text_problem("x" * (model.MAX_TEXT_LENGTH + 1))
    assert model.wheel_problem(0, 0) and model.wheel_problem(0, model.MAX_WHEEL_STEPS + 1)
    assert model.wheel_problem(0, -model.MAX_WHEEL_STEPS) is None
    assert model.button_problem(3) is None and model.button_problem(4) and model.button_problem(True)
    assert model.keysym_problem(True) and model.keysym_problem(model.Keysym.RETURN) is None


def test_each_side_raises_its_own_error_which_is_the_models() -> None:
    with pytest.raises(InvalidInputEvent) as on_host:
        host.Wheel(0, 0, 1, 1)
    with pytest.raises(viewer.InputError) as on_viewer:
        viewer.Wheel(0, 0, 1, 1)
    assert str(on_host.value) == str(on_viewer.value) == "a wheel event must move"
    assert isinstance(on_host.value, model.InvalidInput) and isinstance(on_viewer.value, model.InvalidInput)
    with pytest.raises(InvalidInputEvent):
        host.keysym_for_char("\t")
    assert host.Keysym is viewer.Keysym is model.Keysym and host.MouseButton is viewer.MouseButton
    assert host.ButtonPress(3, 1, 2).button is model.MouseButton.RIGHT  # the host names a received number
