"""``opensupport bench relay [--json]``: the relay on loopback, measured against socat in the same run.

One relay process (``python -m opensupport.server.relay``, i.e. serve_relay_only on uvloop) serves every
part; clients speak the raw TCP transport (4-byte length + record), so the figures are the relay's, not a
WebSocket library's.

- idle memory: RSS of the relay process before and after ``--sessions`` paired, idle sessions, per session.
- load: those sessions then each carry ``--kbit`` kbit/s host -> viewer (records of ``--record-size``
  bytes at the rate that gives), for ``--duration`` seconds, from a separate client process (asyncio on
  uvloop, one connection per side). Every record carries a sequence number and its send time; the viewer
  side checks order and completeness and measures latency host -> relay -> viewer end to end (an upper
  bound on what the relay adds: it includes both clients' own scheduling). The first second is warm-up.
- bulk: one session moving ``--bulk-mb`` MB of ``--bulk-record`` byte records as fast as it can, next to
  socat forwarding the very same byte stream between the same sender and receiver; best of three each.
  ``bulk_ws_mb_s`` is the same over the WebSocket transport (there the Python client may be the limit).
- handshake: the session protocol's handshake (SPAKE2 + X25519, key confirmation) through the relay, from
  the viewer's JOIN to both sides holding keys; ``join_pair_ms`` is the relay's own part (JOIN to paired).

The machine may be shared: the figures are single runs, not a controlled lab measurement.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import resource
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time
from typing import Any

_HDR = struct.Struct(">I")
_REC = struct.Struct(">QII")  # send time (perf_counter_ns), sequence, session index
STATUS_WAITING = b"OSR1\x00"
STATUS_PAIRED = b"OSR1\x01"


def _join(role: int, rid: str, resume: bool = False) -> bytes:
    body = b"OSJ1" + bytes((role, 1 if resume else 0, len(rid))) + rid.encode()
    return _HDR.pack(len(body)) + body


def _raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {timeout} s")


# ------------------------------------------------------------------ blocking helpers (bulk, handshake)


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    return bytes(buf)


def _recv_message(sock: socket.socket) -> bytes:
    (n,) = _HDR.unpack(_recv_exact(sock, 4))
    return _recv_exact(sock, n)


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _relay_pair(port: int, rid: str) -> tuple[socket.socket, socket.socket, float]:
    """A host and a viewer paired on the relay; also returns the viewer's JOIN -> PAIRED time (s)."""
    host = _connect(port)
    host.sendall(_join(1, rid))
    assert _recv_message(host) == STATUS_WAITING
    viewer = _connect(port)
    start = time.perf_counter()
    viewer.sendall(_join(2, rid))
    assert _recv_message(viewer) == STATUS_PAIRED
    elapsed = time.perf_counter() - start
    assert _recv_message(host) == STATUS_PAIRED
    return host, viewer, elapsed


def _bulk_transfer(sender: socket.socket, receiver: socket.socket, total: int, record: int) -> float:
    """Send ``total`` bytes of framed records from sender to receiver; returns MB/s (10^6 bytes/s)."""
    frame = _HDR.pack(record) + os.urandom(record)
    per_block = max(1, (1 << 20) // len(frame))
    block = frame * per_block
    frames = max(per_block, total // record // per_block * per_block)
    stream_bytes = frames * len(frame)
    done = threading.Event()
    received = 0

    def receive() -> None:
        nonlocal received
        buf = bytearray(1 << 20)
        view = memoryview(buf)
        while received < stream_bytes:
            n = receiver.recv_into(view)
            if not n:
                break
            received += n
        done.set()

    thread = threading.Thread(target=receive, daemon=True)
    start = time.perf_counter()
    thread.start()
    for _ in range(frames // per_block):
        sender.sendall(block)
    done.wait(300)
    elapsed = time.perf_counter() - start
    if received != stream_bytes:
        raise RuntimeError(f"bulk: received {received} of {stream_bytes} bytes")
    return stream_bytes / elapsed / 1e6


def bulk_relay(port: int, total: int, record: int) -> float:
    host, viewer, _ = _relay_pair(port, f"bulk-{os.getpid()}")
    try:
        return _bulk_transfer(host, viewer, total, record)
    finally:
        host.close()
        viewer.close()


def bulk_websocket(ws_port: int, total: int, record: int) -> float:
    """One session over the WebSocket transport (websockets' sync client on both ends); MB/s of records."""
    from websockets.sync.client import connect

    uri = f"ws://127.0.0.1:{ws_port}/relay"
    rid = f"bulkws-{os.getpid()}"
    host = connect(uri, compression=None, max_size=None)
    viewer = connect(uri, compression=None, max_size=None)
    try:
        host.send(_join(1, rid)[4:])
        assert host.recv() == STATUS_WAITING
        viewer.send(_join(2, rid)[4:])
        assert viewer.recv() == STATUS_PAIRED
        assert host.recv() == STATUS_PAIRED
        payload = os.urandom(record)
        count = max(1, total // record)
        received = 0

        def receive() -> None:
            nonlocal received
            for _ in range(count):
                received += len(viewer.recv())

        thread = threading.Thread(target=receive, daemon=True)
        start = time.perf_counter()
        thread.start()
        for _ in range(count):
            host.send(payload)
        thread.join(300)
        elapsed = time.perf_counter() - start
        if received != count * record:
            raise RuntimeError(f"bulk over WebSocket: received {received} of {count * record} bytes")
        return count * record / elapsed / 1e6
    finally:
        host.close()
        viewer.close()


def bulk_socat(total: int, record: int) -> float:
    socat = shutil.which("socat")
    if socat is None:
        raise RuntimeError("socat is not installed (apt-get install socat; `make setup` does it)")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    target = listener.getsockname()[1]
    front = _free_port()
    proc = subprocess.Popen(
        [socat, "-b", "262144", f"TCP-LISTEN:{front},bind=127.0.0.1,reuseaddr", f"TCP:127.0.0.1:{target}"],
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_port_once(front, proc)
        sender = _connect(front)
        receiver, _ = listener.accept()
        try:
            return _bulk_transfer(sender, receiver, total, record)
        finally:
            sender.close()
            receiver.close()
    finally:
        proc.kill()
        proc.wait()
        listener.close()


def _wait_port_once(port: int, proc: subprocess.Popen[bytes]) -> None:
    # socat serves exactly one connection, so probe with a bind test rather than a connection.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("socat exited")
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return
        time.sleep(0.02)
    raise RuntimeError("socat did not listen")


def handshake_through_relay(port: int, rounds: int = 5) -> tuple[float, str]:
    """Median ms from the viewer's JOIN to both protocol sessions holding keys, through the relay.

    Falls back to the JOIN/pair time when the session protocol is not installed (says which).
    """
    try:
        from opensupport.protocol import NEED_DATA as need_data
        from opensupport.protocol import HandshakeComplete, Role, Session, SessionCode
    except ImportError:
        times = []
        for i in range(rounds):
            h, v, t = _relay_pair(port, f"hs-{os.getpid()}-{i}")
            h.close()
            v.close()
            times.append(t * 1000)
        return statistics.median(times), "join/pair only (opensupport.protocol.Session not available)"

    def pump(session: Any, sock: socket.socket) -> bool:
        for record in session.data_to_send():
            sock.sendall(_HDR.pack(len(record)) + record)
        return True

    def until_complete(session: Any, sock: socket.socket) -> None:
        while True:
            done = False
            event = session.next_event()
            while event is not need_data:
                done = done or isinstance(event, HandshakeComplete)
                event = session.next_event()
            pump(session, sock)  # after the events: handling a record may queue the answer
            if done:
                return
            session.receive_data(_recv_message(sock))

    times = []
    for i in range(rounds):
        code = SessionCode.generate(f"HS-{os.getpid()}-{i}")
        host_sock = _connect(port)
        host_sock.sendall(_join(1, code.routing_id))
        assert _recv_message(host_sock) == STATUS_WAITING
        host = Session(Role.HOST, code)
        start = time.perf_counter()
        viewer_sock = _connect(port)
        viewer_sock.sendall(_join(2, code.routing_id))
        assert _recv_message(viewer_sock) == STATUS_PAIRED
        assert _recv_message(host_sock) == STATUS_PAIRED
        viewer = Session(Role.VIEWER, code)
        thread = threading.Thread(target=until_complete, args=(host, host_sock))
        thread.start()
        until_complete(viewer, viewer_sock)
        thread.join(30)
        times.append((time.perf_counter() - start) * 1000)
        host_sock.close()
        viewer_sock.close()
    return statistics.median(times), "session protocol handshake (SPAKE2 + X25519 + key confirmation)"


# ------------------------------------------------------------------ the load client process


class _Peer(asyncio.Protocol):
    """One relay connection of the load client; parses frames, hands records to ``on_record``."""

    def __init__(self, client: _LoadClient, index: int, viewer: bool) -> None:
        self.client = client
        self.index = index
        self.viewer = viewer
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.paired = asyncio.get_running_loop().create_future()
        self.expected = 0
        self.joined_at = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not an asyncio.Transport
        sock = transport.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        buf = self.buffer
        buf += data
        pos = 0
        now = time.perf_counter_ns()
        while len(buf) - pos >= 4:
            (n,) = _HDR.unpack_from(buf, pos)
            if len(buf) - pos - 4 < n:
                break
            start = pos + 4
            if n == 5 and buf[start : start + 4] == b"OSR1":
                status = buf[start + 4]
                if status == 1 and not self.paired.done():
                    self.paired.set_result(time.perf_counter() - self.joined_at)
                elif status not in (0, 1):
                    self.client.statuses[status] = self.client.statuses.get(status, 0) + 1
            elif self.viewer:
                sent_ns, seq, _ = _REC.unpack_from(buf, start)
                if seq != self.expected:
                    self.client.disorder += 1
                self.expected = seq + 1
                self.client.received += 1
                if sent_ns >= self.client.measure_from_ns:
                    self.client.latencies.append(now - sent_ns)
            pos = start + n
        del buf[:pos]

    def connection_lost(self, exc: Exception | None) -> None:
        self.client.dropped += 1


class _LoadClient:
    def __init__(self, port: int, sessions: int, record: int, rate: float) -> None:
        self.port = port
        self.sessions = sessions
        self.record = record
        self.interval = 1.0 / rate
        self.latencies: list[int] = []
        self.received = 0
        self.sent = 0
        self.disorder = 0
        self.dropped = 0
        self.statuses: dict[int, int] = {}
        self.measure_from_ns = 1 << 62
        self.hosts: list[_Peer] = []
        self.viewers: list[_Peer] = []
        self.pair_times: list[float] = []

    async def connect_all(self) -> None:
        loop = asyncio.get_running_loop()
        batch = 100
        for first in range(0, self.sessions, batch):
            pairs = []
            for i in range(first, min(first + batch, self.sessions)):
                _, host = await loop.create_connection(
                    functools.partial(_Peer, self, i, False), "127.0.0.1", self.port
                )
                _, viewer = await loop.create_connection(
                    functools.partial(_Peer, self, i, True), "127.0.0.1", self.port
                )
                pairs.append((host, viewer))
            for i, (host, _) in enumerate(pairs, start=first):
                rid = f"load-{os.getpid()}-{i}"
                assert host.transport is not None
                host.joined_at = time.perf_counter()
                host.transport.write(_join(1, rid))
            await asyncio.sleep(0)
            for i, (_, viewer) in enumerate(pairs, start=first):
                rid = f"load-{os.getpid()}-{i}"
                assert viewer.transport is not None
                viewer.joined_at = time.perf_counter()
                viewer.transport.write(_join(2, rid))
            for host, viewer in pairs:
                self.pair_times.append(await asyncio.wait_for(viewer.paired, 30))
                await asyncio.wait_for(host.paired, 30)
                self.hosts.append(host)
                self.viewers.append(viewer)

    async def run_traffic(self, duration: float, warmup: float) -> None:
        loop = asyncio.get_running_loop()
        pad = os.urandom(max(0, self.record - _REC.size))
        header = _HDR.pack(_REC.size + len(pad))
        start = loop.time() + 0.1
        end = start + duration
        self.measure_from_ns = time.perf_counter_ns() + int((0.1 + warmup) * 1e9)
        seqs = [0] * self.sessions
        interval = self.interval

        def fire(index: int, when: float) -> None:
            host = self.hosts[index]
            seq = seqs[index]
            seqs[index] = seq + 1
            assert host.transport is not None
            host.transport.write(header + _REC.pack(time.perf_counter_ns(), seq, index) + pad)
            self.sent += 1
            when += interval
            if when < end:
                loop.call_at(when, fire, index, when)

        for i in range(self.sessions):
            when = start + interval * i / self.sessions
            loop.call_at(when, fire, i, when)
        await asyncio.sleep(end - loop.time() + 0.05)
        deadline = loop.time() + 10
        while self.received < self.sent and loop.time() < deadline:
            await asyncio.sleep(0.05)

    def result(self) -> dict[str, Any]:
        lat = sorted(self.latencies)

        def pct(p: float) -> float:
            return lat[min(len(lat) - 1, int(p * len(lat)))] / 1e6 if lat else float("nan")

        return {
            "sessions": len(self.viewers),
            "sent": self.sent,
            "received": self.received,
            "lost": self.sent - self.received,
            "disorder": self.disorder,
            "dropped_connections": self.dropped,
            "bad_statuses": self.statuses,
            "p50_ms": pct(0.50),
            "p99_ms": pct(0.99),
            "max_ms": lat[-1] / 1e6 if lat else float("nan"),
            "join_pair_ms": statistics.median(self.pair_times) * 1000 if self.pair_times else float("nan"),
        }


async def _load_client_main(args: argparse.Namespace) -> None:
    client = _LoadClient(args.port, args.sessions, args.record_size, args.rate)
    await client.connect_all()
    print(json.dumps({"ready": len(client.viewers)}), flush=True)
    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    if line.strip() != "go":
        return
    await client.run_traffic(args.duration, args.warmup)
    print(json.dumps(client.result()), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)  # hold the sessions open


def _run_loop(coro: Any) -> None:
    try:
        import uvloop

        uvloop.run(coro)
    except ImportError:
        asyncio.run(coro)


# ------------------------------------------------------------------ orchestration


def _start_relay(ws_port: int, tcp_port: int) -> subprocess.Popen[bytes]:
    settings = {
        "tcp_port": tcp_port,
        "joins_per_minute": 0,
        "max_routing_ids_per_ip": 1_000_000,
        "max_sessions": 1_000_000,
        "session_bandwidth": 0,
        "total_bandwidth": 0,
    }
    args = [sys.executable, "-m", "opensupport.server.relay", "--port", str(ws_port)]
    for name, value in settings.items():
        args += ["--set", f"{name}={value}"]
    proc = subprocess.Popen(args)
    _wait_port(tcp_port)
    _wait_port(ws_port)
    return proc


def _cpu(pid: int) -> float:
    import psutil

    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def _rss(pid: int) -> int:
    import psutil

    return int(psutil.Process(pid).memory_info().rss)


def run(args: argparse.Namespace) -> dict[str, Any]:
    _raise_nofile()
    ws_port, tcp_port = _free_port(), _free_port()
    relay = _start_relay(ws_port, tcp_port)
    result: dict[str, Any] = {"transport": "raw TCP (4-byte length prefix)"}
    clients: subprocess.Popen[str] | None = None
    try:
        time.sleep(0.5)
        rss_before = _rss(relay.pid)
        clients = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "opensupport.benchmarks.relay",
                "--load-client",
                "--port",
                str(tcp_port),
                "--sessions",
                str(args.sessions),
                "--record-size",
                str(args.record_size),
                "--rate",
                str(args.kbit * 1000 / 8 / args.record_size),
                "--duration",
                str(args.duration),
                "--warmup",
                str(args.warmup),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert clients.stdin is not None and clients.stdout is not None
        ready = json.loads(clients.stdout.readline() or "{}")
        if ready.get("ready") != args.sessions:
            raise RuntimeError(f"load client paired {ready} of {args.sessions} sessions")
        time.sleep(1.0)
        rss_idle = _rss(relay.pid)
        result["idle_kib_per_session"] = round((rss_idle - rss_before) / 1024 / args.sessions, 2)
        cpu_before = _cpu(relay.pid)
        clients.stdin.write("go\n")
        clients.stdin.flush()
        load = json.loads(clients.stdout.readline() or "{}")
        relay_cpu = _cpu(relay.pid) - cpu_before
        clients.stdin.write("end\n")
        clients.stdin.flush()
        clients.wait(30)
        result["sessions"] = load["sessions"]
        result["p99_ms"] = round(load["p99_ms"], 3)
        result["lost"] = load["lost"] + load["disorder"]
        result["load"] = {
            "kbit_per_session": args.kbit,
            "record_size": args.record_size,
            "records_per_s": round(args.sessions * args.kbit * 1000 / 8 / args.record_size),
            "duration_s": args.duration,
            **{k: load[k] for k in ("sent", "received", "disorder", "dropped_connections", "bad_statuses")},
            "p50_ms": round(load["p50_ms"], 3),
            "relay_cpu_us_per_record": round(relay_cpu / max(1, load["received"]) * 1e6, 1),
            "max_ms": round(load["max_ms"], 3),
        }
        result["join_pair_ms"] = round(load["join_pair_ms"], 3)
        # Best of three, alternating, for both: other processes on the machine only ever slow a run down.
        total = args.bulk_mb * 1_000_000
        relay_runs, socat_runs = [], []
        for _ in range(3):
            relay_runs.append(bulk_relay(tcp_port, total, args.bulk_record))
            socat_runs.append(bulk_socat(total, args.bulk_record))
        result["bulk_mb_s"] = round(max(relay_runs), 1)
        result["socat_mb_s"] = round(max(socat_runs), 1)
        result["bulk_ws_mb_s"] = round(bulk_websocket(ws_port, total // 2, args.bulk_record), 1)
        result["bulk_record_size"] = args.bulk_record
        handshake_ms, kind = handshake_through_relay(tcp_port)
        result["handshake_ms"] = round(handshake_ms, 2)
        result["handshake_kind"] = kind
    finally:
        if clients is not None and clients.poll() is None:
            clients.kill()
            clients.wait()
        relay.terminate()
        try:
            relay.wait(15)
        except subprocess.TimeoutExpired:
            relay.kill()
            relay.wait()
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the relay benchmark; prints a table, or one JSON object with ``--json``. Returns the exit code."""
    parser = argparse.ArgumentParser(prog="opensupport bench relay", description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--sessions", type=int, default=2000)
    parser.add_argument("--kbit", type=float, default=180.0, help="kbit/s per session under load")
    parser.add_argument("--record-size", type=int, default=4500, help="bytes per record under load")
    parser.add_argument("--duration", type=float, default=12.0, help="seconds of load")
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--bulk-mb", type=int, default=400, help="MB (10^6 bytes) per bulk run")
    parser.add_argument("--bulk-record", type=int, default=16 * 1024, help="record size of the bulk run")
    parser.add_argument("--load-client", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--rate", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.duration <= args.warmup:
        parser.error("--duration must be longer than --warmup (latency is measured after the warm-up)")
    if args.load_client:
        _raise_nofile()
        _run_loop(_load_client_main(args))
        return 0
    result = run(args)
    if args.json:
        print(json.dumps(result))
        return 0
    load = result["load"]
    print(f"relay benchmark ({result['transport']}, one relay process, loopback; machine may be shared)")
    print(
        f"  bulk, one session ({result['bulk_record_size']} B records): {result['bulk_mb_s']:8.1f} MB/s"
        f"   socat: {result['socat_mb_s']:.1f} MB/s   ratio {result['bulk_mb_s'] / result['socat_mb_s']:.2f}"
    )
    print(
        f"  {result['sessions']} sessions x {load['kbit_per_session']:.0f} kbit/s "
        f"({load['records_per_s']} records/s of {load['record_size']} B) for {load['duration_s']:.0f} s: "
        f"p50 {load['p50_ms']:.2f} ms, p99 {result['p99_ms']:.2f} ms, max {load['max_ms']:.1f} ms, "
        f"lost or reordered {result['lost']} of {load['sent']}; "
        f"relay CPU {load['relay_cpu_us_per_record']:.1f} us per record"
    )
    print(f"  bulk over WebSocket (websockets' sync client at both ends): {result['bulk_ws_mb_s']:.1f} MB/s")
    print(f"  handshake: {result['handshake_ms']:.1f} ms ({result['handshake_kind']})")
    print(f"  join -> paired: {result['join_pair_ms']:.2f} ms")
    print(f"  idle memory: {result['idle_kib_per_session']:.1f} KiB per paired session")
    return 0


if __name__ == "__main__":
    sys.exit(main())
