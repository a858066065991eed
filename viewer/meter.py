"""Rolling measurements for the viewer's status line: frames per second, latency, bandwidth.

The decode worker records each decoded update (from its thread); the GUI reads a ``Stats`` snapshot a few
times a second. Latency samples come from whoever can measure them (the session's ping or the host's
capture timestamps, wired at integration); until then the status line says it has none.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Stats", "StatsMeter", "format_bandwidth", "format_status"]


@dataclass(frozen=True)
class Stats:
    """One reading of the meter."""

    fps: float
    #: Received encoded bytes per second.
    bandwidth_bps: float
    #: Median latency over the window in milliseconds, None without samples.
    latency_ms: float | None
    frames_total: int
    bytes_total: int


class StatsMeter:
    """Frames, bytes and latency samples over a rolling time window; safe to use from several threads."""

    def __init__(self, window_s: float = 2.0, clock: Callable[[], float] = time.monotonic) -> None:
        if not window_s > 0:
            raise ValueError(f"window must be positive, got {window_s}")
        self.window_s = window_s
        self._clock = clock
        self._lock = threading.Lock()
        self._started = clock()
        self._frames: deque[tuple[float, int]] = deque()
        self._latencies: deque[tuple[float, float]] = deque()
        self._frames_total = 0
        self._bytes_total = 0

    def _expire(self, now: float) -> None:
        horizon = now - self.window_s
        while self._frames and self._frames[0][0] <= horizon:
            self._frames.popleft()
        while self._latencies and self._latencies[0][0] <= horizon:
            self._latencies.popleft()

    def record_frame(self, encoded_bytes: int) -> None:
        """Count one decoded update of ``encoded_bytes`` bytes. Raises ValueError for a negative size."""
        if encoded_bytes < 0:
            raise ValueError("negative size")
        now = self._clock()
        with self._lock:
            self._frames.append((now, encoded_bytes))
            self._frames_total += 1
            self._bytes_total += encoded_bytes
            self._expire(now)

    def record_latency(self, seconds: float) -> None:
        """Add one latency sample. Raises ValueError for a negative or non-finite value."""
        if not 0 <= seconds < float("inf"):
            raise ValueError(f"bad latency {seconds}")
        now = self._clock()
        with self._lock:
            self._latencies.append((now, seconds))
            self._expire(now)

    def read(self) -> Stats:
        """The rates over the last window (or since the meter started, when that is shorter)."""
        now = self._clock()
        with self._lock:
            self._expire(now)
            span = min(self.window_s, now - self._started)
            count = len(self._frames)
            nbytes = sum(n for _, n in self._frames)
            latencies = sorted(s for _, s in self._latencies)
            frames_total, bytes_total = self._frames_total, self._bytes_total
        fps = count / span if span > 0 else 0.0
        bandwidth = nbytes / span if span > 0 else 0.0
        latency_ms = None
        if latencies:
            mid = len(latencies) // 2
            median = latencies[mid] if len(latencies) % 2 else (latencies[mid - 1] + latencies[mid]) / 2
            latency_ms = median * 1000.0
        return Stats(fps, bandwidth, latency_ms, frames_total, bytes_total)


def format_bandwidth(bytes_per_s: float) -> str:
    """ "812 kB/s", "3.4 MB/s": decimal units, as network rates are usually given."""
    if bytes_per_s < 1000:
        return f"{bytes_per_s:.0f} B/s"
    if bytes_per_s < 1_000_000:
        return f"{bytes_per_s / 1000:.0f} kB/s"
    return f"{bytes_per_s / 1_000_000:.1f} MB/s"


def format_status(stats: Stats, mode_label: str, view_only: bool, frame_size: tuple[int, int]) -> str:
    """The status line: "30.0 fps · latency 12 ms · 1.2 MB/s · fit · 1920×1080 · view only"."""
    latency = "latency –" if stats.latency_ms is None else f"latency {stats.latency_ms:.0f} ms"
    parts = [f"{stats.fps:.1f} fps", latency, format_bandwidth(stats.bandwidth_bps), mode_label]
    if frame_size != (0, 0):
        parts.append(f"{frame_size[0]}×{frame_size[1]}")
    if view_only:
        parts.append("view only")
    return " · ".join(parts)
