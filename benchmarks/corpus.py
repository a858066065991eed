"""The on-disk format of the codec corpus: recorded screen frames, stored losslessly.

A corpus is a directory with one sub-directory per scenario (``DIR/<scenario>/``), each holding

- ``manifest.json``: ``format`` (``"opensupport-corpus/1"``), ``scenario``, ``description``, ``width``,
  ``height``, ``fps`` (the rate the scenario represents), ``frames`` (count), ``pixel_format`` (``"BGRA"``,
  as mss returns it), ``actions`` (one string per frame: what the recorder did just before grabbing it,
  e.g. ``"char:a"``, ``"key:Return"``, ``"lines:1"``, ``"page"``, ``"move"``, ``"switch:2"``, ``"idle"``,
  ``"video"``; the first frame is ``"start"``), ``recorded_at`` (UTC, ISO 8601) and ``programs`` (what
  was on the screen);
- ``NNNNN.bgra.zst``: frame number NNNNN, the raw ``height * width * 4`` bytes compressed with zstd.
  Each frame is compressed on its own so that any frame can be read without the others.

The recorder (``opensupport bench record``, benchmarks/record.py) writes corpora; the codec benchmark
reads them with :func:`load_scenario`. Corpus data never goes into git (``/corpus/`` is ignored).
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import zstandard

FORMAT = "opensupport-corpus/1"
MANIFEST = "manifest.json"
#: zstd level for stored frames: level 3 keeps recording at a few tens of ms per 1920x1080 frame.
ZSTD_LEVEL = 3
#: the largest frame a manifest may declare (16384x16384), so a damaged manifest cannot ask for terabytes
MAX_SIDE = 16384


class CorpusError(Exception):
    """A corpus directory or file that is missing, damaged or of another format."""


@dataclass(frozen=True)
class Manifest:
    """What ``manifest.json`` says about one recorded scenario."""

    scenario: str
    description: str
    width: int
    height: int
    fps: float
    frames: int
    actions: list[str]
    recorded_at: str = ""
    programs: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The manifest as the JSON object stored on disk."""
        return {
            "format": FORMAT,
            "scenario": self.scenario,
            "description": self.description,
            "width": self.width,
            "height": self.height,
            "fps": self.fps,
            "frames": self.frames,
            "pixel_format": "BGRA",
            "actions": self.actions,
            "recorded_at": self.recorded_at,
            "programs": self.programs,
        }


def frame_path(directory: Path, index: int) -> Path:
    """The file of frame ``index`` in a scenario directory."""
    return directory / f"{index:05d}.bgra.zst"


class ScenarioWriter:
    """Writes the frames of one scenario, then its manifest (:meth:`close`).

    The manifest is written last, so a directory without one is an interrupted recording and is ignored
    by :func:`list_scenarios`.
    """

    def __init__(self, directory: Path, scenario: str, description: str, width: int, height: int, fps: float):
        self.directory = directory
        self.scenario = scenario
        self.description = description
        self.width = width
        self.height = height
        self.fps = fps
        self.actions: list[str] = []
        self.programs: list[str] = []
        directory.mkdir(parents=True, exist_ok=True)
        (directory / MANIFEST).unlink(missing_ok=True)
        for old in directory.glob("*.bgra.zst"):
            old.unlink()
        self._compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL)

    def add(self, frame: np.ndarray, action: str) -> None:
        """Store one BGRA frame; raises ``CorpusError`` if its shape is not (height, width, 4) uint8."""
        if frame.shape != (self.height, self.width, 4) or frame.dtype != np.uint8:
            raise CorpusError(
                f"frame of shape {frame.shape} {frame.dtype}, expected ({self.height}, {self.width}, 4) uint8"
            )
        data = self._compressor.compress(np.ascontiguousarray(frame).tobytes())
        frame_path(self.directory, len(self.actions)).write_bytes(data)
        self.actions.append(action)

    def close(self) -> Manifest:
        """Write ``manifest.json`` and return the manifest."""
        manifest = Manifest(
            scenario=self.scenario,
            description=self.description,
            width=self.width,
            height=self.height,
            fps=self.fps,
            frames=len(self.actions),
            actions=list(self.actions),
            recorded_at=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            programs=list(self.programs),
        )
        (self.directory / MANIFEST).write_text(json.dumps(manifest.to_json(), indent=1) + "\n")
        return manifest


def read_manifest(directory: Path) -> Manifest:
    """Read and check ``directory/manifest.json``; raises ``CorpusError`` if it is missing or invalid."""
    path = directory / MANIFEST
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise CorpusError(f"cannot read {path}: {exc}") from exc
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise CorpusError(f"{path}: not an {FORMAT} manifest")
    try:
        manifest = Manifest(
            scenario=str(raw["scenario"]),
            description=str(raw["description"]),
            width=int(raw["width"]),
            height=int(raw["height"]),
            fps=float(raw["fps"]),
            frames=int(raw["frames"]),
            actions=[str(a) for a in raw["actions"]],
            recorded_at=str(raw.get("recorded_at", "")),
            programs=[str(p) for p in raw.get("programs", [])],
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise CorpusError(f"{path}: bad field: {exc}") from exc
    if not (0 < manifest.width <= MAX_SIDE and 0 < manifest.height <= MAX_SIDE):
        raise CorpusError(f"{path}: bad frame size {manifest.width}x{manifest.height}")
    if manifest.frames != len(manifest.actions) or manifest.frames < 1:
        raise CorpusError(f"{path}: {manifest.frames} frames but {len(manifest.actions)} actions")
    return manifest


def list_scenarios(corpus: Path) -> list[str]:
    """The names of the complete scenarios in a corpus directory, sorted."""
    if not corpus.is_dir():
        raise CorpusError(f"no corpus at {corpus}: record one with `opensupport bench record --out {corpus}`")
    return sorted(p.name for p in corpus.iterdir() if (p / MANIFEST).is_file())


def iter_frames(directory: Path, manifest: Manifest, limit: int | None = None) -> Iterator[np.ndarray]:
    """Yield the scenario's frames in order as (height, width, 4) uint8 arrays (each a new array).

    Raises ``CorpusError`` on a missing file or one that does not decompress to exactly one frame.
    """
    size = manifest.width * manifest.height * 4
    decompressor = zstandard.ZstdDecompressor()
    count = manifest.frames if limit is None else min(limit, manifest.frames)
    for index in range(count):
        path = frame_path(directory, index)
        try:
            compressed = path.read_bytes()
            # The declared size is checked before decompressing, so a damaged file cannot ask for more.
            if zstandard.frame_content_size(compressed) != size:
                raise CorpusError(f"{path}: does not hold one {manifest.width}x{manifest.height} frame")
            data = decompressor.decompress(compressed, max_output_size=size)
        except (OSError, zstandard.ZstdError) as exc:
            raise CorpusError(f"cannot read frame {path}: {exc}") from exc
        if len(data) != size:
            raise CorpusError(f"{path}: {len(data)} bytes, expected {size}")
        yield np.frombuffer(data, dtype=np.uint8).reshape(manifest.height, manifest.width, 4).copy()


def load_scenario(corpus: Path, scenario: str, limit: int | None = None) -> tuple[Manifest, list[np.ndarray]]:
    """The manifest and the first ``limit`` (default all) frames of one scenario, in memory."""
    directory = corpus / scenario
    manifest = read_manifest(directory)
    return manifest, list(iter_frames(directory, manifest, limit))
