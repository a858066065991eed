"""Fixtures of the end-to-end tests: a relay subprocess per test, an offscreen Qt for the viewer."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from typing import Any

import pytest
from e2e import XServer
from relay_proc import RelayProcess


@pytest.fixture
def relay() -> Iterator[RelayProcess]:
    """A running relay on a free port (killed and restarted by the resume tests)."""
    rp = RelayProcess()
    rp.start()
    yield rp
    rp.stop()


@pytest.fixture(scope="session")
def xserver() -> Iterator[XServer]:
    server = XServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def qapp() -> Any:
    from PySide6.QtWidgets import QApplication

    return QApplication.instance() or QApplication([])


@pytest.fixture(scope="session")
def shared_relay() -> Iterator[RelayProcess]:
    rp = RelayProcess()
    rp.start()
    yield rp
    rp.stop()
