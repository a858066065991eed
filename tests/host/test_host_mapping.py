"""Coordinate mapping from a viewer's scaled view to the shared monitor and on to the root window."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from opensupport.host.capture import Monitor
from opensupport.host.errors import InvalidInputEvent
from opensupport.host.input import ViewTransform, frame_to_root

RIGHT = Monitor(index=1, name="right", x=1280, y=0, width=1024, height=768)


def test_fit_letterboxes_and_centres() -> None:
    # A 1024x768 frame in an 800x800 view: scale 800/1024, 600 pixels tall, 100 pixels of bars above and below.
    t = ViewTransform.fit(800, 800, 1024, 768)
    assert t.scale == pytest.approx(0.78125)
    assert (t.offset_x, t.offset_y) == (0.0, 100.0)
    assert t.to_frame(0, 100) == (0, 0)
    assert t.to_frame(799.9, 699.9) == (1023, 767)
    assert t.to_frame(400, 400) == (512, 384)
    assert t.to_frame(400, 99.9) is None  # on the bar
    assert t.to_frame(400, 700) is None
    assert t.to_frame(math.nan, 300) is None
    assert t.to_frame(math.inf, 300) is None


def test_one_to_one_scrolled() -> None:
    t = ViewTransform.one_to_one(1024, 768, scroll_x=300, scroll_y=200)
    assert t.to_frame(0, 0) == (300, 200)
    assert t.to_frame(723, 567) == (1023, 767)
    assert t.to_frame(724, 0) is None


def test_bad_transforms_are_refused() -> None:
    for build in (
        lambda: ViewTransform(0, 10, 1.0),
        lambda: ViewTransform(10, 10, 0.0),
        lambda: ViewTransform(10, 10, math.nan),
        lambda: ViewTransform(10, 10, 1.0, math.inf),
        lambda: ViewTransform.fit(0, 10, 10, 10),
    ):
        with pytest.raises(ValueError):
            build()


def test_frame_to_root_adds_the_monitor_origin_and_refuses_the_outside() -> None:
    assert frame_to_root(RIGHT, 0, 0) == (1280, 0)
    assert frame_to_root(RIGHT, 1023, 767) == (2303, 767)
    for x, y in ((1024, 0), (0, 768), (-1, 5), (5, -1)):
        with pytest.raises(InvalidInputEvent):
            frame_to_root(RIGHT, x, y)
    with pytest.raises(InvalidInputEvent):
        frame_to_root(RIGHT, 1.5, 2)  # type: ignore[arg-type]


@given(
    view=st.tuples(st.integers(1, 4000), st.integers(1, 4000)),
    frame=st.tuples(st.integers(1, 4000), st.integers(1, 4000)),
    point=st.tuples(st.floats(-1e6, 1e6), st.floats(-1e6, 1e6)),
)
def test_any_view_point_maps_into_the_frame_or_nowhere(
    view: tuple[int, int], frame: tuple[int, int], point: tuple[float, float]
) -> None:
    t = ViewTransform.fit(*view, *frame)
    mapped = t.to_frame(*point)
    if mapped is not None:
        x, y = mapped
        assert 0 <= x < frame[0] and 0 <= y < frame[1]
        root = frame_to_root(Monitor(0, "m", 500, 20, frame[0], frame[1]), x, y)
        assert 500 <= root[0] < 500 + frame[0] and 20 <= root[1] < 20 + frame[1]
