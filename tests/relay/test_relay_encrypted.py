"""A real encrypted session (opensupport.protocol.Session) over the relay.

- A relay that records every byte it forwards: a chat line and a file cross it, and none of their
  plaintext markers appear in what it saw.
- The relay process is killed in the middle of a file transfer and started again: both ends reconnect
  with the resume flag, the sessions resume (protocol resume, no code typed again) and the file arrives
  byte-identical.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Awaitable, Callable
from typing import Any

from opensupport.protocol import (
    NEED_DATA,
    ChatMessage,
    Event,
    FileChunk,
    FileEnd,
    FileOffer,
    HandshakeComplete,
    Resumed,
    Session,
    SessionCode,
    TransportLost,
)
from opensupport.protocol import Role as SessionRole
from opensupport.protocol.rendezvous import RelayStatus, Role, is_status_message, parse_status
from opensupport.server.relay import Link, Relay, RelayConfig, start_tcp_listener
from relay_clients import RelayProcess, TcpClient, WsClient, expect_status, join

CHAT_MARKER = "CHAT-MARKER-the customer's password is hunter2"
FILE_MARKER = b"FILE-MARKER-7f3a9c-confidential"
CHUNK = 32 * 1024


def marked_file(size: int) -> bytes:
    data = bytearray(os.urandom(size))
    for pos in range(0, size - len(FILE_MARKER), 4096):
        data[pos : pos + len(FILE_MARKER)] = FILE_MARKER
    return bytes(data)


class RecordingLink(Link):
    """Wraps a relay link and keeps every message the relay sends to that client."""

    def __init__(self, inner: Link, wire: list[bytes]) -> None:
        super().__init__(inner.peer_ip)
        self.inner = inner
        self.wire = wire

    async def receive(self) -> bytes | None:
        return await self.inner.receive()

    async def receive_batch(self) -> list[bytes] | None:
        return await self.inner.receive_batch()

    async def send(self, message: bytes) -> None:
        self.wire.append(message)
        await self.inner.send(message)

    async def send_batch(self, messages: list[bytes]) -> None:
        self.wire.extend(messages)
        await self.inner.send_batch(messages)

    async def close(self) -> None:
        await self.inner.close()


Connect = Callable[[], Awaitable[Any]]


class Endpoint:
    """One side: a protocol Session driven over a relay connection, reconnecting and resuming on loss."""

    def __init__(self, role: Role, code: SessionCode, connect: Connect) -> None:
        self.role = role
        self.code = code
        self.session = Session(SessionRole.HOST if role is Role.HOST else SessionRole.VIEWER, code)
        self.connect = connect
        self.client: Any = None
        self.events: list[Event] = []
        self.connections = 0
        self.on_event: Callable[[Event], None] = lambda event: None
        self.produce: Callable[[], None] = lambda: None

    async def attach(self, resume: bool) -> None:
        """Connect and JOIN until paired (the relay may be down for a while)."""
        while True:
            try:
                client = await self.connect()
            except Exception:
                await asyncio.sleep(0.05)
                continue
            try:
                status = await join(client, self.role, self.code.routing_id, resume=resume)
                if status is RelayStatus.WAITING:
                    status = await expect_status(client, timeout=30)
            except (AssertionError, OSError, TimeoutError):
                await asyncio.sleep(0.05)
                continue
            assert status is RelayStatus.PAIRED, status
            self.client = client
            self.connections += 1
            return

    def drain(self) -> None:
        while (event := self.session.next_event()) is not NEED_DATA:
            assert isinstance(event, Event)
            self.events.append(event)
            self.on_event(event)

    async def lost(self, keep_connection: bool) -> None:
        """The transport ended (or the peer's did): suspend, get paired again, resume."""
        self.session.receive_data(b"")
        self.drain()
        assert isinstance(self.events[-1], TransportLost)
        if keep_connection:
            assert await expect_status(self.client, timeout=30) is RelayStatus.PAIRED
        else:
            await self.attach(resume=True)
        self.session.resume()

    async def run(self, done: Callable[[], bool]) -> None:
        while True:
            self.drain()
            self.produce()
            try:
                for record in self.session.data_to_send():
                    await self.client.send(record)
            except (ConnectionError, OSError):
                await self.lost(keep_connection=False)
                continue
            if done():
                return
            try:
                message = await self.client.recv(timeout=0.02)
            except TimeoutError:
                continue
            if message is None:
                await self.lost(keep_connection=False)
            elif is_status_message(message):
                assert parse_status(message) is RelayStatus.PEER_LEFT
                await self.lost(keep_connection=True)
            else:
                self.session.receive_data(message)


class FileSender:
    """Host side: a chat line and a file, respecting the protocol's file credit."""

    def __init__(self, host: Endpoint, data: bytes) -> None:
        self.host = host
        self.data = data
        self.offset = 0
        self.offered = False
        self.ended = False

    def __call__(self) -> None:
        session = self.host.session
        if not any(isinstance(e, HandshakeComplete) for e in self.host.events) or self.ended:
            return
        if not self.offered:
            session.send(FileOffer(1, "secret.bin", len(self.data)))
            self.offered = True
        while self.offset < len(self.data):
            n = min(CHUNK, len(self.data) - self.offset)
            if session.file_credit() < n or session.reliable_buffer_space() < 4 * CHUNK:
                return
            session.send(FileChunk(1, self.offset, self.data[self.offset : self.offset + n]))
            self.offset += n
        session.send(FileEnd(1, hashlib.sha256(self.data).digest()))
        self.ended = True


class FileReceiver:
    def __init__(self) -> None:
        self.data = bytearray()
        self.digest: bytes | None = None
        self.chat: list[str] = []

    def __call__(self, event: Event) -> None:
        if isinstance(event, FileChunk):
            assert event.offset == len(self.data), f"gap or repeat at {event.offset} (have {len(self.data)})"
            self.data += event.data
        elif isinstance(event, FileEnd):
            self.digest = event.sha256
        elif isinstance(event, ChatMessage):
            self.chat.append(event.text)


async def exchange(
    host_connect: Connect,
    viewer_connect: Connect,
    rid: str,
    data: bytes,
    during: Callable[[FileReceiver], Any],
) -> tuple[Endpoint, Endpoint, FileReceiver, FileReceiver]:
    code = SessionCode.generate(rid)
    host = Endpoint(Role.HOST, code, host_connect)
    viewer = Endpoint(Role.VIEWER, code, viewer_connect)
    await asyncio.wait_for(asyncio.gather(host.attach(resume=False), viewer.attach(resume=False)), 30)
    at_viewer, at_host = FileReceiver(), FileReceiver()
    viewer.on_event = at_viewer
    host.on_event = at_host
    host.produce = FileSender(host, data)
    chat_sent = False

    def viewer_produce() -> None:
        nonlocal chat_sent
        if not chat_sent and any(isinstance(e, HandshakeComplete) for e in viewer.events):
            viewer.session.send(ChatMessage(CHAT_MARKER))
            chat_sent = True

    viewer.produce = viewer_produce
    finished = lambda: at_viewer.digest is not None and bool(at_host.chat)  # noqa: E731
    await asyncio.wait_for(
        asyncio.gather(host.run(finished), viewer.run(finished), during(at_viewer)),
        90,
    )
    return host, viewer, at_host, at_viewer


async def test_recording_relay_sees_no_plaintext() -> None:
    relay = Relay(RelayConfig())
    await relay.start()
    wire: list[bytes] = []

    async def serve(link: Any) -> None:
        await relay.handle(RecordingLink(link, wire))

    server = await start_tcp_listener(relay, "127.0.0.1", 0, serve=serve)
    port = server.sockets[0].getsockname()[1]
    data = marked_file(600_000)

    async def nothing(_: FileReceiver) -> None:
        return None

    try:
        _, _, at_host, at_viewer = await exchange(
            lambda: TcpClient.connect(port), lambda: TcpClient.connect(port), "REC-1", data, nothing
        )
    finally:
        server.close()
        await relay.close()
    assert at_host.chat == [CHAT_MARKER]
    assert bytes(at_viewer.data) == data
    assert at_viewer.digest == hashlib.sha256(data).digest()
    # Everything the relay forwarded: the file's bytes did pass through it (sealed), and no marker, in any
    # encoding a careless implementation might use, is visible.
    forwarded = b"".join(m for m in wire if not is_status_message(m))
    assert len(forwarded) > len(data)
    for needle in (
        FILE_MARKER,
        CHAT_MARKER.encode(),
        CHAT_MARKER.encode("utf-16-le"),
        b"hunter2",
        b"secret.bin",
        data[100_000:100_032],
    ):
        assert needle not in forwarded, f"plaintext {needle[:20]!r} crossed the relay"


async def test_relay_restart_mid_file_transfer_resumes_the_session(
    relay_process: Callable[..., RelayProcess],
) -> None:
    relay = relay_process(session_bandwidth=4 * 1024 * 1024, session_burst=256 * 1024)
    await asyncio.to_thread(relay.start)
    data = marked_file(6 * 1024 * 1024)
    killed = False

    async def kill_midway(at_viewer: FileReceiver) -> None:
        nonlocal killed
        while len(at_viewer.data) < len(data) // 3:
            await asyncio.sleep(0.01)
        assert at_viewer.digest is None
        await asyncio.to_thread(relay.kill)
        killed = True
        await asyncio.sleep(0.3)
        await asyncio.to_thread(relay.start)

    host, viewer, at_host, at_viewer = await exchange(
        lambda: WsClient.connect(relay.ws_port),
        lambda: TcpClient.connect(relay.tcp_port),
        "RESTART-2",
        data,
        kill_midway,
    )
    assert killed
    assert host.connections >= 2 and viewer.connections >= 2
    assert any(isinstance(e, Resumed) for e in host.events)
    assert any(isinstance(e, Resumed) for e in viewer.events)
    assert at_host.chat == [CHAT_MARKER]
    assert at_viewer.digest == hashlib.sha256(data).digest()
    assert bytes(at_viewer.data) == data
