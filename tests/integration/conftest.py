"""Fixtures of the end-to-end tests: a relay subprocess per test, an offscreen Qt for the viewer."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator

import pytest
from relay_proc import RelayProcess


@pytest.fixture
def relay() -> Iterator[RelayProcess]:
    """A running relay on a free port (killed and restarted by the resume tests)."""
    rp = RelayProcess()
    rp.start()
    yield rp
    rp.stop()
