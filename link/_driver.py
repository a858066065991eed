"""The asyncio driver between a sans-IO protocol :class:`~opensupport.protocol.Session` and the relay.

Theory of operation
-------------------
One :class:`SessionLink` owns one support session for its whole life, across as many WebSocket
connections to the relay as it takes:

1. connect to ``ws(s)://server/relay``, send the JOIN (``protocol/rendezvous.py``) and wait for the relay's
   "paired";
2. pump: every WebSocket message is one protocol record for ``Session.receive_data``; the events it yields
   go to the application's handler; records leave through ``Session.data_to_send(PULL_RECORDS)``, pulled
   only when the socket has drained, so that input and control queued after a large screen update still
   leave in the next record (the session orders records by priority, the pull keeps the OS buffer short);
3. when the transport drops (the socket closes, or the relay says "peer left") the session is fed ``b""``
   and becomes SUSPENDED; the link reconnects with the JOIN resume flag (or, on "peer left", simply waits
   on its own connection for "paired" again) and calls ``Session.resume()``. Reconnect attempts follow
   each other at :data:`RECONNECT_DELAY`, so a session resumes as soon as the relay is back;
4. a handshake that fails with a wrong code: the viewer counts it in its :class:`CodeGuard` and waits for
   the next host with a fresh handshake; after the 5th failure it sends the relay a JOIN with the kill flag
   and ends with :class:`CodeDead`. The host ends at once (the customer typed a wrong code).
5. 자동 재접속 (viewer): after :meth:`SessionLink.expect_comeback` the next drop is not resumed, since the
   host's process goes down with the PC and its keys with it. The link joins under the comeback code
   instead, with a fresh session and a fresh guard, and waits for the restarted host's handshake. The
   handler, and so the application's session, stays the same.

The link ends when the session is closed (by either side), when it fails, or when it cannot resume within
``resume_timeout``. :meth:`SessionLink.run` then returns a :class:`LinkResult` or raises the error.
Everything runs on one event loop; :meth:`SessionLink.send_threadsafe` and :meth:`close_threadsafe` are
the only entry points for other threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import enum
import inspect
import logging
import os
import socket
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from opensupport.protocol import (
    NEED_DATA,
    AuthenticationFailed,
    CloseSession,
    CodeDead,
    CodeGuard,
    Event,
    HandshakeComplete,
    HandshakeError,
    LocalProtocolError,
    ProtocolError,
    Resumed,
    Role,
    Session,
    SessionCode,
    State,
    TransportLost,
)
from opensupport.protocol import rendezvous as rv

__all__ = [
    "CONNECT_TIMEOUT",
    "ENV_RESUME_TIMEOUT",
    "PULL_RECORDS",
    "RECONNECT_DELAY",
    "RESUME_TIMEOUT",
    "EventHandler",
    "LinkError",
    "LinkOutbox",
    "LinkResult",
    "LinkState",
    "RelayRefused",
    "SessionLink",
    "configured_resume_timeout",
    "relay_url",
    "tune_allocator",
]

log = logging.getLogger(__name__)

#: Records pulled from the session per socket drain: small, so that nothing queues ahead of input.
PULL_RECORDS = 4
#: Bytes the WebSocket may buffer before ``send`` waits for the socket (keeps the OS queue short).
WRITE_LIMIT = 64 * 1024
#: Pause between two connection attempts while the relay is unreachable.
RECONNECT_DELAY = 0.05
#: Seconds to reach the relay and hear its answer to the JOIN.
CONNECT_TIMEOUT = 5.0
#: How long a dropped session keeps trying to resume before it gives up (the relay keeps the routing id
#: for at least 30 s).
RESUME_TIMEOUT = 30.0
#: Overrides RESUME_TIMEOUT in host and viewer (seconds, 0.5 to 3600): how soon the side left behind gives
#: a killed peer up and reports the session ``disconnected``. Beyond 30 s the relay may have forgotten the
#: routing id.
ENV_RESUME_TIMEOUT = "OPENSUPPORT_RESUME_TIMEOUT"
#: How long :meth:`SessionLink.close` waits for the peer to acknowledge the close.
CLOSE_TIMEOUT = 1.0
#: Largest WebSocket message accepted (a protocol record is at most ~16 KiB; the relay's own bound).
MAX_WS_MESSAGE = rv.MAX_MESSAGE_SIZE

EventHandler = Callable[[Event], Awaitable[None] | None]


#: Allocations up to this size stay on glibc's heap instead of fresh mmap()s (see tune_allocator).
HEAP_ALLOCATION_LIMIT = 4 * 1024 * 1024
#: Free heap memory glibc keeps instead of returning it to the kernel at once.
HEAP_TRIM_THRESHOLD = 32 * 1024 * 1024
_M_TRIM_THRESHOLD = -1  # glibc's mallopt parameters (malloc.h)
_M_MMAP_THRESHOLD = -3
_allocator_tuned = False


def tune_allocator() -> bool:
    """Keep buffers of up to :data:`HEAP_ALLOCATION_LIMIT` on the heap (glibc only; once per process).

    Every bulk record (256 KiB) passes through several bytes objects on each end and in the relay: file
    data, message, plaintext, ciphertext, WebSocket frame. glibc serves blocks above 128 KiB with a fresh
    mmap() and unmaps them when freed, so every such block costs a page fault per 4 KiB touched: about two
    per byte transferred, measured as a third of the CPU time of a file transfer. With these thresholds
    the freed blocks are reused; at most :data:`HEAP_TRIM_THRESHOLD` of free heap is kept. Returns whether
    the allocator was tuned (False off glibc, or when ``MALLOC_MMAP_THRESHOLD_`` is set by the user).
    """
    global _allocator_tuned
    if _allocator_tuned:
        return True
    if os.environ.get("MALLOC_MMAP_THRESHOLD_") or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    _allocator_tuned = bool(
        mallopt(_M_MMAP_THRESHOLD, HEAP_ALLOCATION_LIMIT) and mallopt(_M_TRIM_THRESHOLD, HEAP_TRIM_THRESHOLD)
    )
    return _allocator_tuned


def configured_resume_timeout(environ: Mapping[str, str] | None = None) -> float:
    """:data:`RESUME_TIMEOUT`, or ``OPENSUPPORT_RESUME_TIMEOUT`` when it is set. Raises ValueError naming
    the variable for a value that is not a number of seconds in range."""
    env = os.environ if environ is None else environ
    text = env.get(ENV_RESUME_TIMEOUT)
    if not text:
        return RESUME_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{ENV_RESUME_TIMEOUT}={text!r} is not a number of seconds") from None
    if not 0.5 <= value <= 3600:
        raise ValueError(f"{ENV_RESUME_TIMEOUT}={text!r} is out of range (0.5 to 3600 s)")
    return value


class LinkError(Exception):
    """The session could not be established or kept: the relay refused it, or it could not resume."""


class RelayRefused(LinkError):
    """The relay answered the JOIN with a refusal (``status`` says which)."""

    def __init__(self, status: rv.RelayStatus) -> None:
        messages = {
            rv.RelayStatus.BAD_JOIN: "the relay refused the JOIN as malformed",
            rv.RelayStatus.UNKNOWN_ROUTING_ID: "the session code is no longer valid (retired after wrong codes)",
            rv.RelayStatus.RATE_LIMITED: "too many connection attempts from this address; try again later",
            rv.RelayStatus.BUSY: "the relay is busy or someone else already joined this session",
        }
        super().__init__(messages.get(status, f"the relay refused the session ({status.name})"))
        self.status = status


class LinkState(enum.Enum):
    """What the link is doing, for the user interface."""

    CONNECTING = "connecting"  #: reaching the relay
    WAITING = "waiting"  #: joined; the other side has not arrived
    HANDSHAKING = "handshaking"  #: paired; proving the session code
    CONNECTED = "connected"  #: the secure session is established
    RECONNECTING = "reconnecting"  #: the transport dropped; resuming
    CLOSED = "closed"  #: the session ended
    FAILED = "failed"  #: the session could not go on


@dataclass(frozen=True)
class LinkResult:
    """How a session ended cleanly."""

    #: True when the peer closed the session, False when this side did.
    closed_by_peer: bool
    reason: str


#: Unsent bytes the kernel may hold per connection (TCP_NOTSENT_LOWAT): beyond it, data waits in our own
#: queue, where a record of higher priority can still go first.
NOTSENT_LOWAT = 64 * 1024
_TCP_NOTSENT_LOWAT = getattr(socket, "TCP_NOTSENT_LOWAT", 25)  # Linux's value; Python lacks the name


def _limit_unsent(ws: Any) -> None:
    """Keep the kernel's send queue short, so that priorities decide what leaves next (best effort:
    TCP_NOTSENT_LOWAT exists on Linux and macOS)."""
    sock = ws.transport.get_extra_info("socket") if getattr(ws, "transport", None) else None
    if sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.IPPROTO_TCP, _TCP_NOTSENT_LOWAT, NOTSENT_LOWAT)


class LinkOutbox:
    """A link seen as the ``Outbox`` of the tools (``opensupport.tools.files.Outbox``): sends queue on the
    link's current session and wake its writer. Loop thread only. ``send`` raises LocalProtocolError as
    ``Session.send`` does (a full reliable buffer, an ended session), so a tool never loses a message
    silently."""

    def __init__(self, link: SessionLink) -> None:
        self._link = link

    @property
    def role(self) -> Role:
        """The link's role."""
        return self._link.role

    def send(self, event: Event) -> None:
        """Queue ``event``; raises LocalProtocolError when the session cannot take it."""
        self._link.session.send(event)
        self._link.wake()

    def file_credit(self) -> int:
        """File bytes the peer allows now."""
        return int(self._link.session.file_credit())

    def reliable_buffer_space(self) -> int:
        """Reliable bytes that may still be queued."""
        return int(self._link.session.reliable_buffer_space())

    def max_file_chunk(self) -> int:
        """Largest file chunk the peer accepts (by protocol version)."""
        return int(self._link.session.max_file_chunk())


def relay_url(server: str) -> str:
    """The relay's WebSocket URL for a server URL: ``https://h`` -> ``wss://h/relay``.

    Raises ValueError for a URL that is not http(s) or ws(s) or has no host.
    """
    parts = urlsplit(server.strip())
    scheme = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}.get(parts.scheme)
    if scheme is None or not parts.hostname:
        raise ValueError(f"not a server URL: {server!r} (expected http(s):// or ws(s)://host)")
    path = parts.path.rstrip("/")
    if not path.endswith("/relay"):
        path += "/relay"
    return urlunsplit((scheme, parts.netloc, path, "", ""))


class _Dropped(Exception):
    """The transport ended (socket closed or the peer left)."""


class _PeerLeft(_Dropped):
    """The relay said the peer's connection dropped; our own connection is still good."""


class _Retry(_Dropped):
    """A handshake failed with a wrong code; the viewer waits on the same connection for another host."""


class SessionLink:
    """Drives one protocol session over the relay (see the module docstring).

    ``handler`` receives every application event (on the loop; it may be a coroutine function, awaited
    before the next record is read: that is the viewer's back-pressure). ``on_state`` is told about
    :class:`LinkState` changes with a human-readable detail.
    """

    def __init__(
        self,
        role: Role,
        code: SessionCode,
        server: str,
        handler: EventHandler,
        *,
        guard: CodeGuard | None = None,
        on_state: Callable[[LinkState, str], None] | None = None,
        resume_timeout: float | None = None,
    ) -> None:
        tune_allocator()
        self.role = role
        self.code = code
        self.url = relay_url(server)
        self.guard = guard if guard is not None else CodeGuard()
        self._handler = handler
        self._on_state = on_state
        self._resume_timeout = configured_resume_timeout() if resume_timeout is None else resume_timeout
        self.session = self._new_session()
        self.state = LinkState.CONNECTING
        self._ws: Any = None
        self._wake = asyncio.Event()
        self._send_lock = asyncio.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closing: str | None = None
        self._ended = asyncio.Event()
        self._result: LinkResult | None = None
        #: Connections made to the relay (1 + reconnects).
        self.connections = 0
        #: Times the session resumed after a transport drop.
        self.resumes = 0
        #: Seconds from the last drop to the last resume.
        self.last_resume_s: float | None = None
        self._dropped_at: float | None = None
        self._established_once = False
        self._round_hooks: list[Callable[[], None]] = []
        #: 자동 재접속: the code the peer comes back with after its PC restarts, and how long to wait for it.
        self._comeback: tuple[SessionCode, float] | None = None
        self._comeback_until: float | None = None

    # -- public API ---------------------------------------------------------------------------------------
    @property
    def established(self) -> bool:
        """True while the secure session is established and the transport is up."""
        return self.session.state is State.ESTABLISHED and self.state is LinkState.CONNECTED

    def send(self, event: Event) -> bool:
        """Queue ``event`` on the session (loop thread only); False if the session cannot take it now
        (suspended and unreliable, frame window full, the session ended). Never raises for those."""
        try:
            self.session.send(event)
        except LocalProtocolError as exc:
            log.debug("not sent: %s: %s", type(event).__name__, exc)
            return False
        self._wake.set()
        return True

    def wake(self) -> None:
        """Let the writer pull records now (loop thread): after queuing on :attr:`session` directly."""
        self._wake.set()

    def add_round_hook(self, hook: Callable[[], None]) -> None:
        """Call ``hook()`` on the loop after the events of every received record were handled: file
        transfers pump there, since credit and acknowledgements arrive without an event of their own."""
        self._round_hooks.append(hook)

    def expect_comeback(self, code: SessionCode | None, wait: float) -> None:
        """Viewer, loop thread: the host's PC is about to restart (자동 재접속). When the transport drops
        next, the session is not resumed (the host's process is gone with its keys): the link joins the
        relay under ``code``, a fresh code that travelled inside this encrypted session, and waits up to
        ``wait`` seconds for the restarted host's new handshake; the events go on to the same handler.
        ``None`` cancels (the host refused or could not restart)."""
        self._comeback = (code, wait) if code is not None else None

    def _switch_to_comeback(self) -> None:
        assert self._comeback is not None
        code, wait = self._comeback
        self._comeback = None
        self.code = code
        self.guard = CodeGuard()  # five wrong tries kill the comeback code too
        self.session = self._new_session()
        self._established_once = False
        self._dropped_at = None
        self._comeback_until = time.monotonic() + wait
        self._set_state(LinkState.WAITING, "waiting for the other side's PC to restart")

    def _check_comeback_deadline(self) -> None:
        if self._comeback_until is not None and time.monotonic() > self._comeback_until:
            raise LinkError("the other side did not come back after the restart in time")

    def _run_round_hooks(self) -> None:
        for hook in self._round_hooks:
            try:
                hook()
            except Exception:
                log.exception("a round hook failed")

    def send_threadsafe(self, event: Event) -> None:
        """:meth:`send` from any thread (the event is queued on the link's loop)."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self.send, event)

    def close(self, reason: str = "") -> None:
        """End the session: send ``CloseSession(reason)``, flush it, then end :meth:`run` (loop thread).

        :meth:`run` returns once the peer confirmed the close, or after :data:`CLOSE_TIMEOUT` at most.
        """
        if self._closing is not None:
            return
        self._closing = reason
        try:
            self.session.send(CloseSession(reason))
        except ProtocolError:
            self._finish(LinkResult(False, reason))  # nothing established to close
            # The run may be waiting on the relay for the other side: end that wait now.
            asyncio.get_running_loop().create_task(self._close_ws())
            return
        self._wake.set()
        asyncio.get_running_loop().call_later(CLOSE_TIMEOUT, self._finish, LinkResult(False, reason))

    def close_threadsafe(self, reason: str = "") -> None:
        """:meth:`close` from any thread."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self.close, reason)

    async def run(self) -> LinkResult:
        """Run the session until it ends; returns how it ended.

        Raises RelayRefused (the relay said no), CodeDead (too many wrong codes), AuthenticationFailed
        (host: the code typed is wrong), LinkError (could not resume in time), ProtocolError (the peer or
        the path broke the protocol).
        """
        self._loop = asyncio.get_running_loop()
        try:
            await self._run()
        except BaseException as exc:
            self._set_state(LinkState.FAILED, str(exc) or type(exc).__name__)
            raise
        finally:
            await self._close_ws()
        assert self._result is not None
        self._set_state(LinkState.CLOSED, self._result.reason)
        return self._result

    # -- the connection loop ------------------------------------------------------------------------------
    def _new_session(self) -> Session:
        return Session(self.role, self.code, guard=self.guard)

    def _set_state(self, state: LinkState, detail: str = "") -> None:
        self.state = state
        if self._on_state is not None:
            try:
                self._on_state(state, detail)
            except Exception:
                log.exception("the link state callback failed")

    def _finish(self, result: LinkResult) -> None:
        if self._result is None:
            self._result = result
        self._ended.set()
        self._wake.set()

    async def _run(self) -> None:
        ever_connected = False
        while not self._ended.is_set():
            resume = ever_connected
            try:
                await self._connect(resume=resume)
            except RelayRefused:
                raise
            except (OSError, TimeoutError, _Dropped) as exc:
                if not ever_connected and not isinstance(exc, _Dropped):
                    raise LinkError(f"cannot reach the relay at {self.url}: {exc}") from exc
                self._check_resume_deadline()
                log.debug("relay not reachable: %s", exc)
                await asyncio.sleep(RECONNECT_DELAY)
                continue
            except Exception as exc:  # websockets' InvalidHandshake, InvalidURI...
                if not ever_connected:
                    raise LinkError(f"cannot reach the relay at {self.url}: {exc}") from exc
                self._check_resume_deadline()
                await asyncio.sleep(RECONNECT_DELAY)
                continue
            ever_connected = True
            self.connections += 1
            try:
                await self._paired_loop()
            except _Dropped:
                if self._dropped_at is None and self._comeback_until is None:
                    self._dropped_at = time.monotonic()  # dropped before pairing: the same deadline applies
                await self._close_ws()
                if self._ended.is_set():
                    break
                continue

    def _check_resume_deadline(self) -> None:
        self._check_comeback_deadline()
        if self._dropped_at is not None and time.monotonic() - self._dropped_at > self._resume_timeout:
            raise LinkError(
                f"the connection was lost and could not be resumed in {self._resume_timeout:.0f} s"
            )

    async def _connect(self, *, resume: bool) -> None:
        from websockets.asyncio.client import connect

        self._set_state(LinkState.RECONNECTING if self._dropped_at is not None else LinkState.CONNECTING)
        ws = await asyncio.wait_for(
            connect(
                self.url,
                max_size=MAX_WS_MESSAGE,
                compression=None,
                write_limit=WRITE_LIMIT,
                open_timeout=CONNECT_TIMEOUT,
                ping_interval=20,
                ping_timeout=20,
            ),
            CONNECT_TIMEOUT,
        )
        self._ws = ws
        _limit_unsent(ws)
        role = rv.Role.HOST if self.role is Role.HOST else rv.Role.VIEWER
        await ws.send(rv.encode_join(rv.Join(role, self.code.routing_id, resume=resume)))

    async def _recv(self, timeout: float | None = None) -> bytes:
        from websockets.exceptions import ConnectionClosed

        try:
            message = await asyncio.wait_for(self._ws.recv(), timeout)
        except ConnectionClosed as exc:
            raise _Dropped(str(exc)) from None
        if not isinstance(message, bytes):
            raise _Dropped("the relay sent a text message")
        return message

    async def _wait_paired(self) -> None:
        """Read relay status messages until "paired"."""
        while True:
            timeout = None
            if self._dropped_at is not None and self._established_once:
                timeout = max(0.0, self._dropped_at + self._resume_timeout - time.monotonic())
            elif self._comeback_until is not None:
                timeout = max(0.0, self._comeback_until - time.monotonic())
            try:
                message = await self._recv(timeout)
            except TimeoutError:
                self._check_comeback_deadline()
                raise LinkError(
                    f"the other side did not come back within {self._resume_timeout:.0f} s"
                ) from None
            if not rv.is_status_message(message):
                raise _Dropped("a record arrived before the relay said paired")
            status = rv.parse_status(message)
            if status is rv.RelayStatus.PAIRED:
                return
            if status is rv.RelayStatus.WAITING:
                if not self._established_once:
                    self._dropped_at = None  # back on the relay, waiting for the other side as before
                self._set_state(
                    LinkState.RECONNECTING if self._dropped_at is not None else LinkState.WAITING,
                    "waiting for the other side",
                )
                continue
            if status is rv.RelayStatus.PEER_LEFT:
                continue
            raise RelayRefused(status)

    async def _paired_loop(self) -> None:
        """One relay connection: wait until paired, then pump until it drops (raises _Dropped)."""
        while True:
            await self._wait_paired()
            self._on_paired()
            writer = asyncio.create_task(self._writer())
            reader = asyncio.create_task(self._reader())
            ended = asyncio.create_task(self._ended.wait())
            try:
                await asyncio.wait({reader, ended}, return_when=asyncio.FIRST_COMPLETED)
                if not reader.done():
                    # The session ended (closed, or the close timed out): let the writer flush, then stop.
                    await asyncio.sleep(0)
                    return
                reader.result()
                return
            except _Retry:
                continue  # a wrong code was tried: wait on this connection for the next host
            except _PeerLeft:
                await self._transport_lost()
                continue  # our own connection is fine: wait on it for "paired" again
            except _Dropped:
                await self._transport_lost()
                raise
            finally:
                for task in (reader, ended, writer):
                    task.cancel()
                for task in (reader, ended, writer):
                    with contextlib.suppress(BaseException):
                        await task

    def _on_paired(self) -> None:
        if self.session.state is State.SUSPENDED:
            self.session.resume()
            self._set_state(LinkState.RECONNECTING, "resuming the session")
        else:
            self._set_state(LinkState.HANDSHAKING, "proving the session code")
        self._wake.set()

    async def _transport_lost(self) -> None:
        """Feed the end of the transport to the session: an established one is suspended (to be resumed),
        a handshake in progress is abandoned and replaced by a fresh session."""
        if self._comeback is not None and self._established_once:
            self._switch_to_comeback()
            raise _Dropped("the other side restarts: joining under the comeback code")
        if self._dropped_at is None:
            self._dropped_at = time.monotonic()
        session = self.session
        if session.state in (State.FAILED, State.CLOSED):
            return
        with contextlib.suppress(LocalProtocolError):
            session.receive_data(b"")
        if not self._established_once:
            try:
                while session.next_event() is not NEED_DATA:
                    pass
            except CodeDead:
                if self.role is Role.VIEWER:
                    await self._send_kill()
                raise
            except ProtocolError as exc:
                log.info("handshake abandoned: %s", exc)
            self.session = self._new_session()
        else:
            await self._deliver_events()
        self._set_state(LinkState.RECONNECTING, "the connection dropped; reconnecting")

    async def _reader(self) -> None:
        while not self._ended.is_set():
            message = await self._recv()
            if rv.is_status_message(message):
                status = rv.parse_status(message)
                if status is rv.RelayStatus.PEER_LEFT:
                    raise _PeerLeft("the other side's connection dropped")
                continue  # a repeated "paired" or "waiting" changes nothing
            self.session.receive_data(message)
            await self._deliver_events()
            self._run_round_hooks()
            self._wake.set()

    async def _deliver_events(self) -> None:
        while True:
            try:
                event = self.session.next_event()
            except (AuthenticationFailed, HandshakeError) as exc:
                await self._flush_now()
                await self._handshake_failed(exc)
                return
            except ProtocolError:
                await self._flush_now()
                raise
            if event is NEED_DATA:
                return
            assert isinstance(event, Event)
            if isinstance(event, HandshakeComplete):
                self._dropped_at = None
                self._comeback_until = None
                self._established_once = True
                self._set_state(LinkState.CONNECTED, "secure session established")
            elif isinstance(event, Resumed):
                if self._dropped_at is not None:
                    self.last_resume_s = time.monotonic() - self._dropped_at
                self._dropped_at = None
                self.resumes += 1
                self._set_state(LinkState.CONNECTED, "session resumed")
            elif isinstance(event, TransportLost):
                pass
            elif isinstance(event, CloseSession):
                await self._call_handler(event)
                await self._flush_now()
                self._finish(LinkResult(self._closing is None, self._closing or event.reason))
                continue
            if not isinstance(event, TransportLost):
                await self._call_handler(event)
            self._wake.set()

    async def _call_handler(self, event: Event) -> None:
        try:
            result = self._handler(event)
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception("the session's event handler failed on %s", type(event).__name__)

    async def _handshake_failed(self, exc: ProtocolError) -> None:
        """A handshake failed: the viewer waits for another try (or retires a dead code), the host ends."""
        if isinstance(exc, CodeDead) and self.role is Role.VIEWER:
            await self._send_kill()
            raise exc
        if self.role is Role.HOST or not isinstance(exc, AuthenticationFailed):
            raise exc
        # Viewer, wrong code: the session counted the guess; wait on this connection for the next host.
        log.warning("a handshake failed: %s", exc)
        self._set_state(
            LinkState.WAITING,
            f"a connection attempt used a wrong code ({self.guard.remaining} attempts left)",
        )
        self.session = self._new_session()
        raise _Retry("wrong code")

    async def _send_kill(self) -> None:
        from websockets.asyncio.client import connect

        join = rv.encode_join(rv.Join(rv.Role.VIEWER, self.code.routing_id, resume=True, kill=True))
        with contextlib.suppress(Exception):
            async with asyncio.timeout(CONNECT_TIMEOUT):
                async with connect(self.url, compression=None) as ws:
                    await ws.send(join)
                    with contextlib.suppress(Exception):
                        await ws.recv()

    async def _flush_now(self) -> None:
        ws = self._ws
        if ws is None:
            return
        with contextlib.suppress(Exception):
            async with self._send_lock:
                for record in self.session.data_to_send():
                    await ws.send(record)

    async def _writer(self) -> None:
        ws = self._ws
        while True:
            await self._wake.wait()
            self._wake.clear()
            while True:
                # One lock for pulling and sending: records must leave in the order they were sealed.
                async with self._send_lock:
                    records = self.session.data_to_send(PULL_RECORDS)
                    for record in records:
                        await ws.send(record)  # waits while more than WRITE_LIMIT bytes are buffered
                if not records:
                    break
                # Let input, cursor and acknowledgements queued meanwhile reach the session before the
                # next pull: they then leave ahead of the rest of a large frame.
                await asyncio.sleep(0)

    async def _close_ws(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), 1.0)
