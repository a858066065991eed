"""The relay: pairs a host and a viewer by routing id and forwards their opaque records.

Theory of operation
-------------------
Every connection, whatever its transport, is a :class:`Link`: ``receive()`` one message, ``send()`` one
message and wait until the transport has drained, ``close()``. :meth:`Relay.handle` owns a link for its
whole life: it reads the JOIN, applies the per-address limits, finds or creates the :class:`Slot` for the
routing id and then runs the link's *reader loop*: read one message, charge the bandwidth buckets (sleeping
when in debt), send it to the peer and wait for the peer's socket to drain, then read the next one. One
reader per direction and no queue between reading and writing means the relay never reorders, never drops
a record while both sides are connected, and reads from a side only as fast as the other side drains
(back-pressure end to end). The relay never looks inside a record; it holds no key.

A slot's membership changes (join, leave, resume, kill) are serialised by the slot's lock; each link has a
send lock so that a status message and forwarded records never interleave. A pairing is an *epoch*: a
record read from one side is delivered only if the epoch in which it was read is still the current one.
From the moment a side is told "peer left" until it is told "paired" again, what it sends has nobody to go
to and is discarded; the session protocol's resume retransmits whatever was not acknowledged.

Timers: a new slot must pair within ``wait_timeout``; after a side leaves, the slot lives for
``grace_period`` so that both sides can re-JOIN with the resume flag; a paired slot idle for
``idle_timeout`` is closed. One sweeper task checks all of them.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from opensupport.link._driver import tune_allocator
from opensupport.protocol.rendezvous import (
    Join,
    RelayStatus,
    RendezvousError,
    Role,
    encode_status,
    is_status_message,
    parse_join,
)

from .config import RelayConfig
from .limits import JoinRateLimiter, TokenBucket

if TYPE_CHECKING:
    from .cluster import Cluster

log = logging.getLogger("opensupport.relay")

#: seconds a status message may wait for a client's socket before the client is dropped
STATUS_SEND_TIMEOUT = 10.0

_STATUS = {status: encode_status(status) for status in RelayStatus}


class LinkError(Exception):
    """A link broke: closed, reset, or the peer sent something no relay client sends."""


class Link(abc.ABC):
    """One client connection, whatever the transport."""

    #: the client's address, for the per-address limits
    peer_ip: str

    def __init__(self, peer_ip: str) -> None:
        self.peer_ip = peer_ip
        self.send_lock = asyncio.Lock()
        self.closed = False

    @abc.abstractmethod
    async def receive(self) -> bytes | None:
        """The next message, or None when the client closed. Raises :class:`LinkError` on a broken link,
        a text frame, or a message above the configured bound."""

    @abc.abstractmethod
    async def send(self, message: bytes) -> None:
        """Send one message and wait until the transport is writable again. Raises :class:`LinkError`."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Close the connection; never raises."""

    async def receive_batch(self) -> list[bytes] | None:
        """Every message already received (at least one), or None when the client closed.

        Transports that can cut several messages from one read override this; it raises like receive.
        """
        message = await self.receive()
        return None if message is None else [message]

    async def send_batch(self, messages: list[bytes]) -> None:
        """Send messages in order and wait until the transport is writable again. Raises LinkError."""
        for message in messages:
            await self.send(message)

    async def send_status(self, status: RelayStatus) -> bool:
        """Send a relay status message under the send lock; False if the link is gone.

        A client that does not read for :data:`STATUS_SEND_TIMEOUT` seconds is closed, so that a stalled
        socket can never hold up the slot's membership changes.
        """
        try:
            async with asyncio.timeout(STATUS_SEND_TIMEOUT):
                async with self.send_lock:
                    await self.send(_STATUS[status])
        except (LinkError, TimeoutError):
            await self.close()
            return False
        return True


@dataclass(eq=False)
class Slot:
    """The relay's state for one routing id."""

    routing_id: str
    #: the address whose JOIN created the slot (counted against its routing-id limit)
    creator_ip: str
    links: dict[Role, Link | None] = field(default_factory=lambda: {Role.HOST: None, Role.VIEWER: None})
    paired: bool = False
    #: incremented at every pairing and every departure; a record is delivered only within its epoch
    epoch: int = 0
    ever_paired: bool = False
    #: when the slot dies unless it is paired by then (None while paired)
    deadline: float | None = None
    last_activity: float = field(default_factory=time.monotonic)
    bucket: TokenBucket | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    removed: bool = False


@dataclass
class RelayStats:
    """Counters for monitoring and tests."""

    joins: int = 0
    pairings: int = 0
    records: int = 0
    bytes: int = 0
    discarded: int = 0
    refused: dict[str, int] = field(default_factory=dict)


class Relay:
    """Pairs hosts and viewers and forwards their records; independent of any web framework.

    Use :meth:`handle` for each accepted connection (the transports in :mod:`.transports` do), and
    ``await start()`` / ``await close()`` around its life (``handle`` starts it lazily if needed).
    """

    def __init__(self, config: RelayConfig | None = None) -> None:
        self.config = config or RelayConfig()
        self.slots: dict[str, Slot] = {}
        self.stats = RelayStats()
        self._joins = JoinRateLimiter(self.config.joins_per_minute, self.config.join_burst)
        self._ids_per_ip: dict[str, int] = {}
        self._dead: OrderedDict[str, float] = OrderedDict()
        self._total = (
            TokenBucket(self.config.total_bandwidth, self.config.total_burst)
            if self.config.total_bandwidth > 0
            else None
        )
        self._sweeper: asyncio.Task[None] | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self._started = False
        self._start_lock = asyncio.Lock()
        self.cluster: Cluster | None = None
        self._tcp: asyncio.Server | None = None
        #: the raw TCP listener's port once started (useful with ``tcp_port=0``)
        self.tcp_port: int | None = None

    # ---------------------------------------------------------------- life

    async def start(self) -> None:
        """Start the sweeper and, with ``redis_url``, join the cluster. Idempotent.

        Raises whatever connecting to Redis raises (the relay does not run half-configured).
        """
        async with self._start_lock:
            if self._started:
                return
            tune_allocator()  # records of up to 256 KiB pass through: keep their buffers off mmap()
            if self.config.redis_url:
                from .cluster import Cluster

                cluster = Cluster(self, self.config)
                await cluster.start()
                self.cluster = cluster
            if self.config.tcp_port is not None:
                from .transports import start_tcp_listener

                self._tcp = await start_tcp_listener(self, self.config.tcp_host, self.config.tcp_port)
                self.tcp_port = int(self._tcp.sockets[0].getsockname()[1])
            self._sweeper = asyncio.create_task(self._sweep_forever(), name="relay-sweeper")
            self._started = True

    async def close(self) -> None:
        """Close every link and stop the listeners and background tasks."""
        if self._tcp is not None:
            self._tcp.close()
            self._tcp = None
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None
        # Concurrently: a client that does not read makes its close wait (bounded by the transport).
        await asyncio.gather(
            *(self._remove_slot(slot, status=None) for slot in list(self.slots.values())),
            return_exceptions=True,
        )
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        if self.cluster is not None:
            await self.cluster.close()
            self.cluster = None
        self._started = False

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run ``coro`` as a task the relay keeps a reference to (a connection handler, a close)."""
        task = asyncio.get_running_loop().create_task(coro)
        self._handlers.add(task)
        task.add_done_callback(self._handlers.discard)

    # ---------------------------------------------------------------- entry point

    async def handle(self, link: Link, *, forwarded: bool = False) -> None:
        """Serve one connection until it closes. Never raises for anything the client does.

        ``forwarded`` marks a link proxied by another relay process of the cluster, which has already
        applied the JOIN rate limit to the real client address (``link.peer_ip``).
        """
        if not self._started:
            await self.start()
        try:
            await self._handle(link, forwarded)
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug must cost one connection, never the relay
            log.exception("relay: unexpected error serving %s", link.peer_ip)
        finally:
            await link.close()

    async def _handle(self, link: Link, forwarded: bool) -> None:
        try:
            first = await asyncio.wait_for(link.receive(), self.config.join_timeout)
        except (TimeoutError, LinkError):
            return
        if first is None:
            return
        try:
            join = parse_join(first)
        except RendezvousError:
            await self._refuse(link, RelayStatus.BAD_JOIN)
            return
        if not forwarded and not self._joins.allow(link.peer_ip):
            await self._refuse(link, RelayStatus.RATE_LIMITED)
            return
        self.stats.joins += 1
        if join.kill:
            await self.kill(join.routing_id)
            await self._refuse(link, RelayStatus.UNKNOWN_ROUTING_ID, count=False)
            return
        if await self.is_dead(join.routing_id):
            await self._refuse(link, RelayStatus.UNKNOWN_ROUTING_ID)
            return
        if self.cluster is not None and not forwarded:
            owner = await self.cluster.owner_for(join.routing_id)
            if owner is not None and await self.cluster.proxy(link, first, owner):
                return
        await self._serve(link, join)

    async def _refuse(self, link: Link, status: RelayStatus, *, count: bool = True) -> None:
        if count:
            self.stats.refused[status.name] = self.stats.refused.get(status.name, 0) + 1
        await link.send_status(status)

    # ---------------------------------------------------------------- kill flag

    async def kill(self, routing_id: str) -> None:
        """Retire a routing id: its links get status 3 and are closed; later JOINs get status 3."""
        self._remember_dead(routing_id)
        if self.cluster is not None:
            await self.cluster.publish_kill(routing_id)
        await self.kill_local(routing_id)

    async def kill_local(self, routing_id: str) -> None:
        """Close this process's slot for a retired routing id (also called for kills from other nodes)."""
        self._remember_dead(routing_id)
        slot = self.slots.get(routing_id)
        if slot is not None:
            async with slot.lock:
                await self._remove_slot(slot, status=RelayStatus.UNKNOWN_ROUTING_ID)

    def _remember_dead(self, routing_id: str) -> None:
        self._dead[routing_id] = time.monotonic() + self.config.dead_id_ttl
        self._dead.move_to_end(routing_id)
        while len(self._dead) > self.config.max_dead_ids:
            self._dead.popitem(last=False)

    async def is_dead(self, routing_id: str) -> bool:
        """True if the routing id was retired with the kill flag (here or, with Redis, anywhere)."""
        expiry = self._dead.get(routing_id)
        if expiry is not None:
            if expiry > time.monotonic():
                return True
            del self._dead[routing_id]
        return self.cluster is not None and await self.cluster.is_dead(routing_id)

    # ---------------------------------------------------------------- pairing

    async def _admit(self, link: Link, join: Join) -> Slot | None:
        """The live slot for the JOIN, created if needed, with its lock held; None if refused."""
        for _ in range(3):
            slot = self.slots.get(join.routing_id)
            if slot is None:
                if len(self.slots) >= self.config.max_sessions:
                    break
                if self._ids_per_ip.get(link.peer_ip, 0) >= self.config.max_routing_ids_per_ip:
                    break
                slot = self._new_slot(join.routing_id, link.peer_ip)
            await slot.lock.acquire()
            if not slot.removed:
                return slot
            slot.lock.release()  # killed or expired while we waited for the lock
            if await self.is_dead(join.routing_id):
                await self._refuse(link, RelayStatus.UNKNOWN_ROUTING_ID)
                return None
        await self._refuse(link, RelayStatus.BUSY)
        return None

    async def _serve(self, link: Link, join: Join) -> None:
        role, other = join.role, Role.VIEWER if join.role is Role.HOST else Role.HOST
        slot = await self._admit(link, join)
        if slot is None:
            return
        try:
            previous = slot.links[role]
            if previous is not None:
                if not join.resume:
                    await self._refuse(link, RelayStatus.BUSY)
                    return
                # A resume replaces a connection the relay still believes alive (the client's network
                # changed and the old TCP connection has not timed out yet).
                await self._depart(slot, role, previous)
                self.spawn(previous.close())
            slot.links[role] = link
            peer = slot.links[other]
            if peer is None:
                if not await link.send_status(RelayStatus.WAITING):
                    slot.links[role] = None
                    self._maybe_forget(slot)
                    return
                slot.last_activity = time.monotonic()
            else:
                slot.epoch += 1
                slot.paired = slot.ever_paired = True
                slot.deadline = None
                slot.last_activity = time.monotonic()
                self.stats.pairings += 1
                # Both sends happen under the slot lock, before any record of the new epoch can be
                # forwarded, so "paired" is always the first thing either side hears of this epoch.
                await peer.send_status(RelayStatus.PAIRED)
                await link.send_status(RelayStatus.PAIRED)
        finally:
            slot.lock.release()
        try:
            await self._forward_from(slot, role, link)
        finally:
            async with slot.lock:
                if slot.links[role] is link:
                    await self._depart(slot, role, link)
                    self._maybe_forget(slot)

    def _new_slot(self, routing_id: str, creator_ip: str) -> Slot:
        bucket = (
            TokenBucket(self.config.session_bandwidth, self.config.session_burst)
            if self.config.session_bandwidth > 0
            else None
        )
        slot = Slot(
            routing_id,
            creator_ip,
            bucket=bucket,
            deadline=time.monotonic() + self.config.wait_timeout,
        )
        self.slots[routing_id] = slot
        self._ids_per_ip[creator_ip] = self._ids_per_ip.get(creator_ip, 0) + 1
        if self.cluster is not None:
            self.cluster.holding(routing_id)
        return slot

    async def _depart(self, slot: Slot, role: Role, link: Link) -> None:
        """``link`` left ``role`` (slot lock held): tell the peer, start the grace period."""
        slot.links[role] = None
        slot.epoch += 1
        if slot.paired:
            slot.paired = False
            peer = slot.links[Role.VIEWER if role is Role.HOST else Role.HOST]
            if peer is not None:
                await peer.send_status(RelayStatus.PEER_LEFT)
        if slot.ever_paired:
            slot.deadline = time.monotonic() + self.config.grace_period

    def _maybe_forget(self, slot: Slot) -> None:
        """Drop a slot nobody is in that never paired (a resume needs a slot that did)."""
        if not slot.ever_paired and all(v is None for v in slot.links.values()):
            self._forget(slot)

    def _forget(self, slot: Slot) -> None:
        if slot.removed:
            return
        slot.removed = True
        if self.slots.get(slot.routing_id) is slot:
            del self.slots[slot.routing_id]
        count = self._ids_per_ip.get(slot.creator_ip, 0) - 1
        if count > 0:
            self._ids_per_ip[slot.creator_ip] = count
        else:
            self._ids_per_ip.pop(slot.creator_ip, None)
        if self.cluster is not None:
            self.cluster.released(slot.routing_id)

    async def _remove_slot(self, slot: Slot, status: RelayStatus | None) -> None:
        """Close every link of a slot (optionally telling them ``status`` first) and forget it."""
        self._forget(slot)
        slot.paired = False
        slot.epoch += 1
        for role, link in list(slot.links.items()):
            slot.links[role] = None
            if link is not None:
                if status is not None:
                    await link.send_status(status)
                await link.close()

    # ---------------------------------------------------------------- forwarding

    async def _forward_from(self, slot: Slot, role: Role, link: Link) -> None:
        """The reader loop of ``link``: one record at a time to the peer of the current epoch."""
        other = Role.VIEWER if role is Role.HOST else Role.HOST
        max_size = self.config.max_message_size
        total = self._total
        stats = self.stats
        while True:
            try:
                batch = await link.receive_batch()
            except LinkError:
                return
            if batch is None:
                return
            size = 0
            valid = len(batch)
            for i, message in enumerate(batch):
                if len(message) > max_size or is_status_message(message):
                    # A peer may not forge the relay's status messages: that would make "paired" or
                    # "peer left" ambiguous for the other side. What came before it is still delivered.
                    valid = i
                    break
                size += len(message)
            bad = valid < len(batch)
            if bad:
                batch = batch[:valid]
            if slot.links[role] is not link:
                return  # replaced by a resume
            peer = slot.links[other] if slot.paired else None
            if batch and peer is None:
                stats.discarded += len(batch)
            elif batch and peer is not None:
                epoch = slot.epoch
                delay = slot.bucket.charge(size) if slot.bucket is not None else 0.0
                if total is not None:
                    delay = max(delay, total.charge(size))
                if delay > 0:
                    await asyncio.sleep(delay)
                async with peer.send_lock:
                    if slot.epoch != epoch:
                        stats.discarded += len(batch)
                    else:
                        try:
                            await peer.send_batch(batch)
                        except LinkError:
                            pass  # the peer's own reader notices and departs
                        else:
                            slot.last_activity = time.monotonic()
                            stats.records += len(batch)
                            stats.bytes += size
            if bad:
                return

    # ---------------------------------------------------------------- timers

    async def _sweep_forever(self) -> None:
        cfg = self.config
        interval = max(0.05, min(1.0, cfg.idle_timeout / 4, cfg.grace_period / 4, cfg.wait_timeout / 4))
        while True:
            await asyncio.sleep(interval)
            try:
                await self.sweep()
            except Exception:
                log.exception("relay: sweep failed")

    async def sweep(self) -> None:
        """Close slots past their deadline or idle too long; forget stale limiter state."""
        now = time.monotonic()
        idle = self.config.idle_timeout
        for slot in list(self.slots.values()):
            expired = slot.deadline is not None and now >= slot.deadline
            idle_out = slot.paired and now - slot.last_activity >= idle
            if expired or idle_out:
                async with slot.lock:
                    if not slot.removed:
                        await self._remove_slot(slot, status=None)
        self._joins.sweep()
        while self._dead:
            routing_id, expiry = next(iter(self._dead.items()))
            if expiry > now:
                break
            del self._dead[routing_id]
        if self.cluster is not None:
            await self.cluster.refresh()
