"""Input replay against real X programs on Xvfb: an xterm running ``cat > file`` and a recording window."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from host_x import Recorded, RecorderWindow, XServer, XtermCat
from opensupport.host.capture import X11Capture
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
    keysym_for_char,
)
from opensupport.host.input import InputInjector, ViewTransform, X11Input
from Xlib import X

pytestmark = pytest.mark.xvfb


@pytest.fixture
def xterm(xserver: XServer, tmp_path: Path, injector: InputInjector) -> Iterator[XtermCat]:
    term = XtermCat(xserver, tmp_path)
    # No window manager: the focus follows the pointer, so the pointer goes onto the xterm first.
    assert injector.inject(PointerMove(60, 60))
    try:
        yield term
    finally:
        term.close()


def tap(injector: InputInjector, keysym: int) -> None:
    assert injector.inject(KeyPress(keysym))
    assert injector.inject(KeyRelease(keysym))


def keys(injector: InputInjector, text: str) -> None:
    """Type ``text`` key by key, the way a viewer forwards a physical keyboard (no Shift events)."""
    for ch in text:
        tap(injector, keysym_for_char(ch))


def end_cat(injector: InputInjector) -> None:
    """Ctrl+D on an empty line: cat sees the end of its input and exits."""
    assert injector.inject(KeyPress(Keysym.CONTROL_L))
    tap(injector, keysym_for_char("d"))
    assert injector.inject(KeyRelease(Keysym.CONTROL_L))


def test_typed_text_lands_in_xterm_exactly(xterm: XtermCat, injector: InputInjector) -> None:
    keys(injector, "Hi, World! ~@#$%^&*()_+{}|:\"<>? 1234567890-=[]\\;',./`")
    tap(injector, Keysym.RETURN)
    assert injector.inject(TextInput("안녕하세요 OpenSupport!"))
    tap(injector, Keysym.RETURN)
    keys(injector, "abX")
    tap(injector, Keysym.BACKSPACE)
    keys(injector, "c")
    tap(injector, Keysym.TAB)
    keys(injector, "d")
    tap(injector, Keysym.RETURN)
    tap(injector, Keysym.LEFT)
    tap(injector, Keysym.F1)
    tap(injector, Keysym.RETURN)
    end_cat(injector)
    expected = (
        b"Hi, World! ~@#$%^&*()_+{}|:\"<>? 1234567890-=[]\\;',./`\n"
        + "안녕하세요 OpenSupport!\n".encode()
        + b"abc\td\n"
        + b"\x1b[D\x1bOP\n"
    )
    assert xterm.result() == expected


def test_shift_and_caps_lock_never_change_the_typed_characters(
    xterm: XtermCat, injector: InputInjector
) -> None:
    # With Shift held by the viewer, a lower-case keysym still types lower case, and the Shift stays held.
    assert injector.inject(KeyPress(Keysym.SHIFT_L))
    keys(injector, "aB")
    assert injector.inject(KeyRelease(Keysym.SHIFT_L))
    # With Caps Lock on, text and keys are typed as given.
    tap(injector, Keysym.CAPS_LOCK)
    assert injector.inject(TextInput("xY 한!"))
    keys(injector, "zQ")
    tap(injector, Keysym.CAPS_LOCK)
    keys(injector, "ok")
    tap(injector, Keysym.RETURN)
    end_cat(injector)
    assert xterm.result() == "aBxY 한!zQok\n".encode()


def test_text_of_many_distinct_characters_reuses_spare_keycodes(
    xterm: XtermCat, injector: InputInjector
) -> None:
    # More distinct non-keymap characters than the keymap has spare keycodes, typed in one go.
    text = "가나다라마바사아자차카타파하거너더러머버서어저처커터퍼허고노도로모보소오조초 Ωß€→"
    assert injector.inject(TextInput(text))
    tap(injector, Keysym.RETURN)
    end_cat(injector)
    assert xterm.result() == (text + "\n").encode()


def test_close_restores_the_keyboard_mapping(xserver: XServer) -> None:
    from Xlib import display

    d = display.Display(xserver.display)
    first, last = d.display.info.min_keycode, d.display.info.max_keycode
    before = d.get_keyboard_mapping(first, last - first + 1)
    backend = X11Input(xserver.display)
    backend.type_text("ÆØ 漢字")  # nothing typed here needs a window; the keymap changes regardless
    during = d.get_keyboard_mapping(first, last - first + 1)
    assert during != before
    backend.close()
    after = d.get_keyboard_mapping(first, last - first + 1)
    assert [tuple(s) for s in after] == [tuple(s) for s in before]
    d.close()


@pytest.fixture
def recorder(xserver: XServer) -> Iterator[RecorderWindow]:
    # On the left monitor at (200, 150), 400x300.
    window = RecorderWindow(xserver.display, 200, 150, 400, 300)
    try:
        yield window
    finally:
        window.close()


def test_click_drag_and_wheel_reach_the_program(recorder: RecorderWindow, injector: InputInjector) -> None:
    assert injector.inject(ButtonPress(MouseButton.LEFT, 250, 200))
    assert injector.inject(ButtonRelease(MouseButton.LEFT, 250, 200))
    # A drag: press, move with the button held, release somewhere else.
    assert injector.inject(ButtonPress(MouseButton.LEFT, 300, 220))
    for x in (320, 340, 360):
        assert injector.inject(PointerMove(x, 240))
    assert injector.inject(ButtonRelease(MouseButton.LEFT, 380, 260))
    assert injector.inject(ButtonPress(MouseButton.RIGHT, 210, 160))
    assert injector.inject(ButtonRelease(MouseButton.RIGHT, 210, 160))
    assert injector.inject(Wheel(0, 2, 400, 300))  # two notches up
    assert injector.inject(Wheel(-1, -1, 400, 300))  # one down, one left

    def buttons(events: list[Recorded]) -> list[tuple[str, int, int, int]]:
        return [(e.kind, e.detail, e.x, e.y) for e in events if e.kind.startswith("button")]

    expected = [
        ("button-press", 1, 50, 50),
        ("button-release", 1, 50, 50),
        ("button-press", 1, 100, 70),
        ("button-release", 1, 180, 110),
        ("button-press", 3, 10, 10),
        ("button-release", 3, 10, 10),
        ("button-press", 4, 200, 150),
        ("button-release", 4, 200, 150),
        ("button-press", 4, 200, 150),
        ("button-release", 4, 200, 150),
        ("button-press", 5, 200, 150),
        ("button-release", 5, 200, 150),
        ("button-press", 6, 200, 150),
        ("button-release", 6, 200, 150),
    ]
    events = recorder.wait_for(lambda ev: len(buttons(ev)) >= len(expected), "the clicks")
    assert buttons(events) == expected
    # The drag's motion arrived with button 1 held, along the path.
    drag = [(e.x, e.y) for e in events if e.kind == "motion" and e.state & X.Button1Mask]
    assert [p for p in drag if p in {(120, 90), (140, 90), (160, 90)}] == [(120, 90), (140, 90), (160, 90)]


def test_ctrl_alt_del_arrives_as_a_combination(recorder: RecorderWindow, injector: InputInjector) -> None:
    assert injector.inject(PointerMove(300, 300))
    assert injector.inject(KeyCombo((Keysym.CONTROL_L, Keysym.ALT_L, Keysym.DELETE)))
    events = recorder.wait_for(lambda ev: sum(e.kind.startswith("key") for e in ev) >= 6, "the combination")
    keys_seen = [(e.kind, e.detail) for e in events if e.kind.startswith("key")]
    assert keys_seen == [
        ("key-press", 0xFFE3),
        ("key-press", 0xFFE9),
        ("key-press", 0xFFFF),
        ("key-release", 0xFFFF),
        ("key-release", 0xFFE9),
        ("key-release", 0xFFE3),
    ]
    delete = next(e for e in events if e.kind == "key-press" and e.detail == 0xFFFF)
    assert delete.state & X.ControlMask and delete.state & X.Mod1Mask


def test_click_in_a_scaled_view_of_the_second_monitor(
    xserver: XServer, capture: X11Capture, injector: InputInjector
) -> None:
    right = capture.select_monitor(1)
    injector.set_monitor(right)
    window = RecorderWindow(xserver.display, 1280 + 400, 300, 200, 100)
    try:
        # The viewer shows the 1024x768 monitor in a 640x640 widget: scale 0.625, 80-pixel bars top and bottom.
        view = ViewTransform.fit(640, 640, right.width, right.height)
        frame_point = view.to_frame(300.0, 80 + 220.0)  # view (300, 300) -> frame (480, 352)
        assert frame_point == (480, 352)
        assert injector.inject(ButtonPress(MouseButton.LEFT, *frame_point))
        assert injector.inject(ButtonRelease(MouseButton.LEFT, *frame_point))
        events = window.wait_for(lambda ev: any(e.kind == "button-release" for e in ev), "the click")
        # Frame (480, 352) is root (1760, 352), which is (80, 52) inside the window at (1680, 300).
        assert [(e.kind, e.x, e.y) for e in events if e.kind.startswith("button")] == [
            ("button-press", 80, 52),
            ("button-release", 80, 52),
        ]
    finally:
        window.close()


def test_out_of_range_events_never_reach_x(
    xserver: XServer, recorder: RecorderWindow, injector: InputInjector
) -> None:
    assert injector.inject(PointerMove(300, 300))
    recorder.settle(0.1)
    recorder.events.clear()
    root = recorder.d.screen().root
    # The left monitor is 1280x800: x=1280 would be the right monitor, y=800 below the screen.
    for event in (
        PointerMove(1280, 10),
        PointerMove(10, 800),
        ButtonPress(MouseButton.LEFT, 2000, 10),
        Wheel(0, 1, 65535, 65535),
    ):
        assert not injector.inject(event)
    assert recorder.settle(0.2) == []
    pointer = root.query_pointer()
    assert (pointer.root_x, pointer.root_y) == (300, 300)


def test_view_only_changes_nothing(
    xterm: XtermCat, xserver: XServer, recorder: RecorderWindow, injector: InputInjector
) -> None:
    assert injector.inject(PointerMove(300, 300))
    recorder.settle(0.1)
    recorder.events.clear()
    injector.set_view_only(True)
    hostile = [
        PointerMove(60, 60),
        ButtonPress(MouseButton.LEFT, 250, 200),
        ButtonRelease(MouseButton.LEFT, 250, 200),
        Wheel(0, 3, 250, 200),
        KeyPress(0x61),
        KeyRelease(0x61),
        TextInput("echo owned"),
        KeyCombo((Keysym.CONTROL_L, Keysym.ALT_L, Keysym.DELETE)),
    ]
    assert not any(injector.inject(e) for e in hostile)
    assert recorder.settle(0.2) == []
    pointer = recorder.d.screen().root.query_pointer()
    assert (pointer.root_x, pointer.root_y) == (300, 300)
    # The xterm got nothing either: once control is back, what is typed is all that cat wrote.
    injector.set_view_only(False)
    assert injector.inject(PointerMove(60, 60))
    keys(injector, "ok")
    tap(injector, Keysym.RETURN)
    end_cat(injector)
    assert xterm.result() == b"ok\n"


def test_typed_text_lands_in_a_qt_line_edit_exactly(xserver: XServer, injector: InputInjector) -> None:
    title = f"line-{time.monotonic_ns()}"
    env = {**xserver.env(), "QT_QPA_PLATFORM": "xcb"}
    script = Path(__file__).with_name("qt_line_edit.py")
    qt = subprocess.Popen(
        [sys.executable, str(script), "100", "500", title], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        xserver.run("xdotool", "search", "--sync", "--onlyvisible", "--name", title)
        assert injector.inject(ButtonPress(MouseButton.LEFT, 150, 520))
        assert injector.inject(ButtonRelease(MouseButton.LEFT, 150, 520))
        keys(injector, "Hi, A!")
        text = " 안녕하세요 OpenSupport! 가나다라마바사아자차카타파하거너더러머버서어저처커터퍼허"
        assert injector.inject(TextInput(text))
        tap(injector, Keysym.RETURN)
        out, _ = qt.communicate(timeout=10)
    finally:
        if qt.poll() is None:
            qt.kill()
            qt.wait()
    assert out == "Hi, A!" + text + "\n"
