"""Screenshot, recording, playback (seek and speed) and the MP4 export, on a synthetic screen stream."""

from __future__ import annotations

import itertools
from pathlib import Path

import av
import numpy as np
import pytest
from opensupport.codec import Decoder, Encoder
from opensupport.tools.recording import (
    Player,
    Recorder,
    RecordingError,
    RecordingReader,
    export_mp4,
    write_png,
)

W, H = 158, 96  # even width, but a height that is even and a width not a multiple of 16
FRAME_MS = 100
FRAMES = 45


def frame(i: int, width: int = W, height: int = H) -> np.ndarray:
    """Frame i: a coloured background that changes every frame and a block moving right."""
    f = np.zeros((height, width, 4), dtype=np.uint8)
    f[:, :, 0] = (i * 5) % 256
    f[:, :, 1] = 80
    f[:, :, 2] = 200 - (i * 3) % 200
    f[:, :, 3] = 255
    x = (i * 3) % (width - 20)
    f[20:50, x : x + 20, :3] = (255, 255, 255)
    return f


def record_stream(
    path: Path, frames: int = FRAMES, interval: float = 1.0, **kw: object
) -> tuple[Recorder, list[int]]:
    """Record ``frames`` frames, 100 ms apart; the recorder's key-frame requests make the next frame a key
    frame (as the host would). Returns the recorder and the numbers of the key frames."""
    encoder = Encoder(W, H)
    wanted = [False]
    recorder = Recorder(path, request_keyframe=lambda: wanted.__setitem__(0, True), keyframe_interval=interval,
                        clock=lambda: 0.0)  # fmt: skip
    keyframes = []
    for i in range(frames):
        keyframe = wanted[0] or i == 3  # the host's first frame to this viewer: frames 0-2 predate recording
        wanted[0] = False
        data = encoder.encode(frame(i), keyframe=keyframe)
        if i < 3:
            continue  # the recording started while the stream ran: it must wait for a key frame
        if keyframe:
            keyframes.append(i)
        recorder.add(data, keyframe, at=i * FRAME_MS / 1000)
    recorder.close()
    return recorder, keyframes


def same(a: np.ndarray, b: np.ndarray) -> bool:
    return np.array_equal(a[:, :, :3], b[:, :, :3])


def test_screenshot_png_equals_the_framebuffer(tmp_path: Path) -> None:
    decoder = Decoder(W, H)
    decoder.decode(Encoder(W, H).encode(frame(7), keyframe=True))
    path = write_png(decoder.framebuffer, tmp_path / "shot.png")
    with av.open(str(path)) as container:
        [picture] = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert picture.shape == (H, W, 3)
    assert np.array_equal(picture, decoder.framebuffer[:, :, 2::-1])
    assert not (tmp_path / "shot.png.partial").exists()


def test_recording_plays_back_exact_frames_at_seek_points(tmp_path: Path) -> None:
    path = tmp_path / "session.osrec"
    recorder, keyframes = record_stream(path)
    # the recorder asked for a key frame at the start, then about every second of stream time
    assert keyframes[0] == 3 and len(keyframes) >= 4
    assert all(b - a <= 11 for a, b in itertools.pairwise(keyframes))
    with RecordingReader(path) as reader:
        assert not reader.recovered
        assert reader.record_count == FRAMES - 3 == recorder.records
        assert reader.duration_ms == (FRAMES - 1 - 3) * FRAME_MS
        assert [k.number + 3 for k in reader.keyframes] == keyframes
        player = Player(reader)
        assert same(player.framebuffer, frame(3))
        # seek anywhere, forwards and backwards, between and onto key frames
        for t in (2500, 0, 1750, 4100, 999, 1000, 3333, 10**9):
            picture = player.seek(t)
            expected = 3 + min(t, reader.duration_ms) // FRAME_MS
            assert same(picture, frame(expected)), t
            assert player.frame_number == expected - 3


@pytest.mark.parametrize("speed", [0.5, 1.0, 2.0, 4.0])
def test_playback_speed(tmp_path: Path, speed: float) -> None:
    path = tmp_path / "s.osrec"
    record_stream(path)
    with RecordingReader(path) as reader:
        player = Player(reader)
        player.speed = speed
        player.seek(1000)
        assert player.advance(0.5)  # half a second of wall clock
        assert player.position_ms == 1000 + 500 * speed
        assert same(player.framebuffer, frame(3 + int(1000 + 500 * speed) // FRAME_MS))
        with pytest.raises(ValueError):
            player.speed = 8


def test_a_recording_that_was_not_closed_is_recovered_up_to_the_damage(tmp_path: Path) -> None:
    path = tmp_path / "crashed.osrec"
    encoder = Encoder(W, H)
    recorder = Recorder(path, clock=lambda: 0.0)
    for i in range(10):
        recorder.add(encoder.encode(frame(i), keyframe=i in (0, 5)), i in (0, 5), at=i / 10)
    recorder._file.flush()  # the viewer died here: no index, no trailer
    data = path.read_bytes()
    path.write_bytes(data[:-7])  # and the last record is cut short
    with RecordingReader(path) as reader:
        assert reader.recovered and reader.record_count == 9
        assert [k.number for k in reader.keyframes] == [0, 5]
        assert same(Player(reader).seek(800), frame(8))
    recorder._file.close()


def test_foreign_and_damaged_files_are_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.osrec"
    bad.write_bytes(b"not a recording at all, no.....")
    with pytest.raises(RecordingError, match=r"shorter|magic"):
        RecordingReader(bad)
    path = tmp_path / "s.osrec"
    record_stream(path, frames=12)
    data = bytearray(path.read_bytes())
    data[32 + 16 + 40] ^= 0xFF  # a payload byte of the first record
    path.write_bytes(bytes(data))
    with RecordingReader(path) as reader, pytest.raises(RecordingError, match="CRC"):
        Player(reader)
    with pytest.raises(RecordingError, match="exceeds"):
        Recorder(tmp_path / "x.osrec").add(b"\0" * (32 * 1024 * 1024 + 1), True)


def test_export_mp4_has_every_frame_and_the_pixels(tmp_path: Path) -> None:
    path = tmp_path / "s.osrec"
    record_stream(path, frames=23)
    out = tmp_path / "s.mp4"
    with RecordingReader(path) as reader:
        count = export_mp4(reader, out, fps=10, crf=12)
    assert count == 20  # 1.9 s at 10 fps, both ends included
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        pictures = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
    assert len(pictures) == count
    for k, picture in enumerate(pictures):
        expected = frame(3 + k)[:, :, 2::-1].astype(np.int16)
        assert picture.shape == expected.shape
        assert np.abs(picture.astype(np.int16) - expected).mean() < 4, k


def test_any_damage_gives_a_recording_error_never_another_exception(tmp_path: Path) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    path = tmp_path / "good.osrec"
    record_stream(path, frames=14)
    good = path.read_bytes()
    damaged = tmp_path / "damaged.osrec"

    @given(
        edits=st.lists(st.tuples(st.integers(0, len(good) - 1), st.integers(0, 255)), min_size=1, max_size=4),
        cut=st.one_of(st.none(), st.integers(0, len(good))),
    )
    @settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    def check(edits: list[tuple[int, int]], cut: int | None) -> None:
        data = bytearray(good)
        for offset, value in edits:
            data[offset] = value
        damaged.write_bytes(bytes(data[:cut]))
        try:
            with RecordingReader(damaged) as reader:
                player = Player(reader)
                for t in (0, reader.duration_ms // 2, reader.duration_ms):
                    player.seek(t)
                assert player.framebuffer.shape[2] == 4
        except RecordingError:
            pass

    check()
