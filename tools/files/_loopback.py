"""Two real protocol sessions in memory with file transfers on both ends (tests and the throughput hook).

Unlike ``ConnectionPair.pump`` this driver keeps no events it has handed to the transfers, so a transfer
of any size runs in bounded memory, and it can drop the link after a given number of records.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from opensupport.protocol import DEFAULT_FRAGMENT_SIZE, NEED_DATA, Event, Role, Session
from opensupport.protocol.testing import ConnectionPair

from ._transfers import FileTransfers, TransferGate

__all__ = ["Loopback", "measure_throughput"]

#: (sending role, record) -> the records delivered instead (a test playing the relay).
Tap = Callable[[Role, bytes], list[bytes]]


class Loopback:
    """A host and a viewer, handshaken, each with a :class:`FileTransfers`."""

    def __init__(
        self,
        host_dir: Path,
        viewer_dir: Path,
        *,
        host_gate: TransferGate | None = None,
        viewer_gate: TransferGate | None = None,
        pair: ConnectionPair | None = None,
    ) -> None:
        self.pair = pair if pair is not None else ConnectionPair()
        if pair is None:
            self.pair.handshake()
        self.host = FileTransfers(self.pair.host, host_dir, gate=host_gate)
        self.viewer = FileTransfers(self.pair.viewer, viewer_dir, gate=viewer_gate)
        #: events that are not file events, per receiving role
        self.events: dict[Role, list[Event]] = {Role.HOST: [], Role.VIEWER: []}
        self.tap: Tap | None = None
        self.records = 0
        #: seconds each end spent working (its transfers and its session), to tell the ends apart
        self.busy: dict[Role, float] = {Role.HOST: 0.0, Role.VIEWER: 0.0}

    def transfers(self, role: Role) -> FileTransfers:
        """The transfers of ``role``."""
        return self.host if role is Role.HOST else self.viewer

    def _deliver(self, to: Role, record: bytes) -> None:
        session: Session = self.pair.session(to)
        session.receive_data(record)
        manager = self.transfers(to)
        while (event := session.next_event()) is not NEED_DATA:
            assert isinstance(event, Event)
            if not manager.handle(event):
                self.events[to].append(event)

    def run(self, max_records: int | None = None, rounds: int | None = None) -> bool:
        """Move records both ways until both sides are quiet (True), or until ``max_records`` records
        were moved (False: records pulled beyond that point are lost, as on a dropped link), or after
        ``rounds`` rounds of pulling everything each side has (False; nothing is lost)."""
        done_rounds = 0
        while True:
            if rounds is not None and done_rounds >= rounds:
                return False
            done_rounds += 1
            moved = 0
            for role, peer in ((Role.VIEWER, Role.HOST), (Role.HOST, Role.VIEWER)):
                started = time.perf_counter()
                self.transfers(role).pump()
                records = self.pair.session(role).data_to_send()
                self.busy[role] += time.perf_counter() - started
                for record in records:
                    moved += 1
                    self.records += 1
                    if max_records is not None and self.records > max_records:
                        continue  # lost with the link
                    delivered = self.tap(role, record) if self.tap is not None else [record]
                    started = time.perf_counter()
                    for item in delivered:
                        self._deliver(peer, item)
                    self.busy[peer] += time.perf_counter() - started
            if max_records is not None and self.records > max_records:
                return False
            if not moved:
                return True

    def drop_and_resume(self, *, then_run: bool = True) -> None:
        """The transport fails (both sides see it end), both reconnect and resume; then run (unless
        ``then_run`` is False: the caller runs, perhaps into another drop)."""
        for role in (Role.HOST, Role.VIEWER):
            self._deliver_eof(role)
        self.pair.viewer.resume()
        self.pair.host.resume()
        if then_run:
            self.run()

    def _deliver_eof(self, role: Role) -> None:
        session = self.pair.session(role)
        session.receive_data(b"")
        while (event := session.next_event()) is not NEED_DATA:
            assert isinstance(event, Event)
            self.events[role].append(event)


def measure_throughput(
    size: int = 256 * 1024 * 1024, folder: Path | None = None, *, fragment_size: int = DEFAULT_FRAGMENT_SIZE
) -> dict[str, float]:
    """Send one file of ``size`` random-ish bytes from viewer to host over two real sessions in memory
    (encryption, fragmentation, credit, SHA-256 on both ends, disk on both ends) and time it.

    Both ends run in this one thread, so the figure is about half of what one end could do alone.
    Returns ``{"bytes", "seconds", "mb_per_s", "records", "sender_mb_per_s", "receiver_mb_per_s"}``
    (MB = 10^6 bytes); the last two divide by the time each end was busy, i.e. what that end alone could
    sustain on one core. The relay benchmark of
    issue 6 measures the same path through a real relay.
    """
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        root = Path(tmp)
        (root / "out").mkdir()
        (root / "in").mkdir()
        source = root / "out" / "payload.bin"
        block = os.urandom(1 << 20)
        with open(source, "wb") as f:
            for i in range(size // len(block)):
                f.write(block[i % 251 :] + block[: i % 251])
            f.write(block[: size % len(block)])
        pair = ConnectionPair(fragment_size=fragment_size)
        pair.handshake()
        loop = Loopback(root / "in", root / "unused", pair=pair)
        start = time.perf_counter()
        batch = loop.viewer.send_paths([source])
        loop.run()
        seconds = time.perf_counter() - start
        received = loop.host.batches[batch.batch_id]
        if received.state.value != "done":
            raise RuntimeError(f"the transfer did not complete: {received.state} {received.error}")
        return {
            "bytes": float(size),
            "seconds": seconds,
            "mb_per_s": size / seconds / 1e6,
            "records": float(loop.records),
            "sender_mb_per_s": size / loop.busy[Role.VIEWER] / 1e6,
            "receiver_mb_per_s": size / loop.busy[Role.HOST] / 1e6,
        }
