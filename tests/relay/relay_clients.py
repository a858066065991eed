"""Minimal relay clients over real sockets, for the relay tests: raw TCP and WebSocket."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import struct
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Protocol

import uvicorn
from opensupport.protocol.rendezvous import (
    Join,
    RelayStatus,
    Role,
    encode_join,
    is_status_message,
    parse_status,
)
from opensupport.server.relay import Relay, RelayConfig, relay_routes, uvicorn_settings
from starlette.applications import Starlette

_HEADER = struct.Struct(">I")


class RelayClient(Protocol):
    async def send(self, message: bytes) -> None: ...
    async def recv(self, timeout: float = 5.0) -> bytes | None: ...
    async def close(self) -> None: ...


class TcpClient:
    """A raw-TCP relay client: 4-byte big-endian length + body."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def connect(cls, port: int, host: str = "127.0.0.1") -> TcpClient:
        reader, writer = await asyncio.open_connection(host, port, limit=4 * 1024 * 1024)
        return cls(reader, writer)

    async def send(self, message: bytes) -> None:
        self.writer.write(_HEADER.pack(len(message)) + message)
        await self.writer.drain()

    async def send_raw(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def recv(self, timeout: float = 5.0) -> bytes | None:
        """The next message, or None when the relay closed the connection.

        Raises TimeoutError if no message starts within ``timeout``; nothing is consumed then.
        """
        try:
            header = await asyncio.wait_for(self.reader.readexactly(4), timeout)
            (length,) = _HEADER.unpack(header)
            # Once the header is consumed the body must be read whole, or the stream would desynchronise.
            return await asyncio.wait_for(self.reader.readexactly(length), 30)
        except (asyncio.IncompleteReadError, ConnectionError):
            return None

    async def close(self) -> None:
        self.writer.close()
        try:
            await asyncio.wait_for(self.writer.wait_closed(), 2)
        except (OSError, TimeoutError):
            self.writer.transport.abort()  # unsent data nobody will read


class WsClient:
    """A WebSocket relay client (the `websockets` library), one binary message per record."""

    def __init__(self, ws: object) -> None:
        self.ws = ws

    @classmethod
    async def connect(cls, port: int, host: str = "127.0.0.1") -> WsClient:
        from websockets.asyncio.client import connect

        ws = await connect(
            f"ws://{host}:{port}/relay", max_size=8 * 1024 * 1024, compression=None, close_timeout=1
        )
        return cls(ws)

    async def send(self, message: bytes) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            await self.ws.send(message)  # type: ignore[attr-defined]
        except ConnectionClosed as exc:
            raise ConnectionResetError(str(exc)) from exc

    async def send_text(self, text: str) -> None:
        await self.ws.send(text)  # type: ignore[attr-defined]

    async def recv(self, timeout: float = 5.0) -> bytes | None:
        from websockets.exceptions import ConnectionClosed

        try:
            data = await asyncio.wait_for(self.ws.recv(), timeout)  # type: ignore[attr-defined]
        except ConnectionClosed:
            return None
        assert isinstance(data, bytes)
        return data

    async def close(self) -> None:
        await self.ws.close()  # type: ignore[attr-defined]


async def join(
    client: RelayClient, role: Role, routing_id: str, *, resume: bool = False, kill: bool = False
) -> RelayStatus:
    """Send a JOIN and return the relay's first answer."""
    await client.send(encode_join(Join(role, routing_id, resume=resume, kill=kill)))
    return await expect_status(client)


async def expect_status(client: RelayClient, timeout: float = 5.0) -> RelayStatus:
    message = await client.recv(timeout)
    assert message is not None, "relay closed the connection instead of answering"
    assert is_status_message(message), f"expected a status message, got {message[:16]!r}"
    return parse_status(message)


async def pair(
    connect_host: RelayClient, connect_viewer: RelayClient, routing_id: str, *, resume: bool = False
) -> None:
    """JOIN a host and a viewer and check the statuses the contract promises."""
    assert await join(connect_host, Role.HOST, routing_id, resume=resume) is RelayStatus.WAITING
    assert await join(connect_viewer, Role.VIEWER, routing_id, resume=resume) is RelayStatus.PAIRED
    assert await expect_status(connect_host) is RelayStatus.PAIRED


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


#: generous defaults for tests; each test overrides what it checks
TEST_CONFIG = RelayConfig(tcp_port=0, joins_per_minute=6000, join_burst=1000, max_routing_ids_per_ip=1000)


@dataclass
class RunningRelay:
    relay: Relay
    tcp_port: int
    ws_port: int
    server: uvicorn.Server


@contextlib.asynccontextmanager
async def running_relay(config: RelayConfig = TEST_CONFIG) -> AsyncIterator[RunningRelay]:
    """A relay in this event loop: raw TCP on one port, WebSocket /relay on another (uvicorn)."""
    relay = Relay(config)
    await relay.start()
    ws_port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            Starlette(routes=relay_routes(relay)),
            host="127.0.0.1",
            port=ws_port,
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=3,
            **uvicorn_settings(config),
        )
    )
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
        if task.done():
            task.result()
    try:
        assert relay.tcp_port is not None
        yield RunningRelay(relay, relay.tcp_port, ws_port, server)
    finally:
        server.should_exit = True
        await relay.close()
        await asyncio.wait_for(task, 10)


def relay_config(**changes: object) -> RelayConfig:
    return replace(TEST_CONFIG, **changes)  # type: ignore[arg-type]


def wait_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"relay did not listen on {port} within {timeout} s")


class RelayProcess:
    """``python -m opensupport.server.relay`` in a subprocess (serve_relay_only)."""

    def __init__(self, settings: dict[str, object]) -> None:
        self.ws_port = free_port()
        self.tcp_port = free_port()
        self.settings = {"tcp_port": self.tcp_port, **settings}
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        args = [sys.executable, "-m", "opensupport.server.relay", "--port", str(self.ws_port)]
        for name, value in self.settings.items():
            args += ["--set", f"{name}={value}"]
        self.proc = subprocess.Popen(args, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        wait_port(self.tcp_port)
        wait_port(self.ws_port)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
