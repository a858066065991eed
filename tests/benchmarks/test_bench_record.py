"""The corpus recorder on a real Xvfb: every scenario yields real, changing frames of the right size."""

import itertools

import numpy as np
import pytest
from opensupport.benchmarks.corpus import list_scenarios, load_scenario
from opensupport.benchmarks.record import SCENARIOS

pytestmark = pytest.mark.xvfb


def _changed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The (y, x) mask of pixels whose B, G or R differ."""
    return np.any(a[..., :3] != b[..., :3], axis=2)


def test_every_scenario_is_recorded_at_the_requested_size(small_corpus) -> None:
    assert list_scenarios(small_corpus.path) == sorted(SCENARIOS)
    width, height = small_corpus.width, small_corpus.height
    for scenario in SCENARIOS:
        manifest, frames = load_scenario(small_corpus.path, scenario)
        assert (manifest.width, manifest.height) == (width, height)
        assert manifest.frames == len(frames) == small_corpus.frames
        assert manifest.actions[0] == "start"
        assert all(f.shape == (height, width, 4) and f.dtype == np.uint8 for f in frames)
        # A real screen, not an empty one: text, pictures and the wallpaper have many colours.
        assert len(np.unique(frames[0][..., :3].reshape(-1, 3), axis=0)) > 8, scenario


@pytest.mark.parametrize(
    "scenario", ["browser-scroll", "browser-pages", "terminal-typing", "pager-scroll", "window-drag", "video"]
)
def test_every_step_changes_the_screen(small_corpus, scenario: str) -> None:
    _, frames = load_scenario(small_corpus.path, scenario)
    for i in range(1, len(frames)):
        assert _changed(frames[i - 1], frames[i]).any(), f"{scenario}: frame {i} equals frame {i - 1}"


def test_typing_changes_one_character_cell_per_frame(small_corpus) -> None:
    manifest, frames = load_scenario(small_corpus.path, "terminal-typing")
    for i in range(1, len(frames)):
        assert manifest.actions[i].startswith(("char:", "key:"))
        ys, xs = np.nonzero(_changed(frames[i - 1], frames[i]))
        # The new character and the cursor moving one cell: one text line high, two cells wide at most.
        assert ys.max() - ys.min() < 30 and xs.max() - xs.min() < 40, (i, manifest.actions[i])


def test_idle_desktop_does_not_change(small_corpus) -> None:
    _, frames = load_scenario(small_corpus.path, "idle")
    assert all(np.array_equal(frames[0], f) for f in frames[1:])


def test_video_moves_inside_its_window_only(small_corpus) -> None:
    _, frames = load_scenario(small_corpus.path, "video")
    width, height = small_corpus.width, small_corpus.height
    changed = np.zeros((height, width), dtype=bool)
    for a, b in itertools.pairwise(frames):
        changed |= _changed(a, b)
    ys, xs = np.nonzero(changed)
    # The video window is half the screen's width and height; most of it changes in every frame.
    assert xs.max() - xs.min() + 1 <= width // 2 and ys.max() - ys.min() + 1 <= height // 2
    assert changed.sum() > 0.8 * (width // 2) * (height // 2)
