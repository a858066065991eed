"""The kernel through its checked wrappers, and its own argument checks through the raw ``lib``."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from opensupport.codec import CodecError
from opensupport.codec import _native as native
from opensupport.native import ffi, lib


def frame(width: int, height: int, seed: int = 0) -> np.ndarray:
    f = np.random.default_rng(seed).integers(0, 256, (height, width, 4), dtype=np.uint8)
    f[:, :, 3] = 255
    return f


def test_compare_marks_exactly_the_changed_tiles() -> None:
    a = frame(200, 130)
    b = a.copy()
    b[0, 0, 0] ^= 1  # tile (0, 0)
    b[129, 199, 2] ^= 1  # last, partial tile (2, 3)
    b[70, 64, 1] ^= 1  # first pixel of tile (1, 1)
    dirty, count = native.compare_tiles(b, a, 64)
    assert count == 3
    assert sorted(zip(*np.nonzero(dirty), strict=True)) == [(0, 0), (1, 1), (2, 3)]
    assert native.compare_tiles(a, a.copy(), 64)[1] == 0


def test_compare_with_a_mask_looks_only_at_masked_tiles() -> None:
    a = frame(128, 128)
    b = a.copy()
    b[:, :, 0] ^= 0xFF
    only = np.zeros((2, 2), dtype=np.uint8)
    only[1, 0] = 1
    dirty, count = native.compare_tiles(b, a, 64, only)
    assert count == 1 and dirty[1, 0] == 1


def test_pack_then_apply_reproduces_the_frame() -> None:
    ref = frame(100, 70, 1)
    new = ref.copy()
    new[10:20, 10:30, :3] = (1, 2, 3)  # solid, in tile (0, 0)
    new[64:70, 0:40, :3] = np.where(
        np.arange(40)[None, :, None] % 3 == 0, 200, 10
    )  # two colours, tile (0, 1)
    new[0:5, 95:100] = frame(5, 5, 9)  # noise: raw, tile (1, 0)
    rects = np.array([[0, 0, 64, 64], [64, 0, 36, 64], [0, 64, 64, 6], [64, 64, 36, 6]], dtype=np.int32)
    ops, data = native.pack_tiles(new, ref, rects, 255, native.PackBuffer())
    fb = ref.copy()
    payload = struct.pack("<I", len(ops)) + bytes(ops) + bytes(data)
    native.apply_update(fb, payload, apply=False)
    assert np.array_equal(fb, ref)  # validation writes nothing
    out = native.apply_update(fb, payload, apply=True)
    assert sorted(out[:, 0].tolist()) == [2, 3, 5]  # solid, raw, palette
    assert np.array_equal(fb[:, :, :3], new[:, :, :3])


@pytest.mark.parametrize("colours", [2, 3, 4, 5, 16, 17, 255])
@pytest.mark.parametrize("width", [1, 7, 13, 64])
def test_palette_indices_packed_by_colour_count_round_trip(colours: int, width: int) -> None:
    height = 40  # 64 x 40 takes the decoder's byte-expansion path, narrower boxes the per-pixel one
    ref = np.zeros((height, 64, 4), dtype=np.uint8)
    new = ref.copy()
    rng = np.random.default_rng(colours * 100 + width)
    table = rng.integers(0, 256, (colours, 3), dtype=np.uint8)
    table[0] = (1, 2, 3)  # never the reference's black, so the box is the whole rect
    picks = rng.integers(0, colours, (height, width))
    picks.flat[:colours] = np.arange(colours)[: picks.size]  # every colour appears (when room)
    new[:, :width, :3] = table[picks]
    new[:, :width, 3] = 255
    ops, data = native.pack_tiles(
        new, ref, np.array([[0, 0, width, height]], np.int32), 255, native.PackBuffer()
    )
    fb = ref.copy()
    out = native.apply_update(fb, struct.pack("<I", len(ops)) + bytes(ops) + bytes(data), apply=True)
    assert np.array_equal(fb[:, :, :3], new[:, :, :3])
    present = len({tuple(c) for c in new[:, :width, :3].reshape(-1, 3)})
    if 3 * present < 2 * width * height and present > 1:
        assert out[0, 0] == 5
        bits = 1 if present <= 2 else 2 if present <= 4 else 4 if present <= 16 else 8
        assert len(data) == height * ((width * bits + 7) // 8)


def test_copy_rect_overlapping_both_ways() -> None:
    fb = frame(50, 40)
    original = fb.copy()
    native.copy_rect(fb, 0, 0, 3, 5, 40, 30)  # down-right, overlapping
    assert np.array_equal(fb[5:35, 3:43], original[0:30, 0:40])
    fb = original.copy()
    native.copy_rect(fb, 3, 5, 0, 0, 40, 30)  # up-left, overlapping
    assert np.array_equal(fb[0:30, 0:40], original[5:35, 3:43])
    with pytest.raises(CodecError):
        native.copy_rect(fb, 11, 0, 0, 0, 40, 30)


def payload(ops: bytes, data: bytes = b"") -> bytes:
    return struct.pack("<I", len(ops)) + ops + data


@pytest.mark.parametrize(
    "bad",
    [
        b"",
        b"\x05\x00\x00\x00",  # ops length beyond the payload
        payload(b"\x09" + bytes(8)),  # unknown op
        payload(struct.pack("<BHHHH", 3, 0, 0, 0, 5)),  # zero width
        payload(struct.pack("<BHHHH", 3, 30, 0, 5, 5), bytes(75)),  # x + w beyond 32
        payload(struct.pack("<BHHHH", 3, 0, 0, 5, 5), bytes(74)),  # pixel data short
        payload(struct.pack("<BHHHH", 3, 0, 0, 5, 5), bytes(76)),  # pixel data left over
        payload(struct.pack("<BHHHH", 2, 0, 0, 5, 5)),  # solid without its colour
        payload(
            struct.pack("<BHHHHB", 5, 0, 0, 2, 2, 3) + bytes(9), bytes([0x10, 0xC0])
        ),  # 2-bit index 3 >= n
        payload(
            struct.pack("<BHHHHB", 5, 0, 0, 2, 2, 2) + bytes(6), bytes([0x40, 0x80, 0])
        ),  # 1-bit: a byte over
        payload(struct.pack("<BHHHHB", 5, 0, 0, 2, 1, 17) + bytes(51), bytes([0, 17])),  # byte index 17 >= n
        payload(struct.pack("<BHHHHB", 5, 0, 0, 2, 2, 1) + bytes(3), bytes(4)),  # one-colour palette
        payload(struct.pack("<BHHHHHH", 1, 0, 0, 20, 20, 13, 13)),  # copy destination outside
        payload(struct.pack("<BHHHHHH", 1, 65535, 0, 0, 0, 1, 1)),  # copy source outside
    ],
)
def test_apply_refuses_bad_payloads_without_writing(bad: bytes) -> None:
    fb = frame(32, 32)
    before = fb.copy()
    with pytest.raises(CodecError):
        native.apply_update(fb, bad, apply=False)
    assert np.array_equal(fb, before)
    with pytest.raises(CodecError):
        native.apply_update(fb, bad, apply=True)  # the kernel checks again even when told to apply


def test_wrappers_refuse_wrong_arrays() -> None:
    good = frame(16, 16)
    with pytest.raises(CodecError):
        native.compare_tiles(good.astype(np.uint16), good, 64)  # type: ignore[arg-type]
    with pytest.raises(CodecError):
        native.compare_tiles(good[:, :, :3], good, 64)
    with pytest.raises(CodecError):
        native.compare_tiles(good[:, ::-1], good, 64)
    read_only = good.copy()
    read_only.flags.writeable = False
    with pytest.raises(CodecError):
        native.apply_update(read_only, payload(b""), apply=True)


def test_raw_kernel_checks_its_own_arguments() -> None:
    buf = ffi.new("uint8_t[]", 64)
    assert lib.os_compare_tiles(buf, 16, buf, 16, 4, 4, 0, ffi.NULL, buf, 64) == lib.OS_ERR_ARG
    assert lib.os_compare_tiles(buf, 8, buf, 16, 4, 4, 64, ffi.NULL, buf, 64) == lib.OS_ERR_ARG  # stride
    assert lib.os_copy_rect(buf, 16, 4, 4, 0, 0, 1, 1, 4, 4) == lib.OS_ERR_BOUNDS
    assert lib.os_apply_update(buf, 16, 4, 4, ffi.NULL, 0, 0, ffi.NULL, 0) == lib.OS_ERR_TRUNCATED
    rects = ffi.new("int32_t[]", [0, 0, 5, 1])
    assert lib.os_blit_rects(buf, 16, buf, 16, 4, 4, rects, 1) == lib.OS_ERR_BOUNDS
