"""The motion search kernel (native/motion.c) through its checked wrapper: what it finds, and that every
move it returns is exact and can be applied in its order."""

from __future__ import annotations

import numpy as np
from opensupport.codec import _native as native

TILE = 64


def noise(width: int, height: int, seed: int) -> np.ndarray:
    f = np.random.default_rng(seed).integers(0, 256, (height, width, 4), dtype=np.uint8)
    f[:, :, 3] = 255
    return f


def apply_moves(ref: np.ndarray, moves: np.ndarray) -> np.ndarray:
    out = ref.copy()
    for sx, sy, dx, dy, w, h in moves.tolist():
        native.copy_rect(out, sx, sy, dx, dy, w, h)
    return out


def search(frame: np.ndarray, ref: np.ndarray, scratch: native.MotionScratch | None = None) -> np.ndarray:
    height, width = frame.shape[:2]
    dirty, _ = native.compare_tiles(frame, ref, TILE)
    scratch = scratch or native.MotionScratch(width, height, TILE)
    return native.find_moves(frame, ref, dirty, TILE, scratch)


def check_exact(frame: np.ndarray, ref: np.ndarray, moves: np.ndarray) -> None:
    """Every move, applied in order, writes only pixels equal to the new frame."""
    out = ref.copy()
    for sx, sy, dx, dy, w, h in moves.tolist():
        native.copy_rect(out, sx, sy, dx, dy, w, h)
        assert np.array_equal(out[dy : dy + h, dx : dx + w], frame[dy : dy + h, dx : dx + w])


def test_window_above_a_patch_that_matches_at_the_offset_is_copied_whole() -> None:
    """A window moved by (-8, +3) over a noise wallpaper. Below its bottom edge lies a one-colour patch,
    so one tile there (window rows on top, patch below) matches at the window's offset on its own; grown,
    its rectangle reaches up into the window's. Both rectangles copy at the same offset, and each would
    read what the other writes: the window must still come out as one copy (it once was dropped, and the
    whole window was sent as pixels: 40-55 KiB instead of 3 in the recorded drag)."""
    width, height = 640, 448
    ref = noise(width, height, 1)
    window = noise(300, 200, 2)
    patch_colour = (90, 120, 150)
    ref[270:340, 120:210, :3] = patch_colour
    ref[70:270, 100:400] = window
    frame = ref.copy()
    frame[70:270, 100:400] = noise(300, 200, 3)[:200, :300]  # uncovered: new wallpaper, sent as pixels
    frame[270:340, 120:210, :3] = patch_colour
    frame[73:273, 92:392] = window
    moves = search(frame, ref)
    check_exact(frame, ref, moves)
    out = apply_moves(ref, moves)
    assert np.array_equal(out[73:273, 92:392], frame[73:273, 92:392])


def test_scratch_reused_across_searches_of_different_sizes_finds_each_move() -> None:
    """One scratch serves a long run of searches, large and small (the segment table's size follows the
    dirty area; only its used part is cleared): each finds its scroll and never a wrong copy."""
    width, height = 512, 384
    scratch = native.MotionScratch(width, height, TILE)
    rng = np.random.default_rng(5)
    for i in range(300):
        ref = noise(width, height, 100 + i % 7)
        frame = ref.copy()
        rows = 384 if i % 3 else 128  # a whole-screen scroll, or a small region
        shift = int(rng.integers(1, 90 if rows > 128 else 60))  # a whole tile still moved
        frame[: rows - shift, :256] = ref[shift:rows, :256]
        frame[rows - shift : rows, :256] = noise(256, shift, 1000 + i)
        moves = search(frame, ref, scratch)
        check_exact(frame, ref, moves)
        out = apply_moves(ref, moves)
        # everything but the newly exposed rows (and the rows the copy cannot source) came from a copy
        assert np.array_equal(out[: rows - shift, :256], frame[: rows - shift, :256]), (i, shift, moves)


def test_column_growth_stops_at_the_first_differing_pixel_of_any_row() -> None:
    """A region scrolled up by 16 px whose columns right of it match at that offset for 10 more pixels,
    except one pixel in one row: the copy grows right to exactly where every row still matches."""
    width, height = 384, 256
    ref = noise(width, height, 7)
    frame = ref.copy()
    frame[0:240, 64:310] = ref[16:256, 64:310]
    frame[240:256, 64:300] = noise(236, 16, 8)
    frame[100, 305, 0] ^= 1  # column 305 differs in row 100 only
    moves = search(frame, ref)
    check_exact(frame, ref, moves)
    assert moves.shape[0] >= 1
    sx, sy, dx, dy, w, h = moves[0].tolist()
    assert (sx - dx, sy - dy) == (0, 16)
    assert (dx, dy, dx + w, dy + h) == (64, 0, 305, 240)
