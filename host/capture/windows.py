"""The customer's top-level windows with their titles, for 부분공유's picker (X11).

With a window manager the clients are those of ``_NET_CLIENT_LIST_STACKING`` (or ``_NET_CLIENT_LIST``);
without one (bare X servers, Xvfb) they are the root's mapped children that are not override-redirect
(menus, tooltips and overlays are) — looking one level down for a client inside a reparenting manager's
frame that publishes no list. The titles come from ``_NET_WM_NAME`` (UTF-8) or ``WM_NAME``. Windows of
this very process (the applet, its overlays) are left out: sharing the applet makes no sense.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from Xlib import X, Xatom
from Xlib.error import XError

from .._x11 import open_display
from ..errors import CaptureError
from ._base import Rect

__all__ = ["TopLevelWindow", "list_windows", "screen_rect"]


@dataclass(frozen=True)
class TopLevelWindow:
    """One window the customer may share: its X id, its title and where it is (root coordinates)."""

    window_id: int
    title: str
    rect: Rect


def screen_rect(display: str | None = None) -> Rect:
    """The whole X screen (every monitor) in root coordinates. Raises X11Unavailable without X."""
    d = open_display(display)
    try:
        geometry = d.screen().root.get_geometry()
        return Rect(0, 0, geometry.width, geometry.height)
    finally:
        d.close()


def list_windows(display: str | None = None) -> list[TopLevelWindow]:
    """The viewable, titled top-level windows, topmost first. Raises X11Unavailable without X,
    CaptureError if the X connection fails while reading them."""
    d = open_display(display)
    try:
        root = d.screen().root
        clients = _managed_clients(d, root)
        if clients is None:
            clients = _unmanaged_clients(d, root)
        found: list[TopLevelWindow] = []
        for window in clients:
            described = _describe(d, root, window)
            if described is not None:
                found.append(described)
        return found
    except CaptureError:
        raise
    except Exception as exc:  # python-xlib raises connection and protocol errors alike
        raise CaptureError(f"cannot list the windows: {exc}") from exc
    finally:
        d.close()


def _managed_clients(d: Any, root: Any) -> list[Any] | None:
    """The window manager's clients, topmost first; None when no manager publishes them."""
    for name in ("_NET_CLIENT_LIST_STACKING", "_NET_CLIENT_LIST"):
        prop = root.get_full_property(d.intern_atom(name), X.AnyPropertyType)
        if prop is not None and len(prop.value):
            ids = [int(v) for v in prop.value]
            if name == "_NET_CLIENT_LIST_STACKING":
                ids.reverse()  # the property lists bottom to top
            return [d.create_resource_object("window", i) for i in ids]
    return None


def _unmanaged_clients(d: Any, root: Any) -> list[Any]:
    wm_state = d.intern_atom("WM_STATE")
    clients: list[Any] = []
    for child in reversed(root.query_tree().children):  # query_tree lists bottom to top
        try:
            attributes = child.get_attributes()
            if attributes.override_redirect or attributes.map_state != X.IsViewable:
                continue
            if child.get_full_property(wm_state, X.AnyPropertyType) is not None or _title(d, child):
                clients.append(child)
                continue
            # A frame of a reparenting manager: its client carries WM_STATE.
            inner = next(
                (
                    c
                    for c in child.query_tree().children
                    if c.get_full_property(wm_state, X.AnyPropertyType) is not None
                ),
                None,
            )
            if inner is not None:
                clients.append(inner)
        except XError:  # the window vanished while we looked (BadWindow)
            continue
    return clients


def _title(d: Any, window: Any) -> str:
    prop = window.get_full_property(d.intern_atom("_NET_WM_NAME"), d.intern_atom("UTF8_STRING"))
    if prop is not None and prop.value:
        value = prop.value
        return (value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)).strip()
    prop = window.get_full_property(Xatom.WM_NAME, X.AnyPropertyType)
    if prop is not None and prop.value:
        value = prop.value
        # WM_NAME is STRING (Latin-1) or COMPOUND_TEXT; Latin-1 never fails and keeps ASCII titles exact.
        return (value.decode("latin-1") if isinstance(value, bytes) else str(value)).strip()
    return ""


def _describe(d: Any, root: Any, window: Any) -> TopLevelWindow | None:
    try:
        if window.get_attributes().map_state != X.IsViewable:
            return None  # minimised or withdrawn: cropping its place would show what lies there instead
        pid = window.get_full_property(d.intern_atom("_NET_WM_PID"), Xatom.CARDINAL)
        if pid is not None and len(pid.value) and int(pid.value[0]) == os.getpid():
            return None
        title = _title(d, window)
        if not title:
            return None
        geometry = window.get_geometry()
        origin = window.translate_coords(root, 0, 0)  # the root's origin in the window: minus its place
    except XError:  # the window vanished while we looked (BadWindow)
        return None
    if geometry.width <= 0 or geometry.height <= 0:
        return None
    return TopLevelWindow(window.id, title[:200], Rect(-origin.x, -origin.y, geometry.width, geometry.height))
