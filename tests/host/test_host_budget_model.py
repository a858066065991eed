"""The budget's arithmetic on a clock of our own (LinkBudget is sans-IO): throughput from acknowledged
frames, the gate's delay, the base round trip, automatic mode's steps and its hold after a failed try.
The same behaviour on a real link is in test_host_budget.py."""

from __future__ import annotations

import pytest
from opensupport.codec import Quality
from opensupport.host.budget import (
    AIRTIME_UP,
    DECIDE_INTERVAL,
    QUEUE_TARGET,
    UP_HOLD,
    LinkBudget,
)
from opensupport.link.topics import QualityMode


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def sent_and_acked(budget: LinkBudget, clock: Clock, size: int, seconds: float, frame_id: int) -> None:
    budget.frame_sent(size)
    clock.now += seconds
    budget.frame_acked(frame_id)


def test_throughput_is_bytes_over_draining_time() -> None:
    clock = Clock()
    budget = LinkBudget(clock=clock)
    assert budget.throughput is None
    sent_and_acked(budget, clock, 100_000, 1.0, 1)
    assert budget.throughput == pytest.approx(100_000)
    # Two frames on the wire back to back: the second drains from the first one's acknowledgement.
    budget.frame_sent(50_000)
    clock.now += 0.1
    budget.frame_sent(50_000)
    clock.now += 0.4
    budget.frame_acked(2)
    clock.now += 0.5
    budget.frame_acked(3)
    assert budget.throughput == pytest.approx(200_000 / 2.0)
    # Small frames say nothing (timer noise), and samples older than the window are forgotten.
    clock.now += 10
    sent_and_acked(budget, clock, 500, 0.5, 4)
    assert budget.throughput == pytest.approx(100_000)  # the last figure, held


def test_the_gate_waits_for_the_frames_in_flight_to_drain() -> None:
    clock = Clock()
    budget = LinkBudget(clock=clock)
    budget.frame_sent(100_000)
    assert budget.send_delay() == 1.0  # not measured: a large frame goes alone until its acknowledgement
    clock.now += 1.0
    budget.frame_acked(1)  # 100 kB/s
    assert budget.send_delay() == 0.0
    budget.frame_sent(50_000)
    clock.now += 0.1
    assert budget.send_delay() == pytest.approx(0.5 - 0.1 - QUEUE_TARGET)
    clock.now += 0.5
    assert budget.send_delay() == 0.0  # should have drained by now
    budget.reset()  # a resume: nothing in flight any more
    assert budget.in_flight_bytes == 0


def test_the_base_round_trip_comes_from_pings_sent_with_nothing_in_flight() -> None:
    clock = Clock()
    budget = LinkBudget(clock=clock)
    budget.rtt_sample(0.9, idle=False)  # waited behind a frame
    assert budget.base_rtt == 0.0 and budget.rtt == 0.9
    budget.rtt_sample(0.02, idle=True)
    budget.rtt_sample(0.03, idle=True)
    assert budget.base_rtt == 0.02 and budget.rtt == 0.03


def test_fixed_modes_set_the_quality_and_automatic_leaves_it() -> None:
    clock = Clock()
    budget = LinkBudget(clock=clock)
    assert budget.mode is QualityMode.AUTO and budget.quality is Quality.LOSSLESS
    for mode, quality in [
        (QualityMode.LOW, Quality.LOW),
        (QualityMode.BALANCED, Quality.BALANCED),
        (QualityMode.BEST, Quality.LOSSLESS),
    ]:
        budget.set_mode(mode)
        assert budget.quality is quality
        # A fixed mode never moves, however slow the link.
        for _ in range(5):
            clock.now += 1
            sent_and_acked(budget, clock, 1_000_000, 10.0, budget._seq + 1)
        assert budget.quality is quality
    budget.set_mode(QualityMode.AUTO)
    assert budget.quality is Quality.LOSSLESS and budget.mode is QualityMode.AUTO


def test_automatic_mode_steps_down_by_airtime_then_up_with_a_growing_hold() -> None:
    clock = Clock()
    budget = LinkBudget(clock=clock)
    frame = 0

    def frames(size: int, seconds: float, count: int) -> None:
        nonlocal frame
        for _ in range(count):
            frame += 1
            sent_and_acked(budget, clock, size, seconds, frame)

    # 100 kB/s, a second per frame: far too slow. One step per frame, each decided on a frame measured at
    # the quality before it, down to the floor.
    frames(100_000, 1.0, 1)
    assert budget.quality is Quality.HIGH
    frames(100_000, 1.0, 1)
    assert budget.quality is Quality.BALANCED
    frames(100_000, 1.0, 4)
    assert budget.quality is Quality.LOW
    assert [q for _, q in budget.history] == [Quality.HIGH, Quality.BALANCED, Quality.LOW]

    # The link becomes fast: 10 kB frames in 10 ms (1 MB/s): the next quality, assumed twice as large,
    # would take 20 ms <= AIRTIME_UP.
    assert AIRTIME_UP >= 2 * 10_000 / 1_000_000
    start = clock.now
    while budget.quality is Quality.LOW:
        frames(10_000, 0.01, 1)
        clock.now += 0.03
    assert budget.quality is Quality.BALANCED and clock.now - start >= UP_HOLD - DECIDE_INTERVAL
    # The step up fails at once (frames of 100 kB at 1 MB/s: 100 ms each): down again, hold doubled.
    frames(100_000, 0.1, 6)  # (decisions wait DECIDE_INTERVAL after a change)
    assert budget.quality is Quality.LOW
    assert budget._up_hold == 2 * UP_HOLD


def test_no_step_up_to_lossless_that_would_send_a_lossy_video_exact_over_a_slow_link() -> None:
    clock = Clock()
    budget = LinkBudget(clock=clock)
    budget.quality = Quality.HIGH  # where automatic mode stepped down to
    budget.lossy_area = 960 * 540  # a video shown lossy: exact, it would be over a megabyte
    frame = 0
    for _ in range(200):  # 20 s of 5 kB frames on a 1.25 MB/s link: 4 ms each
        frame += 1
        sent_and_acked(budget, clock, 5_000, 0.004, frame)
        clock.now += 0.096
    assert budget.quality is Quality.HIGH
    budget.lossy_area = 0  # the video stopped and was refined: nothing lossy is left
    for _ in range(40):
        frame += 1
        sent_and_acked(budget, clock, 5_000, 0.004, frame)
        clock.now += 0.096
    assert budget.quality is Quality.LOSSLESS
