"""Passwords, tokens and login throttling.

Passwords are hashed with argon2id (argon2-cffi's defaults, RFC 9106 low-memory profile). A login for an
unknown ID verifies against a dummy hash, so it costs as long as a wrong password and the response time
does not tell which IDs exist. API tokens are random and stored only as SHA-256 digests.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()  # argon2id
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def configure_hasher(*, time_cost: int, memory_cost: int, parallelism: int = 1) -> None:
    """Change the cost of new argon2id hashes (existing hashes keep their own parameters).

    Only the test suite lowers it, to stay fast on a loaded machine; the server uses argon2-cffi's defaults.
    """
    global _hasher, _DUMMY_HASH
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)
    _DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    """The argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``; with ``None`` (unknown user) it burns the same time."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def new_token() -> tuple[str, str]:
    """A fresh random token and the digest to store in its place."""
    token = secrets.token_urlsafe(32)
    return token, token_digest(token)


def token_digest(token: str) -> str:
    """The SHA-256 hex digest under which a token is stored."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class LoginThrottle:
    """Growing delays after failed logins, per account and per client address.

    After ``free_failures`` failures in a row a key must wait ``base_delay * 2**(n - free_failures)``
    seconds (capped at ``max_delay``) after its last failure before the next attempt is even checked;
    a success clears the account's count. State is kept in this process's memory: a restart forgives.
    """

    def __init__(
        self,
        *,
        free_failures: int = 3,
        base_delay: float = 1.0,
        max_delay: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.free_failures = free_failures
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.clock = clock
        self._failures: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def _delay(self, count: int, free: int) -> float:
        if count < free:
            return 0.0
        return min(self.base_delay * 2 ** (count - free), self.max_delay)

    def retry_after(self, key: str, *, free_failures: int | None = None) -> float:
        """Seconds before ``key`` may try again (0 when it may try now)."""
        free = self.free_failures if free_failures is None else free_failures
        with self._lock:
            entry = self._failures.get(key)
        if entry is None:
            return 0.0
        count, last = entry
        return max(0.0, last + self._delay(count, free) - self.clock())

    def failed(self, key: str) -> None:
        """Count one failure for ``key``."""
        now = self.clock()
        with self._lock:
            count, _last = self._failures.get(key, (0, now))
            self._failures[key] = (count + 1, now)
            if len(self._failures) > 100_000:
                self._forget_old(now)

    def succeeded(self, key: str) -> None:
        """Clear ``key``'s failures."""
        with self._lock:
            self._failures.pop(key, None)

    def _forget_old(self, now: float) -> None:
        horizon = 2 * self.max_delay
        for key in [k for k, (_c, last) in self._failures.items() if now - last > horizon]:
            del self._failures[key]
