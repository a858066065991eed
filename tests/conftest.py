"""Fixtures shared by the whole suite: a real X screen, PostgreSQL and Redis over real connections.

Nothing is skipped because a component is missing: a fixture that cannot get its component fails the
test with a message that says what to install or start (``make test`` installs and starts them).
"""

from __future__ import annotations

import gc
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

POSTGRES_ADMIN_URL = os.environ.get(
    "OPENSUPPORT_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("OPENSUPPORT_TEST_REDIS", "redis://127.0.0.1:6379/0")


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class XScreen:
    """A running Xvfb: ``display`` is the value for ``DISPLAY``."""

    def __init__(self, display: str, width: int, height: int, proc: subprocess.Popen[bytes]) -> None:
        self.display = display
        self.width = width
        self.height = height
        self.proc = proc

    def env(self) -> dict[str, str]:
        return {**os.environ, "DISPLAY": self.display}


def start_xvfb(width: int = 1280, height: int = 800, screens: int = 1) -> XScreen:
    """Start Xvfb on a free display number and wait until it answers."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        pytest.fail("Xvfb is not installed: run `make test` (it installs the xvfb package)")
    for number in range(90 + os.getpid() % 100, 400):
        if os.path.exists(f"/tmp/.X11-unix/X{number}") or os.path.exists(f"/tmp/.X{number}-lock"):
            continue
        args = [
            xvfb,
            f":{number}",
            "-nolisten",
            "tcp",
            "-noreset",
            "+extension",
            "DAMAGE",
            "+extension",
            "RANDR",
        ]
        for i in range(screens):
            args += ["-screen", str(i), f"{width}x{height}x24"]
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            if os.path.exists(f"/tmp/.X11-unix/X{number}"):
                return XScreen(f":{number}", width, height, proc)
            time.sleep(0.02)
        proc.kill()
        proc.wait()
    pytest.fail("could not start Xvfb on any display number")


@pytest.fixture(scope="session")
def xscreen() -> Iterator[XScreen]:
    """One 1280x800 Xvfb screen for the whole test session."""
    screen = start_xvfb()
    try:
        yield screen
    finally:
        screen.proc.terminate()
        screen.proc.wait(timeout=10)


class PostgresDatabases:
    """Makes fresh, empty PostgreSQL databases on 127.0.0.1:5432 and drops them all at the end."""

    def __init__(self) -> None:
        sqlalchemy = pytest.importorskip("sqlalchemy")  # the server extra; make test installs it
        if not _port_open("127.0.0.1", 5432):
            pytest.fail("PostgreSQL is not reachable on 127.0.0.1:5432: run scripts/services.sh")
        self._admin = sqlalchemy.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        self._names: list[str] = []

    def new(self) -> str:
        """The URL of a new empty database that nothing else uses."""
        name = f"opensupport_test_{uuid.uuid4().hex[:12]}"
        with self._admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        self._names.append(name)
        return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name

    def drop_all(self) -> None:
        with self._admin.connect() as conn:
            for name in self._names:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._admin.dispose()


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[PostgresDatabases]:
    """A factory of fresh PostgreSQL databases, for fixtures that need one of their own."""
    databases = PostgresDatabases()
    try:
        yield databases
    finally:
        databases.drop_all()


@pytest.fixture
def postgres_url(postgres_databases: PostgresDatabases) -> str:
    """A fresh, empty PostgreSQL database for this test alone (dropped at the end of the session)."""
    return postgres_databases.new()


@pytest.fixture(scope="session")
def redis_url() -> str:
    """Redis on 127.0.0.1:6379 (keys used by tests carry a random prefix)."""
    if not _port_open("127.0.0.1", 6379):
        pytest.fail("Redis is not reachable on 127.0.0.1:6379: run scripts/services.sh")
    return REDIS_URL


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    return d


@pytest.fixture(autouse=True)
def _qt_garbage_collected_at_a_safe_point() -> Iterator[None]:
    """After each test that used Qt, its cyclic garbage is collected here, between tests.

    A test's windows and sessions often sit in reference cycles; left to the cyclic collector, they were
    destroyed at whatever moment a later allocation triggered it — once inside ``processEvents`` while
    Qt was delivering a signal, which crashed the process (a segfault in the integration group)."""
    yield
    if "PySide6.QtCore" not in sys.modules:
        return
    from PySide6.QtCore import QCoreApplication

    app = QCoreApplication.instance()
    if app is None:
        return
    app.processEvents()  # the test's deleteLater() calls and queued signals run first
    gc.collect()
    app.processEvents()
