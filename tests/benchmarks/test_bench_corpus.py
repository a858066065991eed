"""The corpus format: frames come back bit for bit; damaged files are a CorpusError, never a crash."""

import json
from pathlib import Path

import numpy as np
import pytest
import zstandard
from opensupport.benchmarks.corpus import (
    CorpusError,
    ScenarioWriter,
    frame_path,
    list_scenarios,
    load_scenario,
    read_manifest,
)


def _write(tmp_path: Path, frames: int = 3) -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    writer = ScenarioWriter(tmp_path / "demo", "demo", "random frames", 33, 17, 30.0)
    written = []
    for i in range(frames):
        frame = rng.integers(0, 256, (17, 33, 4), dtype=np.uint8)
        writer.add(frame, "start" if i == 0 else f"step:{i}")
        written.append(frame)
    writer.close()
    return written


def test_round_trip_is_exact(tmp_path: Path) -> None:
    written = _write(tmp_path)
    assert list_scenarios(tmp_path) == ["demo"]
    manifest, frames = load_scenario(tmp_path, "demo")
    assert (manifest.width, manifest.height, manifest.frames) == (33, 17, 3)
    assert manifest.actions == ["start", "step:1", "step:2"]
    assert all(np.array_equal(a, b) for a, b in zip(written, frames, strict=True))
    assert len(load_scenario(tmp_path, "demo", limit=2)[1]) == 2


def test_unfinished_recording_is_not_listed(tmp_path: Path) -> None:
    writer = ScenarioWriter(tmp_path / "half", "half", "", 8, 8, 30.0)
    writer.add(np.zeros((8, 8, 4), np.uint8), "start")
    assert list_scenarios(tmp_path) == []


def test_wrong_frame_shape_is_refused(tmp_path: Path) -> None:
    writer = ScenarioWriter(tmp_path / "s", "s", "", 8, 8, 30.0)
    with pytest.raises(CorpusError, match="expected"):
        writer.add(np.zeros((8, 9, 4), np.uint8), "start")


def test_damaged_files_raise_corpus_error(tmp_path: Path) -> None:
    _write(tmp_path)
    directory = tmp_path / "demo"
    frame_path(directory, 1).write_bytes(b"not zstd at all")
    with pytest.raises(CorpusError):
        load_scenario(tmp_path, "demo")
    # A frame that declares more than one frame's bytes is refused before decompressing.
    frame_path(directory, 1).write_bytes(zstandard.ZstdCompressor().compress(bytes(33 * 17 * 4 + 1)))
    with pytest.raises(CorpusError, match="does not hold one"):
        load_scenario(tmp_path, "demo")
    frame_path(directory, 1).unlink()
    with pytest.raises(CorpusError):
        load_scenario(tmp_path, "demo")


@pytest.mark.parametrize(
    "change",
    [
        {"format": "other/1"},
        {"width": 0},
        {"height": 100000},
        {"frames": 5},
        {"actions": None},
    ],
)
def test_bad_manifest_is_a_corpus_error(tmp_path: Path, change: dict) -> None:
    _write(tmp_path)
    path = tmp_path / "demo" / "manifest.json"
    raw = json.loads(path.read_text())
    raw.update(change)
    path.write_text(json.dumps(raw))
    with pytest.raises(CorpusError):
        read_manifest(tmp_path / "demo")


def test_missing_corpus_says_how_to_record_one(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="bench record"):
        list_scenarios(tmp_path / "nowhere")
