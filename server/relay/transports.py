"""The relay's transports: WebSocket through Starlette, raw TCP, and a relay-only server on uvicorn.

Both transports apply back-pressure the same way: :meth:`Link.send` returns only when the socket's
write buffer is below its high-water mark, and a link is read only by its reader loop, which does not read
the next message before the previous one was handed to the peer's socket. uvicorn pauses reading a
WebSocket while a received message waits for the application; asyncio's StreamReader pauses reading past
its limit. So a slow receiver slows the sender down through TCP, and nothing piles up in the relay.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import Iterator
from typing import Any

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from .config import RelayConfig
from .core import Link, LinkError, Relay

__all__ = ["TcpLink", "WebSocketLink", "relay_routes", "serve_relay_only", "start_tcp_listener"]

_HEADER = struct.Struct(">I")
#: bytes a raw-TCP StreamReader buffers before it stops reading the socket
_TCP_READ_LIMIT = 256 * 1024
_CLOSE_WAIT = 2.0


class TcpLink(Link):
    """A raw TCP connection carrying 4-byte big-endian length-prefixed messages."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        max_message_size: int,
        peer_ip: str | None = None,
    ) -> None:
        if peer_ip is None:
            peername = writer.get_extra_info("peername")
            peer_ip = str(peername[0]) if peername else "unknown"
        super().__init__(peer_ip)
        self._reader = reader
        self._writer = writer
        self._max = max_message_size

    async def receive(self) -> bytes | None:
        reader = self._reader
        try:
            header = await reader.readexactly(4)
        except asyncio.IncompleteReadError as exc:
            if exc.partial:
                raise LinkError("connection closed inside a frame header") from None
            return None
        except (OSError, asyncio.LimitOverrunError) as exc:
            raise LinkError(str(exc)) from exc
        (length,) = _HEADER.unpack(header)
        if length > self._max:
            raise LinkError(f"message of {length} bytes exceeds {self._max}")
        try:
            return await reader.readexactly(length)
        except (asyncio.IncompleteReadError, OSError) as exc:
            raise LinkError("connection closed inside a frame") from exc

    async def send(self, message: bytes) -> None:
        writer = self._writer
        if writer.is_closing():
            raise LinkError("connection closed")
        try:
            writer.write(_HEADER.pack(len(message)) + message)
            await writer.drain()
        except (OSError, RuntimeError) as exc:
            raise LinkError(str(exc)) from exc

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        writer = self._writer
        writer.close()
        try:
            await asyncio.wait_for(writer.wait_closed(), _CLOSE_WAIT)
        except (TimeoutError, OSError):
            # A client that does not read keeps our write buffer full for ever; cut it off.
            writer.transport.abort()


class WebSocketLink(Link):
    """A Starlette WebSocket: one binary message per record; a text message is a protocol violation."""

    def __init__(self, websocket: WebSocket, max_message_size: int) -> None:
        client = websocket.client
        super().__init__(client.host if client else "unknown")
        self._ws = websocket
        self._max = max_message_size
        self._gone = False

    async def receive(self) -> bytes | None:
        if self._gone:
            return None
        try:
            message = await self._ws.receive()
        except Exception as exc:  # Starlette raises RuntimeError after a disconnect
            raise LinkError(str(exc)) from exc
        if message["type"] == "websocket.disconnect":
            self._gone = True
            return None
        data = message.get("bytes")
        if data is None:
            raise LinkError("text message on the relay")
        if len(data) > self._max:
            raise LinkError(f"message of {len(data)} bytes exceeds {self._max}")
        return bytes(data)

    async def send(self, message: bytes) -> None:
        if self._gone or self.closed:
            raise LinkError("connection closed")
        try:
            await self._ws.send({"type": "websocket.send", "bytes": message})
        except Exception as exc:  # uvicorn's ClientDisconnected, Starlette's RuntimeError, OSError
            raise LinkError(str(exc)) from exc

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._ws.close(), _CLOSE_WAIT)


def relay_routes(relay: Relay) -> list[WebSocketRoute]:
    """The Starlette routes of the relay: the WebSocket endpoint at ``/relay``.

    Mount them in any Starlette/FastAPI app (``routes=[*relay_routes(relay), ...]``); call
    ``await relay.start()`` and ``await relay.close()`` in the app's lifespan.
    """

    async def relay_endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        await relay.handle(WebSocketLink(websocket, relay.config.max_message_size))

    return [WebSocketRoute("/relay", relay_endpoint, name="relay")]


async def start_tcp_listener(relay: Relay, host: str, port: int) -> asyncio.Server:
    """Listen for raw-TCP relay clients on ``host:port``; returns the asyncio server (close it to stop).

    Raises OSError if the address cannot be bound.
    """

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        _tune(writer)
        await relay.handle(TcpLink(reader, writer, relay.config.max_message_size))

    return await asyncio.start_server(on_connect, host, port, limit=_TCP_READ_LIMIT)


def _tune(writer: asyncio.StreamWriter) -> None:
    import socket

    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def uvicorn_settings(config: RelayConfig) -> dict[str, Any]:
    """uvicorn options a server carrying the relay should use (the admin app passes them too).

    Records are encrypted, so per-message deflate would only burn CPU; a small receive queue keeps
    back-pressure tight; the size bound matches the relay's.
    """
    return {
        "ws_max_size": config.max_message_size,
        "ws_max_queue": 4,
        "ws_per_message_deflate": False,
    }


async def serve_relay_only(host: str, port: int, config: RelayConfig | None = None) -> None:
    """Run just the relay: the WebSocket endpoint ``/relay`` on ``host:port`` (uvicorn) and, if
    ``config.tcp_port`` is set, the raw TCP listener. Returns when the server is shut down (SIGINT/SIGTERM).

    Raises OSError if a port cannot be bound, or the Redis error if ``redis_url`` is unreachable.
    """
    import uvicorn
    from starlette.applications import Starlette

    config = config or RelayConfig()
    relay = Relay(config)
    await relay.start()
    app = Starlette(routes=relay_routes(relay))

    class RelayServer(uvicorn.Server):
        # uvicorn re-raises SIGTERM/SIGINT after a graceful shutdown, which would kill the process before
        # the relay leaves the cluster; the relay's own close below is the end of the shutdown instead.
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            with super().capture_signals():
                yield
                self._captured_signals.clear()

    server = RelayServer(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
            lifespan="off",
            **uvicorn_settings(config),
        )
    )
    try:
        await server.serve()
    finally:
        await relay.close()
