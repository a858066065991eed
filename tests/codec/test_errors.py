"""Every bad input raises CodecError and leaves the framebuffer byte-identical; what the decoder
accepts afterwards is exactly what codec/FORMAT.md promises."""

from __future__ import annotations

import time

import numpy as np
import pytest
import zstandard
from codec_forge import forge, op, payload, refix_crc
from codec_frames import gradient, terminal
from opensupport.codec import CodecError, Decoder, Encoder, _format

W, H = 96, 64


@pytest.fixture
def pair() -> tuple[Encoder, Decoder, list[np.ndarray]]:
    frames = [terminal(W, H, seed=s) for s in range(4)]
    enc, dec = Encoder(W, H), Decoder(W, H)
    dec.decode(enc.encode(frames[0]))
    return enc, dec, frames


def rejects(dec: Decoder, data: bytes, match: str | None = None) -> None:
    before = dec.framebuffer.copy()
    with pytest.raises(CodecError, match=match):
        dec.decode(data)
    assert np.array_equal(dec.framebuffer, before)


def test_every_truncation_is_refused_and_the_stream_continues(
    pair: tuple[Encoder, Decoder, list[np.ndarray]],
) -> None:
    enc, dec, frames = pair
    update = enc.encode(frames[1])
    for cut in range(len(update)):
        rejects(dec, update[:cut])
    assert not dec.needs_keyframe  # refused before decompression: nothing was advanced
    fb, _ = dec.decode(update)
    assert np.array_equal(fb[:, :, :3], frames[1][:, :, :3])


def test_every_bit_flip_is_refused_and_the_stream_continues(
    pair: tuple[Encoder, Decoder, list[np.ndarray]],
) -> None:
    enc, dec, frames = pair
    update = enc.encode(frames[1])
    for i in range(len(update) * 8):
        flipped = bytearray(update)
        flipped[i // 8] ^= 1 << (i % 8)
        rejects(dec, bytes(flipped))
    fb, _ = dec.decode(update)
    assert np.array_equal(fb[:, :, :3], frames[1][:, :, :3])


def test_other_versions_magic_and_flags(pair: tuple[Encoder, Decoder, list[np.ndarray]]) -> None:
    enc, dec, frames = pair
    update = bytearray(enc.encode(frames[1]))
    for version in (0, 4, 255):
        update[4] = version
        rejects(dec, refix_crc(bytes(update)), "version")
    update[4] = _format.VERSION
    update[5] = 0x80
    rejects(dec, refix_crc(bytes(update)), "flags")
    rejects(dec, b"XXXX" + bytes(update[4:]), "magic")
    rejects(dec, b"", "shorter")
    with pytest.raises(CodecError):
        dec.decode("not bytes")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "bad_ops",
    [
        op(3, W - 4, 0, 5, 1) + bytes(15),  # raw tile one pixel beyond the right edge
        op(3, 0, H, 1, 1) + bytes(3),  # below the frame
        op(2, 0, 0, 65535, 65535, 1, 2, 3),  # solid covering far beyond the frame
        op(1, 0, 0, 10, 10, W, H),  # copy destination beyond
        op(1, W, 0, 0, 0, 1, 1),  # copy source beyond
        op(5, 0, 0, 2, 1)
        + bytes([3, 0, 0, 0, 1, 1, 1, 2, 2, 2])
        + bytes([0x30]),  # 2-bit palette index 3 of 3
        op(7, 0, 0, 1, 1),  # unknown op
    ],
)
def test_tile_outside_the_frame_or_malformed_op_in_a_keyframe(
    pair: tuple[Encoder, Decoder, list[np.ndarray]], bad_ops: bytes
) -> None:
    enc, dec, frames = pair
    # ops and data are split as the format says; these tests put the data at the end of the ops
    # section, which is equally wrong for the kernel, so build both layouts
    for raw in (payload(bad_ops), payload(bad_ops[:9], bad_ops[9:])):
        rejects(dec, forge(raw, W, H))
    # a refused keyframe never touched the running stream: the next genuine update still decodes
    assert not dec.needs_keyframe
    fb, _ = dec.decode(enc.encode(frames[1]))
    assert np.array_equal(fb[:, :, :3], frames[1][:, :, :3])


def test_bad_op_in_a_delta_update_requires_a_keyframe(
    pair: tuple[Encoder, Decoder, list[np.ndarray]],
) -> None:
    enc, dec, frames = pair
    assert enc._compressor is not None
    bad = forge(
        payload(op(3, W, 0, 1, 1), bytes(3)), W, H, keyframe=False, sequence=2, compressor=enc._compressor
    )
    rejects(dec, bad, "outside")
    assert dec.needs_keyframe
    rejects(dec, enc.encode(frames[2]), "keyframe")
    enc.request_keyframe()
    fb, _ = dec.decode(enc.encode(frames[3]))
    assert np.array_equal(fb[:, :, :3], frames[3][:, :, :3]) and not dec.needs_keyframe


def test_declared_size_beyond_the_frame_is_refused_before_decompressing(
    pair: tuple[Encoder, Decoder, list[np.ndarray]],
) -> None:
    _, dec, _ = pair
    rejects(dec, forge(b"\x00" * 100, W, H, declared=_format.max_payload(W, H) + 1), "beyond")


def test_decompression_bomb_is_cut_off(pair: tuple[Encoder, Decoder, list[np.ndarray]]) -> None:
    _, dec, _ = pair
    bomb = zstandard.ZstdCompressor(level=19).compressobj()
    compressed = bomb.compress(bytes(200_000_000)) + bomb.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
    assert len(compressed) < 100_000
    update = _format.build(_format.Header(True, W, H, 1, 1000), compressed)
    started = time.monotonic()
    rejects(dec, update, "beyond|declared")
    assert time.monotonic() - started < 5  # stopped early, not after inflating 200 MB


def test_keyframe_of_a_huge_size_is_refused_before_allocating(
    pair: tuple[Encoder, Decoder, list[np.ndarray]],
) -> None:
    _, dec, _ = pair
    # found by the atheris harness: a valid CRC over a keyframe header claiming 51143 x 51143 made the
    # decoder allocate a 10 GB framebuffer before looking at the payload
    rejects(dec, forge(payload(op(2, 0, 0, 1, 1, 0, 0, 0)), 51143, 51143), "limit")
    small = Decoder(W, H, max_pixels=W * H)
    with pytest.raises(CodecError, match="limit"):
        small.decode(forge(payload(op(2, 0, 0, 1, 1, 0, 0, 0)), W + 1, H))
    with pytest.raises(CodecError):
        Decoder(100, 100, max_pixels=99)


def test_payload_shorter_than_declared(pair: tuple[Encoder, Decoder, list[np.ndarray]]) -> None:
    _, dec, _ = pair
    rejects(dec, forge(payload(b""), W, H, declared=10), "declared")


def test_lost_update_is_detected(pair: tuple[Encoder, Decoder, list[np.ndarray]]) -> None:
    enc, dec, frames = pair
    enc.encode(frames[1])  # never delivered
    rejects(dec, enc.encode(frames[2]), "lost")
    assert dec.needs_keyframe
    fb, _ = dec.decode(enc.encode(frames[3], keyframe=True))
    assert np.array_equal(fb[:, :, :3], frames[3][:, :, :3])


def test_update_of_another_size_asks_for_a_keyframe(pair: tuple[Encoder, Decoder, list[np.ndarray]]) -> None:
    _, dec, _ = pair
    other = Encoder(W + 8, H)
    other.encode(terminal(W + 8, H))
    rejects(dec, other.encode(terminal(W + 8, H, seed=5)), "without a keyframe")
    assert dec.needs_keyframe


def test_new_size_without_keyframe_and_delta_before_any_keyframe() -> None:
    enc, dec = Encoder(W, H), Decoder(W, H)
    first = enc.encode(gradient(W, H))
    second = enc.encode(terminal(W, H))
    rejects(dec, second, "keyframe")  # a new decoder needs a keyframe first
    dec.decode(first)
    other = Decoder(W + 1, H)
    other_before = other.framebuffer.copy()
    with pytest.raises(CodecError):
        other.decode(second)
    assert np.array_equal(other.framebuffer, other_before)


def test_refused_keyframe_of_another_size_keeps_the_old_framebuffer(
    pair: tuple[Encoder, Decoder, list[np.ndarray]],
) -> None:
    _, dec, _ = pair
    fb = dec.framebuffer
    rejects(dec, forge(payload(op(3, 0, 0, 500, 1)), 500, 400), "truncated")
    assert dec.framebuffer is fb and dec.framebuffer.shape == (H, W, 4)


def test_encoder_refuses_wrong_frames() -> None:
    enc = Encoder(W, H)
    for bad in (
        np.zeros((H, W, 3), np.uint8),
        np.zeros((H, W + 1, 4), np.uint8),
        np.zeros((H, W, 4), np.float32),
        np.zeros((H, W, 4), np.uint8)[:, ::-1],
    ):
        with pytest.raises(CodecError):
            enc.encode(bad)
    with pytest.raises(CodecError):
        Encoder(0, 10)
    with pytest.raises(CodecError):
        Encoder(70000, 10)
    with pytest.raises(CodecError):
        Encoder(10, 10, threads=3)
