"""Hypothesis: whatever bytes reach ``Decoder.decode``, the result is a decoded frame or CodecError,
never a crash, and after CodecError the framebuffer is byte-identical. Three depths: arbitrary bytes
(stopped by the header), genuine updates mutated with the CRC fixed up (reach zstd and the kernel), and
keyframes forged from structured random ops (reach every branch of the kernel's validation)."""

from __future__ import annotations

import struct

import numpy as np
from codec_forge import forge, refix_crc
from codec_frames import terminal
from codec_video import H as LH
from codec_video import W as LW
from codec_video import lossy_updates, payloads, restream
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opensupport.codec import CodecError, Decoder, Encoder

W, H = 40, 24
FRAMES = [terminal(W, H, seed=s) for s in range(3)]
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def genuine() -> tuple[Decoder, list[bytes]]:
    enc, dec = Encoder(W, H), Decoder(W, H)
    updates = [enc.encode(f) for f in FRAMES]
    dec.decode(updates[0])
    return dec, updates


def decode_or_refuse(dec: Decoder, data: bytes) -> None:
    before = dec.framebuffer.copy()
    try:
        fb, rects = dec.decode(data)
    except CodecError:
        assert np.array_equal(dec.framebuffer, before)
        return
    assert (fb[:, :, 3] == 255).all()
    for r in rects:
        assert r.x >= 0 and r.y >= 0 and r.x + r.w <= fb.shape[1] and r.y + r.h <= fb.shape[0]


@FUZZ
@given(st.binary(max_size=3000))
def test_arbitrary_bytes(data: bytes) -> None:
    dec, _ = genuine()
    decode_or_refuse(dec, data)


@FUZZ
@given(
    which=st.integers(0, 2),
    edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=6),
    cut=st.integers(0, 10_000) | st.none(),
)
def test_mutated_genuine_updates(which: int, edits: list[tuple[int, int]], cut: int | None) -> None:
    dec, updates = genuine()
    if which == 2:
        dec.decode(updates[1])
    data = bytearray(updates[which])
    for at, value in edits:
        data[at % len(data)] = value
    if cut is not None:
        data = data[: cut % (len(data) + 1)]
    decode_or_refuse(dec, refix_crc(bytes(data)) if len(data) >= 22 else bytes(data))


u16 = st.one_of(
    st.integers(0, 3), st.integers(W - 3, W + 3), st.integers(H - 3, H + 3), st.integers(0, 65535)
)
ops = st.lists(
    st.tuples(st.integers(0, 8), st.lists(u16, min_size=0, max_size=8), st.binary(max_size=8)), max_size=6
)


@FUZZ
@given(ops=ops, data=st.binary(max_size=400), declared_delta=st.integers(-2, 2) | st.just(0))
def test_forged_keyframes(ops: list[tuple[int, list[int], bytes]], data: bytes, declared_delta: int) -> None:
    section = b"".join(bytes([kind]) + struct.pack(f"<{len(f)}H", *f) + extra for kind, f, extra in ops)
    raw = struct.pack("<I", len(section)) + section + data
    dec, _ = genuine()
    decode_or_refuse(dec, forge(raw, W, H, declared=max(0, len(raw) + declared_delta)))


@st.composite
def well_formed_op(draw: st.DrawFn) -> tuple[bytes, bytes]:
    """An op whose pixel data has the length its kind and size call for, near or over the frame's
    edges, so that many updates pass validation and reach the writing pass."""
    kind = draw(st.sampled_from([1, 2, 3, 4, 5]))
    x, y = draw(st.integers(0, W)), draw(st.integers(0, H))
    w, h = draw(st.integers(0, W + 1 - x)), draw(st.integers(0, H + 1 - y))
    if kind == 1:
        return struct.pack("<B6H", 1, draw(st.integers(0, W)), draw(st.integers(0, H)), x, y, w, h), b""
    if kind == 2:
        return struct.pack("<B4H3B", 2, x, y, w, h, 9, 8, 7), b""
    if kind in (3, 4):
        return struct.pack("<B4H", kind, x, y, w, h), draw(st.binary(min_size=3 * w * h, max_size=3 * w * h))
    n = draw(st.sampled_from([2, 3, 4, 5, 16, 17, 255]))
    bits = 1 if n <= 2 else 2 if n <= 4 else 4 if n <= 16 else 8
    size = h * ((w * bits + 7) // 8)
    colours = draw(st.binary(min_size=3 * n, max_size=3 * n))
    return struct.pack("<B4HB", 5, x, y, w, h, n) + colours, draw(st.binary(min_size=size, max_size=size))


@FUZZ
@given(st.lists(well_formed_op(), min_size=1, max_size=5), st.booleans())
def test_well_formed_keyframes_apply_or_refuse(ops: list[tuple[bytes, bytes]], advance_first: bool) -> None:
    section = b"".join(o for o, _ in ops)
    raw = struct.pack("<I", len(section)) + section + b"".join(d for _, d in ops)
    dec, updates = genuine()
    if advance_first:
        dec.decode(updates[1])
    decode_or_refuse(dec, forge(raw, W, H))


CW, CH = 160, 100  # two whole cache tiles and partial ones
cache_op = st.one_of(
    st.builds(
        lambda slot, x, y: struct.pack("<BHHH", 6, slot, x, y),
        st.integers(0, 4) | st.integers(0, 65535),
        st.integers(0, CW - 60),
        st.integers(0, CH - 60),
    ),
    st.builds(lambda x, y: struct.pack("<BHH", 7, x, y), st.integers(0, CW - 60), st.integers(0, CH - 60)),
    st.just(struct.pack("<B4H3B", 2, 0, 0, 3, 3, 1, 2, 3)),
)


@FUZZ
@given(st.lists(cache_op, min_size=1, max_size=8), st.booleans(), st.integers(0, 7))
def test_cache_ops_apply_or_refuse(ops: list[bytes], keyframe: bool, cut: int) -> None:
    """Cache references to filled, empty and out-of-range slots, at the frame's edges, in keyframes and in
    updates of a running stream: decoded, or refused with the framebuffer and the ring untouched."""
    enc, dec = Encoder(CW, CH), Decoder(CW, CH)
    dec.decode(enc.encode(np.random.default_rng(1).integers(0, 256, (CH, CW, 4), dtype=np.uint8)))
    assert dec._cache.filled == 2
    section = b"".join(ops)
    section = section[: len(section) - cut] if cut < len(section) else section
    raw = struct.pack("<I", len(section)) + section
    assert enc._compressor is not None
    data = forge(raw, CW, CH, keyframe=keyframe, sequence=2, compressor=None if keyframe else enc._compressor)
    ring, state = dec._cache.tiles.copy(), dec._cache.state.copy()
    before = dec.framebuffer.copy()
    try:
        dec.decode(data)
    except CodecError:
        assert np.array_equal(dec.framebuffer, before)
        assert np.array_equal(dec._cache.tiles, ring) and np.array_equal(dec._cache.state, state)
        return
    assert (dec.framebuffer[:, :, 3] == 255).all()


# Lossy updates (format version 3): the payloads of a genuine video stream, mutated where the VIDEO op and
# its access unit lie, sent again through a zstd stream of our own so that the bytes reach the kernel's
# checks, the H.264 decoder and the picture hash.
_LOSSY = payloads(lossy_updates(3))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    which=st.integers(1, 2),
    edits=st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)), min_size=1, max_size=8),
    near_op=st.booleans(),
    cut=st.integers(0, 1 << 20) | st.none(),
)
def test_mutated_lossy_updates(
    which: int, edits: list[tuple[int, int]], near_op: bool, cut: int | None
) -> None:
    raw = list(_LOSSY)
    data = bytearray(raw[which])
    # half the time the edits land in the first 64 bytes: the ops section with the VIDEO op's fields
    span = 64 if near_op else len(data)
    for at, value in edits:
        data[at % span] = value
    if cut is not None:
        data = data[: cut % (len(data) + 1)]
    raw[which] = bytes(data)
    stream = restream(raw)
    dec = Decoder(LW, LH)
    for update in stream[:which]:
        dec.decode(update)
    decode_or_refuse(dec, stream[which])
