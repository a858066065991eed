"""The relay's configuration: every limit it enforces, in one frozen dataclass."""

from __future__ import annotations

from dataclasses import dataclass

from opensupport.protocol.rendezvous import MAX_MESSAGE_SIZE

MIB = 1024 * 1024


@dataclass(frozen=True)
class RelayConfig:
    """Limits and listeners of one relay process. Times are seconds, rates bytes per second; 0 disables.

    The defaults suit one server for a few thousand concurrent support sessions. Bandwidth limits shape
    by delaying reads (TCP back-pressure reaches the sender); records are never dropped or reordered.
    """

    #: the largest message (one protocol record) accepted; a larger one closes that connection
    max_message_size: int = 1 * MIB + 64 * 1024
    #: time a new connection has to send its JOIN
    join_timeout: float = 10.0
    #: time a side may wait for its peer to arrive the first time (the customer is typing the code)
    wait_timeout: float = 900.0
    #: a paired session with no message in either direction for this long is closed
    idle_timeout: float = 300.0
    #: after one side drops, the routing id is kept this long for both sides to re-JOIN with resume
    grace_period: float = 60.0
    #: per-session bandwidth, both directions together, and the burst it may borrow
    session_bandwidth: float = 8 * MIB
    session_burst: int = 2 * MIB
    #: bandwidth of all sessions together (set it below the link's capacity), and its burst
    total_bandwidth: float = 0.0
    total_burst: int = 16 * MIB
    #: JOINs allowed per client address: a sustained rate per minute and a burst
    joins_per_minute: float = 60.0
    join_burst: int = 20
    #: routing ids one address may hold open at once (created by its first JOIN)
    max_routing_ids_per_ip: int = 32
    #: live routing ids in this process
    max_sessions: int = 20_000
    #: how long a routing id retired with the kill flag stays refused, and how many are remembered
    dead_id_ttl: float = 24 * 3600.0
    max_dead_ids: int = 200_000
    #: optional raw TCP listener (4-byte big-endian length + body per message); None = off
    tcp_host: str = "127.0.0.1"
    tcp_port: int | None = None
    #: Redis for scale-out (several relay processes, one deployment); None = routing in-process only
    redis_url: str | None = None
    #: key prefix in Redis, so that several deployments can share one Redis
    redis_prefix: str = "osrelay"
    #: where this process listens for other relay processes (cluster links); port 0 picks a free one.
    #: ``node_advertise`` is the address the others dial (defaults to node_host).
    node_host: str = "127.0.0.1"
    node_port: int = 0
    node_advertise: str | None = None

    def __post_init__(self) -> None:
        if not 0 < self.max_message_size <= MAX_MESSAGE_SIZE:
            raise ValueError(f"max_message_size must be in 1..{MAX_MESSAGE_SIZE}")
        for name in ("join_timeout", "wait_timeout", "idle_timeout", "grace_period"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        for name in ("session_bandwidth", "total_bandwidth", "joins_per_minute", "dead_id_ttl"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        for name in ("session_burst", "total_burst", "join_burst", "max_routing_ids_per_ip", "max_sessions"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
