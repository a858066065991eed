"""Scrolls and moves cost only the newly exposed pixels: detection is checked through the ops the decoder
saw (a copy plus tiles inside the exposed area), and every frame still decodes exactly."""

from __future__ import annotations

import numpy as np
import pytest
from codec_frames import GLYPH_H, blank, desktop, render_text, terminal, text_lines, window
from opensupport.codec import Decoder, Encoder, Rect


def step(enc: Encoder, dec: Decoder, frame: np.ndarray) -> tuple[bytes, list[tuple[str, Rect]]]:
    update = enc.encode(frame)
    fb, _ = dec.decode(update)
    assert np.array_equal(fb[:, :, :3], frame[:, :, :3])
    return update, dec.last_ops


def start(frame: np.ndarray) -> tuple[Encoder, Decoder]:
    height, width = frame.shape[:2]
    enc, dec = Encoder(width, height), Decoder(width, height)
    step(enc, dec, frame)
    return enc, dec


def document(width: int, height: int) -> np.ndarray:
    doc = blank(width, height, (255, 255, 255))
    render_text(doc, 4, 0, text_lines(height // GLYPH_H, (width - 8) // 8, 11), (0, 0, 0), (255, 255, 255))
    return doc


def tiles_area(ops: list[tuple[str, Rect]]) -> int:
    """Pixels sent as pixel data: copies and cache fetches send a reference only."""
    return sum(r.w * r.h for kind, r in ops if kind not in ("copy", "cache"))


@pytest.mark.parametrize("shift", [1, -1, 3, -5, 70, -70, 131])
def test_vertical_scroll_of_a_region_sends_only_the_exposed_rows(shift: int) -> None:
    width, height = 400, 300
    doc = document(360, 900)
    top, view = 20, 260  # the document shows in rows [20, 280), columns [20, 380)

    def frame(offset: int) -> np.ndarray:
        f = desktop(width, height)
        f[top : top + view, 20:380] = doc[offset : offset + view]
        return f

    base = 300
    enc, dec = start(frame(base))
    _, ops = step(enc, dec, frame(base + shift))
    copies = [r for kind, r in ops if kind == "copy"]
    assert copies, ops
    copied = sum(r.w * r.h for r in copies)
    assert copied >= 360 * (view - abs(shift)) * 0.95
    # everything not copied lies in the exposed band (plus at most a row of glyph height of slack)
    band = (
        range(top + view - abs(shift) - GLYPH_H, top + view)
        if shift > 0
        else range(top, top + abs(shift) + GLYPH_H)
    )
    for kind, r in ops:
        if kind != "copy":
            assert r.y >= band.start and r.y + r.h <= band.stop, (r, band)
    assert tiles_area(ops) <= 360 * (abs(shift) + GLYPH_H)


def test_terminal_scrolling_three_lines_is_a_copy_plus_three_lines() -> None:
    width, height = 640, 400
    lines = text_lines(60, width // 8, 3)
    rows = height // GLYPH_H
    enc, dec = start(terminal(width, height, lines=lines[:rows]))
    for i in range(1, 4):
        update, ops = step(enc, dec, terminal(width, height, lines=lines[3 * i : 3 * i + rows]))
        assert [kind for kind, _ in ops].count("copy") >= 1
        assert tiles_area(ops) <= width * 3 * GLYPH_H
        assert len(update) <= 3 * width * GLYPH_H // 4  # far below the raw exposed rows


@pytest.mark.parametrize("wallpaper", ["weave", "gradient"])
@pytest.mark.parametrize("delta", [(23, 11), (-37, 5), (1, 0), (0, -1), (90, -70)])
def test_dragged_window_costs_only_the_exposed_desktop(delta: tuple[int, int], wallpaper: str) -> None:
    width, height = 800, 600
    win = window(320, 240)
    x, y = 200, 150
    enc, dec = start(desktop(width, height, win, (x, y), wallpaper))
    dx, dy = delta
    for i in range(1, 4):
        update, ops = step(enc, dec, desktop(width, height, win, (x + i * dx, y + i * dy), wallpaper))
        copies = [r for kind, r in ops if kind == "copy"]
        # the part of the window that was visible before and still is (it may leave the screen)
        left, top = max(x + i * dx, x + (i - 1) * dx, 0), max(y + i * dy, y + (i - 1) * dy, 0)
        right = min(x + i * dx + 320, x + (i - 1) * dx + 320, width)
        bottom = min(y + i * dy + 240, y + (i - 1) * dy + 240, height)
        assert any(r.w >= right - left and r.h >= bottom - top for r in copies), ops
        # the rest is the exposed desktop, give or take the tile boxes around its L shape
        exposed = abs(dx) * 240 + abs(dy) * 320
        assert tiles_area(ops) <= 1.5 * exposed + 64 * 64, ops
        if wallpaper == "weave":
            assert len(update) < 1024


def test_window_moved_off_the_edge_and_back() -> None:
    width, height = 500, 400
    win = window(200, 150)
    positions = [(100, 100), (380, 300), (420, 330), (-50, -30), (100, 100)]
    enc, dec = start(desktop(width, height, win, positions[0]))
    for pos in positions[1:]:
        step(enc, dec, desktop(width, height, win, pos))


def test_a_keystroke_sends_one_glyph() -> None:
    width, height = 1280, 720
    lines = text_lines(height // GLYPH_H, width // 8, 8)
    lines[-1] = [-1] * (width // 8)
    frame = terminal(width, height, lines=lines)
    enc, dec = start(frame)
    for col in range(5):
        frame = frame.copy()
        render_text(frame, col * 8, (height // GLYPH_H - 1) * GLYPH_H, [[40 + col]])
        update, ops = step(enc, dec, frame)
        assert len(ops) == 1 and ops[0][1].w <= 8 and ops[0][1].h <= GLYPH_H
        assert len(update) <= 400


def test_copies_never_read_what_an_earlier_copy_wrote() -> None:
    # Two windows swap places: a naive order would copy one over the other's source.
    width, height = 600, 300
    a, b = window(200, 200, 1), window(200, 200, 2)
    first = desktop(width, height)
    first[50:250, 50:250], first[50:250, 300:500] = a, b
    second = desktop(width, height)
    second[50:250, 50:250], second[50:250, 300:500] = b, a
    enc, dec = start(first)
    step(enc, dec, second)
    step(enc, dec, first)
