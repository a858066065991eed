"""A :class:`SessionLink` on an event loop of its own, in a background thread.

The host's capture loop and the viewer's Qt GUI are threads of their own; they reach the link only through
:meth:`LinkThread.call` (which queues a function on the link's loop) and read the outcome once it ends.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

from ._driver import LinkResult, SessionLink

__all__ = ["LinkThread"]

log = logging.getLogger(__name__)


class LinkThread:
    """Runs ``link.run()`` on a new event loop in a daemon thread.

    ``on_end(result, error)`` is called on that thread when the session ends: ``result`` when it closed
    cleanly, ``error`` (the exception ``run`` raised) otherwise.
    """

    def __init__(
        self,
        link: SessionLink,
        *,
        on_end: Callable[[LinkResult | None, BaseException | None], None] | None = None,
        name: str = "opensupport-link",
    ) -> None:
        self.link = link
        self._on_end = on_end
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self.result: LinkResult | None = None
        self.error: BaseException | None = None
        self.ended = threading.Event()

    def start(self) -> None:
        """Start the thread and wait until its loop runs."""
        self._thread.start()
        self._ready.wait(5)

    def call(self, func: Callable[..., Any], *args: Any) -> bool:
        """Run ``func(*args)`` on the link's loop, soon; False if the loop is gone."""
        loop = self._loop
        if loop is None or loop.is_closed() or self.ended.is_set():
            return False
        try:
            loop.call_soon_threadsafe(func, *args)
        except RuntimeError:  # the loop closed meanwhile
            return False
        return True

    def stop(self, reason: str = "", timeout: float = 5.0) -> None:
        """Close the session with ``reason`` and wait for the thread to end."""
        self.call(self.link.close, reason)
        self.join(timeout)

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the session to end; True if it did."""
        return self.ended.wait(timeout)

    def _main(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        loop.call_soon(self._ready.set)
        try:
            self.result = loop.run_until_complete(self.link.run())
        except BaseException as exc:  # reported to on_end; the thread itself must end quietly
            self.error = exc
            log.info("session ended with %s: %s", type(exc).__name__, exc)
        finally:
            try:
                pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
                for task in pending:
                    task.cancel()
                if pending:
                    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            finally:
                loop.close()
            self.ended.set()
            if self._on_end is not None:
                try:
                    self._on_end(self.result, self.error)
                except Exception:
                    log.exception("the session end callback failed")
