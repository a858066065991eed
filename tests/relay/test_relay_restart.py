"""Killing the relay process in the middle of a large transfer and starting it again.

Both ends reconnect with the resume flag and meet on the restarted relay; the sender resumes from the
offset the receiver reports (an application-level resume in this test; the session protocol's own resume
is exercised in test_relay_encrypted.py), and the bytes arrive identical, in order, without gaps.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import struct
from collections.abc import Callable

from opensupport.protocol.rendezvous import RelayStatus, Role, is_status_message, parse_status
from relay_clients import RelayProcess, TcpClient, WsClient, expect_status, join

TOTAL = 24 * 1024 * 1024
CHUNK = 60_000
_OFF = struct.Struct(">Q")


class Dropped(Exception):
    pass


async def connect_and_join(connect: Callable[[], object], role: Role, rid: str, resume: bool) -> object:
    """Reconnect until the relay answers, then wait until paired."""
    while True:
        try:
            client = await connect()  # type: ignore[misc]
        except Exception:  # refused while the relay is down, or a handshake cut short
            await asyncio.sleep(0.05)
            continue
        try:
            status = await join(client, role, rid, resume=resume)
        except (AssertionError, OSError, ConnectionError):
            await asyncio.sleep(0.05)
            continue
        if status is RelayStatus.WAITING:
            status = await expect_status(client, timeout=20)
        assert status is RelayStatus.PAIRED
        return client


async def recv_data(client: object) -> bytes:
    """The next peer message; Dropped on a lost connection or 'peer left'."""
    message = await client.recv(timeout=20)  # type: ignore[attr-defined]
    if message is None:
        raise Dropped
    if is_status_message(message):
        assert parse_status(message) is RelayStatus.PEER_LEFT
        raise Dropped
    return message


async def host_side(connect: Callable[[], object], rid: str, data: bytes) -> int:
    connections = 0
    while True:
        client = await connect_and_join(connect, Role.HOST, rid, resume=connections > 0)
        connections += 1
        try:
            message = await recv_data(client)
            assert message.startswith(b"OFFS")
            (offset,) = _OFF.unpack(message[4:])
            while offset < len(data):
                await client.send(_OFF.pack(offset) + data[offset : offset + CHUNK])  # type: ignore[attr-defined]
                offset += CHUNK
            assert await recv_data(client) == b"DONE"
            await client.close()  # type: ignore[attr-defined]
            return connections
        except (Dropped, ConnectionError, OSError):
            await asyncio.sleep(0.05)


async def viewer_side(connect: Callable[[], object], rid: str, progress: asyncio.Event) -> bytearray:
    received = bytearray()
    connections = 0
    while True:
        client = await connect_and_join(connect, Role.VIEWER, rid, resume=connections > 0)
        connections += 1
        try:
            await client.send(b"OFFS" + _OFF.pack(len(received)))  # type: ignore[attr-defined]
            while len(received) < TOTAL:
                message = await recv_data(client)
                (offset,) = _OFF.unpack(message[:8])
                assert offset == len(received), f"gap or reordering: got {offset}, expected {len(received)}"
                received += message[8:]
                if len(received) >= TOTAL // 3:
                    progress.set()
            await client.send(b"DONE")  # type: ignore[attr-defined]
            return received
        except (Dropped, ConnectionError, OSError):
            await asyncio.sleep(0.05)


async def test_relay_killed_mid_transfer_and_restarted(relay_process: Callable[..., RelayProcess]) -> None:
    relay = relay_process(session_bandwidth=24 * 1024 * 1024, session_burst=1024 * 1024)
    await asyncio.to_thread(relay.start)
    data = os.urandom(TOTAL)
    progress = asyncio.Event()

    def host_connect() -> object:
        return WsClient.connect(relay.ws_port)

    def viewer_connect() -> object:
        return TcpClient.connect(relay.tcp_port)

    host = asyncio.create_task(host_side(host_connect, "restart-1", data))
    viewer = asyncio.create_task(viewer_side(viewer_connect, "restart-1", progress))
    await asyncio.wait_for(progress.wait(), 30)
    assert not viewer.done()
    await asyncio.to_thread(relay.kill)
    await asyncio.sleep(0.3)  # both ends notice and keep retrying meanwhile
    await asyncio.to_thread(relay.start)
    received = await asyncio.wait_for(viewer, 60)
    connections = await asyncio.wait_for(host, 30)
    assert connections >= 2, "the transfer finished before the relay was killed"
    assert hashlib.sha256(received).digest() == hashlib.sha256(data).digest()
    assert bytes(received) == data
