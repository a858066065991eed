"""Shared python-xlib plumbing of the X11 backends: opening a display and catching its asynchronous errors.

Each backend (capture, cursor, input) opens its own connection: python-xlib connections are not thread-safe,
and the three run on different threads of the host.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from .errors import X11Unavailable


def open_display(name: str | None) -> Any:
    """Open an X connection to ``name`` (``None``: the ``DISPLAY`` environment variable).

    Raises X11Unavailable when python-xlib is missing or the display cannot be opened.
    """
    try:
        import Xlib.display
        import Xlib.error
    except ImportError as exc:  # pragma: no cover - the host extra installs python-xlib
        raise X11Unavailable("python-xlib is not installed: install opensupport[host]") from exc
    try:
        return Xlib.display.Display(name)
    except (Xlib.error.DisplayError, OSError) as exc:
        raise X11Unavailable(f"cannot open X display {name or '$DISPLAY'!r}: {exc}") from exc
    except Exception as exc:  # python-xlib trips over some servers' extension event numbering
        raise X11Unavailable(f"python-xlib cannot use X display {name or '$DISPLAY'!r}: {exc!r}") from exc


class ErrorTrap:
    """Collects the X errors of requests that have no reply (they arrive asynchronously)."""

    def __init__(self, display: Any) -> None:
        self.display = display
        self.errors: list[Any] = []
        display.set_error_handler(self._handler)

    def _handler(self, error: Any, request: Any) -> None:
        self.errors.append(error)

    @contextlib.contextmanager
    def checked(self, what: str, exc_type: type[Exception]) -> Iterator[None]:
        """Run the requests of the block, make a round trip, and raise ``exc_type`` if any failed.

        Blocks may nest: each one reports the errors that arrived while it ran.
        """
        start = len(self.errors)
        yield
        self.display.sync()
        if len(self.errors) > start:
            first = self.errors[start]
            del self.errors[start:]
            raise exc_type(f"{what}: the X server refused it ({first.__class__.__name__})")
