"""바탕화면 공유's geometry (what no window covers) and the policy's view of the options the host announces."""

from __future__ import annotations

import numpy as np
from opensupport.host.capture import Rect
from opensupport.host.desktop import uncovered
from opensupport.host.policy import HostPolicy, policy_from_options


def coverage(area: Rect, free: list[Rect]) -> np.ndarray:
    counts = np.zeros((area.h, area.w), np.int32)
    for r in free:
        counts[r.y - area.y : r.y + r.h - area.y, r.x - area.x : r.x + r.w - area.x] += 1
    return counts


def test_uncovered_parts_are_exactly_what_no_window_covers_and_never_overlap() -> None:
    rng = np.random.default_rng(7)
    area = Rect(10, 20, 120, 90)
    for _ in range(200):
        windows = [
            Rect(int(x), int(y), int(w), int(h))
            for x, y, w, h in rng.integers(
                [0, 0, 1, 1], [140, 120, 80, 80], size=(int(rng.integers(0, 8)), 4)
            )
        ]
        covered = np.zeros((area.h, area.w), bool)
        for w in windows:
            cut = area.intersect(w)
            if cut is not None:
                covered[cut.y - area.y : cut.y + cut.h - area.y, cut.x - area.x : cut.x + cut.w - area.x] = (
                    True
                )
        counts = coverage(area, uncovered(area, windows))
        assert np.array_equal(counts == 1, ~covered) and counts.max(initial=0) <= 1


def test_edges() -> None:
    area = Rect(0, 0, 50, 40)
    assert uncovered(area, []) == [area]
    assert uncovered(area, [Rect(-5, -5, 100, 100)]) == []
    assert uncovered(area, [Rect(60, 0, 10, 10)]) == [area]


def test_the_options_a_host_without_a_server_keeps_as_they_were() -> None:
    bare = policy_from_options()
    assert bare.tracks_pointer and bare.shares_desktop  # no administrator chose otherwise
    assert not policy_from_options({"mouse_tracking": False}).tracks_pointer
    assert not policy_from_options({"desktop_sharing": False}).shares_desktop


def test_viewer_options_list_only_what_is_switched_on_and_cannot_apply() -> None:
    server_defaults = HostPolicy({"driver_mode": True, "remote_printer": False, "mobile_support": True})
    told = server_defaults.viewer_options()
    assert told["file_transfer_viewer_mode"] is False
    assert set(told["not_applicable"]) == {"driver_mode", "mobile_support"}  # type: ignore[arg-type]
    everything_off = HostPolicy({"file_transfer_viewer_mode": True})
    assert everything_off.viewer_options() == {"file_transfer_viewer_mode": True, "not_applicable": {}}
