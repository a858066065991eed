"""The stroke model both ends keep, the builder that turns drags into strokes, and the send throttle."""

from __future__ import annotations

from opensupport.protocol import MAX_STROKE_POINTS, DrawingClear, DrawingStroke, StrokeShape
from opensupport.tools.drawing import MAX_STROKES, Drawing, Origin, StrokeBuilder, StrokeThrottle


def test_same_id_replaces_per_side_and_clear_removes_both() -> None:
    changes: list[object] = []
    drawing = Drawing(on_change=changes.append)
    a1 = DrawingStroke(1, 0xFF, 2, ((0, 0),))
    drawing.apply(Origin.AGENT, a1)
    drawing.apply(Origin.CUSTOMER, DrawingStroke(1, 0xFF, 2, ((5, 5),)))
    grown = DrawingStroke(1, 0xFF, 2, ((0, 0), (100, 50)))
    bounds = drawing.apply(Origin.AGENT, grown)
    assert drawing.strokes()[0] == (Origin.AGENT, grown) and len(drawing) == 2  # replaced in place
    assert bounds is not None and bounds.x <= 0 and bounds.x + bounds.w >= 100 and bounds.y + bounds.h >= 50
    drawing.apply(Origin.CUSTOMER, DrawingClear())
    assert len(drawing) == 0 and changes[-1] is None and len(changes) == 4


def test_the_model_is_bounded() -> None:
    drawing = Drawing()
    for i in range(MAX_STROKES + 10):
        drawing.apply(Origin.AGENT, DrawingStroke(i, 0xFF, 1, ((i, i),)))
    strokes = drawing.strokes()
    assert len(strokes) == MAX_STROKES and strokes[0][1].stroke_id == 10


def test_builder_shapes_and_long_pen_strokes_continue() -> None:
    builder = StrokeBuilder()
    builder.shape = StrokeShape.ARROW
    first = builder.begin(1, 2)
    assert first is not None and first.points == ((1, 2), (1, 2))
    arrow = builder.end(30, 40)
    assert arrow is not None and arrow.points == ((1, 2), (30, 40)) and not builder.drawing
    builder.shape = StrokeShape.HIGHLIGHTER
    start = builder.begin(0, 0)
    assert start is not None and start.color & 0xFF < 0xFF and start.width >= 12  # translucent and wide
    builder.shape = StrokeShape.PEN
    stroke = builder.begin(0, 0)
    assert stroke is not None
    ids = {stroke.stroke_id}
    for x in range(1, MAX_STROKE_POINTS + 5):
        moved = builder.move(x, 0)
        assert moved is not None
        ids.add(moved.stroke_id)
    assert len(ids) == 2 and len(moved.points) == 6 and moved.points[0] == (MAX_STROKE_POINTS - 1, 0)
    assert builder.move(x, 0) is None  # no change, nothing to send
    assert builder.text(5, 5, "안녕").shape is StrokeShape.TEXT


def test_throttle_sends_growing_strokes_now_and_then_and_always_the_last() -> None:
    now = [0.0]
    sent: list[DrawingStroke] = []
    throttle = StrokeThrottle(sent.append, interval=0.04, clock=lambda: now[0])
    builder = StrokeBuilder()
    throttle.update(builder.begin(0, 0))
    for x in range(1, 50):
        now[0] += 0.01
        throttle.update(builder.move(x, x))
    now[0] += 0.001
    throttle.update(builder.end(49, 49), final=True)  # no movement: the pending version still goes out
    assert 10 <= len(sent) <= 15
    assert sent[-1].points[-1] == (49, 49) and len(sent[-1].points) == 50
