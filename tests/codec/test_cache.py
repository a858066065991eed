"""The content cache (codec/FORMAT.md, "Content cache"): content seen before comes back as FETCH ops,
both rings evolve identically, a keyframe empties them, and every bad cache reference is refused with
the framebuffer untouched."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from codec_forge import forge, payload, refix_crc
from codec_frames import noise, terminal
from opensupport.codec import CodecError, Decoder, Encoder, _format, _native

W, H = 640, 384  # 10 x 6 whole cache tiles
SLOTS = _native.CACHE_SLOTS


def fetch(slot: int, x: int, y: int) -> bytes:
    return struct.pack("<BHHH", _native.OP_FETCH, slot, x, y)


def store(x: int, y: int) -> bytes:
    return struct.pack("<BHH", _native.OP_STORE, x, y)


def same(fb: np.ndarray, frame: np.ndarray) -> bool:
    return bool(np.array_equal(fb[:, :, :3], frame[:, :, :3]))


def distinct_tiles(frame: np.ndarray) -> int:
    """Whole tiles of more than one colour, each content counted once: what a keyframe stores."""
    hashes = _native.hash_tiles(frame)
    return len(set(hashes[hashes != 0].tolist()))


def rings_agree(enc: Encoder, dec: Decoder) -> None:
    ring, mirror = dec._cache, enc._cache
    assert mirror is not None
    assert ring.next_slot == enc._next_slot
    assert all(slot < ring.filled for slot in enc._slot_of.values())
    filled = ring.filled
    assert np.array_equal(ring.tiles[:filled, :, :, :3], mirror.tiles[:filled, :, :, :3])


def test_a_page_shown_again_comes_from_the_cache() -> None:
    pages = [terminal(W, H, seed=s) for s in (1, 2, 3)]
    enc, dec = Encoder(W, H), Decoder(W, H)
    sizes = []
    for frame in [*pages, *pages]:
        update = enc.encode(frame)
        fb, _ = dec.decode(update)
        assert same(fb, frame)
        sizes.append(len(update))
    kinds = [kind for kind, _ in dec.last_ops]
    # every whole tile with text comes from the cache (or a copy); blank tiles are painted in one colour
    assert kinds.count("cache") >= 40 and set(kinds) <= {"cache", "copy", "solid"}
    assert max(sizes[3:]) < min(sizes[:3]) // 20
    rings_agree(enc, dec)


def test_partial_edge_tiles_and_one_colour_tiles_are_not_cached() -> None:
    width, height = 200, 100  # 3 x 1 whole tiles, a partial column and row
    first, second = noise(width, height, 1), noise(width, height, 2)
    first[:64, :64, :3] = 7  # one colour: a SOLID op is cheaper than a slot
    enc, dec = Encoder(width, height), Decoder(width, height)
    for frame in (first, second, first):
        fb, _ = dec.decode(enc.encode(frame))
        assert same(fb, frame)
    fetched = sorted((r.x, r.y) for kind, r in dec.last_ops if kind == "cache")
    assert fetched == [(64, 0), (128, 0)]
    assert dec._cache.filled == 2 + 3  # the keyframe's two patterned tiles, then the second frame's three


def test_eviction_is_the_same_on_both_sides() -> None:
    width, height = 1024, 512  # 128 whole tiles a frame
    frames = [noise(width, height, s) for s in range(SLOTS // 128 + 1)]  # one frame more than the ring
    enc, dec = Encoder(width, height), Decoder(width, height)
    for frame in frames:
        # each frame shown twice: a pause between changes, or the tiles would count as a video
        for _ in range(2):
            fb, _ = dec.decode(enc.encode(frame))
            assert same(fb, frame)
    assert dec._cache.filled == SLOTS and dec._cache.next_slot == 128 == enc._next_slot
    rings_agree(enc, dec)
    # the last frame took the first frame's slots: the first comes back as pixels, the second from the cache
    fb, _ = dec.decode(enc.encode(frames[0]))
    assert same(fb, frames[0]) and not any(kind == "cache" for kind, _ in dec.last_ops)
    fb, _ = dec.decode(enc.encode(frames[2]))
    assert same(fb, frames[2]) and [kind for kind, _ in dec.last_ops].count("cache") == 128


def test_a_tile_that_changes_in_every_update_stops_being_stored() -> None:
    """A video keeps changing the same tiles; storing them would only churn the ring."""
    from opensupport.codec._encoder import STORE_STREAK

    width, height = 256, 128
    enc, dec = Encoder(width, height), Decoder(width, height)
    background = terminal(width, height, seed=1)
    stored = []
    for seed in range(STORE_STREAK + 3):
        frame = background.copy()
        frame[:64, :64] = noise(64, 64, seed)  # one tile of "video"
        before = dec._cache.filled
        fb, _ = dec.decode(enc.encode(frame))
        assert same(fb, frame)
        stored.append(dec._cache.filled - before)
    # the keyframe stores everything, the video tile is stored STORE_STREAK times more, then no longer
    assert stored[1 : STORE_STREAK + 1] == [1] * STORE_STREAK and stored[STORE_STREAK + 1 :] == [0, 0]
    rings_agree(enc, dec)
    fb, _ = dec.decode(enc.encode(frame))  # the video pauses (nothing changed): the streak ends
    frame = background.copy()
    frame[:64, :64] = noise(64, 64, 99)
    before = dec._cache.filled
    fb, _ = dec.decode(enc.encode(frame))
    assert same(fb, frame) and dec._cache.filled == before + 1


def test_a_keyframe_empties_the_cache_on_both_sides() -> None:
    a, b, c = (terminal(W, H, seed=s) for s in (1, 2, 3))
    enc, dec = Encoder(W, H), Decoder(W, H)
    for frame in (a, b):
        dec.decode(enc.encode(frame))
    fb, _ = dec.decode(enc.encode(c, keyframe=True))
    assert same(fb, c) and dec._cache.filled == distinct_tiles(c) == enc._next_slot
    fb, _ = dec.decode(enc.encode(a))
    assert same(fb, a) and not any(kind == "cache" for kind, _ in dec.last_ops)
    fb, _ = dec.decode(enc.encode(c))
    assert same(fb, c) and [kind for kind, _ in dec.last_ops].count("cache") >= 40


def test_the_cache_can_be_turned_off() -> None:
    a, b = terminal(W, H, seed=1), terminal(W, H, seed=2)
    enc, dec = Encoder(W, H, cache=False), Decoder(W, H)
    for frame in (a, b, a):
        fb, _ = dec.decode(enc.encode(frame))
        assert same(fb, frame)
    assert not any(kind == "cache" for kind, _ in dec.last_ops) and dec._cache.filled == 0


@pytest.fixture
def cached() -> tuple[Encoder, Decoder]:
    """A decoder whose ring holds the keyframe's 60 tiles."""
    enc, dec = Encoder(W, H), Decoder(W, H)
    dec.decode(enc.encode(noise(W, H, seed=1)))
    assert dec._cache.filled == 60
    return enc, dec


def refuse(dec: Decoder, data: bytes, match: str) -> None:
    before, ring, state = dec.framebuffer.copy(), dec._cache.tiles.copy(), dec._cache.state.copy()
    with pytest.raises(CodecError, match=match):
        dec.decode(data)
    assert np.array_equal(dec.framebuffer, before)
    assert np.array_equal(dec._cache.tiles, ring) and np.array_equal(dec._cache.state, state)


@pytest.mark.parametrize(
    ("ops", "match"),
    [
        (fetch(60, 0, 0), "empty cache slot"),  # one past the filled slots
        (fetch(65535, 0, 0), "empty cache slot"),
        (fetch(0, W - 63, 0), "outside"),  # the tile would reach past the right edge
        (fetch(0, 0, H - 63), "outside"),
        (store(W - 63, 0), "outside"),
        (fetch(0, 0, 0)[:5], "truncated"),
        (store(0, 0)[:3], "truncated"),
        (store(0, 0) + fetch(0, 0, 0) + fetch(61, 0, 0), "empty cache slot"),  # one STORE fills one slot
    ],
)
def test_a_bad_cache_reference_in_an_update_is_refused(
    cached: tuple[Encoder, Decoder], ops: bytes, match: str
) -> None:
    enc, dec = cached
    assert enc._compressor is not None
    refuse(dec, forge(payload(ops), W, H, keyframe=False, sequence=2, compressor=enc._compressor), match)
    assert dec.needs_keyframe  # the stream advanced: only a keyframe resynchronises
    enc.request_keyframe()
    frame = noise(W, H, seed=5)
    fb, _ = dec.decode(enc.encode(frame))
    assert same(fb, frame) and dec._cache.filled == 60


def test_a_keyframe_starts_with_an_empty_cache(cached: tuple[Encoder, Decoder]) -> None:
    _, dec = cached
    refuse(dec, forge(payload(fetch(0, 0, 0)), W, H), "empty cache slot")
    # a keyframe may fetch what it stored itself
    fb, _ = dec.decode(forge(payload(store(64, 0) + fetch(0, 0, 64)), W, H, sequence=9))
    assert np.array_equal(fb[64:128, 0:64], fb[0:64, 64:128]) and dec._cache.filled == 1


def test_cache_ops_are_unknown_in_a_version_1_update(cached: tuple[Encoder, Decoder]) -> None:
    _, dec = cached
    update = bytearray(forge(payload(store(0, 0)), W, H))
    update[4] = 1
    refuse(dec, refix_crc(bytes(update)), "malformed op")


def test_a_version_1_stream_still_decodes() -> None:
    """Recordings made before the cache hold version 1 updates: the decoder keeps reading them."""
    a, b = terminal(W, H, seed=1), terminal(W, H, seed=2)
    enc, dec = Encoder(W, H, cache=False), Decoder(W, H)
    for frame in (a, b, a):
        update = bytearray(enc.encode(frame))
        assert update[4] == _format.LOSSLESS_VERSION == 2
        update[4] = 1
        fb, _ = dec.decode(refix_crc(bytes(update)))
        assert same(fb, frame)


def test_keyframe_validation_holds_its_cache_state_while_the_kernel_reads_it() -> None:
    # Regression: validate_update once passed the kernel a pointer into a temporary array that was freed
    # before the call, so another thread's small allocations could become the "cache state" and a valid
    # keyframe was refused now and then. A thread that keeps reusing such blocks makes that likely.
    import threading

    import zstandard

    encoder = Encoder(64, 64)
    keyframe = encoder.encode(terminal(64, 64, 0), keyframe=True)
    header, compressed = _format.parse(keyframe)
    decoder = Decoder(64, 64)
    decoder.decode(keyframe)
    payload = zstandard.ZstdDecompressor().decompressobj().decompress(bytes(compressed))
    assert len(payload) == header.payload_size
    stop = threading.Event()

    def churn() -> None:
        while not stop.is_set():
            [np.full(2, -7, dtype=np.int32) for _ in range(64)]

    thread = threading.Thread(target=churn)
    thread.start()
    try:
        for _ in range(5000):
            _native.validate_update(64, 64, payload, decoder._cache)
    finally:
        stop.set()
        thread.join()
