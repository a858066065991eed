"""The session code read to the customer, and the guard that counts failed guesses of it.

A code reads ``<routing id>-<secret>``, e.g. ``K7QM2X-48213907``. The relay and the server only ever see
the routing id; the secret never leaves the two ends, where it is the SPAKE2 password.

Entropy: the secret is :data:`SECRET_DIGITS` (8) decimal digits, 10**8 values or 26.6 bits. That is small
on purpose (it is read over the phone), and it is safe only because SPAKE2 gives an attacker one guess per
handshake and nothing to test offline, while :class:`CodeGuard` kills the code after
:data:`MAX_CODE_FAILURES` (5) failed handshakes: an attacker wins with probability 5 / 10**8.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from ._errors import CodeDead

#: Digits in the secret half of a session code (10**8 values, 26.6 bits).
SECRET_DIGITS = 8
#: Failed handshakes after which a code is dead.
MAX_CODE_FAILURES = 5
#: Bounds of the routing id (the relay contract: ASCII letters, digits and '-', 1..32 bytes).
MAX_ROUTING_ID_LENGTH = 32
#: Length of generated routing ids.
GENERATED_ROUTING_ID_LENGTH = 6
#: Letters and digits that cannot be mistaken for each other when read aloud or typed (no 0/O, 1/I/L, U/V).
ROUTING_ALPHABET = "23456789ABCDEFGHJKMNPQRSTWXYZ"

_ROUTING_ID = re.compile(rf"[A-Za-z0-9-]{{1,{MAX_ROUTING_ID_LENGTH}}}")


@dataclass(frozen=True)
class SessionCode:
    """A session code: ``routing_id`` (upper-case, seen by the relay) and ``secret`` (digits, never sent).

    Routing ids are case-insensitive; the canonical form is upper-case so that a code typed in lower case
    still reaches the same relay slot.
    """

    routing_id: str
    secret: str

    def __post_init__(self) -> None:
        if not isinstance(self.routing_id, str) or not _ROUTING_ID.fullmatch(self.routing_id):
            raise ValueError("routing id must be 1..32 ASCII letters, digits or '-'")
        if self.routing_id != self.routing_id.upper():
            raise ValueError("routing id must be upper-case (use SessionCode.parse to normalise)")
        if not isinstance(self.secret, str) or not re.fullmatch(rf"[0-9]{{{SECRET_DIGITS}}}", self.secret):
            raise ValueError(f"secret must be exactly {SECRET_DIGITS} digits")

    @classmethod
    def generate(cls, routing_id: str | None = None) -> SessionCode:
        """A new code with a random secret (and a random routing id unless one is given).

        Raises ValueError if ``routing_id`` is not a valid routing id.
        """
        if routing_id is None:
            routing_id = "".join(secrets.choice(ROUTING_ALPHABET) for _ in range(GENERATED_ROUTING_ID_LENGTH))
        secret = "".join(secrets.choice("0123456789") for _ in range(SECRET_DIGITS))
        return cls(routing_id.upper(), secret)

    @classmethod
    def parse(cls, text: str) -> SessionCode:
        """Parse a code as a person typed it: surrounding blanks and blanks inside the secret are ignored,
        the routing id is upper-cased. The secret is the part after the last '-'.

        Raises ValueError with a message fit for the user if the text is not a session code.
        """
        text = text.strip()
        routing_id, sep, secret = text.rpartition("-")
        secret = "".join(secret.split())
        if not sep or not routing_id:
            raise ValueError("a session code looks like ABC123-12345678")
        return cls(routing_id.strip().upper(), secret)

    def __str__(self) -> str:
        return f"{self.routing_id}-{self.secret}"

    def __repr__(self) -> str:
        # The secret must not end up in logs.
        return f"SessionCode(routing_id={self.routing_id!r}, secret=<{len(self.secret)} digits>)"


class CodeGuard:
    """Counts failed handshakes for one session code; after :data:`MAX_CODE_FAILURES` the code is dead.

    Keep one guard per code across connection attempts and pass it to every :class:`Session` made with
    that code. The viewer (which made the code) must do so; the host may. A failure is counted when key
    confirmation fails, and also when a handshake that already sent its confirmation is abandoned before
    the peer's confirmation arrives (an attacker who guessed and hung up still spent a guess).
    """

    def __init__(self, max_failures: int = MAX_CODE_FAILURES) -> None:
        if not 1 <= max_failures <= MAX_CODE_FAILURES:
            raise ValueError(f"max_failures must be 1..{MAX_CODE_FAILURES}")
        self.max_failures = max_failures
        self.failures = 0

    @property
    def dead(self) -> bool:
        """True once the code has failed ``max_failures`` times."""
        return self.failures >= self.max_failures

    @property
    def remaining(self) -> int:
        """Handshakes that may still fail before the code is dead."""
        return max(0, self.max_failures - self.failures)

    def check(self) -> None:
        """Raise :class:`CodeDead` if the code is dead."""
        if self.dead:
            raise CodeDead(
                f"the session code failed {self.failures} times and is dead: make a new code "
                "(the viewer tells the relay to retire the routing id with a kill JOIN)"
            )

    def record_failure(self) -> None:
        """Count one failed guess."""
        self.failures += 1
