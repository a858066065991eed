"""atheris harness for ``opensupport.codec.Decoder``: long fuzzing runs of the update decoder.

The only rule checked: every input either decodes or raises ``CodecError``, and after ``CodecError`` the
framebuffer is byte-identical. A crash, a sanitizer report or any other exception is a finding.

The first input byte picks how deep the rest goes:
  0  the bytes as an update, as received from the network (mostly stopped by the header and CRC);
  1  a genuine update with the bytes spliced in and the CRC fixed up (reaches zstd and the kernel);
  2  the bytes as a decompressed payload inside a well-formed keyframe (reaches every kernel branch);
  3  the bytes spliced into the payload of a genuine lossy update (format version 3: the VIDEO op and its
     H.264 access unit), sent again through a zstd stream of our own (reaches the kernel's VIDEO checks,
     the H.264 decoder and the picture hash).

Run (the corpus folder is created and grows; keep it out of git):

    mkdir -p build/fuzz-corpus build/fuzz-crashes
    .venv/bin/python fuzz/fuzz_decoder.py -max_total_time=3600 -rss_limit_mb=4096 \
        -artifact_prefix=build/fuzz-crashes/ build/fuzz-corpus

A finding is written to build/fuzz-crashes/; replay it with ``fuzz/fuzz_decoder.py <file>``.

Against the kernel built with AddressSanitizer and UBSan (``make test-asan`` builds it first):

    OPENSUPPORT_NATIVE_LIB=$(ls $PWD/build/asan/opensupport/native/_kernel*.so) \\
    LD_PRELOAD=$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so) \\
    ASAN_OPTIONS=detect_leaks=0 .venv/bin/python fuzz/fuzz_decoder.py -max_total_time=3600 \
        -rss_limit_mb=6000 -artifact_prefix=build/fuzz-crashes/ build/fuzz-corpus

Other libFuzzer flags (``-jobs``, ``-runs``, ``-dict``) work as usual; ``-runs=1000`` makes a quick check.
"""

from __future__ import annotations

import struct
import sys
import zlib

import atheris
import numpy as np

with atheris.instrument_imports():
    import zstandard
    from opensupport.codec import CodecError, Decoder, Encoder, Quality, _format

# Whole 64 x 64 content-cache tiles (three by two), so that the genuine updates and the fuzzed keyframe
# payloads reach FETCH and STORE: a frame smaller than a cache tile never caches anything.
W, H = 192, 128


def _frames() -> list[np.ndarray]:
    """A keyframe (which stores its six tiles in the cache), then an update with every kind of op: two
    tiles show the first tile's content (FETCHes, made first: they are half of the tiles that changed),
    the bottom-left tile scrolled down by 3 rows (a COPY), a row of noise (pixels) in the tile beside it,
    whose new content is then stored (a STORE)."""
    rng = np.random.default_rng(1)
    first = np.zeros((H, W, 4), dtype=np.uint8)
    first[:, :, 3] = 255
    first[:, :, :3] = rng.integers(0, 4, (H, W, 1), dtype=np.uint8) * 60
    second = first.copy()
    second[0:64, 64:128] = first[0:64, 0:64]  # content seen before: cache hits
    second[0:64, 128:192] = first[0:64, 0:64]
    second[64:128, 0:64] = first[61:125, 0:64]  # a move
    second[100, 64:128, :3] = rng.integers(0, 256, (64, 3), dtype=np.uint8)  # raw pixels
    return [first, second]


_FRAMES = _frames()
_ENCODER = Encoder(W, H)
_UPDATES = [_ENCODER.encode(f) for f in _FRAMES]


# A video (grainy colour fields panned each frame) in the middle of a 192 x 128 screen, at BALANCED.
LW, LH = 192, 128


def _video_frame(index: int) -> np.ndarray:
    rng = np.random.default_rng(index)
    frame = np.full((LH, LW, 4), 255, dtype=np.uint8)
    yy, xx = np.mgrid[0:128, 0:128].astype(np.float64)
    fields = [
        128 + 90 * np.sin((xx + 1.7 * index) / (11 + 6 * c)) * np.cos(yy / (13 + 4 * c)) for c in range(3)
    ]
    picture = np.stack(fields, axis=-1) + rng.normal(0, 3, (128, 128, 3))
    frame[:, 32:160, :3] = np.clip(picture, 0, 255).astype(np.uint8)
    return frame


def _lossy_payloads() -> list[bytes]:
    encoder = Encoder(LW, LH, quality=Quality.BALANCED)
    updates = [encoder.encode(_video_frame(i)) for i in range(3)]
    assert updates[1][4] == 3, "the fuzzer's video is not sent lossy"
    dobj = zstandard.ZstdDecompressor().decompressobj()
    return [dobj.decompress(bytes(_format.parse(u)[1])) for u in updates]


_LOSSY = _lossy_payloads()


def _lossy_stream(raw: list[bytes]) -> list[bytes]:
    cobj = zstandard.ZstdCompressor(level=1).compressobj()
    return [
        _format.build(
            _format.Header(i == 0, LW, LH, i + 1, len(p)),
            cobj.compress(p) + cobj.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK),
        )
        for i, p in enumerate(raw)
    ]


def _with_crc(update: bytes) -> bytes:
    if len(update) < _format.HEADER_SIZE:
        return update
    head, body = update[: _format.HEADER_SIZE - 4], update[_format.HEADER_SIZE :]
    return head + struct.pack("<I", zlib.crc32(body, zlib.crc32(head))) + body


def _keyframe_around(raw: bytes) -> bytes:
    cobj = zstandard.ZstdCompressor(level=1).compressobj()
    compressed = cobj.compress(raw) + cobj.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK) if raw else b""
    return _format.build(_format.Header(True, W, H, 1, len(raw)), compressed)


def test_one_input(data: bytes) -> None:
    """libFuzzer entry point: one input, checked against the decoder's contract."""
    if not data:
        return
    mode, rest = data[0] % 4, data[1:]
    decoder = Decoder(W, H)
    decoder.decode(_UPDATES[0])
    if mode == 3:
        which = 1 + len(rest) % 2
        raw = list(_LOSSY)
        at = int.from_bytes(rest[:2] or b"\0", "little") % len(raw[which])
        raw[which] = raw[which][:at] + rest[2:] + raw[which][at + len(rest[2:]) :]
        stream = _lossy_stream(raw)
        decoder = Decoder(LW, LH)
        for update in stream[:which]:
            decoder.decode(update)
        update = stream[which]
    elif mode == 0:
        update = rest
    elif mode == 1:
        base = _UPDATES[len(rest) % 2]
        if base is _UPDATES[1]:
            pass  # the decoder holds frame 0, so update 1 is the genuine next one
        at = int.from_bytes(rest[:2] or b"\0", "little") % max(len(base), 1)
        update = _with_crc(base[:at] + rest[2:] + base[at + len(rest[2:]) :])
    else:
        update = _keyframe_around(rest)
    before = decoder.framebuffer.copy()
    try:
        decoder.decode(update)
    except CodecError:
        if not np.array_equal(decoder.framebuffer, before):
            raise AssertionError("framebuffer changed by a refused update") from None


def main() -> None:
    """Run libFuzzer with the command line's options."""
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
