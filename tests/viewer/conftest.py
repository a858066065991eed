"""Qt runs offscreen for the viewer's tests: no display needed, pixels still rendered and read back."""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"

from collections.abc import Iterator

import pytest
from viewer_helpers import RecordingSink


@pytest.fixture(scope="session")
def qapp() -> Iterator[object]:
    """The one QApplication of the test process (PySide6 must be installed: the viewer extra)."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    yield app


@pytest.fixture
def sink() -> RecordingSink:
    """An input sink that records what it is sent."""
    return RecordingSink()
