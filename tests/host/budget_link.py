"""A real path for the bandwidth-budget tests: a relay process, a TCP proxy in front of it that shapes
the host's upstream with a token bucket (the relay's own ``TokenBucket``, its rate changeable during a
test), a bare viewer that records what reaches it, and a video playing on the X screen."""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from opensupport.codec import Decoder
from opensupport.link import LinkThread, SessionLink
from opensupport.link.topics import TOPIC_QUALITY_STATE
from opensupport.protocol import ControlMessage, Event, Role, ScreenUpdate, SessionCode
from opensupport.server.relay.limits import TokenBucket


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


class Relay:
    """``python -m opensupport.server.relay`` on a free port with limits no test reaches."""

    def __init__(self) -> None:
        self.port = free_port()
        settings = {
            "session_bandwidth": 1 << 30,
            "session_burst": 1 << 28,
            "joins_per_minute": 100_000,
            "join_burst": 10_000,
            "max_routing_ids_per_ip": 10_000,
        }
        args = [
            sys.executable,
            "-m",
            "opensupport.server.relay",
            "--port",
            str(self.port),
            "--loop",
            "asyncio",
        ]
        for name, value in settings.items():
            args += ["--set", f"{name}={value}"]
        self.proc = subprocess.Popen(args, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        wait_port(self.port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class ShapedProxy:
    """A TCP proxy to ``target_port``; what clients send towards the target passes a token bucket of
    ``rate`` bytes per second (None: unlimited) that sleeps before forwarding, so TCP back-pressure
    reaches the sender as on a slow uplink. The other direction is not shaped."""

    BURST = 16 * 1024
    CHUNK = 4096

    def __init__(self, target_port: int, rate: float | None) -> None:
        self.target_port = target_port
        self.port = free_port()
        self._bucket: TokenBucket | None = None
        self.set_rate(rate)
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, name="shaped-proxy", daemon=True)
        self._thread.start()
        self._ready.wait(5)
        wait_port(self.port)

    def set_rate(self, rate: float | None) -> None:
        """Shape to ``rate`` bytes per second from now on (None: no limit)."""
        self._bucket = None if rate is None else TokenBucket(rate, self.BURST)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _main(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._client, "127.0.0.1", self.port))
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            server.close()
            self._loop.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(
            self._pipe(reader, up_writer, shaped=True), self._pipe(up_reader, writer, shaped=False)
        )

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, shaped: bool
    ) -> None:
        try:
            while data := await reader.read(self.CHUNK):
                bucket = self._bucket
                if shaped and bucket is not None:
                    delay = bucket.charge(len(data))
                    if delay > 0:
                        await asyncio.sleep(delay)
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


@dataclass
class Arrival:
    """One screen update as the viewer received it."""

    at: float
    size: int
    keyframe: bool
    #: whether it changed the picture (set once decoded; an update after a late damage event may not)
    changed: bool | None = None


@dataclass
class BareViewer:
    """A viewer without a window: a real link that decodes every update and keeps what arrived, and can
    send anything a modified viewer could."""

    url: str
    code: SessionCode
    arrivals: list[Arrival] = field(default_factory=list)
    states: list[bytes] = field(default_factory=list)
    decode_errors: list[Exception] = field(default_factory=list)
    #: updates that carried a lossy region (the codec's VIDEO op)
    lossy_updates: int = 0

    def __post_init__(self) -> None:
        # Decoding runs on a thread of its own, as in the real viewer: the acknowledgement of an update
        # leaves when it was received, not when it was decoded.
        self.decoder = Decoder(16, 16)
        self.lock = threading.Lock()
        self._updates: queue.Queue[bytes | None] = queue.Queue()
        self._decoding = threading.Thread(target=self._decode, name="bare-viewer-decode", daemon=True)
        self._decoding.start()
        self.link = SessionLink(Role.VIEWER, self.code, self.url, self._on_event)
        self.thread = LinkThread(self.link, name="bare-viewer")
        self.thread.start()

    def _on_event(self, event: Event) -> None:
        if isinstance(event, ScreenUpdate):
            with self.lock:
                self.arrivals.append(Arrival(time.monotonic(), len(event.data), event.keyframe))
            self._updates.put(event.data)
        elif isinstance(event, ControlMessage) and event.topic == TOPIC_QUALITY_STATE:
            self.states.append(event.data)

    def _decode(self) -> None:
        index = 0
        while (data := self._updates.get()) is not None:
            with self.lock:
                try:
                    _, rects = self.decoder.decode(data)
                except Exception as exc:  # recorded: the tests assert there were none
                    self.decode_errors.append(exc)
                    rects = []
                self.arrivals[index].changed = bool(rects)
                if any(name == "video" for name, _ in self.decoder.last_ops):
                    self.lossy_updates += 1
            index += 1

    def send(self, event: Event) -> None:
        self.thread.call(self.link.send, event)

    def framebuffer(self) -> np.ndarray:
        with self.lock:
            return self.decoder.framebuffer.copy()

    def count(self) -> int:
        with self.lock:
            return len(self.arrivals)

    def changed_since(self, index: int) -> int:
        """Updates from ``index`` on that changed the picture (all of them decoded by now)."""
        with self.lock:
            return sum(1 for arrival in self.arrivals[index:] if arrival.changed)

    def close(self) -> None:
        self.thread.stop("test done", 3)
        self._updates.put(None)
        self._decoding.join(5)


class Video:
    """The benchmark's generated landscape video in a window of its own, played at ``fps`` by a thread
    (``benchmarks/record.py``'s ``PictureWindow`` and ``landscape_video``)."""

    def __init__(self, display: str, x: int, y: int, width: int, height: int, fps: float = 25.0) -> None:
        from opensupport.benchmarks.record import PictureWindow, landscape_video

        self.window = PictureWindow(_Screen(display), x, y, width, height)
        self._frames = landscape_video(width, height)
        self._fps = fps
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.shown = 0

    def play(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="video", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        period = 1.0 / self._fps
        next_at = time.monotonic()
        while not self._stop.is_set():
            self.window.show(next(self._frames))
            self.shown += 1
            next_at += period
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    def stop(self) -> None:
        """Stop playing; returns once the last picture is drawn."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def close(self) -> None:
        self.stop()
        self.window.close()


@dataclass
class _Screen:
    display: Any
