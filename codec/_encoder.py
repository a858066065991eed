"""The encoder: a frame in, the smallest exact update against what the decoder already shows, out.

Theory of operation. The encoder keeps ``_ref``, a mirror of the decoder's framebuffer (B, G, R equal;
alpha is the source's). Each frame it (1) compares tile by tile against the mirror, (2) looks for
regions that moved or scrolled and emits copy ops for them, applying the same copies to the mirror,
(3) packs what still differs (runs of dirty tiles, each tile shrunk to the box that changed,
neighbouring boxes grouped), and (4) compresses the
payload with one zstd stream kept across frames and flushed per update, so content seen in earlier
frames costs little. A keyframe resets the stream and sends every tile.
"""

from __future__ import annotations

import struct
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import numpy.typing as npt
import zstandard

from . import _format, _native
from ._errors import CodecError
from ._native import Frame, Rects
from ._quality import Quality

#: Tile edge in pixels, chosen by measurement (codec/FORMAT.md, "Choices measured").
DEFAULT_TILE = 64
#: Adjacent dirty tiles of a row are packed together up to this width (FORMAT.md, "Choices measured").
DEFAULT_PACK_WIDTH = 1024
#: Tiles with at most this many colours are sent as palette indices (1 byte a pixel instead of 3).
DEFAULT_MAX_PALETTE = 255
#: zstd level: 1 measured best for time per saved byte on screen content (FORMAT.md).
DEFAULT_LEVEL = 1
#: zstd window: 8 MiB remembers about one full 1080p frame of packed tiles, so content that comes back
#: (a page switched back to, a window raised again) is found; the decoder needs that much memory.
WINDOW_LOG = 23

_COPY = 1  # the COPY op code (FORMAT.md)
_FETCH = struct.Struct("<BHHH")  # code, slot, x, y
_STORE = struct.Struct("<BHH")  # code, x, y

#: A tile sent as pixels in more than this many updates in a row (a video, an animation) is no longer
#: stored: it does not come back, and storing cost +0.8 ms encode and +0.3 ms decode per video frame.
#: Three pages shown in turn still get stored (FORMAT.md, "Content cache").
STORE_STREAK = 4

#: With ``threads=2``, updates of at least this many changed pixels are packed in two halves.
_PARALLEL_PIXELS = 1 << 18

#: An update payload in pieces: the op sections and the pixel-data sections, each in order.
_Pieces = tuple[list[bytes | memoryview], list[bytes | memoryview]]


class Encoder:
    """Encodes BGRA frames of one size into updates (codec/FORMAT.md).

    Options: ``threads`` (1 or 2) lets large updates pack in two threads (same bytes either way);
    ``level`` is the zstd level; ``tile`` the compare tile edge; ``pack_width`` how wide runs of dirty
    tiles are packed together; ``motion`` turns copy detection off when False; ``cache`` turns the
    content cache off when False (it works only with the default ``tile``); ``quality`` is the initial
    ``Encoder.quality``. Raises CodecError for a size outside 1..65535 or an option out of range.
    """

    def __init__(
        self,
        width: int,
        height: int,
        *,
        threads: int = 1,
        level: int = DEFAULT_LEVEL,
        tile: int = DEFAULT_TILE,
        pack_width: int = DEFAULT_PACK_WIDTH,
        max_palette: int = DEFAULT_MAX_PALETTE,
        motion: bool = True,
        cache: bool = True,
        quality: Quality = Quality.LOSSLESS,
    ) -> None:
        _native.check_size(width, height)
        if threads not in (1, 2):
            raise CodecError(f"threads must be 1 or 2, not {threads}")
        if not 16 <= tile <= 512:
            raise CodecError(f"tile must be in 16..512, not {tile}")
        if not tile <= pack_width <= _native.MAX_DIMENSION:
            raise CodecError(f"pack_width must be in {tile}..{_native.MAX_DIMENSION}, not {pack_width}")
        if not -7 <= level <= 22:
            raise CodecError(f"zstd level must be in -7..22, not {level}")
        if not 1 <= max_palette <= _native.MAX_PALETTE:
            raise CodecError(f"max_palette must be in 1..{_native.MAX_PALETTE}")
        self._threads = threads
        self._tile = tile
        self._pack_width = pack_width
        self._max_palette = max_palette
        self._motion = motion
        self._params = zstandard.ZstdCompressionParameters.from_level(level, window_log=WINDOW_LOG, threads=0)
        self._pool = ThreadPoolExecutor(max_workers=1) if threads == 2 else None
        self._buffers = (_native.PackBuffer(), _native.PackBuffer())
        self._sequence = 0
        self._compressor: zstandard.ZstdCompressionObj | None = None
        # The content cache (FORMAT.md): a copy of the decoder's ring, so that every hit is proven by a
        # memcmp, and which slot holds which tile hash. Both sides fill the ring in STORE order.
        self._cache = _native.TileCache() if cache and tile == _native.CACHE_TILE else None
        self._slot_of: dict[int, int] = {}
        self._hash_in: list[int] = []
        self._next_slot = 0
        self._quality = Quality.LOSSLESS
        self.quality = quality
        #: Tiles sent lossy in the last update, and tiles whose lossy pixels still await refinement to
        #: the exact ones (diagnostics for benchmarks and the bandwidth budget).
        self.last_lossy_tiles = 0
        self.pending_refinement = 0
        self._resize(width, height)

    @property
    def quality(self) -> Quality:
        """How hard regions that look like video may be compressed (``Quality``; default ``LOSSLESS``,
        every frame exact). A change takes effect at the next ``encode``; text and UI stay exact at every
        quality, and lossy regions still pending refinement are refined after a switch to ``LOSSLESS``.

        API first: until the lossy tile kinds land (format version 3), every quality encodes exactly."""
        return self._quality

    @quality.setter
    def quality(self, quality: Quality) -> None:
        if not isinstance(quality, Quality):
            raise CodecError(f"quality must be a Quality, not {quality!r}")
        self._quality = quality

    def _resize(self, width: int, height: int) -> None:
        self.width = width
        self.height = height
        self._ref: Frame = np.zeros((height, width, 4), dtype=np.uint8)
        self._scratch = _native.MotionScratch(width, height, self._tile) if self._motion else None
        # Updates in a row in which each cache tile was sent as pixels (see _store).
        self._streak = np.zeros(_native.tile_grid(width, height, _native.CACHE_TILE)[::-1], dtype=np.uint8)
        self._need_keyframe = True

    def resize(self, width: int, height: int) -> None:
        """Switch to frames of a new size; the next update is a keyframe that carries it."""
        _native.check_size(width, height)
        self._resize(width, height)

    def request_keyframe(self) -> None:
        """Make the next update a keyframe (a viewer joined, or a decoder asked to resync)."""
        self._need_keyframe = True

    def close(self) -> None:
        """Stop the worker thread of ``threads=2``; the encoder may not be used afterwards."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def encode(self, frame: Frame, *, keyframe: bool = False) -> bytes:
        """Encode ``frame``, a (height, width, 4) uint8 BGRA array, into one update.

        Raises CodecError if the frame has another size, dtype or layout (call ``resize`` first)."""
        _native.check_frame(frame, self.width, self.height)
        key = keyframe or self._need_keyframe
        ops, data = self._keyframe_payload(frame) if key else self._delta_payload(frame)
        self._sequence = (self._sequence + 1) & 0xFFFFFFFF
        compressed: bytes = b""
        ops_size = sum(len(piece) for piece in ops)
        size = 0
        if ops_size:
            if key or self._compressor is None:
                self._compressor = zstandard.ZstdCompressor(compression_params=self._params).compressobj()
            # The pieces go to zstd as they are: joining them first would copy the pixel data once more.
            pieces = [struct.pack("<I", ops_size), *ops, *data]
            size = sum(len(piece) for piece in pieces)
            compressed = b"".join([self._compressor.compress(piece) for piece in pieces])
            compressed += self._compressor.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
        header = _format.Header(key, self.width, self.height, self._sequence, size)
        return _format.build(header, compressed)

    def _all_tiles(self) -> Rects:
        tiles_x, tiles_y = _native.tile_grid(self.width, self.height, self._tile)
        return self._tile_rects(np.ones((tiles_y, tiles_x), dtype=np.uint8))

    def _tile_rects(self, dirty: npt.NDArray[np.uint8]) -> Rects:
        """Rects to pack: runs of dirty tiles in a tile row, cut at ``pack_width`` pixels. Packing wider
        boxes than the compare tile gives zstd longer rows and shares one palette among them."""
        t = self._tile
        per_rect = max(1, self._pack_width // t)
        padded = np.zeros((dirty.shape[0], dirty.shape[1] + 2), dtype=np.int8)
        padded[:, 1:-1] = dirty != 0
        edges = np.diff(padded, axis=1)
        starts_y, starts_x = np.nonzero(edges == 1)
        _, ends_x = np.nonzero(edges == -1)  # same row-major order as the starts
        rows: list[tuple[int, int, int]] = []
        for ty, x0, x1 in zip(starts_y.tolist(), starts_x.tolist(), ends_x.tolist(), strict=True):
            rows.extend((ty, a, min(a + per_rect, x1)) for a in range(x0, x1, per_rect))
        rects = np.empty((len(rows), 4), dtype=np.int32)
        if rows:
            runs = np.array(rows, dtype=np.int32)
            rects[:, 0] = runs[:, 1] * t
            rects[:, 1] = runs[:, 0] * t
            rects[:, 2] = np.minimum(runs[:, 2] * t, self.width) - rects[:, 0]
            rects[:, 3] = np.minimum(t, self.height - rects[:, 1])
        return rects

    def _pack(self, frame: Frame, ref: Frame | None, rects: Rects) -> _Pieces:
        first_buf, second_buf = self._buffers
        areas = np.cumsum(rects[:, 2].astype(np.int64) * rects[:, 3])
        if self._pool is None or rects.shape[0] < 2 or areas[-1] < _PARALLEL_PIXELS:
            ops, data = _native.pack_tiles(frame, ref, rects, self._max_palette, first_buf, self._tile)
            return [ops], [data]
        # The kernel releases the GIL, so the two halves (by area) really run at once; the update is the
        # same bytes as with one thread because the halves' ops and data follow each other in rect order.
        half = int(np.searchsorted(areas, areas[-1] // 2)) + 1
        half = min(max(half, 1), rects.shape[0] - 1)
        first = self._pool.submit(
            _native.pack_tiles, frame, ref, rects[:half].copy(), self._max_palette, first_buf, self._tile
        )
        ops2, data2 = _native.pack_tiles(
            frame, ref, rects[half:].copy(), self._max_palette, second_buf, self._tile
        )
        ops1, data1 = first.result()
        return [ops1, ops2], [data1, data2]

    def _keyframe_payload(self, frame: Frame) -> _Pieces:
        ops, data = self._pack(frame, None, self._all_tiles())
        np.copyto(self._ref, frame)
        self._need_keyframe = False
        if self._cache is None:
            return ops, data
        # A keyframe starts a new stream: the decoder empties its ring, and so does this side.
        self._slot_of.clear()
        self._streak.fill(0)
        self._hash_in = [0] * self._cache.slots
        self._next_slot = 0
        hashes = _native.hash_tiles(frame)
        return [*ops, self._store(frame, hashes)], data

    def _candidates(self, hashes: npt.NDArray[np.uint64]) -> Rects:
        """(x, y, slot) of the tiles with a hash whose hash the ring holds: hits still to be proven."""
        t = _native.CACHE_TILE
        ys, xs = np.nonzero(hashes)
        slot_of = self._slot_of
        if not slot_of or ys.size == 0:
            return np.empty((0, 3), dtype=np.int32)
        found = [
            (i, slot) for i, h in enumerate(hashes[ys, xs].tolist()) if (slot := slot_of.get(h)) is not None
        ]
        jobs = np.empty((len(found), 3), dtype=np.int32)
        if found:
            which = np.array([i for i, _ in found], dtype=np.intp)
            jobs[:, 0] = xs[which] * t
            jobs[:, 1] = ys[which] * t
            jobs[:, 2] = [slot for _, slot in found]
        return jobs

    def _fetch(
        self, frame: Frame, dirty: npt.NDArray[np.uint8], hashes: npt.NDArray[np.uint64], jobs: Rects
    ) -> bytes:
        """FETCH ops for the candidate ``jobs`` proven equal to their slot; those tiles are cleared in
        ``dirty`` and ``hashes`` and written to the mirror."""
        assert self._cache is not None
        if jobs.shape[0] == 0:
            return b""
        jobs = jobs[_native.cache_equal(frame, self._cache, jobs, mirror=self._ref)]
        t = _native.CACHE_TILE
        tx, ty = jobs[:, 0] // t, jobs[:, 1] // t
        dirty[ty, tx] = 0
        hashes[ty, tx] = 0
        fetch = _FETCH.pack
        return b"".join([fetch(_native.OP_FETCH, slot, x, y) for x, y, slot in jobs.tolist()])

    def _store(self, frame: Frame, hashes: npt.NDArray[np.uint64]) -> bytes:
        """STORE ops for the tiles with a hash that the ring does not hold yet, each into the next slot
        (evicting the oldest), mirrored into this side's ring."""
        assert self._cache is not None
        ys, xs = np.nonzero(hashes)
        if ys.size == 0:
            return b""
        slot_of, hash_in, slots = self._slot_of, self._hash_in, self._cache.slots
        next_slot = self._next_slot
        t = _native.CACHE_TILE
        jobs: list[tuple[int, int, int]] = []
        stored: set[int] = set()
        for y, x, h in zip(ys.tolist(), xs.tolist(), hashes[ys, xs].tolist(), strict=True):
            # A hash the ring held before this update reaches here only when the memcmp refused the hit
            # (tiles that differ between the hashed rows): this tile then takes the hash over.
            if h in stored:  # the same tile twice in this update (or a collision inside it)
                continue
            stored.add(h)
            old = hash_in[next_slot]
            if old and slot_of.get(old) == next_slot:
                del slot_of[old]
            slot_of[h] = next_slot
            hash_in[next_slot] = h
            jobs.append((x * t, y * t, next_slot))
            next_slot = next_slot + 1 if next_slot + 1 < slots else 0
        self._next_slot = next_slot
        if not jobs:
            return b""
        _native.cache_store(frame, self._cache, np.array(jobs, dtype=np.int32))
        store = _STORE.pack
        return b"".join([store(_native.OP_STORE, x, y) for x, y, _ in jobs])

    def _compare(self, frame: Frame) -> tuple[npt.NDArray[np.uint8], int]:
        dirty: npt.NDArray[np.uint8]
        dirty, count = _native.compare_tiles(frame, self._ref, self._tile)
        return dirty, count

    def _covered_tiles(self, moves: Rects) -> npt.NDArray[np.bool_]:
        """Mask of the tiles that lie wholly inside some move's destination."""
        t = self._tile
        tiles_x, tiles_y = _native.tile_grid(self.width, self.height, t)
        covered = np.zeros((tiles_y, tiles_x), dtype=np.bool_)
        for _, _, dx, dy, w, h in moves.tolist():
            # first and last tile whose whole extent (clipped to the frame) lies inside [d, d + size)
            tx0, ty0 = -(-dx // t), -(-dy // t)
            tx1 = (dx + w) // t if dx + w < self.width else tiles_x
            ty1 = (dy + h) // t if dy + h < self.height else tiles_y
            if tx1 > tx0 and ty1 > ty0:
                covered[ty0:ty1, tx0:tx1] = True
        return covered

    def _delta_payload(self, frame: Frame) -> _Pieces:
        dirty, count = self._compare(frame)
        if count == 0:
            if self._cache is not None:
                self._streak.fill(0)
            return [], []
        fetches, stores, hashes, fetch_first = b"", b"", None, False
        jobs = np.empty((0, 3), dtype=np.int32)
        if self._cache is not None:
            hashes = _native.hash_tiles(frame, dirty)
            jobs = self._candidates(hashes)
            # Mostly content seen before (a page switched back to): settle it first, so that the motion
            # search does not spend its time on a screen of tiles that moved nowhere. Otherwise the
            # motion search goes first: fetched tiles would cut the regions it grows into pieces.
            fetch_first = 2 * jobs.shape[0] >= count
            if fetch_first:
                fetches = self._fetch(frame, dirty, hashes, jobs)
        copies = b""
        if self._scratch is not None and dirty.any():
            moves = _native.find_moves(frame, self._ref, dirty, self._tile, self._scratch)
            if moves.shape[0]:
                for sx, sy, dx, dy, w, h in moves.tolist():
                    _native.copy_rect(self._ref, sx, sy, dx, dy, w, h)
                copies = b"".join(struct.pack("<BHHHHHH", _COPY, *move) for move in moves.tolist())
                # Copies only ever make pixels equal to the new frame (the kernel verified them), so
                # only dirty tiles not wholly inside a copy's destination can still differ.
                dirty[self._covered_tiles(moves)] = 0
                dirty, count = _native.compare_tiles(frame, self._ref, self._tile, dirty)
        if hashes is not None:
            hashes[dirty == 0] = 0  # tiles the copies completed: neither fetched nor stored
            if not fetch_first and jobs.shape[0]:
                t = _native.CACHE_TILE
                jobs = jobs[dirty[jobs[:, 1] // t, jobs[:, 0] // t] != 0]
                fetches = self._fetch(frame, dirty, hashes, jobs)
        rects = self._tile_rects(dirty)
        ops, data = self._pack(frame, self._ref, rects)
        _native.blit_rects(self._ref, frame, rects)
        if hashes is not None:
            sent = hashes != 0
            streak = self._streak
            np.add(streak, 1, out=streak, where=sent & (streak < 255))
            streak[~sent] = 0
            hashes[streak > STORE_STREAK] = 0
            stores = self._store(frame, hashes)
        # Fetches come before copies when they were made first, after them otherwise: the order in which
        # the mirror saw them, so the copies read what the decoder will hold.
        first, second = (fetches, copies) if fetch_first else (copies, fetches)
        return [first, second, *ops, stores], data
