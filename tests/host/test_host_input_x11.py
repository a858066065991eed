"""Input replay against real X programs on Xvfb: an xterm running ``cat > file`` and a recording window."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from host_x import XServer, XtermCat
from opensupport.host.events import KeyPress, KeyRelease, Keysym, PointerMove, TextInput, keysym_for_char
from opensupport.host.input import InputInjector

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
