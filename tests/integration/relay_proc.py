"""A relay in a subprocess (``python -m opensupport.server.relay``) that the tests can kill and restart."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"the relay did not listen on port {port} within {timeout} s")


class RelayProcess:
    """``serve_relay_only`` on a free port; ``url`` is what host and viewer are given as ``--server``."""

    def __init__(self, **settings: object) -> None:
        self.port = free_port()
        # Generous limits: a lossless key frame of a whole screen is a few MB, and every test joins
        # from 127.0.0.1 (the per-address join rate would otherwise refuse the later tests).
        self.settings: dict[str, object] = {
            "session_bandwidth": 256 * 1024 * 1024,
            "session_burst": 64 * 1024 * 1024,
            "joins_per_minute": 100_000,
            "join_burst": 10_000,
            "max_routing_ids_per_ip": 10_000,
            **settings,
        }
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        args = [
            sys.executable,
            "-m",
            "opensupport.server.relay",
            "--port",
            str(self.port),
            "--loop",
            "asyncio",
        ]
        for name, value in self.settings.items():
            args += ["--set", f"{name}={value}"]
        self.proc = subprocess.Popen(args, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        wait_port(self.port)

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
