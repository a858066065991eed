"""The agent's viewer: the remote screen, keyboard and pointer capture, the window.

A GUI-free core (``display``: framebuffer, view transform, monitors; ``input``: the input controller;
``events``: the outgoing input events and the ``InputSink`` interface; ``decode``: decoding off the GUI
thread; ``meter``: the status line's rates) and a thin Qt layer in ``viewer.ui``. Importing this package
does not import Qt.
"""

from .display import CursorImage, DisplayModel, FrameStore, Monitor, MonitorLayout, ViewMode, ViewTransform
from .events import InputError, InputEvent, InputSink
from .input import SEND_KEYS, InputController, KeyCombination

__all__ = [
    "SEND_KEYS",
    "CursorImage",
    "DisplayModel",
    "FrameStore",
    "InputController",
    "InputError",
    "InputEvent",
    "InputSink",
    "KeyCombination",
    "Monitor",
    "MonitorLayout",
    "ViewMode",
    "ViewTransform",
]
