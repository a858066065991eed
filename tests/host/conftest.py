"""Fixtures of the host tests: one Xvfb of their own with two RandR monitors, the X11 backends on it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from host_x import XServer
from opensupport.host.capture import X11Capture
from opensupport.host.input import InputInjector, X11Input


@pytest.fixture(scope="session")
def xserver() -> Iterator[XServer]:
    """A 2304x800 Xvfb split into a 1280x800 monitor and a 1024x768 one to its right."""
    server = XServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def capture(xserver: XServer) -> Iterator[X11Capture]:
    with X11Capture(xserver.display) as backend:
        yield backend


@pytest.fixture
def x11_input(xserver: XServer) -> Iterator[X11Input]:
    backend = X11Input(xserver.display)
    try:
        yield backend
    finally:
        backend.close()


@pytest.fixture
def injector(capture: X11Capture, x11_input: X11Input) -> Iterator[InputInjector]:
    """An injector on the left monitor; released and closed afterwards."""
    inj = InputInjector(x11_input, capture.monitor)
    try:
        yield inj
    finally:
        inj.release_all()
