"""An in-memory pair of sessions for tests (in the style of h11's ConnectionPair).

Records move between the two sessions synchronously; ``tap`` lets a test play the relay: it sees every
record (``wire`` keeps them all, to check that nothing is in plaintext) and may alter, drop or duplicate it.
"""

from __future__ import annotations

from collections.abc import Callable

from ._code import CodeGuard, SessionCode
from ._events import NEED_DATA, Event
from ._session import Session
from ._states import Role

#: A relay hook: (sending role, record) -> the records actually delivered to the other side.
Tap = Callable[[Role, bytes], list[bytes]]


class ConnectionPair:
    """A host and a viewer session joined by an in-memory link."""

    def __init__(
        self,
        code: SessionCode | None = None,
        *,
        host_code: SessionCode | None = None,
        viewer_guard: CodeGuard | None = None,
        host_guard: CodeGuard | None = None,
        **options: int,
    ) -> None:
        self.code = code if code is not None else SessionCode.generate()
        self.viewer_guard = viewer_guard if viewer_guard is not None else CodeGuard()
        self.host_guard = host_guard if host_guard is not None else CodeGuard()
        self.host = Session(Role.HOST, host_code or self.code, guard=self.host_guard, **options)
        self.viewer = Session(Role.VIEWER, self.code, guard=self.viewer_guard, **options)
        self.events: dict[Role, list[Event]] = {Role.HOST: [], Role.VIEWER: []}
        self.wire: list[tuple[Role, bytes]] = []
        self.tap: Tap | None = None

    def session(self, role: Role) -> Session:
        """The session of ``role``."""
        return self.host if role is Role.HOST else self.viewer

    def drain(self, role: Role) -> list[Event]:
        """Collect every event ``role``'s session has ready; returns the new ones (also kept in ``events``)."""
        session = self.session(role)
        new: list[Event] = []
        while True:
            event = session.next_event()
            if event is NEED_DATA:
                break
            assert isinstance(event, Event)
            new.append(event)
        self.events[role].extend(new)
        return new

    def deliver(self, to: Role, records: list[bytes]) -> None:
        """Feed ``records`` to ``to`` one by one, draining its events after each."""
        for record in records:
            self.session(to).receive_data(record)
            self.drain(to)

    def transfer(self, sender: Role, max_records: int | None = None) -> int:
        """Move up to ``max_records`` records from ``sender`` to its peer; returns how many were pulled."""
        records = self.session(sender).data_to_send(max_records)
        receiver = Role.VIEWER if sender is Role.HOST else Role.HOST
        for record in records:
            self.wire.append((sender, record))
            delivered = self.tap(sender, record) if self.tap is not None else [record]
            self.deliver(receiver, delivered)
        return len(records)

    def pump(self, max_rounds: int = 100_000) -> None:
        """Move records both ways until neither side has anything to send."""
        for _ in range(max_rounds):
            moved = self.transfer(Role.VIEWER) + self.transfer(Role.HOST)
            if not moved:
                return
        raise AssertionError("the pair kept talking for max_rounds rounds")

    def handshake(self) -> None:
        """Run the handshake (and whatever else is queued) to completion."""
        self.pump()

    def drop_link(self) -> None:
        """The transport fails: records not yet pulled stay queued, both sides see the end of the transport."""
        for role in (Role.HOST, Role.VIEWER):
            self.session(role).receive_data(b"")
            self.drain(role)

    def resume(self) -> None:
        """Both sides reconnect and resume, then exchange everything queued."""
        self.viewer.resume()
        self.host.resume()
        self.pump()

    def of_type(self, role: Role, kind: type[Event]) -> list[Event]:
        """The events of one class that ``role`` received, in order."""
        return [e for e in self.events[role] if isinstance(e, kind)]
