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
import socket
import struct
from collections import deque
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from .config import RelayConfig
from .core import Link, LinkError, Relay

__all__ = [
    "TcpLink",
    "WebSocketLink",
    "open_tcp_link",
    "relay_routes",
    "serve_relay_only",
    "start_tcp_listener",
]

_HEADER = struct.Struct(">I")
#: bytes a raw-TCP StreamReader buffers before it stops reading the socket
_TCP_READ_LIMIT = 256 * 1024
_CLOSE_WAIT = 2.0


class TcpLink(Link, asyncio.Protocol):
    """A raw TCP connection carrying 4-byte big-endian length-prefixed messages.

    An asyncio Protocol rather than streams: received bytes are cut into messages as they arrive, and the
    relay takes every message already there in one :meth:`receive_batch` and writes them to the peer in
    one system call. Reading pauses while more than :data:`_TCP_READ_LIMIT` bytes wait to be forwarded.
    """

    def __init__(self, max_message_size: int, peer_ip: str | None = None) -> None:
        super().__init__(peer_ip or "unknown")
        self._max = max_message_size
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._messages: deque[bytes] = deque()
        self._queued = 0
        self._reading_paused = False
        self._waiter: asyncio.Future[None] | None = None
        self._drain: asyncio.Future[None] | None = None
        self._write_paused = False
        self._eof = False
        self._error: str | None = None

    # -- asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]
        if self.peer_ip == "unknown":
            peername = transport.get_extra_info("peername")
            if peername:
                self.peer_ip = str(peername[0])
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        if buffer:
            buffer += data
            view = memoryview(buffer)
            try:
                pos = self._cut(view, len(buffer))
            finally:
                view.release()
            if pos:
                del buffer[:pos]
        else:
            # The common case: the read starts on a message boundary, so messages are cut straight out of
            # it (one copy each) and only a trailing partial message is buffered.
            pos = self._cut(memoryview(data), len(data))
            if pos < len(data):
                buffer += data[pos:]
        if self._error is not None:
            return
        # Only whole messages count: a partial one must be allowed to complete (it is bounded by _max).
        if self._queued > _TCP_READ_LIMIT and not self._reading_paused and self._transport:
            self._reading_paused = True
            self._transport.pause_reading()
        self._wake()

    def _cut(self, view: memoryview, size: int) -> int:
        """Queue every whole message in ``view[:size]``; returns where the first incomplete one starts."""
        pos, limit = 0, self._max
        messages = self._messages
        while size - pos >= 4:
            (length,) = _HEADER.unpack_from(view, pos)
            if length > limit:
                self._fail(f"message of {length} bytes exceeds {limit}")
                return pos
            end = pos + 4 + length
            if end > size:
                break
            messages.append(view[pos + 4 : end].tobytes())
            self._queued += length
            pos = end
        return pos

    def eof_received(self) -> bool:
        self._eof = True
        self._wake()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._eof = True
        self.closed = True
        if exc is not None and self._error is None:
            self._error = str(exc)
        self._wake()
        self._resume_writers()

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        self._resume_writers()

    # -- internals

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _resume_writers(self) -> None:
        drain = self._drain
        if drain is not None and not drain.done():
            drain.set_result(None)

    def _fail(self, reason: str) -> None:
        self._error = reason
        self._messages.clear()
        if self._transport is not None:
            self._transport.abort()
        self._wake()

    def _took(self, amount: int) -> None:
        self._queued -= amount
        if self._reading_paused and self._queued <= _TCP_READ_LIMIT // 2:
            self._reading_paused = False
            if self._transport is not None and not self._transport.is_closing():
                self._transport.resume_reading()

    async def _wait_readable(self) -> None:
        while not self._messages:
            if self._error is not None:
                raise LinkError(self._error)
            if self._eof:
                if self._buffer:
                    raise LinkError("connection closed inside a frame")
                return
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    # -- Link

    async def receive(self) -> bytes | None:
        await self._wait_readable()
        if not self._messages:
            return None
        message = self._messages.popleft()
        self._took(len(message))
        return message

    async def receive_batch(self) -> list[bytes] | None:
        await self._wait_readable()
        if not self._messages:
            return None
        batch = list(self._messages)
        self._messages.clear()
        self._took(sum(map(len, batch)))
        return batch

    async def send(self, message: bytes) -> None:
        await self.send_batch([message])

    async def send_batch(self, messages: list[bytes]) -> None:
        transport = self._transport
        if transport is None or self.closed or transport.is_closing():
            raise LinkError("connection closed")
        parts: list[bytes] = []
        for message in messages:
            parts.append(_HEADER.pack(len(message)))
            parts.append(message)
        transport.writelines(parts)
        while self._write_paused and not self.closed:
            self._drain = asyncio.get_running_loop().create_future()
            try:
                await self._drain
            finally:
                self._drain = None
        if self.closed:
            raise LinkError("connection closed")

    async def close(self) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            self.closed = True
            return
        self.closed = True
        transport.close()
        # A client that does not read keeps our write buffer full for ever; cut it off after a while.
        asyncio.get_running_loop().call_later(_CLOSE_WAIT, transport.abort)


async def open_tcp_link(host: str, port: int, max_message_size: int, peer_ip: str | None = None) -> TcpLink:
    """Connect to a raw-TCP relay endpoint; raises OSError if it cannot be reached."""
    loop = asyncio.get_running_loop()
    _, link = await loop.create_connection(lambda: TcpLink(max_message_size, peer_ip), host, port)
    return link


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
        try:
            await asyncio.wait_for(self._ws.close(), _CLOSE_WAIT)
        except TimeoutError:
            self._abort()
        except Exception:
            pass  # already gone

    def _abort(self) -> None:
        """Cut the TCP connection of a client that does not read (its close frame can never be sent).

        ASGI has no call for this. Under uvicorn the ASGI send callable is a method of the connection's
        protocol object, which holds the transport; Starlette and middlewares wrap it in closures, which
        are followed here. Without a transport in reach, the server's own timeouts have to do.
        """
        transport = _find_transport(getattr(self._ws, "_send", None))
        if transport is not None:
            transport.abort()


def _find_transport(send: object, depth: int = 12) -> asyncio.Transport | None:
    """The asyncio transport behind an ASGI send callable, if it can be found."""
    seen: set[int] = set()
    todo = [(send, 0)]
    while todo:
        obj, level = todo.pop()
        if obj is None or id(obj) in seen or level > depth:
            continue
        seen.add(id(obj))
        owner = getattr(obj, "__self__", None)
        transport = getattr(owner, "transport", None)
        if transport is not None and callable(getattr(transport, "abort", None)):
            return transport  # type: ignore[no-any-return]
        for cell in getattr(obj, "__closure__", None) or ():
            with contextlib.suppress(ValueError):  # an empty cell
                todo.append((cell.cell_contents, level + 1))
    return None


def relay_routes(relay: Relay) -> list[WebSocketRoute]:
    """The Starlette routes of the relay: the WebSocket endpoint at ``/relay``.

    Mount them in any Starlette/FastAPI app (``routes=[*relay_routes(relay), ...]``); call
    ``await relay.start()`` and ``await relay.close()`` in the app's lifespan.
    """

    async def relay_endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        await relay.handle(WebSocketLink(websocket, relay.config.max_message_size))

    return [WebSocketRoute("/relay", relay_endpoint, name="relay")]


async def start_tcp_listener(
    relay: Relay, host: str, port: int, serve: Callable[[TcpLink], Coroutine[Any, Any, None]] | None = None
) -> asyncio.Server:
    """Listen for raw-TCP relay clients on ``host:port``; returns the asyncio server (close it to stop).

    Each connection is served by ``serve`` (default: ``relay.handle``). Raises OSError if the address
    cannot be bound.
    """
    loop = asyncio.get_running_loop()
    handler = serve or relay.handle

    def make_link() -> TcpLink:
        link = TcpLink(relay.config.max_message_size)
        relay.spawn(handler(link))
        return link

    return await loop.create_server(make_link, host, port, backlog=4096)


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
            # a client that never reads can hold a WebSocket close for ever; do not wait for it
            timeout_graceful_shutdown=5,
            **uvicorn_settings(config),
        )
    )
    try:
        await server.serve()
    finally:
        await relay.close()
