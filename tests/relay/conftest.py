"""Fixtures of the relay tests: relay processes (serve_relay_only in a subprocess), stopped afterwards."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from relay_clients import RelayProcess


@pytest.fixture
def relay_process() -> Iterator[Callable[..., RelayProcess]]:
    started: list[RelayProcess] = []

    def make(**settings: object) -> RelayProcess:
        rp = RelayProcess(settings)
        started.append(rp)
        return rp

    yield make
    for rp in started:
        rp.stop()
