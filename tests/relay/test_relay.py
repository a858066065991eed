"""The relay over real sockets on 127.0.0.1: pairing, byte-exact forwarding, limits, resume, bad input."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import time

import pytest
from opensupport.protocol.rendezvous import RelayStatus, Role, encode_status
from relay_clients import (
    TcpClient,
    WsClient,
    expect_status,
    join,
    pair,
    relay_config,
    running_relay,
)


def payloads(seed: int, count: int, max_size: int) -> list[bytes]:
    rng = random.Random(seed)
    sizes = [1, 6, 17, max_size] + [rng.randrange(1, max_size) for _ in range(count - 4)]
    return [os.urandom(n) for n in sizes]


async def test_pairing_and_byte_exact_forwarding_both_ways_tcp() -> None:
    async with running_relay() as r:
        host, viewer = await TcpClient.connect(r.tcp_port), await TcpClient.connect(r.tcp_port)
        await pair(host, viewer, "pair-1")
        up, down = payloads(1, 40, 300_000), payloads(2, 40, 300_000)

        async def send_all(client: TcpClient, messages: list[bytes]) -> None:
            for m in messages:
                await client.send(m)

        async def recv_all(client: TcpClient, n: int) -> list[bytes | None]:
            return [await client.recv() for _ in range(n)]

        _, _, got_down, got_up = await asyncio.gather(
            send_all(host, up), send_all(viewer, down), recv_all(host, len(down)), recv_all(viewer, len(up))
        )
        assert got_up == up
        assert got_down == down
        assert r.relay.stats.records == len(up) + len(down)
        await host.close()
        await viewer.close()


async def test_websocket_and_tcp_clients_meet() -> None:
    async with running_relay() as r:
        host, viewer = await WsClient.connect(r.ws_port), await TcpClient.connect(r.tcp_port)
        await pair(host, viewer, "mixed")
        messages = payloads(3, 20, 100_000)
        for m in messages:
            await host.send(m)
            await viewer.send(m[::-1])
        assert [await viewer.recv() for _ in messages] == messages
        assert [await host.recv() for _ in messages] == [m[::-1] for m in messages]
        await host.close()
        assert await expect_status(viewer) is RelayStatus.PEER_LEFT
        await viewer.close()


async def test_kill_flag_retires_the_routing_id() -> None:
    async with running_relay() as r:
        host = await WsClient.connect(r.ws_port)
        assert await join(host, Role.HOST, "doomed") is RelayStatus.WAITING
        killer = await TcpClient.connect(r.tcp_port)
        assert await join(killer, Role.VIEWER, "doomed", kill=True) is RelayStatus.UNKNOWN_ROUTING_ID
        assert await killer.recv() is None
        # The waiting host is told and disconnected; nobody meets on that id any more.
        assert await expect_status(host) is RelayStatus.UNKNOWN_ROUTING_ID
        assert await host.recv() is None
        for role in (Role.HOST, Role.VIEWER):
            late = await TcpClient.connect(r.tcp_port)
            assert await join(late, role, "doomed", resume=True) is RelayStatus.UNKNOWN_ROUTING_ID
            assert await late.recv() is None
        assert "doomed" not in r.relay.slots
        # Other routing ids are unaffected.
        h, v = await TcpClient.connect(r.tcp_port), await TcpClient.connect(r.tcp_port)
        await pair(h, v, "alive")


async def test_join_rate_limit_per_ip() -> None:
    async with running_relay(relay_config(joins_per_minute=6, join_burst=3)) as r:
        answers = []
        for i in range(5):
            c = await TcpClient.connect(r.tcp_port)
            answers.append(await join(c, Role.HOST, f"rl-{i}"))
        assert answers == [RelayStatus.WAITING] * 3 + [RelayStatus.RATE_LIMITED] * 2
        assert r.relay.stats.refused["RATE_LIMITED"] == 2


async def test_routing_ids_per_ip_and_role_taken() -> None:
    async with running_relay(relay_config(max_routing_ids_per_ip=2)) as r:
        clients = [await TcpClient.connect(r.tcp_port) for _ in range(3)]
        assert await join(clients[0], Role.HOST, "a") is RelayStatus.WAITING
        assert await join(clients[1], Role.HOST, "b") is RelayStatus.WAITING
        assert await join(clients[2], Role.HOST, "c") is RelayStatus.BUSY
        second_host = await TcpClient.connect(r.tcp_port)
        assert await join(second_host, Role.HOST, "a") is RelayStatus.BUSY  # the role is taken
        await clients[1].close()
        await asyncio.sleep(0.2)  # a slot that never paired is freed at once
        again = await TcpClient.connect(r.tcp_port)
        assert await join(again, Role.HOST, "c") is RelayStatus.WAITING


async def test_idle_timeout_closes_a_silent_session_only() -> None:
    async with running_relay(relay_config(idle_timeout=1.0)) as r:
        h1, v1 = await TcpClient.connect(r.tcp_port), await TcpClient.connect(r.tcp_port)
        h2, v2 = await TcpClient.connect(r.tcp_port), await TcpClient.connect(r.tcp_port)
        await pair(h1, v1, "silent")
        await pair(h2, v2, "chatty")
        for i in range(15):  # 1.5 s of traffic every 0.1 s
            await h2.send(b"tick %d" % i)
            assert await v2.recv() == b"tick %d" % i
            await asyncio.sleep(0.1)
        assert await h1.recv(timeout=5) is None
        assert await v1.recv(timeout=5) is None
        assert "silent" not in r.relay.slots
        await h2.send(b"still here")
        assert await v2.recv() == b"still here"


async def _timed_transfer(host: TcpClient, viewer: TcpClient, total: int, chunk: int) -> float:
    data = os.urandom(total)
    start = time.monotonic()

    async def send() -> None:
        for i in range(0, total, chunk):
            await host.send(data[i : i + chunk])

    async def recv() -> bytes:
        parts = []
        got = 0
        while got < total:
            m = await viewer.recv(timeout=20)
            assert m is not None
            parts.append(m)
            got += len(m)
        return b"".join(parts)

    _, received = await asyncio.gather(send(), recv())
    assert received == data
    return time.monotonic() - start


async def test_session_bandwidth_limit_shapes_without_loss() -> None:
    # 200 kB/s with a 20 kB burst: 400 kB cannot take much under 1.9 s. The margin is wide on purpose.
    async with running_relay(relay_config(session_bandwidth=200_000.0, session_burst=20_000)) as r:
        host, viewer = await TcpClient.connect(r.tcp_port), await TcpClient.connect(r.tcp_port)
        await pair(host, viewer, "slow")
        elapsed = await _timed_transfer(host, viewer, 400_000, 10_000)
        assert elapsed >= 1.4, f"400 kB at 200 kB/s took only {elapsed:.2f} s"
        assert elapsed < 15


async def test_total_bandwidth_limit_is_shared() -> None:
    # Two sessions of 200 kB each under a 250 kB/s total (burst 25 kB): together at least ~1.5 s.
    cfg = relay_config(total_bandwidth=250_000.0, total_burst=25_000, session_bandwidth=0.0)
    async with running_relay(cfg) as r:
        pairs = []
        for name in ("t1", "t2"):
            h, v = await TcpClient.connect(r.tcp_port), await TcpClient.connect(r.tcp_port)
            await pair(h, v, name)
            pairs.append((h, v))
        start = time.monotonic()
        await asyncio.gather(*(_timed_transfer(h, v, 200_000, 10_000) for h, v in pairs))
        elapsed = time.monotonic() - start
        assert elapsed >= 1.1, f"400 kB at 250 kB/s took only {elapsed:.2f} s"


@pytest.mark.parametrize("viewer_transport", ["tcp", "websocket"])
async def test_backpressure_a_reader_that_stops_stops_the_writer(viewer_transport: str) -> None:
    async with running_relay(relay_config(session_bandwidth=0.0)) as r:
        host = await TcpClient.connect(r.tcp_port)
        viewer: TcpClient | WsClient
        if viewer_transport == "tcp":
            viewer = await TcpClient.connect(r.tcp_port)
        else:
            viewer = await WsClient.connect(r.ws_port)
        await pair(host, viewer, "bp")
        chunk = os.urandom(256 * 1024)
        sent = 0

        async def flood() -> None:
            nonlocal sent
            while True:
                await host.send(chunk)
                sent += 1

        task = asyncio.create_task(flood())
        # The viewer reads nothing meanwhile: the writer must come to a stop (checked every 0.5 s).
        stalled_at = -1
        for _ in range(20):
            stalled_at = sent
            await asyncio.sleep(0.5)
            if sent == stalled_at:
                break
        # The relay buffers nothing itself, so only the kernel's socket buffers hold the backlog.
        assert sent == stalled_at, "the writer kept going although nobody read"
        assert sent * len(chunk) < 64 * 1024 * 1024
        for i in range(sent):
            assert await viewer.recv() == chunk, f"record {i} lost or damaged"
        task.cancel()
        await viewer.close()
        await host.close()


async def test_peer_left_and_resume_within_grace() -> None:
    async with running_relay(relay_config(grace_period=5.0)) as r:
        host, viewer = await TcpClient.connect(r.tcp_port), await WsClient.connect(r.ws_port)
        await pair(host, viewer, "roam")
        await viewer.send(b"before")
        assert await host.recv() == b"before"
        await viewer.close()
        assert await expect_status(host) is RelayStatus.PEER_LEFT
        viewer = await WsClient.connect(r.ws_port)
        assert await join(viewer, Role.VIEWER, "roam", resume=True) is RelayStatus.PAIRED
        assert await expect_status(host) is RelayStatus.PAIRED
        await viewer.send(b"after")
        assert await host.recv() == b"after"
        await host.send(b"back")
        assert await viewer.recv() == b"back"
        # A resume while the relay still believes the old connection alive replaces it.
        viewer2 = await TcpClient.connect(r.tcp_port)
        assert await join(viewer2, Role.VIEWER, "roam", resume=True) is RelayStatus.PAIRED
        assert await expect_status(host) is RelayStatus.PEER_LEFT
        assert await expect_status(host) is RelayStatus.PAIRED
        assert await viewer.recv() is None
        await host.send(b"to the new one")
        assert await viewer2.recv() == b"to the new one"
        # Both sides gone: the routing id still waits for them during the grace period.
        await host.close()
        await viewer2.close()
        await asyncio.sleep(0.2)
        assert "roam" in r.relay.slots
        h, v = await TcpClient.connect(r.tcp_port), await TcpClient.connect(r.tcp_port)
        await pair(h, v, "roam", resume=True)


async def test_grace_period_expires() -> None:
    async with running_relay(relay_config(grace_period=0.4)) as r:
        host, viewer = await TcpClient.connect(r.tcp_port), await TcpClient.connect(r.tcp_port)
        await pair(host, viewer, "gone")
        await viewer.close()
        assert await expect_status(host) is RelayStatus.PEER_LEFT
        assert await host.recv(timeout=3) is None  # closed when the grace period ran out
        assert "gone" not in r.relay.slots


async def test_bad_input_never_hurts_the_relay() -> None:
    async with running_relay(relay_config(max_message_size=64 * 1024, join_timeout=0.5)) as r:
        # Garbage instead of a JOIN.
        c = await TcpClient.connect(r.tcp_port)
        await c.send(b"GET / HTTP/1.1")
        assert await expect_status(c) is RelayStatus.BAD_JOIN
        assert await c.recv() is None
        # A frame length far beyond the bound: closed before anything is buffered.
        c = await TcpClient.connect(r.tcp_port)
        await c.send_raw(b"\xff\xff\xff\xff" + b"x" * 100)
        assert await c.recv() is None
        # Early close: inside the header, inside the body, and right after connecting.
        for raw in (b"\x00\x00", b"\x00\x00\x00\x20OSJ1", b""):
            c = await TcpClient.connect(r.tcp_port)
            if raw:
                await c.send_raw(raw)
            await c.close()
        # No JOIN at all: dropped after join_timeout.
        c = await TcpClient.connect(r.tcp_port)
        assert await c.recv(timeout=3) is None
        # A WebSocket text message instead of a JOIN.
        w = await WsClient.connect(r.ws_port)
        await w.send_text("OSJ1")
        assert await w.recv() is None
        # After pairing: an oversize record, and a forged status message, each end only the sender.
        for bad in (os.urandom(64 * 1024 + 1), encode_status(RelayStatus.PEER_LEFT)):
            h, v = await TcpClient.connect(r.tcp_port), await WsClient.connect(r.ws_port)
            await pair(h, v, "bad-record")
            await v.send(b"fine")
            assert await h.recv() == b"fine"
            await v.send(bad)
            assert await expect_status(h) is RelayStatus.PEER_LEFT  # the real one, from the relay
            assert await v.recv() is None
            await h.close()
            await asyncio.sleep(0.1)
            await r.relay.sweep()
        # The relay still pairs and forwards.
        h, v = await TcpClient.connect(r.tcp_port), await WsClient.connect(r.ws_port)
        await pair(h, v, "after-the-storm")
        await h.send(b"ok")
        assert await v.recv() == b"ok"


async def test_random_garbage_from_many_clients() -> None:
    rng = random.Random(7)
    async with running_relay(relay_config(max_message_size=4096, join_timeout=0.3)) as r:
        for i in range(60):
            kind = i % 4
            if kind == 0:
                raw = os.urandom(rng.randrange(0, 200))
            elif kind == 1:  # a plausible frame header with a random body
                body = os.urandom(rng.randrange(0, 60))
                raw = len(body).to_bytes(4, "big") + body
            elif kind == 2:  # a JOIN-looking body with random damage
                body = bytearray(b"OSJ1\x01\x00\x05abcde")
                body[rng.randrange(len(body))] = rng.randrange(256)
                raw = len(body).to_bytes(4, "big") + bytes(body)
            else:  # a length just over the bound
                raw = (4097).to_bytes(4, "big") + os.urandom(100)
            c = await TcpClient.connect(r.tcp_port)
            await c.send_raw(raw)
            if rng.random() < 0.5:
                await c.close()
        await asyncio.sleep(0.5)
        h, v = await TcpClient.connect(r.tcp_port), await TcpClient.connect(r.tcp_port)
        await pair(h, v, "still-standing")
        await h.send(b"x" * 4096)
        assert await v.recv() == b"x" * 4096


async def test_a_websocket_client_that_never_reads_is_cut_off() -> None:
    async with running_relay(relay_config(session_bandwidth=0.0, idle_timeout=0.5)) as r:
        host = await TcpClient.connect(r.tcp_port)
        viewer = await WsClient.connect(r.ws_port)
        await pair(host, viewer, "stalled")
        connections = r.server.server_state.connections
        assert len(connections) == 1

        async def flood() -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while True:
                    await host.send(b"z" * 256 * 1024)

        task = asyncio.create_task(flood())
        # The viewer reads nothing: the relay stalls, the session goes idle, and the close frame can never
        # be written, so the relay must abort the connection rather than wait for ever.
        deadline = time.monotonic() + 10
        while connections and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        task.cancel()
        assert not connections, "the stalled WebSocket connection is still open"
        assert "stalled" not in r.relay.slots
