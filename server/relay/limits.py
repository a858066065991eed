"""Token buckets: bandwidth shaping by delay, and the per-address JOIN rate limit."""

from __future__ import annotations

import time


class TokenBucket:
    """A token bucket that may go into debt: taking more than is there returns how long to wait.

    Charging first and waiting afterwards keeps one reader's messages in order and lets a message larger
    than the burst through (after a proportionally longer wait) instead of blocking it forever.
    """

    __slots__ = ("_burst", "_rate", "_stamp", "_tokens")

    def __init__(self, rate: float, burst: float) -> None:
        if rate <= 0 or burst <= 0:
            raise ValueError("rate and burst must be positive")
        self._rate = float(rate)
        self._burst = float(burst)
        self._tokens = float(burst)
        self._stamp = time.monotonic()

    def _refill(self, now: float) -> None:
        self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self._rate)
        self._stamp = now

    def charge(self, amount: float) -> float:
        """Take ``amount`` tokens; returns the seconds to wait before the taken amount is covered (0 if none)."""
        self._refill(time.monotonic())
        self._tokens -= amount
        return 0.0 if self._tokens >= 0 else -self._tokens / self._rate

    def try_take(self, amount: float = 1.0) -> bool:
        """Take ``amount`` tokens if they are there; never goes into debt."""
        self._refill(time.monotonic())
        if self._tokens >= amount:
            self._tokens -= amount
            return True
        return False

    def is_full(self) -> bool:
        """True when the bucket has refilled completely (its state is then the same as a fresh one)."""
        self._refill(time.monotonic())
        return self._tokens >= self._burst


class JoinRateLimiter:
    """One token bucket per client address; full buckets are forgotten so memory stays bounded."""

    def __init__(self, per_minute: float, burst: int) -> None:
        self._rate = per_minute / 60.0
        self._burst = burst
        self._buckets: dict[str, TokenBucket] = {}

    def allow(self, address: str) -> bool:
        """Count one JOIN from ``address``; False when it is over the limit."""
        if self._rate <= 0:
            return True
        bucket = self._buckets.get(address)
        if bucket is None:
            bucket = self._buckets[address] = TokenBucket(self._rate, self._burst)
        return bucket.try_take()

    def sweep(self) -> None:
        """Forget addresses whose bucket is full again."""
        for address in [a for a, b in self._buckets.items() if b.is_full()]:
            del self._buckets[address]

    def __len__(self) -> int:
        return len(self._buckets)
