"""Adaptive quality (issue 8): a video beside text is sent lossy through the VIDEO op of format version 3
while the text stays exact, a still video is refined to exact pixels, and bad lossy bytes are refused
with the framebuffer untouched."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from codec_frames import terminal
from codec_video import VH, VW, VX, VY, H, W, landscape, lossy_updates, payloads, restream, screen
from opensupport.codec import CodecError, Decoder, Encoder, Quality, _format
from opensupport.codec._encoder import REFINE_FRAMES


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    diff = a[..., :3].astype(np.int32) - b[..., :3].astype(np.int32)
    mse = float(np.mean(diff * diff))
    return 100.0 if mse == 0 else 10 * np.log10(255.0**2 / mse)


def outside(frame: np.ndarray, rect: tuple[int, int, int, int]) -> np.ndarray:
    """The frame's B, G, R with the rectangle blanked, for comparing everything but it."""
    x, y, w, h = rect
    out = frame[..., :3].copy()
    out[y : y + h, x : x + w] = 0
    return out


def test_video_is_lossy_and_the_text_beside_it_exact() -> None:
    encoder, decoder = Encoder(W, H, quality=Quality.BALANCED), Decoder(W, H)
    lossless = Encoder(W, H)
    lossy_bytes = exact_bytes = 0
    for index in range(8):
        frame = screen(index)
        update = encoder.encode(frame)
        framebuffer, _ = decoder.decode(update)
        size = len(lossless.encode(frame))
        if index == 0:
            assert update[4] == 2 and encoder.lossy_rect is None  # the keyframe is exact
            assert np.array_equal(framebuffer[..., :3], frame[..., :3])
            continue
        assert update[4] == 3
        assert [name for name, _ in decoder.last_ops][:1] == ["video"]
        rect = encoder.lossy_rect
        assert rect is not None
        x, y, w, h = rect
        # the rectangle is the video's, to the pixel (made even for 4:2:0)
        assert (x, y) == (VX, VY) and (w, h) == (VW, VH)
        assert encoder.last_lossy_tiles > 0 and encoder.pending_refinement > 0
        # text is byte-exact everywhere outside the video, including the text sharing its edge tiles
        assert np.array_equal(outside(framebuffer, rect), outside(frame, rect))
        assert psnr(framebuffer[y : y + h, x : x + w], frame[y : y + h, x : x + w]) > 35
        # the decoder shows exactly what the encoder mirrors
        assert np.array_equal(framebuffer[..., :3], encoder._ref[..., :3])
        lossy_bytes += len(update)
        exact_bytes += size
    assert lossy_bytes * 5 < exact_bytes


def test_a_video_of_odd_size_leaves_the_pixel_beyond_it_exact() -> None:
    # 4:2:0 needs an even rectangle: the row and column added to the video's 159 x 111 are text, and stay
    # exact (the lossless ops after the VIDEO op put them back).
    encoder, decoder = Encoder(W, H, quality=Quality.BALANCED), Decoder(W, H)
    for index in range(5):
        frame = terminal(W, H, seed=1)
        frame[VY : VY + VH - 1, VX : VX + VW - 1, :3] = landscape(index)[:-1, :-1]
        framebuffer, _ = decoder.decode(encoder.encode(frame))
        if index:
            assert encoder.lossy_rect == (VX, VY, VW - 1, VH - 1)
            assert np.array_equal(
                outside(framebuffer, encoder.lossy_rect), outside(frame, encoder.lossy_rect)
            )
            assert np.array_equal(framebuffer[..., :3], encoder._ref[..., :3])


def test_a_video_of_odd_width_at_the_frame_edge_keeps_its_last_column_exact() -> None:
    # A video as wide as an odd frame: the even rectangle cannot grow, so it shrinks, and the column left
    # out is sent exact.
    width = 255
    encoder, decoder = Encoder(width, H, quality=Quality.BALANCED), Decoder(width, H)
    for index in range(5):
        frame = terminal(width, H, seed=1)
        frame[VY : VY + VH, :, :3] = np.hstack([landscape(index), landscape(index + 50)[:, : width - VW]])
        framebuffer, _ = decoder.decode(encoder.encode(frame))
        if index:
            assert encoder.lossy_rect == (0, VY, width - 1, VH)
            assert np.array_equal(
                outside(framebuffer, encoder.lossy_rect), outside(frame, encoder.lossy_rect)
            )


def test_a_large_compare_tile_works_lossy() -> None:
    encoder, decoder = Encoder(W, H, tile=512, pack_width=512, quality=Quality.BALANCED), Decoder(W, H)
    for index in range(3):
        frame = screen(index)
        framebuffer, _ = decoder.decode(encoder.encode(frame))
        rect = encoder.lossy_rect
        if rect is not None:
            assert np.array_equal(outside(framebuffer, rect), outside(frame, rect))
        else:
            assert np.array_equal(framebuffer[..., :3], frame[..., :3])


def test_a_video_dragged_away_leaves_no_lossy_trail() -> None:
    # The video's window is dragged right over 4 frames while playing, then keeps playing there: the box
    # first grows with it, then shrinks back to the video, and where it was is exact again.
    wide = 320 + 96
    encoder, decoder = Encoder(wide, H, quality=Quality.BALANCED), Decoder(wide, H)
    for index, x in enumerate([*range(VX - 96, VX, 24), *([VX] * (2 * REFINE_FRAMES + 2))]):
        frame = terminal(wide, H, seed=1)
        frame[VY : VY + VH, x : x + VW, :3] = landscape(index)
        framebuffer, _ = decoder.decode(encoder.encode(frame))
        rect = encoder.lossy_rect
        if rect is None:
            assert np.array_equal(framebuffer[..., :3], frame[..., :3])
        else:
            assert np.array_equal(outside(framebuffer, rect), outside(frame, rect))
    assert encoder.lossy_rect == (VX, VY, VW, VH)
    left = slice(0, VX)
    assert np.array_equal(framebuffer[:, left, :3], frame[:, left, :3])


def test_a_video_that_stops_is_refined_to_exact_pixels() -> None:
    encoder, decoder = Encoder(W, H, quality=Quality.LOW), Decoder(W, H)
    for index in range(5):
        decoder.decode(encoder.encode(screen(index)))
    still = screen(4)
    assert not np.array_equal(decoder.framebuffer[..., :3], still[..., :3])  # lossy now
    refined_after = None
    for count in range(1, REFINE_FRAMES + 2):
        framebuffer, _ = decoder.decode(encoder.encode(still))
        if encoder.lossy_rect is None:
            refined_after = count
            break
        assert encoder.pending_refinement > 0
    assert refined_after is not None  # within REFINE_FRAMES unchanged frames (or half a second)
    assert encoder.pending_refinement == 0
    assert np.array_equal(framebuffer[..., :3], still[..., :3])
    # and it stays exact, with nothing more to send
    update = encoder.encode(still)
    framebuffer, rects = decoder.decode(update)
    assert rects == [] and np.array_equal(framebuffer[..., :3], still[..., :3])


def test_switching_to_lossless_refines_at_the_next_update() -> None:
    encoder, decoder = Encoder(W, H, quality=Quality.HIGH), Decoder(W, H)
    for index in range(4):
        decoder.decode(encoder.encode(screen(index)))
    assert encoder.lossy_rect is not None
    encoder.quality = Quality.LOSSLESS
    for index in range(4, 7):  # the video keeps playing: now every frame is exact
        frame = screen(index)
        update = encoder.encode(frame)
        framebuffer, _ = decoder.decode(update)
        assert update[4] == 2 and encoder.lossy_rect is None
        assert np.array_equal(framebuffer[..., :3], frame[..., :3])


def test_text_changing_beside_the_video_stays_exact() -> None:
    encoder, decoder = Encoder(W, H, quality=Quality.BALANCED), Decoder(W, H)
    for index in range(6):
        frame = screen(index, text_seed=1 + index % 2)  # the text is retyped every other frame
        framebuffer, _ = decoder.decode(encoder.encode(frame))
        rect = encoder.lossy_rect
        if rect is not None:
            assert np.array_equal(outside(framebuffer, rect), outside(frame, rect))
        else:
            assert np.array_equal(framebuffer[..., :3], frame[..., :3])


def test_lossless_quality_never_sends_video() -> None:
    encoder, decoder = Encoder(W, H), Decoder(W, H)
    for index in range(5):
        frame = screen(index)
        update = encoder.encode(frame)
        framebuffer, _ = decoder.decode(update)
        assert update[4] == 2 and encoder.last_lossy_tiles == 0
        assert np.array_equal(framebuffer[..., :3], frame[..., :3])


def test_text_alone_is_never_lossy() -> None:
    # Text changing every frame is busy but not a picture: exact at the lowest quality too.
    encoder, decoder = Encoder(W, H, quality=Quality.LOW), Decoder(W, H)
    for index in range(8):
        frame = screen(0, text_seed=index)
        frame[VY : VY + VH, VX : VX + VW, :3] = 40  # no video: a flat panel
        framebuffer, _ = decoder.decode(encoder.encode(frame))
        assert encoder.lossy_rect is None
        assert np.array_equal(framebuffer[..., :3], frame[..., :3])


def test_an_update_beyond_the_payload_bound_becomes_a_keyframe(monkeypatch: pytest.MonkeyPatch) -> None:
    # A decoder refuses a payload beyond max_payload as a bomb: the encoder sends such a frame exact, as a
    # keyframe, rather than an update that would be refused.
    encoder, decoder = Encoder(W, H, quality=Quality.BALANCED), Decoder(W, H)
    for index in range(3):
        decoder.decode(encoder.encode(screen(index)))
    monkeypatch.setattr(_format, "max_payload", lambda width, height: 100)
    frame = screen(3)
    update = encoder.encode(frame)
    monkeypatch.undo()
    header, _ = _format.parse(update)
    assert header.keyframe and update[4] == 2 and encoder.lossy_rect is None
    framebuffer, _ = decoder.decode(update)
    assert np.array_equal(framebuffer[..., :3], frame[..., :3])


def test_a_keyframe_is_exact_and_restarts_the_stream() -> None:
    encoder, decoder = Encoder(W, H, quality=Quality.BALANCED), Decoder(W, H)
    for index in range(4):
        decoder.decode(encoder.encode(screen(index)))
    frame = screen(4)
    framebuffer, _ = Decoder(W, H).decode(encoder.encode(frame, keyframe=True))
    assert np.array_equal(framebuffer[..., :3], frame[..., :3])
    update = encoder.encode(screen(5))
    late = Decoder(W, H)
    with pytest.raises(CodecError):
        late.decode(update)  # a decoder joining needs the keyframe first
    assert update[4] == 3


# --- bad input ---------------------------------------------------------------------------------------------


def test_a_version_2_decoder_refuses_version_3(monkeypatch: pytest.MonkeyPatch) -> None:
    updates = lossy_updates(3)
    decoder = Decoder(W, H)
    monkeypatch.setattr(_format, "READABLE_VERSIONS", (1, 2))  # a decoder from before the VIDEO op
    decoder.decode(updates[0])  # lossless updates are still version 2
    before = decoder.framebuffer.copy()
    with pytest.raises(CodecError, match="version 3 is not supported"):
        decoder.decode(updates[1])
    assert np.array_equal(decoder.framebuffer, before)


def test_a_video_op_in_a_version_2_update_is_an_unknown_op() -> None:
    raw = payloads(lossy_updates(2))
    decoder = Decoder(W, H)
    first, second = restream(raw, versions=[2, 2])
    decoder.decode(first)
    before = decoder.framebuffer.copy()
    with pytest.raises(CodecError, match="malformed op"):
        decoder.decode(second)
    assert np.array_equal(decoder.framebuffer, before)


def _video_op(payload: bytes) -> tuple[int, int]:
    """Offset of the VIDEO op in a payload that starts with one, and of its access unit."""
    (ops_size,) = struct.unpack_from("<I", payload)
    assert payload[4] == 8
    return 4, 4 + ops_size


def _mutated(raw: list[bytes], index: int, change: object) -> list[bytes]:
    out = list(raw)
    payload = bytearray(raw[index])
    change(payload)  # type: ignore[operator]
    out[index] = bytes(payload)
    return restream(out)


def _refused_untouched(stream: list[bytes], bad: int) -> Decoder:
    decoder = Decoder(W, H)
    for update in stream[:bad]:
        decoder.decode(update)
    before = decoder.framebuffer.copy()
    with pytest.raises(CodecError):
        decoder.decode(stream[bad])
    assert np.array_equal(decoder.framebuffer, before)
    assert decoder.needs_keyframe
    return decoder


def test_the_untouched_restream_decodes() -> None:
    # the tools below are sound: the same payloads sent again decode to the encoder's pictures
    raw = payloads(lossy_updates(4))
    decoder = Decoder(W, H)
    for update in restream(raw):
        decoder.decode(update)
    assert psnr(decoder.framebuffer[VY : VY + VH, VX : VX + VW], screen(3)[VY : VY + VH, VX : VX + VW]) > 35


@pytest.mark.parametrize("where", [0.3, 0.6, 0.9])
def test_a_corrupt_access_unit_is_refused(where: float) -> None:
    raw = payloads(lossy_updates(4))
    for bad in (1, 2):  # the stream's first access unit, and a later one

        def corrupt(payload: bytearray) -> None:
            op_at, unit_at = _video_op(bytes(payload))
            (size,) = struct.unpack_from("<I", payload, op_at + 10)
            at = unit_at + int(size * where)
            payload[at : at + 6] = bytes(b ^ 0x5A for b in payload[at : at + 6])

        _refused_untouched(_mutated(raw, bad, corrupt), bad)


def test_a_wrong_picture_hash_is_refused() -> None:
    raw = payloads(lossy_updates(3))

    def other_hash(payload: bytearray) -> None:
        op_at, _ = _video_op(bytes(payload))
        payload[op_at + 14] ^= 1

    _refused_untouched(_mutated(raw, 2, other_hash), 2)


@pytest.mark.parametrize(
    "field, value",
    [
        (1, VX + 1),  # x moved by a pixel: same size, still inside the frame, so it decodes
        (5, VW + 2),  # width other than the stream's
        (5, VW - 100),  # far smaller than the stream's pictures: refused before FFmpeg sizes memory for them
        (5, VW + 1),  # odd width
        (7, 0),  # zero height
        (5, W),  # beyond the frame
        (9, 2),  # unknown flag
    ],
)
def test_a_video_op_with_bad_fields_is_refused(field: int, value: int) -> None:
    raw = payloads(lossy_updates(3))

    def change(payload: bytearray) -> None:
        op_at, _ = _video_op(bytes(payload))
        if field == 9:
            payload[op_at + field] = value
        else:
            struct.pack_into("<H", payload, op_at + field, value)

    stream = _mutated(raw, 2, change)
    if field == 1:
        # moving the rectangle is allowed (same size): it decodes, and only inside the frame
        decoder = Decoder(W, H)
        for update in stream:
            decoder.decode(update)
        return
    _refused_untouched(stream, 2)


def test_a_truncated_access_unit_is_refused() -> None:
    raw = payloads(lossy_updates(3))

    def shorten(payload: bytearray) -> None:
        op_at, _ = _video_op(bytes(payload))
        (size,) = struct.unpack_from("<I", payload, op_at + 10)
        struct.pack_into("<I", payload, op_at + 10, size + 1)  # one byte more than the section holds

    _refused_untouched(_mutated(raw, 2, shorten), 2)


def test_a_continued_stream_without_its_start_is_refused() -> None:
    raw = payloads(lossy_updates(4))
    # drop the update that started the H.264 stream: the next VIDEO op continues nothing
    stream = restream([raw[0], raw[2], raw[3]])
    _refused_untouched(stream, 1)


def test_a_second_video_op_is_refused() -> None:
    raw = payloads(lossy_updates(3))

    def twice(payload: bytearray) -> None:
        (ops_size,) = struct.unpack_from("<I", payload)
        ops, data = bytes(payload[4 : 4 + ops_size]), bytes(payload[4 + ops_size :])
        (size,) = struct.unpack_from("<I", ops, 10)
        video, unit = ops[:22], data[:size]
        payload[:] = struct.pack("<I", ops_size + 22) + video + ops + unit + data

    _refused_untouched(_mutated(raw, 2, twice), 2)


def test_a_video_op_in_a_keyframe_is_refused() -> None:
    raw = payloads(lossy_updates(2))
    decoder = Decoder(W, H)
    decoder.decode(restream(raw)[0])
    before = decoder.framebuffer.copy()
    with pytest.raises(CodecError):
        decoder.decode(restream([raw[1]])[0])  # the lossy payload sent as a keyframe
    assert np.array_equal(decoder.framebuffer, before)


def test_random_bytes_as_a_new_stream_are_refused() -> None:
    raw = payloads(lossy_updates(2))

    def garbage(payload: bytearray) -> None:
        op_at, unit_at = _video_op(bytes(payload))
        (size,) = struct.unpack_from("<I", payload, op_at + 10)
        payload[unit_at : unit_at + size] = (
            np.random.default_rng(5).integers(0, 256, size, np.uint8).tobytes()
        )

    _refused_untouched(_mutated(raw, 1, garbage), 1)


def test_landscape_is_a_picture() -> None:
    # guard for the fixtures above: the synthetic video has the texture the classifier looks for
    tile = landscape(3)[:64, :64].reshape(-1, 3)
    assert len({tuple(p) for p in tile.tolist()}) > 500


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_sessions_keep_the_invariants(seed: int) -> None:
    # A video that plays, pauses, jumps to another place and grows, text that changes, the quality switched
    # now and then: after every update the decoder shows exactly the encoder's mirror, every pixel outside
    # the lossy box is exact, and with no lossy box the whole frame is.
    rng = np.random.default_rng(seed)
    encoder, decoder = Encoder(W, H, quality=Quality.BALANCED), Decoder(W, H)
    x, y, picture, text = VX, VY, 0, 1
    for _ in range(40):
        event = rng.integers(0, 10)
        if event < 5:
            picture += 1  # the video plays
        elif event == 5:
            x, y = int(rng.integers(0, W - VW)), int(rng.integers(0, H - VH))  # moved elsewhere
        elif event == 6:
            text += 1
        elif event == 7:
            encoder.quality = list(Quality)[int(rng.integers(0, 4))]
        # 8, 9: nothing changes (a pause)
        frame = terminal(W, H, seed=text)
        frame[y : y + VH, x : x + VW, :3] = landscape(picture)
        framebuffer, _ = decoder.decode(encoder.encode(frame))
        assert np.array_equal(framebuffer[..., :3], encoder._ref[..., :3])
        rect = encoder.lossy_rect
        if rect is None:
            assert np.array_equal(framebuffer[..., :3], frame[..., :3])
        else:
            assert np.array_equal(outside(framebuffer, rect), outside(frame, rect))
    # then the screen stands still: exact within the refinement time
    for _ in range(REFINE_FRAMES + 1):
        framebuffer, _ = decoder.decode(encoder.encode(frame))
    assert encoder.lossy_rect is None and np.array_equal(framebuffer[..., :3], frame[..., :3])
