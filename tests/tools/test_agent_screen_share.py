"""The agent's side of 상담원 화면 전송/제어 (viewer/reverse.py: AgentScreenShare) against a hostile or refusing
host, without a relay: nothing is captured before an accepted offer, never more control than offered,
answers naming another offer are ignored, other tools' refusals are left to the tools."""

from __future__ import annotations

import json
import threading
from typing import Any, ClassVar

from opensupport.protocol import ControlMessage
from opensupport.tools.agent_screen import accepted_message, parse_offer, stop_message
from opensupport.tools.messages import control
from opensupport.viewer.reverse import AgentScreenShare, AgentScreenState


class FakeLink:
    established = True

    def __init__(self) -> None:
        self.sent: list[ControlMessage] = []

    def send(self, event: ControlMessage) -> None:
        self.sent.append(event)


class FakeLinkThread:
    """Runs what the link's thread would run at once."""

    def call(self, func: Any, *args: Any) -> bool:
        func(*args)
        return True


class FakeHost:
    """Stands for the reverse HostSession: records how it was made, started and stopped."""

    made: ClassVar[list[FakeHost]] = []

    def __init__(
        self, server: str, code: Any, *, display: Any, view_only: bool, on_status: Any, **others: Any
    ) -> None:
        self.others = others
        self.server, self.code, self.display, self.view_only = server, code, display, view_only
        self.on_status = on_status
        self.started = threading.Event()
        self.stopped = threading.Event()
        FakeHost.made.append(self)

    def start(self) -> None:
        self.started.set()

    def stop(self, reason: str) -> None:
        self.stop_reason = reason
        self.stopped.set()

    def close(self) -> None:
        pass


def _share() -> tuple[AgentScreenShare, FakeLink, list[Any]]:
    FakeHost.made = []
    link = FakeLink()
    statuses: list[Any] = []
    share = AgentScreenShare(
        link,  # type: ignore[arg-type]
        FakeLinkThread(),  # type: ignore[arg-type]
        "http://relay",
        display=":99",
        on_status=statuses.append,
        open_host=FakeHost,
    )
    return share, link, statuses


def test_nothing_is_captured_before_the_host_accepts_and_never_more_control_than_offered() -> None:
    share, link, _ = _share()
    offer = share.offer(False)
    (sent,) = link.sent
    assert sent.topic == "agent_screen.offer" and parse_offer(sent.data) == offer
    assert FakeHost.made == [] and share.status.state is AgentScreenState.OFFERED
    assert share.handle(ControlMessage("agent_screen.accepted", b"not json"))  # dropped
    assert FakeHost.made == []
    share.handle(accepted_message(offer.id + 1, True))  # another offer's answer
    assert FakeHost.made == []
    share.handle(accepted_message(offer.id, True))  # a host granting control nobody offered
    (host,) = FakeHost.made
    assert host.view_only and host.code == offer.code and host.display == ":99"
    assert host.started.wait(5)
    assert share.status.state is AgentScreenState.SHOWING and not share.status.control
    share.handle(accepted_message(offer.id, True))  # a repeated answer starts nothing more
    assert len(FakeHost.made) == 1


def test_control_only_when_offered_and_accepted() -> None:
    share, _, _ = _share()
    offer = share.offer(True)
    share.handle(accepted_message(offer.id, False))
    assert FakeHost.made[-1].view_only
    share.stop()
    offer = share.offer(True)
    share.handle(accepted_message(offer.id, True))
    assert not FakeHost.made[-1].view_only and share.status.control


def test_refusals_and_stops() -> None:
    share, link, _ = _share()
    offer = share.offer(True)
    other_tool = control(
        "tool.refused", {"id": offer.id, "request": "sysinfo.request", "tool": None, "reason": "x"}
    )
    assert not share.handle(other_tool)  # left to the tools
    assert share.status.state is AgentScreenState.OFFERED
    refusal = {
        "id": offer.id,
        "request": "agent_screen.offer",
        "tool": "agent_screen_control",
        "reason": "off",
    }
    assert share.handle(control("tool.refused", refusal))
    assert share.status.state is AgentScreenState.IDLE and "refused" in share.status.message
    assert FakeHost.made == []

    offer = share.offer(False)
    share.handle(accepted_message(offer.id, False))
    host = FakeHost.made[-1]
    share.handle(stop_message(offer.id + 7, "not this one"))
    assert share.status.state is AgentScreenState.SHOWING
    share.handle(stop_message(offer.id, "bye"))
    assert share.status.state is AgentScreenState.IDLE and "customer closed" in share.status.message
    assert host.stopped.wait(5)

    offer = share.offer(False)
    share.handle(accepted_message(offer.id, False))
    host = FakeHost.made[-1]
    share.stop()
    assert host.stopped.wait(5) and host.stop_reason == "the agent stopped showing the screen"
    assert (link.sent[-1].topic, json.loads(link.sent[-1].data)["id"]) == ("agent_screen.stop", offer.id)

    offer = share.offer(False)
    share.handle(accepted_message(offer.id, False))
    host = FakeHost.made[-1]
    share.close()  # the support session ended
    assert host.stopped.wait(5) and share.status.state is AgentScreenState.IDLE
    share.handle(accepted_message(offer.id, False))
    assert FakeHost.made[-1] is host  # nothing starts after the end


def test_the_agents_capture_stays_on_the_agents_monitor() -> None:
    import numpy as np
    import pytest
    from opensupport.host.capture import CaptureBackend, Monitor, Rect
    from opensupport.host.errors import CaptureError
    from opensupport.viewer.agent_capture import AgentMonitorCapture

    class TwoMonitors(CaptureBackend):
        def __init__(self) -> None:
            self.all = [Monitor(0, "left", 0, 0, 800, 600, True), Monitor(1, "right", 800, 0, 640, 480)]
            self.current = self.all[0]
            self.closed = False

        def monitors(self) -> list[Monitor]:
            return list(self.all)

        @property
        def monitor(self) -> Monitor:
            return self.current

        def select_monitor(self, index: int) -> Monitor:
            self.current = self.all[index]
            return self.current

        def grab(self) -> Any:
            return np.zeros((self.current.height, self.current.width, 4), np.uint8)

        def wait_for_change(self, timeout: float) -> list[Rect]:
            return []

        def close(self) -> None:
            self.closed = True

    backend = TwoMonitors()
    capture = AgentMonitorCapture(backend)
    assert capture.select_monitor(0) == backend.all[0]  # the same monitor: nothing changes
    with pytest.raises(CaptureError):
        capture.select_monitor(1)
    with pytest.raises(CaptureError):
        capture.share_area(Rect(0, 0, 10, 10))
    assert capture.refused == 2 and backend.current == backend.all[0]
    assert capture.grab().shape == (600, 800, 4) and len(capture.monitors()) == 2
    capture.close()
    assert backend.closed
