"""A small corpus recorded once per test session by the real recorder (its own Xvfb, real programs)."""

from dataclasses import dataclass
from pathlib import Path

import pytest
from opensupport.benchmarks import record


@dataclass(frozen=True)
class SmallCorpus:
    path: Path
    width: int
    height: int
    frames: int


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory: pytest.TempPathFactory) -> SmallCorpus:
    """Every scenario at 480x270 (large enough for Chromium's layout), 6 frames each: about 15 s."""
    corpus = SmallCorpus(tmp_path_factory.mktemp("corpus"), 480, 270, 6)
    argv = [
        "--out",
        str(corpus.path),
        "--size",
        f"{corpus.width}x{corpus.height}",
        "--frames",
        str(corpus.frames),
    ]
    assert record.main(argv) == 0, "the recorder failed: see its message above"
    return corpus
