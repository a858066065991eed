"""Synthetic screen frames for the codec tests: noise, gradients, text-like glyph rows, a desktop with
a window. Deterministic for a given seed, BGRA uint8 (height, width, 4) with alpha 255."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Frame = npt.NDArray[np.uint8]

GLYPH_W, GLYPH_H = 8, 16


def blank(width: int, height: int, bgr: tuple[int, int, int] = (0, 0, 0)) -> Frame:
    frame = np.empty((height, width, 4), dtype=np.uint8)
    frame[:, :, :3] = bgr
    frame[:, :, 3] = 255
    return frame


def noise(width: int, height: int, seed: int = 0) -> Frame:
    frame = np.random.default_rng(seed).integers(0, 256, (height, width, 4), dtype=np.uint8)
    frame[:, :, 3] = 255
    return frame


def gradient(width: int, height: int) -> Frame:
    frame = blank(width, height)
    x = np.arange(width, dtype=np.int64)
    y = np.arange(height, dtype=np.int64)[:, None]
    frame[:, :, 0] = (x * 255 // max(width - 1, 1)).astype(np.uint8)
    frame[:, :, 1] = (y * 255 // max(height - 1, 1)).astype(np.uint8)
    frame[:, :, 2] = ((x + y) % 256).astype(np.uint8)
    return frame


def glyph_atlas(seed: int = 7, count: int = 96) -> npt.NDArray[np.uint8]:
    """``count`` glyphs of GLYPH_H x GLYPH_W coverage values (0..255), with anti-aliased edges."""
    rng = np.random.default_rng(seed)
    core = (rng.random((count, GLYPH_H, GLYPH_W)) < 0.3).astype(np.float64)
    core[:, :3, :] = 0  # line spacing
    core[:, :, -1] = 0  # letter spacing
    soft = core.copy()
    soft[:, 1:, :] += 0.25 * core[:, :-1, :]
    soft[:, :, 1:] += 0.25 * core[:, :, :-1]
    return (np.clip(soft, 0, 1) * 255).astype(np.uint8)


def render_text(
    frame: Frame,
    x: int,
    y: int,
    text_rows: list[list[int]],
    fg: tuple[int, int, int] = (220, 220, 220),
    bg: tuple[int, int, int] = (30, 30, 30),
    atlas: npt.NDArray[np.uint8] | None = None,
) -> None:
    """Draw rows of glyph indices at (x, y), clipped to the frame; index -1 is a blank cell."""
    glyphs = glyph_atlas() if atlas is None else atlas
    fg_a = np.array(fg, dtype=np.float64)
    bg_a = np.array(bg, dtype=np.float64)
    height, width = frame.shape[:2]
    for r, row in enumerate(text_rows):
        for c, g in enumerate(row):
            x0, y0 = x + c * GLYPH_W, y + r * GLYPH_H
            if x0 >= width or y0 >= height or x0 + GLYPH_W <= 0 or y0 + GLYPH_H <= 0:
                continue
            cover = np.zeros((GLYPH_H, GLYPH_W)) if g < 0 else glyphs[g] / 255.0
            cell = (bg_a + (fg_a - bg_a) * cover[:, :, None]).round().astype(np.uint8)
            cx0, cy0 = max(x0, 0), max(y0, 0)
            cx1, cy1 = min(x0 + GLYPH_W, width), min(y0 + GLYPH_H, height)
            frame[cy0:cy1, cx0:cx1, :3] = cell[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0]


def text_lines(rows: int, cols: int, seed: int = 1) -> list[list[int]]:
    """Rows of 'words' (runs of glyph indices separated by blanks), like a terminal or a document."""
    rng = np.random.default_rng(seed)
    words = [list(rng.integers(0, 96, int(rng.integers(2, 9)))) for _ in range(200)]
    out: list[list[int]] = []
    for _ in range(rows):
        line: list[int] = []
        limit = int(rng.integers(cols // 3, cols + 1))
        while len(line) < limit:
            line += [int(v) for v in words[int(rng.integers(0, len(words)))]] + [-1]
        out.append(line[:cols])
    return out


def terminal(width: int, height: int, seed: int = 1, lines: list[list[int]] | None = None) -> Frame:
    """A full-screen terminal: text rows on a dark background."""
    frame = blank(width, height, (30, 30, 30))
    rows = lines if lines is not None else text_lines(height // GLYPH_H, width // GLYPH_W, seed)
    render_text(frame, 0, 0, rows)
    return frame


def window(width: int, height: int, seed: int = 3) -> Frame:
    """An application window: a title bar, a border and a text body on white."""
    win = blank(width, height, (250, 250, 250))
    win[:24, :, :3] = (120, 80, 40)
    win[:, :2, :3] = win[:, -2:, :3] = win[-2:, :, :3] = (90, 90, 90)
    render_text(
        win,
        8,
        30,
        text_lines((height - 40) // GLYPH_H, (width - 16) // GLYPH_W, seed),
        (20, 20, 20),
        (250, 250, 250),
    )
    return win


def desktop(
    width: int,
    height: int,
    win: Frame | None = None,
    at: tuple[int, int] = (0, 0),
    wallpaper: str = "gradient",
) -> Frame:
    """A desktop with ``win`` placed at ``at`` (clipped) over a wallpaper: ``"gradient"`` (soft, many
    colours) or ``"weave"`` (the two-colour stipple an X server without a window manager shows)."""
    frame = blank(width, height)
    x = np.arange(width)[None, :]
    y = np.arange(height)[:, None]
    if wallpaper == "weave":
        frame[:, :, :3] = np.where(((x + y) % 4 == 0)[:, :, None] | ((x - y) % 4 == 0)[:, :, None], 255, 0)
    else:
        frame[:, :, 0] = (90 + 60 * y // max(height, 1)).astype(np.uint8)
        frame[:, :, 1] = (60 + 40 * x // max(width, 1)).astype(np.uint8)
        frame[:, :, 2] = 40
    if win is not None:
        place(frame, win, *at)
    return frame


def place(frame: Frame, win: Frame, x: int, y: int) -> None:
    """Copy ``win`` onto ``frame`` with its top-left corner at (x, y), clipped to the frame."""
    height, width = frame.shape[:2]
    wh, ww = win.shape[:2]
    x0, y0 = max(x, 0), max(y, 0)
    x1, y1 = min(x + ww, width), min(y + wh, height)
    if x1 > x0 and y1 > y0:
        frame[y0:y1, x0:x1] = win[y0 - y : y1 - y, x0 - x : x1 - x]
