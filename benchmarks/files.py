"""``opensupport bench files``: file transfer throughput, and input latency during it.

Default (issue 6): THROUGH THE RELAY on loopback. A relay subprocess (``python -m opensupport.server.relay``),
a receiving host and a sending viewer, each a process of its own with a real protocol session over a real
WebSocket connection (``opensupport.link.SessionLink``), one file of ``--size`` MiB (default 1024) written to
a temporary folder on /tmp, sent viewer -> host with ``FileTransfers`` (encryption, fragments, credit,
SHA-256 on both ends, disk on both ends), then its SHA-256 checked once more by this process.
Meanwhile a thread of the viewer (standing in for its GUI thread) sends a ``PointerEvent`` every 20 ms, its
sequence number in ``x``, noting ``time.monotonic_ns()``; the host notes the arrival of each on the same
machine clock. Latency is reported for the 2 s idle phase before the transfer and for the transfer itself.
Targets: >= 200 MB/s (10^6 bytes/s) and input p99 <= 40 ms during the transfer.
``--json`` prints ``file_mb_s``, ``size_mib``, ``sha256_ok``, ``input_p50_ms``, ``input_p99_ms``,
``idle_input_p50_ms``, ``cpu_ms_per_mib`` (CPU time of each process during the transfer alone, per MiB:
what the figures of a busy machine can still compare) and a few more keys. Everything runs under a hard
timeout (``--timeout``).

``--mib N [--fragment BYTES] [--runs N]``: the older measurement, two real sessions in memory, both ends in
this one process and thread (no relay, no network): what the two ends cost. JSON keys ``mb_per_s``,
``runs``. Figures from a shared machine are single runs.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from opensupport.protocol import DEFAULT_FRAGMENT_SIZE

#: Interval of the viewer's input events.
INPUT_INTERVAL_S = 0.020
#: Idle phase before the transfer (input latency with nothing else on the link).
IDLE_S = 2.0
#: Free space needed on /tmp for the default size (the file exists twice: sent and received).
MIN_FREE = 3 << 30
#: Input latency target during the transfer (p99).
INPUT_P99_TARGET_MS = 40.0


def _percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile (nearest rank) in ms rounded to 0.01; None without values (JSON null)."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))], 2)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the relay exited with {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"the relay does not listen on port {port} after {timeout} s")


def _write_source(path: Path, size: int) -> str:
    """Write ``size`` incompressible bytes to ``path``; returns their SHA-256 (hex)."""
    digest = hashlib.sha256()
    block = os.urandom(1 << 20)
    with open(path, "wb") as f:
        written = 0
        i = 0
        while written < size:
            chunk = (block[i % 251 :] + block[: i % 251])[: size - written]
            f.write(chunk)
            digest.update(chunk)
            written += len(chunk)
            i += 1
    return digest.hexdigest()


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


# ------------------------------------------------------------------ the two ends (child processes)


async def _run_end(
    role_name: str, server: str, code_text: str, folder: Path, timeout: float
) -> dict[str, Any]:
    """One end of the session over the relay; returns what it measured (printed as JSON by the child)."""
    from opensupport.link import LinkOutbox, SessionLink
    from opensupport.protocol import Event, FileBatch, FileEnd, PointerEvent, Role, SessionCode
    from opensupport.tools.files import BatchState, FileTransfers

    role = Role.HOST if role_name == "host" else Role.VIEWER
    arrivals: list[tuple[int, int]] = []  # host: (sequence, arrival ns)
    transfers: FileTransfers | None = None
    receiving_cpu: list[float] = []  # host: CPU time when the batch arrived and when it was done

    def handle(event: Event) -> None:
        if isinstance(event, PointerEvent):
            arrivals.append((event.x, time.monotonic_ns()))
        elif transfers is not None:
            if not receiving_cpu and isinstance(event, FileBatch):
                receiving_cpu.append(time.process_time())
            transfers.handle(event)
            if len(receiving_cpu) == 1 and isinstance(event, FileEnd):
                receiving_cpu.append(time.process_time())

    link = SessionLink(role, SessionCode.parse(code_text), server, handle)
    transfers = FileTransfers(LinkOutbox(link), folder / "in")
    link.add_round_hook(transfers.pump)
    runner = asyncio.ensure_future(link.run())
    deadline = time.monotonic() + timeout

    async def until(predicate: Any, what: str) -> None:
        while not predicate():
            if runner.done():
                runner.result()  # raises the link's error
                raise RuntimeError(f"{role_name}: the session ended while waiting for {what}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{role_name}: timed out waiting for {what}")
            await asyncio.sleep(0.005)

    await until(lambda: link.established, "the session")
    result: dict[str, Any] = {}
    if role is Role.HOST:
        # The host receives; it ends when the viewer closes the session.
        await until(lambda: runner.done(), "the viewer to close")
        runner.result()
        batches = list(transfers.batches.values())
        result = {
            "arrivals": arrivals,
            "states": [b.state.value for b in batches],
            "received": [str(p) for p in (folder / "in").iterdir()],
            "transfer_cpu_s": receiving_cpu[1] - receiving_cpu[0] if len(receiving_cpu) == 2 else None,
        }
        return result

    # The viewer: an input thread, then the transfer in the middle of it.
    loop = asyncio.get_running_loop()
    sends: list[int] = []
    stop = threading.Event()

    def ticker() -> None:
        next_at = time.monotonic()
        while not stop.is_set():
            sends.append(time.monotonic_ns())
            seq = len(sends) - 1
            loop.call_soon_threadsafe(link.send, PointerEvent(seq, 0))
            next_at += INPUT_INTERVAL_S
            stop.wait(max(0.0, next_at - time.monotonic()))

    thread = threading.Thread(target=ticker, name="input", daemon=True)
    thread.start()
    try:
        await asyncio.sleep(IDLE_S)
        first_transfer_seq = len(sends)
        (folder / "transfer.started").touch()  # the orchestrator notes the relay's CPU time now
        cpu_started = time.process_time()
        started = time.perf_counter()
        batch = transfers.send_paths([folder / "out" / "payload.bin"])
        transfers.pump()
        link.wake()
        await until(
            lambda: batch.state not in (BatchState.OFFERING, BatchState.ACTIVE, BatchState.COLLECTING),
            "the transfer",
        )
        seconds = time.perf_counter() - started
        transfer_cpu_s = time.process_time() - cpu_started
        (folder / "transfer.ended").touch()
        last_transfer_seq = len(sends)
    finally:
        stop.set()
        thread.join(2)
    await asyncio.sleep(0.2)  # the last input events arrive before the close
    link.close("benchmark done")
    await asyncio.wait_for(runner, 10)
    return {
        "sends": sends,
        "transfer_seqs": [first_transfer_seq, last_transfer_seq],
        "seconds": seconds,
        "transfer_cpu_s": transfer_cpu_s,
        "state": batch.state.value,
    }


def _end_main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="opensupport.benchmarks.files --end")
    parser.add_argument("--end", choices=("host", "viewer"), required=True)
    parser.add_argument("--server", required=True)
    parser.add_argument("--code", required=True)
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--timeout", type=float, required=True)
    args = parser.parse_args(argv)
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    result = asyncio.run(_run_end(args.end, args.server, args.code, args.folder, args.timeout))
    result["cpu_s"] = time.process_time()
    print(json.dumps(result))
    return 0


# ------------------------------------------------------------------ orchestration


def measure_relay(size_mib: int, timeout: float, workdir: Path | None = None) -> dict[str, Any]:
    """Run the relay benchmark (see the module docstring) and return its figures.

    Raises RuntimeError when a process fails or the transfer does not complete; TimeoutError past
    ``timeout`` seconds (every process is killed and the temporary folder removed either way).
    """
    from opensupport.protocol import SessionCode

    base = workdir if workdir is not None else Path("/tmp")
    free = shutil.disk_usage(base).free
    notes: list[str] = []
    needed = 2 * (size_mib << 20) + (256 << 20)  # the file twice (sent and received) and some room
    if free < max(MIN_FREE, needed):
        fallback = max(1, min(size_mib, 256, (free - (256 << 20)) // 2 >> 20))
        if fallback != size_mib:
            notes.append(
                f"only {free / 2**30:.1f} GiB free on {base} (want 3 GiB): {fallback} MiB instead of {size_mib} MiB"
            )
            print(notes[-1], file=sys.stderr)
            size_mib = fallback
    size = size_mib << 20
    deadline = time.monotonic() + timeout
    scratch = Path(tempfile.mkdtemp(prefix="bench-files-", dir=base))
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for end in ("host", "viewer"):
            (scratch / end / "in").mkdir(parents=True)
            (scratch / end / "out").mkdir()
        source = scratch / "viewer" / "out" / "payload.bin"
        source_sha = _write_source(source, size)
        port = _free_port()
        relay = subprocess.Popen(
            [sys.executable, "-m", "opensupport.server.relay", "--port", str(port),
             "--set", "session_bandwidth=0", "--set", "total_bandwidth=0", "--set", "joins_per_minute=0"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        processes.append(relay)
        _wait_port(port, relay)
        server = f"http://127.0.0.1:{port}"
        code = str(SessionCode.generate())
        remaining = max(5.0, deadline - time.monotonic())
        ends: dict[str, subprocess.Popen[bytes]] = {}
        for end in ("host", "viewer"):
            # Output to a file, not a pipe: a full pipe would block the child, and both ends are watched
            # at once so that one failing ends the run at once instead of at the other's timeout.
            with open(scratch / f"{end}.json", "wb") as out:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "opensupport.benchmarks.files", "--end", end, "--server", server,
                     "--code", code, "--folder", str(scratch / end), "--timeout", f"{remaining:.0f}"],
                    stdout=out,
                )  # fmt: skip
            processes.append(proc)
            ends[end] = proc
        import psutil

        def relay_cpu() -> float:
            times = psutil.Process(relay.pid).cpu_times()
            return float(times.user + times.system)

        relay_marks: dict[str, float] = {}  # the relay's CPU time when the transfer started and ended
        while any(proc.poll() is None for proc in ends.values()):
            for mark in ("started", "ended"):
                if mark not in relay_marks and (scratch / "viewer" / f"transfer.{mark}").exists():
                    relay_marks[mark] = relay_cpu()
            for end, proc in ends.items():
                if proc.returncode not in (None, 0):
                    raise RuntimeError(
                        f"the {end} process failed (exit {proc.returncode}); see its error above"
                    )
            if time.monotonic() > deadline + 5:
                raise TimeoutError(f"the transfer did not finish within {timeout:.0f} s")
            time.sleep(0.05)
        outputs: dict[str, dict[str, Any]] = {}
        for end, proc in ends.items():
            if proc.returncode != 0:
                raise RuntimeError(f"the {end} process failed (exit {proc.returncode}); see its error above")
            outputs[end] = json.loads((scratch / f"{end}.json").read_text())
        viewer, host = outputs["viewer"], outputs["host"]
        if viewer["state"] != "done" or host["states"] != ["done"] or len(host["received"]) != 1:
            raise RuntimeError(
                f"the transfer did not complete: viewer {viewer['state']}, host {host['states']}"
            )
        received = Path(host["received"][0])
        sha_ok = received.stat().st_size == size and _sha256_file(received) == source_sha
        sends: list[int] = viewer["sends"]
        first, last = viewer["transfer_seqs"]
        latency_ms = {seq: (at - sends[seq]) / 1e6 for seq, at in host["arrivals"] if 0 <= seq < len(sends)}
        idle = [v for s, v in latency_ms.items() if s < first]
        busy = [v for s, v in latency_ms.items() if first <= s < last]
        lost = sum(1 for s in range(len(sends)) if s not in latency_ms)
        mb_s = size / viewer["seconds"] / 1e6
        relay_times = psutil.Process(relay.pid).cpu_times()
        relay_transfer = relay_marks.get("ended", relay_cpu()) - relay_marks.get("started", 0.0)
        transfer_cpu = {
            "relay": relay_transfer,
            "host": host["transfer_cpu_s"],
            "viewer": viewer["transfer_cpu_s"],
        }
        return {
            "file_mb_s": round(mb_s, 1),
            "size_mib": size_mib,
            "sha256_ok": sha_ok,
            "seconds": round(viewer["seconds"], 2),
            "input_p50_ms": _percentile(busy, 0.5),
            "input_p99_ms": _percentile(busy, 0.99),
            "input_max_ms": _percentile(busy, 1.0),
            "input_events": len(busy),
            "idle_input_p50_ms": _percentile(idle, 0.5),
            "idle_input_p99_ms": _percentile(idle, 0.99),
            "input_lost": lost,
            "load_1min": round(os.getloadavg()[0], 2),
            # CPU seconds of each process over its whole life (file writing and hashing not included):
            # which of them limits the throughput.
            "cpu_s": {
                "relay": round(relay_times.user + relay_times.system, 2),
                "host": round(host["cpu_s"], 2),
                "viewer": round(viewer["cpu_s"], 2),
            },
            # The same during the transfer alone, per MiB (the relay's sampled every 50 ms: approximate
            # for a transfer of a few MiB).
            "cpu_ms_per_mib": {
                name: (round(cpu * 1000 / size_mib, 2) if cpu is not None else None)
                for name, cpu in transfer_cpu.items()
            },
            "notes": notes,
        }
    finally:
        for proc in reversed(processes):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)
        shutil.rmtree(scratch, ignore_errors=True)


def _memory_main(args: argparse.Namespace) -> int:
    from opensupport.tools.files import measure_throughput

    runs = [measure_throughput(args.mib * 1024 * 1024, fragment_size=args.fragment) for _ in range(args.runs)]
    best = max(r["mb_per_s"] for r in runs)
    if args.json:
        print(json.dumps({"mb_per_s": round(best, 1), "runs": runs}))
    else:
        for r in runs:
            print(
                f"{r['bytes'] / 1e6:.0f} MB in {r['seconds']:.2f} s: {r['mb_per_s']:.0f} MB/s, "
                f"{r['records']:.0f} records; sender alone {r['sender_mb_per_s']:.0f} MB/s, "
                f"receiver alone {r['receiver_mb_per_s']:.0f} MB/s"
            )
        print(f"best: {best:.0f} MB/s (both ends in one thread)")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the measurement and print it (see the module docstring for the modes and JSON keys)."""
    parser = argparse.ArgumentParser(prog="opensupport bench files", description=__doc__)
    parser.add_argument("--size", type=int, default=1024, help="relay mode: file size in MiB (default 1024)")
    parser.add_argument("--timeout", type=float, default=600.0, help="relay mode: hard timeout in seconds")
    parser.add_argument("--mib", type=int, default=None, help="in-memory mode (no relay): file size in MiB")
    parser.add_argument(
        "--fragment", type=int, default=DEFAULT_FRAGMENT_SIZE, help="in-memory: fragment size"
    )
    parser.add_argument("--runs", type=int, default=3, help="in-memory: runs; the best is reported")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    if args.mib is not None:
        return _memory_main(args)
    if args.size < 1:
        parser.error("--size must be at least 1 MiB")
    result = measure_relay(args.size, args.timeout)
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"{result['size_mib']} MiB through the relay in {result['seconds']:.2f} s: "
            f"{result['file_mb_s']:.0f} MB/s (target >= 200), SHA-256 {'ok' if result['sha256_ok'] else 'WRONG'}"
        )
        print(
            f"input during the transfer: p50 {result['input_p50_ms']} ms, p99 {result['input_p99_ms']} ms "
            f"(target p99 <= {INPUT_P99_TARGET_MS:.0f}), max {result['input_max_ms']} ms over "
            f"{result['input_events']} events; idle: p50 {result['idle_input_p50_ms']} ms, "
            f"p99 {result['idle_input_p99_ms']} ms; lost {result['input_lost']}; load {result['load_1min']}"
        )
        print("CPU seconds: " + ", ".join(f"{name} {sec}" for name, sec in result["cpu_s"].items()))
        print(
            "CPU ms per MiB during the transfer: "
            + ", ".join(f"{name} {ms}" for name, ms in result["cpu_ms_per_mib"].items())
        )
    return 0 if result["sha256_ok"] else 1


if __name__ == "__main__":
    if "--end" in sys.argv[1:]:
        sys.exit(_end_main(sys.argv[1:]))
    sys.exit(main())
