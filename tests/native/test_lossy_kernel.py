"""The kernel's parts of adaptive quality: tile classification, the change box, the exact I420 <-> BGRA
conversion with its picture hash, and the VIDEO op's checks, through the wrappers and the raw ``lib``."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from opensupport.codec import CodecError
from opensupport.codec import _native as native
from opensupport.native import ffi, lib


def noise(width: int, height: int, seed: int = 0) -> np.ndarray:
    f = np.random.default_rng(seed).integers(0, 256, (height, width, 4), dtype=np.uint8)
    f[:, :, 3] = 255
    return f


def text_like(width: int, height: int) -> np.ndarray:
    # a flat background with thin dark strokes: few colours, most neighbours equal
    f = np.full((height, width, 4), 250, dtype=np.uint8)
    f[::7, :, :3] = 20
    f[:, ::11, :3] = 90
    return f


def test_classify_needs_change_and_picture_texture() -> None:
    frame = text_like(256, 128)
    frame[:, 128:] = noise(128, 128)  # right half: a picture
    history = np.zeros((2, 4), dtype=np.uint8)
    changed = np.ones((2, 4), dtype=np.uint8)
    changed[1, 3] = 0  # one picture tile did not change
    classes, pictures = native.classify_tiles(frame, 64, changed, history, 1, 48, 0.5)
    assert classes[:, :2].tolist() == [[native.TILE_BUSY] * 2] * 2  # text: busy, never a picture
    assert classes[0, 2:].tolist() == [native.TILE_PICTURE] * 2 and classes[1, 2] == native.TILE_PICTURE
    assert classes[1, 3] == native.TILE_STILL
    assert pictures == 3
    assert history.tolist() == [[1, 1, 1, 1], [1, 1, 1, 0]]
    # with min_changes 3 a tile is busy only from its third change in the last 8 frames
    classes, _ = native.classify_tiles(frame, 64, changed, history, 3, 48, 0.5)
    assert (classes == native.TILE_STILL).all()
    classes, _ = native.classify_tiles(frame, 64, changed, history, 3, 48, 0.5)
    assert classes[0, 0] == native.TILE_BUSY and history[0, 0] == 0b111


def test_classify_checks_its_arguments() -> None:
    frame = noise(100, 70)
    good = np.zeros((2, 2), dtype=np.uint8)
    with pytest.raises(CodecError):
        native.classify_tiles(frame, 64, np.zeros((1, 2), np.uint8), good.copy(), 1, 48, 0.5)
    with pytest.raises(CodecError):
        native.classify_tiles(frame, 64, good, good.copy(), 9, 48, 0.5)  # min_changes beyond 8 frames
    out = np.zeros(4, dtype=np.uint8)
    p = ffi.cast("uint8_t *", ffi.from_buffer(frame))
    buf = ffi.cast("uint8_t *", ffi.from_buffer(out))
    # a tile grid that does not match the frame
    assert lib.os_classify_tiles(p, 400, 100, 70, 64, buf, buf, buf, 3, 1, 48, 128) == lib.OS_ERR_ARG


def test_change_box_is_tight_and_bounded() -> None:
    a = noise(200, 100)
    b = a.copy()
    b[10, 30, 0] ^= 1
    b[60, 150, 2] ^= 4
    b[80, 5, 3] ^= 1  # alpha only: not a change
    assert native.change_box(b, a, 0, 0, 200, 100) == (30, 10, 121, 51)
    assert native.change_box(b, a, 0, 0, 29, 100) is None
    with pytest.raises(CodecError, match="outside"):
        native.change_box(b, a, 150, 50, 51, 10)


def test_i420_round_trip_is_close_and_deterministic() -> None:
    frame = noise(64, 48)
    # smooth content converts back within a few levels (noise loses its chroma detail to 4:2:0)
    yy, xx = np.mgrid[0:48, 0:64]
    frame[..., 0], frame[..., 1], frame[..., 2] = xx * 3, yy * 4, 100 + xx + yy
    i420 = native.bgra_to_i420(frame, 0, 0, 64, 48)
    assert i420.shape == (72, 64)
    planes = (i420[:48].ravel(), i420[48:60].ravel(), i420[60:].ravel())
    out = np.zeros_like(frame)
    h1 = native.i420_to_bgra(planes, (64, 32, 32), 64, 48, out, 0, 0)
    assert (out[..., 3] == 255).all()
    assert np.abs(out[..., :3].astype(int) - frame[..., :3]).max() <= 6
    again = np.zeros_like(frame)
    assert native.i420_to_bgra(planes, (64, 32, 32), 64, 48, again, 0, 0) == h1
    assert np.array_equal(again, out)
    changed = planes[1].copy()
    changed[5] ^= 1
    assert native.i420_to_bgra((planes[0], changed, planes[2]), (64, 32, 32), 64, 48, again, 0, 0) != h1


def test_conversions_check_every_length() -> None:
    frame = noise(64, 48)
    with pytest.raises(CodecError):
        native.bgra_to_i420(frame, 0, 0, 63, 48)  # odd width
    with pytest.raises(CodecError):
        native.bgra_to_i420(frame, 2, 0, 64, 48)  # beyond the frame
    y, u, v = np.zeros(64 * 48, np.uint8), np.zeros(32 * 24, np.uint8), np.zeros(32 * 24, np.uint8)
    out = np.zeros_like(frame)
    with pytest.raises(CodecError, match="length"):
        native.i420_to_bgra((y[:-1], u, v), (64, 32, 32), 64, 48, out, 0, 0)  # Y one byte short
    with pytest.raises(CodecError, match="length"):
        native.i420_to_bgra((y, u, v[:-1]), (64, 32, 32), 64, 48, out, 0, 0)
    with pytest.raises(CodecError, match="length"):
        native.i420_to_bgra((y, u, v), (63, 32, 32), 64, 48, out, 0, 0)  # stride shorter than a row
    with pytest.raises(CodecError):
        native.i420_to_bgra((y, u, v), (64, 32, 32), 64, 48, out, 2, 0)  # beyond the frame
    assert (out == 0).all()
    small = np.zeros(16, dtype=np.uint8)
    p = ffi.cast("uint8_t *", ffi.from_buffer(frame))
    s = ffi.cast("uint8_t *", ffi.from_buffer(small))
    assert lib.os_bgra_to_i420(p, 256, 64, 48, 0, 0, 4, 4, s, 23) == lib.OS_ERR_CAPACITY  # needs 24


def video_payload(x: int, y: int, w: int, h: int, unit: bytes, flags: int = 1) -> bytes:
    op = struct.pack("<BHHHHBIQ", 8, x, y, w, h, flags, len(unit), 0)
    return struct.pack("<I", len(op)) + op + unit


def test_video_op_is_located_and_checked() -> None:
    op = native.check_update(64, 48, video_payload(2, 4, 32, 16, b"abc"), None, keyframe=False, video=True)
    assert op is not None and (op.x, op.y, op.w, op.h, op.new_stream, op.access_unit) == (
        2,
        4,
        32,
        16,
        True,
        b"abc",
    )
    bad = [
        video_payload(2, 4, 31, 16, b"abc"),  # odd width
        video_payload(40, 4, 32, 16, b"abc"),  # beyond the frame
        video_payload(2, 4, 32, 16, b"abc", flags=3),  # unknown flag
        video_payload(2, 4, 32, 16, b"abc")[:-1],  # access unit cut short
        video_payload(2, 4, 32, 16, b"abc")[:20],  # op cut short
    ]
    for payload in bad:
        with pytest.raises(CodecError):
            native.check_update(64, 48, payload, None, keyframe=False, video=True)
    with pytest.raises(CodecError, match="malformed op"):  # before version 3
        native.check_update(64, 48, video_payload(2, 4, 32, 16, b"abc"), None, keyframe=False, video=False)


def test_applying_a_video_op_needs_its_picture() -> None:
    fb = np.zeros((48, 64, 4), dtype=np.uint8)
    payload = video_payload(2, 4, 32, 16, b"abc")
    with pytest.raises(CodecError, match="picture"):
        native.apply_update(fb, payload, apply=True, video=True)
    with pytest.raises(CodecError):
        native.apply_update(fb, payload, apply=True, video=True, picture=noise(30, 16))  # wrong size
    assert (fb == 0).all()
    picture = noise(32, 16)
    rects = native.apply_update(fb, payload, apply=True, video=True, picture=picture)
    assert rects.tolist() == [[8, 2, 4, 32, 16]]
    assert np.array_equal(fb[4:20, 2:34], picture) and (fb[:4] == 0).all()
