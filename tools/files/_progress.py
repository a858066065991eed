"""Progress with speed and time left, the model both UIs display."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

__all__ = ["Progress", "format_duration", "format_size"]

#: Seconds of history the speed is averaged over: long enough to be steady, short enough to follow a
#: change of link.
SPEED_WINDOW = 3.0


@dataclass
class Progress:
    """Bytes done out of ``total``; :meth:`update` with the running total and a monotonic time."""

    total: int
    done: int = 0
    _samples: deque[tuple[float, int]] = field(default_factory=deque, repr=False)

    def update(self, done: int, now: float) -> None:
        """Record that ``done`` bytes are complete at time ``now`` (seconds, monotonic)."""
        self.done = done
        self._samples.append((now, done))
        while len(self._samples) > 2 and now - self._samples[1][0] >= SPEED_WINDOW:
            self._samples.popleft()

    @property
    def fraction(self) -> float:
        """0.0 .. 1.0 (1.0 for an empty batch)."""
        return 1.0 if self.total <= 0 else min(1.0, self.done / self.total)

    @property
    def speed(self) -> float:
        """Bytes per second over the last few seconds (0 until two samples exist)."""
        if len(self._samples) < 2:
            return 0.0
        (t0, d0), (t1, d1) = self._samples[0], self._samples[-1]
        return (d1 - d0) / (t1 - t0) if t1 > t0 else 0.0

    @property
    def eta(self) -> float | None:
        """Seconds left at the current speed; None while the speed is unknown."""
        speed = self.speed
        if self.done >= self.total:
            return 0.0
        return (self.total - self.done) / speed if speed > 0 else None


def format_size(size: float) -> str:
    """``1.5 MB`` style (decimal units, as file managers show)."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(size) < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")  # pragma: no cover


def format_duration(seconds: float | None) -> str:
    """``1:05`` / ``1:02:03``; ``--:--`` when unknown."""
    if seconds is None:
        return "--:--"
    s = int(seconds + 0.5)
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
