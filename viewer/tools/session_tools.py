"""The viewer's support tools for one session, in one object the session loop talks to.

Create it on the GUI thread once the window exists: it puts the drawing layer and the Draw and Tools
menus on the window. ``send(event)`` must hand the event to the link without blocking (from any thread:
``lambda e: link_thread.call(link.send, e)``). The session loop calls :meth:`ViewerTools.handle` for
every event it does not handle itself and :meth:`ViewerTools.on_screen_update` for every screen update.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from opensupport.protocol import Event, KeyframeRequest
from opensupport.tools.urls import Favourite

from .capture import ScreenCapture
from .client import ToolClient, ViewerDrawing
from .drawing_layer import DrawingLayer, attach_drawing_layer
from .panels import SupportToolsMenu

if TYPE_CHECKING:
    from opensupport.viewer.ui.window import ViewerWindow

__all__ = ["ViewerTools"]


class ViewerTools:
    """Tool client, drawing, screenshot and recording of one viewer session (see the module docstring)."""

    def __init__(
        self, window: ViewerWindow, send: Callable[[Event], object], favourites: Sequence[Favourite] = ()
    ) -> None:
        self.client = ToolClient(send)
        self.drawing = ViewerDrawing(send)
        self.capture = ScreenCapture(
            self.client, window.model.store.snapshot, lambda reason: send(KeyframeRequest(reason))
        )
        self.layer: DrawingLayer = attach_drawing_layer(window, self.drawing, self.client)
        self.menu = SupportToolsMenu(window, self.client, self.capture, favourites)

    def handle(self, event: Event) -> bool:
        """A tool answer, the host's allowed tools, or the customer's drawing; False for other events."""
        return self.client.handle(event) or self.drawing.handle(event)

    def on_screen_update(self, data: bytes, keyframe: bool) -> None:
        """Every screen update (a running recording keeps it)."""
        self.capture.on_screen_update(data, keyframe)

    def close(self) -> None:
        """Finish a running recording."""
        self.capture.stop_recording()
