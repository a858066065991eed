"""The Quality menu and the status line's quality part: the host's report parsed without trusting it, and
in a real session (a relay process, the real host on Xvfb, the viewer offscreen) the agent's choice reaches
the host's encoder and the host's report reaches the status line. A modified host's bad reports are
ignored."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from opensupport.codec import Quality
from opensupport.link.topics import TOPIC_QUALITY_STATE, QualityMode
from opensupport.viewer.quality import (
    MAX_STATE_SIZE,
    InvalidQualityState,
    QualityState,
    format_quality,
    parse_state,
)


def report(**fields: Any) -> bytes:
    base: dict[str, Any] = {"mode": "auto", "quality": "balanced", "throughput": 1_250_000, "rtt_ms": 12.5}
    return json.dumps({**base, **fields}).encode()


def test_a_report_parses() -> None:
    assert parse_state(report()) == QualityState(QualityMode.AUTO, Quality.BALANCED, 1_250_000.0, 12.5)
    unmeasured = parse_state(report(mode="low", quality="low", throughput=None, rtt_ms=None))
    assert unmeasured == QualityState(QualityMode.LOW, Quality.LOW, None, None)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not json",
        b"\xff\xfe",
        b"[1, 2]",
        b"null",
        b"[" * 100_000,
        report(mode="turbo"),
        report(quality="perfect"),
        report(mode=None),
        report(throughput=-1),
        report(throughput="fast"),
        report(throughput=True),
        report(rtt_ms=[1]),
        b'{"mode": "auto", "quality": "low", "throughput": NaN, "rtt_ms": null}',
        b'{"mode": "auto", "quality": "low", "throughput": Infinity, "rtt_ms": null}',
        report(pad="x" * MAX_STATE_SIZE),
    ],
)
def test_a_bad_report_is_a_typed_error(data: bytes) -> None:
    with pytest.raises(InvalidQualityState):
        parse_state(data)


def test_the_status_line_names_mode_quality_and_link() -> None:
    assert format_quality(None) == "Quality (화질): –"
    assert format_quality(parse_state(report())) == (
        "Automatic (자동): balanced (균형) · link 1.2 MB/s · rtt 12 ms"
    )
    assert format_quality(
        parse_state(report(mode="best", quality="lossless", throughput=None, rtt_ms=None))
    ) == ("Best quality (최고 화질): lossless (무손실) · link –")


def test_the_quality_menu_emits_the_choice_and_shows_the_hosts_report(qapp: Any) -> None:
    from opensupport.viewer.ui.window import ViewerWindow

    window = ViewerWindow()
    try:
        labels = [action.text() for action in window.quality_menu.actions()]
        assert labels == [
            "Automatic (자동)",
            "Best quality (최고 화질)",
            "Balanced (균형)",
            "Low bandwidth (저대역폭)",
        ]
        assert window.quality_actions[QualityMode.AUTO].isChecked()
        chosen: list[QualityMode] = []
        window.quality_mode_chosen.connect(chosen.append)
        window.quality_actions[QualityMode.LOW].trigger()
        assert chosen == [QualityMode.LOW] and window.quality_actions[QualityMode.LOW].isChecked()
        window.set_quality_state(parse_state(report(mode="balanced", quality="balanced")))
        assert window.quality_actions[QualityMode.BALANCED].isChecked()
        assert window.quality_label.text() == "Balanced (균형): balanced (균형) · link 1.2 MB/s · rtt 12 ms"
    finally:
        window.close()
        window.deleteLater()


# -- a real session ---------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(predicate: Callable[[], bool], timeout: float, what: str, qapp: Any) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        qapp.processEvents()
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)


@pytest.fixture(scope="module")
def relay_url() -> Iterator[str]:
    port = _free_port()
    args = [sys.executable, "-m", "opensupport.server.relay", "--port", str(port), "--loop", "asyncio"]
    for setting in ("session_bandwidth=1073741824", "session_burst=268435456", "joins_per_minute=100000"):
        args += ["--set", setting]
    proc = subprocess.Popen(args, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("the relay did not start")
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.xvfb
def test_the_agents_choice_reaches_the_host_and_its_report_the_status_line(
    qapp: Any, xscreen: Any, relay_url: str
) -> None:
    from opensupport.benchmarks.record import PictureWindow, landscape_video
    from opensupport.host.session import HostSession
    from opensupport.protocol import SessionCode
    from opensupport.viewer.session import ViewerSession
    from opensupport.viewer.ui.window import ViewerWindow

    code = SessionCode.generate()
    window = ViewerWindow()
    viewer = ViewerSession(window, relay_url, code, tools=False)
    viewer.start()
    host = HostSession(relay_url, code, display=xscreen.display)
    host.start()
    picture = None
    try:
        _wait(lambda: viewer.link.established and host.status.connected, 20, "the session", qapp)
        _wait(lambda: window.quality_state is not None, 10, "the host's first report", qapp)
        assert window.quality_state is not None and window.quality_state.mode is QualityMode.AUTO
        window.quality_actions[QualityMode.LOW].trigger()
        _wait(lambda: host.budget.budget.mode is QualityMode.LOW, 10, "low mode on the host", qapp)
        # a picture on the screen (the latency benchmark's video): the next frame is encoded at the chosen
        # quality, and is large enough to measure the link by
        picture = PictureWindow(xscreen, 50, 60, 320, 180)
        picture.show(next(landscape_video(320, 180)))
        _wait(lambda: host.budget.applied is Quality.LOW, 10, "the encoder at low quality", qapp)
        _wait(
            lambda: window.quality_label.text().startswith("Low bandwidth (저대역폭): low (낮음) · link "),
            10,
            "the status line",
            qapp,
        )
        assert window.quality_actions[QualityMode.LOW].isChecked()
        # The throughput the host measured is shown once frames were acknowledged.
        _wait(lambda: "link –" not in window.quality_label.text(), 10, "a measured throughput", qapp)
    finally:
        if picture is not None:
            picture.close()
        host.stop()
        host.close()
        viewer.stop()
        window.close()
        window.deleteLater()


@pytest.mark.xvfb
def test_a_modified_hosts_bad_reports_are_ignored(qapp: Any, relay_url: str) -> None:
    from opensupport.link import LinkThread, SessionLink
    from opensupport.protocol import ControlMessage, Role, SessionCode
    from opensupport.viewer.session import ViewerSession
    from opensupport.viewer.ui.window import ViewerWindow

    code = SessionCode.generate()
    window = ViewerWindow()
    viewer = ViewerSession(window, relay_url, code, tools=False)
    viewer.start()
    host = SessionLink(Role.HOST, code, relay_url, lambda event: None)
    host_thread = LinkThread(host, name="modified-host")
    host_thread.start()
    try:
        _wait(lambda: viewer.link.established and host.established, 20, "the session", qapp)
        for bad in (b"{", report(quality="perfect"), report(throughput=-5), b"\x00" * 4000):
            host_thread.call(host.send, ControlMessage(TOPIC_QUALITY_STATE, bad))
        host_thread.call(host.send, ControlMessage(TOPIC_QUALITY_STATE, report(mode="low", quality="low")))
        _wait(lambda: window.quality_state is not None, 10, "the good report", qapp)
        assert window.quality_state == QualityState(QualityMode.LOW, Quality.LOW, 1_250_000.0, 12.5)
        assert (
            window.quality_label.text() == "Low bandwidth (저대역폭): low (낮음) · link 1.2 MB/s · rtt 12 ms"
        )
        assert viewer.link.established and viewer.error is None
    finally:
        host_thread.stop("test done", 3)
        viewer.stop()
        window.close()
        window.deleteLater()
