"""Stream framing: records survive any split of the byte stream; bad lengths and cut streams are errors."""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st
from opensupport.protocol import MAX_RECORD_SIZE, FramingError, TruncationError
from opensupport.protocol.framing import StreamDeframer, frame


@given(
    st.lists(st.binary(min_size=1, max_size=300), min_size=1, max_size=10),
    st.lists(st.integers(min_value=1, max_value=50), min_size=1, max_size=30),
)
def test_any_split_of_the_stream_gives_back_the_records(records: list[bytes], cuts: list[int]) -> None:
    stream = b"".join(frame(r) for r in records)
    deframer = StreamDeframer()
    out: list[bytes] = []
    pos = 0
    for cut in cuts * (len(stream) // max(1, sum(cuts)) + 1):
        out += deframer.feed(stream[pos : pos + cut])
        pos += cut
        if pos >= len(stream):
            break
    out += deframer.feed(stream[pos:])
    assert out == records
    assert deframer.buffered == 0
    deframer.eof()


def test_oversized_length_is_refused_before_buffering() -> None:
    deframer = StreamDeframer()
    with pytest.raises(FramingError):
        deframer.feed((MAX_RECORD_SIZE + 1).to_bytes(4, "big") + b"x")
    with pytest.raises(FramingError):
        frame(bytes(MAX_RECORD_SIZE + 1))


def test_stream_cut_inside_a_record_is_truncation() -> None:
    deframer = StreamDeframer()
    assert deframer.feed(frame(os.urandom(100))[:-1]) == []
    with pytest.raises(TruncationError):
        deframer.eof()
