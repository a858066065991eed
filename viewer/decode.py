"""Decoding off the GUI thread.

Theory of operation: the session hands each encoded screen update to ``DecodeWorker.submit``; one worker
thread calls ``Decoder.decode`` (which mutates the decoder's own framebuffer in place) under the display
``FrameStore``'s lock, the store showing that very framebuffer (no copy; see ``viewer.display``), and
reports a ``FrameUpdate`` through a callback. The Qt layer's callback emits a signal, so the GUI thread receives the
updates in order and repaints only their rectangles; the paint reads the store under the same lock, so it
never sees half an update, whatever the decoder is doing at that moment.

The queue of pending updates is bounded (``max_pending``): when the GUI and the decoder fall behind, the
caller of ``submit`` waits, which pushes back on the network reader instead of growing memory. Updates are
never dropped: they are deltas, and losing one would corrupt the picture until the next keyframe.
"""

from __future__ import annotations

import functools
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from .display import FrameStore
from .meter import StatsMeter

__all__ = ["DecodeFailure", "DecodeWorker", "FrameDecoder", "FrameUpdate"]

log = logging.getLogger(__name__)

#: Encoded updates waiting for the decoder; beyond this ``submit`` blocks.
DEFAULT_MAX_PENDING = 8


class FrameDecoder(Protocol):
    """What the worker needs of ``opensupport.codec.Decoder``."""

    def decode(self, data: bytes) -> tuple[np.ndarray, Sequence[Any]]:
        """Apply one encoded update; return the framebuffer and the changed rects (x, y, w, h)."""
        ...


@dataclass(frozen=True)
class FrameUpdate:
    """One decoded update, as the GUI thread receives it."""

    #: 1, 2, 3... in submission order.
    sequence: int
    #: The changed rectangles (x, y, w, h) in frame pixels; the whole frame after a resize.
    rects: tuple[tuple[int, int, int, int], ...]
    #: The remote screen changed size (a keyframe of another size): repaint everything.
    resized: bool
    width: int
    height: int
    encoded_size: int


@dataclass(frozen=True)
class DecodeFailure:
    """An update the decoder refused; the picture is unchanged and needs a keyframe to resynchronise."""

    sequence: int
    error: Exception


class DecodeWorker:
    """A thread that decodes updates in order and publishes them into a ``FrameStore``."""

    def __init__(
        self,
        decoder: FrameDecoder,
        store: FrameStore,
        on_update: Callable[[FrameUpdate], None],
        on_failure: Callable[[DecodeFailure], None],
        *,
        meter: StatsMeter | None = None,
        max_pending: int = DEFAULT_MAX_PENDING,
    ) -> None:
        if max_pending < 1:
            raise ValueError("max_pending must be at least 1")
        self._decoder = decoder
        self._store = store
        self._on_update = on_update
        self._on_failure = on_failure
        self._meter = meter
        self._queue: queue.Queue[tuple[int, bytes] | None] = queue.Queue(maxsize=max_pending)
        self._sequence = 0
        self._submit_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="opensupport-decode", daemon=True)
        self._stopped = False

    def start(self) -> None:
        """Start the worker thread."""
        self._thread.start()

    def submit(self, data: bytes, timeout: float | None = None) -> int:
        """Queue one encoded update; returns its sequence number.

        Blocks while ``max_pending`` updates wait. Raises RuntimeError after ``stop`` and queue.Full when
        ``timeout`` passes first (the update is then not queued).
        """
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError("an encoded update is bytes")
        with self._submit_lock:
            if self._stopped:
                raise RuntimeError("the decode worker is stopped")
            sequence = self._sequence + 1
            self._queue.put((sequence, bytes(data)), timeout=timeout)
            self._sequence = sequence
        return sequence

    def stop(self, timeout: float = 5.0) -> None:
        """Decode what is queued, then end the thread. Raises TimeoutError if it does not end in time."""
        with self._submit_lock:
            if self._stopped:
                return
            self._stopped = True
        if not self._thread.is_alive():
            return
        try:
            self._queue.put(None, timeout=timeout)
        except queue.Full:
            raise TimeoutError("the decode worker did not stop") from None
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise TimeoutError("the decode worker did not stop")

    def _report(self, callback: Callable[[Any], None], report: FrameUpdate | DecodeFailure) -> None:
        # A failing receiver (a window being destroyed, a bug) must not kill the thread: the session would
        # then block on a full queue.
        try:
            callback(report)
        except Exception:
            log.exception("the receiver of update %d failed", report.sequence)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            sequence, data = item
            try:
                framebuffer, rects, resized = self._store.decode(
                    functools.partial(self._decoder.decode, data)
                )
            except Exception as exc:  # the codec raises CodecError; anything else is reported the same way
                log.warning("update %d not decoded: %s", sequence, exc)
                self._report(self._on_failure, DecodeFailure(sequence, exc))
                continue
            height, width = int(framebuffer.shape[0]), int(framebuffer.shape[1])
            if self._meter is not None:
                self._meter.record_frame(len(data))
            published = (
                ((0, 0, width, height),)
                if resized
                else tuple((int(r[0]), int(r[1]), int(r[2]), int(r[3])) for r in rects)
            )
            self._report(self._on_update, FrameUpdate(sequence, published, resized, width, height, len(data)))
