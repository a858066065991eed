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
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import numpy.typing as npt
import zstandard

from . import _format, _native
from ._errors import CodecError
from ._native import Frame, Rects
from ._quality import Quality
from ._video import VideoEncoder

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

_VIDEO = struct.Struct("<BHHHHBIQ")  # code, x, y, w, h, flags, access unit length, picture hash

#: Lossy regions (FORMAT.md, "Lossy regions"). A tile is a picture when it changed in at least
#: LOSSY_MIN_CHANGES of the last 8 frames, has at least LOSSY_MIN_COLOURS colours among its samples and
#: at most LOSSY_MAX_FLAT of them equal to their left neighbour; measured on the corpus, the video's
#: tiles are pictures (135 of 144) and no tile of the browser, terminal, pager, drag or page scenarios is.
LOSSY_MIN_CHANGES = 1
LOSSY_MIN_COLOURS = 48
LOSSY_MAX_FLAT = 0.5
#: A region becomes lossy with at least this many picture tiles, making up at least half of the
#: connected changing tiles around them (a small animated icon stays exact).
LOSSY_MIN_TILES = 4
#: A lossy region whose source stops changing is refined to exact pixels after this many unchanged frames
#: or this many seconds, whichever comes first ("within a second").
REFINE_FRAMES = 12
REFINE_SECONDS = 0.5
#: A stream ends when what changes in it has not looked like a picture for this many frames in a row (or
#: nothing changed since it last did): one torn grab or band-drawn frame alone keeps the stream, since
#: ending it resends the whole box exact and the next picture costs a new keyframe.
UNLIKE_FRAMES = 3
#: x264 constant-quality factor per quality (FORMAT.md, "Choices measured").
CRF = {Quality.HIGH: 18, Quality.BALANCED: 21, Quality.LOW: 28}

#: Dirty tiles hashed before the motion search to tell whether an update is mostly cached content.
_CACHE_SAMPLE = 16

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
        quality, and lossy regions still pending refinement are refined after a switch to ``LOSSLESS``."""
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
        # Lossy regions: each tile's change history, the running H.264 stream (None: every pixel the
        # decoder shows is exact), the source pixels of its tiles as last seen (to tell a changing video
        # from a still one, since the mirror there holds lossy pixels), and the frame the lossless ops are
        # made from while it runs (the source, but the stream's rectangle as the decoder shows it).
        self._history = np.zeros(_native.tile_grid(width, height, self._tile)[::-1], dtype=np.uint8)
        self._stream: _Stream | None = None
        self._src: Frame | None = None
        self._work: Frame | None = None

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
        if not key and 4 + sum(map(len, ops)) + sum(map(len, data)) > _format.max_payload(
            self.width, self.height
        ):
            # Only an access unit of unusual size can get here (the lossless ops alone stay below the
            # bound): a decoder would refuse the update as a bomb, so send the frame exact as a keyframe.
            key = True
            ops, data = self._keyframe_payload(frame)
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
        # The lowest version that carries the update's ops: lossless streams stay readable by version 2.
        version = _format.VERSION if self.last_lossy_tiles else _format.LOSSLESS_VERSION
        header = _format.Header(key, self.width, self.height, self._sequence, size, version)
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
        # A keyframe is exact: it ends the lossy stream (the decoder drops its H.264 stream too).
        self._stream = None
        self._history.fill(0)
        self.last_lossy_tiles = self.pending_refinement = 0
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
        video_op, access_unit = b"", b""
        self.last_lossy_tiles = 0
        if self._quality is not Quality.LOSSLESS or self._stream is not None:
            video_op, access_unit, frame, dirty, count = self._lossy(frame, dirty)
        self.pending_refinement = 0 if self._stream is None else int(self._stream.tiles.sum())
        if count == 0:
            if self._cache is not None:
                self._streak.fill(0)
            return ([video_op], [access_unit]) if video_op else ([], [])
        fetches, stores, hashes, fetch_first = b"", b"", None, False
        jobs = np.empty((0, 3), dtype=np.int32)
        if self._cache is not None:
            # Mostly content seen before (a page switched back to): settle it first, so that the motion
            # search does not spend its time on a screen of tiles that moved nowhere. Otherwise the
            # motion search goes first (fetched tiles would cut the regions it grows into pieces) and
            # only the tiles it leaves dirty are hashed: which case it is, a sample of the dirty tiles
            # tells (hashing and looking up a whole scrolled screen cost 0.3 ms a frame for nothing).
            ys, xs = np.nonzero(dirty)
            sample = np.zeros_like(dirty)
            step = max(1, ys.size // _CACHE_SAMPLE)
            sample[ys[::step], xs[::step]] = 1
            fetch_first = 2 * self._candidates(_native.hash_tiles(frame, sample)).shape[0] >= -(
                -ys.size // step
            )
            if fetch_first:
                hashes = _native.hash_tiles(frame, dirty)
                jobs = self._candidates(hashes)
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
        if self._cache is not None and not fetch_first:
            hashes = _native.hash_tiles(frame, dirty)
            jobs = self._candidates(hashes)
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
        if video_op:
            # The VIDEO op goes first, as the mirror saw it: copies and fetches after it read its pixels.
            return [video_op, first, second, *ops, stores], [access_unit, *data]
        return [first, second, *ops, stores], data

    # --- lossy regions (FORMAT.md, "Lossy regions") -----------------------------------------------------

    def _lossy(
        self, frame: Frame, dirty: npt.NDArray[np.uint8]
    ) -> tuple[bytes, bytes, Frame, npt.NDArray[np.uint8], int]:
        """Classify the tiles, start, continue, grow or end the lossy stream, and encode its rectangle.
        Returns the VIDEO op and its access unit (empty when none is sent), the frame the lossless ops are
        to be made from, and its dirty tiles and their count."""
        stream = self._stream
        if stream is not None and self._quality is Quality.LOSSLESS:
            return self._end_stream(frame, dirty)
        changed = dirty
        if stream is not None:
            # Inside the stream's tiles the mirror is lossy: whether the source changed is told by the
            # source pixels last seen there.
            src_changed, _ = _native.compare_tiles(frame, self._src_frame(), self._tile, stream.tiles_u8)
            changed = dirty.copy()
            changed[stream.tiles] = src_changed[stream.tiles]
        classes, pictures = _native.classify_tiles(
            frame, self._tile, changed, self._history, LOSSY_MIN_CHANGES, LOSSY_MIN_COLOURS, LOSSY_MAX_FLAT
        )
        now = time.monotonic()
        crf = CRF.get(self._quality, CRF[Quality.BALANCED])
        if stream is not None:
            if not changed[stream.tiles].any():
                stream.still += 1
                if stream.unlike:
                    stream.unlike += 1  # unchanged since a frame that was not a picture
                if stream.unlike >= UNLIKE_FRAMES:
                    return self._end_stream(frame, dirty)
                if stream.still >= REFINE_FRAMES or now - stream.changed_at >= REFINE_SECONDS:
                    return self._end_stream(frame, dirty)
                return self._keep_stream(frame, dirty, b"", b"")
            if 4 * int((classes[stream.tiles] == _native.TILE_PICTURE).sum()) < int(stream.tiles.sum()):
                stream.unlike += 1  # what changes there does not look like a picture (or only in a band)
                if stream.unlike >= UNLIKE_FRAMES:
                    return self._end_stream(frame, dirty)
            else:
                stream.unlike = 0
            box = self._changed_box(frame, self._src_frame(), stream.tiles)
            # the picture may have moved on past the stream's tiles (its window dragged): those changes,
            # where the mirror is exact, count too
            outside = (classes != _native.TILE_STILL) & ~stream.tiles
            region = self._picture_region(classes) if outside.any() else None  # (the search costs ~0.6 ms)
            if region is not None and (region & stream.tiles).any() and (region & ~stream.tiles).any():
                beyond = self._changed_box(frame, self._ref, region & ~stream.tiles)
                if beyond is not None:
                    box = beyond if box is None else _union(box, beyond)
            grown = stream.box if box is None else _union(stream.box, box)
            if box is not None:
                stream.recent = [*stream.recent[1 - REFINE_FRAMES :], box]
            recent = stream.recent[0]
            for seen in stream.recent[1:]:
                recent = _union(recent, seen)
            shrunk = 4 * _area(self._even(recent)) < 3 * _area(stream.encoder.rect)
            if len(stream.recent) == REFINE_FRAMES and shrunk:
                # What changed lately covers under 3/4 of the stream (a played window dragged away from
                # where it was): a stream over just that, and the rest of the old box refined to exact.
                return self._start_stream(frame, dirty, recent, crf)
            if self._even(grown) != stream.encoder.rect or crf != stream.encoder.crf:
                return self._start_stream(frame, dirty, grown, crf)
            stream.box = _intersection(grown, stream.encoder.rect)
            stream.still, stream.changed_at = 0, now
            return self._send(frame, dirty, new_stream=False)
        if pictures < LOSSY_MIN_TILES:
            return b"", b"", frame, dirty, int(np.count_nonzero(dirty))
        region = self._picture_region(classes)
        if region is None:
            return b"", b"", frame, dirty, int(np.count_nonzero(dirty))
        box = self._changed_box(frame, self._ref, region)
        if box is None or box[2] < self._tile or box[3] < self._tile:
            return b"", b"", frame, dirty, int(np.count_nonzero(dirty))
        return self._start_stream(frame, dirty, box, crf)

    def _src_frame(self) -> Frame:
        if self._src is None:
            self._src = np.zeros_like(self._ref)
        return self._src

    def _rect_tiles(self, rect: tuple[int, int, int, int]) -> npt.NDArray[np.bool_]:
        """Mask of the tiles that the rectangle touches."""
        t = self._tile
        x, y, w, h = rect
        mask = np.zeros(self._history.shape, dtype=np.bool_)
        mask[y // t : (y + h - 1) // t + 1, x // t : (x + w - 1) // t + 1] = True
        return mask

    def _changed_box(
        self, frame: Frame, before: Frame, tiles: npt.NDArray[np.bool_]
    ) -> tuple[int, int, int, int] | None:
        """The box of the pixels that differ from ``before`` inside the bounding box of ``tiles``."""
        t = self._tile
        ys, xs = np.nonzero(tiles)
        x0, y0 = int(xs.min()) * t, int(ys.min()) * t
        x1, y1 = min((int(xs.max()) + 1) * t, self.width), min((int(ys.max()) + 1) * t, self.height)
        return _native.change_box(frame, before, x0, y0, x1 - x0, y1 - y0)

    def _picture_region(self, classes: npt.NDArray[np.uint8]) -> npt.NDArray[np.bool_] | None:
        """The tiles of the connected group of changing tiles with the most picture tiles, if there are
        LOSSY_MIN_TILES of them and they make up at least half of the group."""
        busy = classes != _native.TILE_STILL
        seen = np.zeros_like(busy)
        best: tuple[int, list[tuple[int, int]]] = (0, [])
        rows, cols = busy.shape
        for start in zip(*np.nonzero(classes == _native.TILE_PICTURE), strict=True):
            if seen[start]:
                continue
            group, todo, pics = [], [start], 0
            seen[start] = True
            while todo:
                ty, tx = todo.pop()
                group.append((int(ty), int(tx)))
                pics += int(classes[ty, tx] == _native.TILE_PICTURE)
                for ny, nx in ((ty - 1, tx), (ty + 1, tx), (ty, tx - 1), (ty, tx + 1)):
                    if 0 <= ny < rows and 0 <= nx < cols and busy[ny, nx] and not seen[ny, nx]:
                        seen[ny, nx] = True
                        todo.append((ny, nx))
            if pics > best[0] and pics >= LOSSY_MIN_TILES and 2 * pics >= len(group):
                best = (pics, group)
        if not best[1]:
            return None
        mask: npt.NDArray[np.bool_] = np.zeros(busy.shape, dtype=np.bool_)
        for ty, tx in best[1]:
            mask[ty, tx] = True
        return mask

    def _even(self, rect: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
        """The rectangle with even width and height (I420), grown by a pixel inside the frame if it can."""
        x, y, w, h = rect
        x, w = _even_span(x, w, self.width)
        y, h = _even_span(y, h, self.height)
        return x, y, w, h

    def _start_stream(
        self, frame: Frame, dirty: npt.NDArray[np.uint8], box: tuple[int, int, int, int], crf: int
    ) -> tuple[bytes, bytes, Frame, npt.NDArray[np.uint8], int]:
        """A new H.264 stream over ``box`` (the pixels that change), its rectangle made even."""
        if self._work is None:
            self._work = np.empty_like(self._ref)
        if self._stream is None:
            np.copyto(self._work, self._ref)  # the work frame equals the mirror between updates
        rect = self._even(box)
        # a box at the frame's edge may lose a pixel to the even size: that column is sent exact
        box = _intersection(box, rect)
        self._stream = _Stream(VideoEncoder(rect, crf), box, self._rect_tiles(rect), time.monotonic())
        return self._send(frame, dirty, new_stream=True)

    def _send(
        self, frame: Frame, dirty: npt.NDArray[np.uint8], *, new_stream: bool
    ) -> tuple[bytes, bytes, Frame, npt.NDArray[np.uint8], int]:
        stream = self._stream
        assert stream is not None
        access_unit, picture_hash = stream.encoder.encode(frame, self._ref)
        x, y, w, h = stream.encoder.rect
        flags = _native.VIDEO_NEW_STREAM if new_stream else 0
        op = _VIDEO.pack(_native.OP_VIDEO, x, y, w, h, flags, len(access_unit), picture_hash)
        self.last_lossy_tiles = int(stream.tiles.sum())
        # The source of the stream's tiles as seen now, for the next frame's "did it change".
        _native.blit_rects(self._src_frame(), frame, self._tile_rects(stream.tiles_u8))
        return self._keep_stream(frame, dirty, op, access_unit)

    def _keep_stream(
        self, frame: Frame, dirty: npt.NDArray[np.uint8], op: bytes, access_unit: bytes
    ) -> tuple[bytes, bytes, Frame, npt.NDArray[np.uint8], int]:
        """The work frame: the source where it changed, but the stream's lossy box as the mirror holds it,
        so that the lossless ops leave the box alone. The rest of the rectangle (the pixel that made it
        even) is the source's: the lossless ops after the VIDEO op make it exact again."""
        stream, work = self._stream, self._work
        assert stream is not None and work is not None
        _native.blit_rects(work, frame, self._tile_rects(dirty))
        x, y, w, h = stream.box
        work[y : y + h, x : x + w] = self._ref[y : y + h, x : x + w]
        # the VIDEO op rewrote the mirror over its whole rectangle: its tiles are compared too
        dirty, count = _native.compare_tiles(work, self._ref, self._tile, dirty | stream.tiles_u8)
        return op, access_unit, work, dirty, count

    def _end_stream(
        self, frame: Frame, dirty: npt.NDArray[np.uint8]
    ) -> tuple[bytes, bytes, Frame, npt.NDArray[np.uint8], int]:
        """Stop the stream: the lossless ops of this update refine its rectangle to the exact pixels (the
        mirror holds the lossy ones there, so its tiles are dirty)."""
        self._stream = None
        return b"", b"", frame, dirty, int(np.count_nonzero(dirty))

    @property
    def lossy_rect(self) -> tuple[int, int, int, int] | None:
        """The (x, y, w, h) rectangle the decoder currently shows lossy, or None when every pixel is exact."""
        return None if self._stream is None else self._stream.box


class _Stream:
    """The running lossy stream: its encoder (whose rectangle is ``box`` made even), the box of the pixels
    that changed since it started (shown lossy), the tiles its rectangle touches, unchanged frames since
    the source last changed there, and when it last changed."""

    def __init__(
        self,
        encoder: VideoEncoder,
        box: tuple[int, int, int, int],
        tiles: npt.NDArray[np.bool_],
        changed_at: float,
    ) -> None:
        self.encoder = encoder
        self.box = box
        self.tiles = tiles
        self.tiles_u8 = tiles.astype(np.uint8)
        self.still = 0
        self.changed_at = changed_at
        #: frames in a row whose changes here did not look like a picture (see UNLIKE_FRAMES)
        self.unlike = 0
        #: boxes of the pixels that changed in the last REFINE_FRAMES frames that changed anything here
        self.recent: list[tuple[int, int, int, int]] = [box]


def _union(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    x0, y0 = min(a[0], b[0]), min(a[1], b[1])
    x1, y1 = max(a[0] + a[2], b[0] + b[2]), max(a[1] + a[3], b[1] + b[3])
    return x0, y0, x1 - x0, y1 - y0


def _area(rect: tuple[int, int, int, int]) -> int:
    return rect[2] * rect[3]


def _intersection(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    return x0, y0, max(0, x1 - x0), max(0, y1 - y0)


def _even_span(start: int, size: int, limit: int) -> tuple[int, int]:
    if size % 2 == 0:
        return start, size
    if start + size < limit:
        return start, size + 1
    if start > 0:
        return start - 1, size + 1
    return start, size - 1
