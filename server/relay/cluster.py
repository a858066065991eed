"""Scale-out: several relay processes, one deployment, with Redis holding who serves which routing id.

Design, and why
---------------
Redis holds *presence* only; records never pass through it.

- Every process registers itself as a node: ``<prefix>:node:<node id>`` = the address of its cluster
  listener (expires unless refreshed).
- The first JOIN for a routing id, on whichever process it lands, claims the id for that process with
  ``SET <prefix>:rid:<id> <node id> NX`` (expires unless refreshed while the slot lives). That process
  is the id's *owner* and pairs the two sides as a single relay would.
- A JOIN that lands on another process is *proxied*: that process opens a TCP connection to the owner's
  cluster listener, introduces itself with the cluster secret and the client's real address, passes the
  JOIN on, and then copies messages one at a time in both directions, each sent only after the previous
  one drained.

Compared with moving the records through Redis pub/sub (at-most-once, no back-pressure, a slow subscriber
is disconnected by Redis) or streams (ordered and durable, but then every record is written to and
trimmed from Redis, and flow control has to be rebuilt with acknowledgements), the proxy keeps the
properties that matter for free: one TCP connection per direction means order, no loss while connected,
and back-pressure from the viewer's socket to the host's; Redis sees a few commands per session, not per
record. The cost is one more hop for sessions whose two sides landed on different processes, and that the
processes must reach each other (``node_host`` / ``node_advertise``).

If the owner is unreachable (its process died, say a restart), the id is taken over with a compare-and-set
and served locally; both sides re-JOIN with the resume flag and meet there. The cluster secret is created
in Redis by the first node (anyone who can write to Redis is trusted anyway); a cluster link without it is
dropped, so the cluster port cannot be used to skip the per-address JOIN limit. Kills go to Redis
(``<prefix>:dead:<id>`` with the TTL, and a pub/sub notice so the owner closes the slot at once).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import secrets
import time
from typing import TYPE_CHECKING, Any

from .config import RelayConfig
from .core import Link, LinkError
from .transports import TcpLink, open_tcp_link

if TYPE_CHECKING:
    from .core import Relay

log = logging.getLogger("opensupport.relay.cluster")

NODE_TTL = 15
RID_TTL = 60
REFRESH_INTERVAL = 5.0
HELLO_MAGIC = b"OSN1"
_CONNECT_TIMEOUT = 3.0

# Compare-and-set in Redis: the owner changes only if it still is the one we looked at.
_TAKEOVER = """
local v = redis.call('get', KEYS[1])
if v == false or v == ARGV[1] then redis.call('set', KEYS[1], ARGV[2], 'EX', ARGV[3]) return 1 end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""
_REFRESH = """
local v = redis.call('get', KEYS[1])
if v == false or v == ARGV[1] then redis.call('set', KEYS[1], ARGV[1], 'EX', ARGV[2]) return 1 end
return 0
"""


class Cluster:
    """This process's membership in a relay cluster (created by :meth:`Relay.start` when Redis is set)."""

    def __init__(self, relay: Relay, config: RelayConfig) -> None:
        assert config.redis_url is not None
        self.relay = relay
        self.config = config
        self.node_id = secrets.token_hex(8)
        self.prefix = config.redis_prefix
        self.redis: Any = None
        self._secret = b""
        self._server: asyncio.Server | None = None
        self.address = ""
        self._held: set[str] = set()
        self._pending: set[asyncio.Task[Any]] = set()
        self._kills: asyncio.Task[None] | None = None
        self._pubsub: Any = None
        self._last_refresh = 0.0
        self._scripts: dict[str, Any] = {}

    def _key(self, kind: str, name: str) -> str:
        return f"{self.prefix}:{kind}:{name}"

    async def start(self) -> None:
        """Connect to Redis, open the cluster listener and register this node.

        Raises the Redis client's error if Redis is unreachable, OSError if the port cannot be bound.
        """
        import redis.asyncio as aioredis

        self.redis = aioredis.from_url(str(self.config.redis_url), decode_responses=True)
        await self.redis.ping()
        for name, text in (("takeover", _TAKEOVER), ("release", _RELEASE), ("refresh", _REFRESH)):
            self._scripts[name] = self.redis.register_script(text)
        await self.redis.set(self._key("cluster", "secret"), secrets.token_hex(32), nx=True)
        self._secret = str(await self.redis.get(self._key("cluster", "secret"))).encode()
        from .transports import start_tcp_listener

        self._server = await start_tcp_listener(
            self.relay, self.config.node_host, self.config.node_port, serve=self._on_node_link
        )
        port = int(self._server.sockets[0].getsockname()[1])
        self.address = f"{self.config.node_advertise or self.config.node_host}:{port}"
        await self.redis.set(self._key("node", self.node_id), self.address, ex=NODE_TTL)
        self._pubsub = self.redis.pubsub()
        await self._pubsub.subscribe(self._key("cluster", "kill"))
        self._kills = asyncio.create_task(self._listen_kills(), name="relay-cluster-kills")
        self._last_refresh = time.monotonic()
        log.info("relay node %s joined the cluster at %s", self.node_id, self.address)

    async def close(self) -> None:
        """Leave the cluster: release held routing ids, unregister, close the listener and Redis."""
        if self._kills is not None:
            self._kills.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._kills
        if self._server is not None:
            self._server.close()
        with contextlib.suppress(Exception):
            for rid in list(self._held):
                await self._scripts["release"](keys=[self._key("rid", rid)], args=[self.node_id])
            await self.redis.delete(self._key("node", self.node_id))
            await self._pubsub.aclose()
        with contextlib.suppress(Exception):
            await self.redis.aclose()

    # ---------------------------------------------------------------- presence

    async def owner_for(self, routing_id: str) -> tuple[str, str] | None:
        """Claim ``routing_id`` for this node, or return (node id, address) of the node that owns it.

        Never raises: if Redis is unreachable the relay serves the JOIN locally (availability first).
        """
        key = self._key("rid", routing_id)
        try:
            for _ in range(3):
                if await self.redis.set(key, self.node_id, nx=True, ex=RID_TTL):
                    return None
                owner = await self.redis.get(key)
                if owner is None:
                    continue  # expired between the two commands
                if owner == self.node_id:
                    return None
                address = await self.redis.get(self._key("node", owner))
                if address is not None:
                    return str(owner), str(address)
                # The owner's registration expired: it is gone. Take the id over.
                if await self.take_over(routing_id, owner):
                    return None
        except Exception as exc:
            log.warning("relay cluster: Redis unavailable (%s); serving %s locally", exc, routing_id)
        return None

    async def take_over(self, routing_id: str, previous_owner: str) -> bool:
        """Make this node the owner of ``routing_id`` if ``previous_owner`` still is; True if done."""
        done = await self._scripts["takeover"](
            keys=[self._key("rid", routing_id)], args=[previous_owner, self.node_id, RID_TTL]
        )
        return bool(done)

    def holding(self, routing_id: str) -> None:
        """A local slot for ``routing_id`` exists: keep the claim alive."""
        self._held.add(routing_id)

    def released(self, routing_id: str) -> None:
        """The local slot for ``routing_id`` is gone: give the claim up."""
        self._held.discard(routing_id)
        self._spawn(self._release(routing_id))

    async def _release(self, routing_id: str) -> None:
        with contextlib.suppress(Exception):
            await self._scripts["release"](keys=[self._key("rid", routing_id)], args=[self.node_id])

    async def refresh(self) -> None:
        """Renew this node's registration and its claims (called by the relay's sweeper)."""
        now = time.monotonic()
        if now - self._last_refresh < REFRESH_INTERVAL:
            return
        self._last_refresh = now
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.set(self._key("node", self.node_id), self.address, ex=NODE_TTL)
                for rid in self._held:
                    await self._scripts["refresh"](
                        keys=[self._key("rid", rid)], args=[self.node_id, RID_TTL], client=pipe
                    )
                await pipe.execute()
        except Exception as exc:
            log.warning("relay cluster: refresh failed: %s", exc)

    # ---------------------------------------------------------------- kill flag

    async def publish_kill(self, routing_id: str) -> None:
        """Record a retired routing id in Redis and tell every node."""
        try:
            ttl = max(1, int(self.config.dead_id_ttl))
            await self.redis.set(self._key("dead", routing_id), "1", ex=ttl)
            await self.redis.publish(self._key("cluster", "kill"), routing_id)
        except Exception as exc:
            log.warning("relay cluster: could not publish the kill of %s: %s", routing_id, exc)

    async def is_dead(self, routing_id: str) -> bool:
        """True if any node retired ``routing_id`` (False if Redis cannot be asked)."""
        try:
            return bool(await self.redis.exists(self._key("dead", routing_id)))
        except Exception:
            return False

    async def _listen_kills(self) -> None:
        while True:
            try:
                message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("relay cluster: kill channel: %s", exc)
                await asyncio.sleep(1.0)
                continue
            if message and message.get("type") == "message":
                await self.relay.kill_local(str(message["data"]))

    # ---------------------------------------------------------------- cluster links

    async def proxy(self, link: Link, join_message: bytes, owner: tuple[str, str]) -> bool:
        """Carry ``link`` to the owning node; returns when either side closed. False (nothing sent to the
        client) if the owner is unreachable: then this node has taken the routing id over."""
        owner_id, address = owner
        host, _, port = address.rpartition(":")
        try:
            node = await asyncio.wait_for(
                open_tcp_link(host, int(port), self.config.max_message_size, peer_ip=address),
                _CONNECT_TIMEOUT,
            )
        except (OSError, TimeoutError, ValueError):
            from opensupport.protocol.rendezvous import parse_join

            rid = parse_join(join_message).routing_id
            with contextlib.suppress(Exception):
                await self.take_over(rid, owner_id)
            return False
        ip = link.peer_ip.encode()[:255]
        try:
            await node.send(HELLO_MAGIC + self._secret + bytes((len(ip),)) + ip)
            await node.send(join_message)
        except LinkError:
            await node.close()
            return False
        try:
            await _splice(link, node)
        finally:
            await node.close()
        return True

    async def _on_node_link(self, link: TcpLink) -> None:
        try:
            hello = await asyncio.wait_for(link.receive(), self.config.join_timeout)
        except (TimeoutError, LinkError):
            hello = None
        secret_end = len(HELLO_MAGIC) + len(self._secret)
        if (
            hello is None
            or len(hello) <= secret_end
            or not hello.startswith(HELLO_MAGIC)
            or not hmac.compare_digest(hello[len(HELLO_MAGIC) : secret_end], self._secret)
            or hello[secret_end] != len(hello) - secret_end - 1
        ):
            await link.close()
            return
        link.peer_ip = hello[secret_end + 1 :].decode("ascii", "replace")
        await self.relay.handle(link, forwarded=True)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)


async def _splice(a: Link, b: Link) -> None:
    """Copy messages both ways, one at a time, until either side closes."""

    async def pump(src: Link, dst: Link) -> None:
        while True:
            try:
                batch = await src.receive_batch()
                if batch is None:
                    return
                await dst.send_batch(batch)
            except LinkError:
                return

    tasks = [asyncio.create_task(pump(a, b)), asyncio.create_task(pump(b, a))]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
