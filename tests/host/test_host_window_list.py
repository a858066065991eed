"""부분공유's window list on a real Xvfb: the titled top-level windows with their places, without a window
manager (the root's children) and with one's ``_NET_CLIENT_LIST`` (published here as a manager would)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from host_x import SolidWindow, XServer, XtermCat, wait_until
from opensupport.host.capture import Rect
from opensupport.host.capture.windows import list_windows, screen_rect
from Xlib import X, Xatom, display

pytestmark = pytest.mark.xvfb


class TitledWindow:
    """A plain top-level window (not override-redirect) with a WM_NAME or a UTF-8 _NET_WM_NAME."""

    def __init__(self, server: XServer, x: int, y: int, w: int, h: int, title: str, *, utf8: bool = False):
        self.d = display.Display(server.display)
        screen = self.d.screen()
        self.window: Any = screen.root.create_window(
            x, y, w, h, 0, screen.root_depth, X.InputOutput, X.CopyFromParent, background_pixel=0x808080
        )
        if utf8:
            utf8_string = self.d.intern_atom("UTF8_STRING")
            self.window.change_property(
                self.d.intern_atom("_NET_WM_NAME"), utf8_string, 8, title.encode("utf-8")
            )
        else:
            self.window.set_wm_name(title)
        self.d.sync()

    def map(self) -> TitledWindow:
        self.window.map()
        self.d.sync()
        return self

    def close(self) -> None:
        self.window.destroy()
        self.d.sync()
        self.d.close()


@pytest.fixture
def windows(xserver: XServer) -> Iterator[list[Any]]:
    made: list[Any] = []
    yield made
    for window in made:
        window.close()


def by_title(found: list[Any]) -> dict[str, Rect]:
    return {w.title: w.rect for w in found}


def test_without_a_window_manager_the_titled_mapped_windows_are_listed(
    xserver: XServer, windows: list[Any], tmp_path: Path
) -> None:
    xterm = XtermCat(xserver, tmp_path, x=40, y=30)
    try:
        windows.append(TitledWindow(xserver, 300, 200, 160, 90, "plain window").map())
        windows.append(TitledWindow(xserver, 1400, 100, 120, 80, "상담 창", utf8=True).map())
        windows.append(TitledWindow(xserver, 500, 500, 50, 50, "never mapped"))
        menu = SolidWindow(xserver.display, 700, 300, 60, 60, 0xFF00FF)  # override-redirect, like a menu
        windows.append(menu)
        menu.window.set_wm_name("a menu")
        menu.d.sync()
        found = by_title(list_windows(xserver.display))
        title = xterm.proc.args[3]
        assert found["plain window"] == Rect(300, 200, 160, 90)
        assert found["상담 창"] == Rect(1400, 100, 120, 80)
        assert found[title][:2] in ((40, 30), (41, 31)) and found[title].w > 100  # inside its border
        # Neither the unmapped nor the override-redirect window (other tests' windows may come and go).
        assert "never mapped" not in found and "a menu" not in found
    finally:
        xterm.close()
    wait_until(lambda: title not in by_title(list_windows(xserver.display)), what="the xterm to go")
    assert screen_rect(xserver.display) == Rect(0, 0, 2304, 800)


def test_a_window_managers_client_list_rules_topmost_first(xserver: XServer, windows: list[Any]) -> None:
    first = TitledWindow(xserver, 10, 10, 100, 100, "first").map()
    second = TitledWindow(xserver, 200, 10, 100, 100, "second").map()
    third = TitledWindow(xserver, 400, 10, 100, 100, "third").map()
    windows += [first, second, third]
    root = first.d.screen().root
    stacking = first.d.intern_atom("_NET_CLIENT_LIST_STACKING")
    try:
        # A manager manages "first" and "third" only, "third" at the bottom of its stacking order.
        root.change_property(stacking, Xatom.WINDOW, 32, [third.window.id, first.window.id])
        first.d.sync()
        listed = list_windows(xserver.display)
        assert [w.title for w in listed] == ["first", "third"]
        assert [w.window_id for w in listed] == [first.window.id, third.window.id]
    finally:
        root.delete_property(stacking)
        first.d.sync()
    # Without the list: the root's children, topmost (last mapped) first; other tests' windows filtered.
    mine = {"first", "second", "third"}
    assert [w.title for w in list_windows(xserver.display) if w.title in mine] == ["third", "second", "first"]
