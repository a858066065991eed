"""Two relay processes sharing Redis: a host on one and a viewer on the other still meet."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
from opensupport.protocol.rendezvous import RelayStatus, Role
from relay_clients import RelayProcess, TcpClient, WsClient, expect_status, join


@pytest.fixture
async def two_relays(
    relay_process: Callable[..., RelayProcess], redis_url: str
) -> AsyncIterator[tuple[RelayProcess, RelayProcess]]:
    """Two relay processes sharing Redis under a fresh key prefix (removed afterwards)."""
    prefix = f"ostest-{uuid.uuid4().hex[:10]}"
    a = relay_process(redis_url=redis_url, redis_prefix=prefix)
    b = relay_process(redis_url=redis_url, redis_prefix=prefix)
    await asyncio.gather(asyncio.to_thread(a.start), asyncio.to_thread(b.start))
    try:
        yield a, b
    finally:
        import redis.asyncio as aioredis

        r = aioredis.from_url(redis_url)
        keys = [k async for k in r.scan_iter(f"{prefix}:*")]
        if keys:
            await r.delete(*keys)
        await r.aclose()


async def test_host_and_viewer_on_different_relay_processes_meet(
    two_relays: tuple[RelayProcess, RelayProcess],
) -> None:
    a, b = two_relays

    host = await TcpClient.connect(a.tcp_port)
    assert await join(host, Role.HOST, "across") is RelayStatus.WAITING
    viewer = await WsClient.connect(b.ws_port)
    assert await join(viewer, Role.VIEWER, "across") is RelayStatus.PAIRED
    assert await expect_status(host) is RelayStatus.PAIRED

    up = [os.urandom(n) for n in (1, 100, 70_000, 1_000_000, 33)]
    down = [os.urandom(n) for n in (5000, 2, 400_000)]
    for m in up:
        await host.send(m)
    for m in down:
        await viewer.send(m)
    assert [await viewer.recv() for _ in up] == up
    assert [await host.recv() for _ in down] == down

    # Peer left crosses the processes too, and a resume on the other process meets again.
    await viewer.close()
    assert await expect_status(host) is RelayStatus.PEER_LEFT
    viewer2 = await TcpClient.connect(b.tcp_port)
    assert await join(viewer2, Role.VIEWER, "across", resume=True) is RelayStatus.PAIRED
    assert await expect_status(host) is RelayStatus.PAIRED
    await viewer2.send(b"again")
    assert await host.recv() == b"again"

    # A kill sent to process A retires the id on both.
    killer = await TcpClient.connect(a.tcp_port)
    assert await join(killer, Role.VIEWER, "across", kill=True) is RelayStatus.UNKNOWN_ROUTING_ID
    assert await expect_status(host) is RelayStatus.UNKNOWN_ROUTING_ID
    late = await TcpClient.connect(b.tcp_port)
    assert await join(late, Role.HOST, "across", resume=True) is RelayStatus.UNKNOWN_ROUTING_ID

    # The second process also owns ids of its own; a host on B and a viewer on A meet as well.
    h, v = await TcpClient.connect(b.tcp_port), await TcpClient.connect(a.tcp_port)
    assert await join(h, Role.HOST, "other-way") is RelayStatus.WAITING
    assert await join(v, Role.VIEWER, "other-way") is RelayStatus.PAIRED
    assert await expect_status(h) is RelayStatus.PAIRED
    await v.send(b"hello B")
    assert await h.recv() == b"hello B"


async def test_routing_id_taken_over_when_its_owner_dies(
    two_relays: tuple[RelayProcess, RelayProcess],
) -> None:
    a, b = two_relays
    host = await TcpClient.connect(a.tcp_port)
    assert await join(host, Role.HOST, "orphan") is RelayStatus.WAITING  # A owns "orphan"
    await asyncio.to_thread(a.kill)  # no goodbye: its claim stays in Redis
    assert await host.recv() is None
    viewer = await TcpClient.connect(b.tcp_port)
    assert await join(viewer, Role.VIEWER, "orphan", resume=True) is RelayStatus.WAITING
    host = await TcpClient.connect(b.tcp_port)
    assert await join(host, Role.HOST, "orphan", resume=True) is RelayStatus.PAIRED
    assert await expect_status(viewer) is RelayStatus.PAIRED
    await host.send(b"on the survivor")
    assert await viewer.recv() == b"on the survivor"
