"""Each host tool over a real protocol session: allowed it works, switched off the host refuses it even
when a modified viewer sends the request itself."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import webbrowser
from pathlib import Path
from typing import Any

import psutil
import pytest
from opensupport.host.policy import Feature, FeatureDisabled
from opensupport.host.tools.support import RECORDING_KEYFRAME_REASON
from opensupport.protocol import (
    ControlMessage,
    DrawingClear,
    DrawingStroke,
    KeyframeRequest,
    Role,
    StrokeShape,
)
from opensupport.tools.drawing import Origin
from opensupport.tools.messages import TOPIC_PROCESS_END, TOPIC_SYSINFO, TOPIC_URL_OPEN, ToolError
from opensupport.tools.processes import EndResult, ProcessTable
from opensupport.tools.urls import DesktopOpener, Favourite, FavouriteKind, Favourites, validate_url
from tools_pair import ToolsPair


class FakeOpener:
    def __init__(self) -> None:
        self.urls: list[str] = []
        self.folders: list[str] = []
        self.programs: list[list[str]] = []

    def open_url(self, url: str) -> None:
        self.urls.append(url)

    def open_folder(self, path: str) -> None:
        self.folders.append(path)

    def run_program(self, argv: Any) -> None:
        self.programs.append(list(argv))


def raw_request(tools: ToolsPair, topic: str, payload: dict[str, Any]) -> list[dict[str, Any]]:
    """What a modified viewer could send: the request without the client's checks; returns the
    control-message payloads the host answered with."""
    return raw_send(tools, ControlMessage(topic, json.dumps(payload).encode()))


def raw_send(tools: ToolsPair, event: Any) -> list[dict[str, Any]]:
    """Send ``event`` from the viewer; the payloads of the host's control-message answers."""
    before = len(tools.pair.events[Role.VIEWER])
    tools.pair.viewer.send(event)
    tools.pump()
    new = tools.pair.events[Role.VIEWER][before:]
    return [json.loads(e.data) for e in new if isinstance(e, ControlMessage)]


def test_the_host_announces_the_allowed_tools() -> None:
    tools = ToolsPair({"system_info": False})
    assert tools.client.allowed is not None
    assert tools.client.allows("process_info")
    assert not tools.client.allows("system_info")


def test_system_info_has_the_real_values() -> None:
    tools = ToolsPair()
    answer, refusal = tools.ask(tools.client.system_info)
    assert refusal is None and answer is not None
    info = answer["info"]
    assert info["memory"]["total"] == psutil.virtual_memory().total
    assert info["cpu"]["logical_cores"] == psutil.cpu_count()
    assert info["os"]["hostname"] == socket.gethostname()
    assert info["boot_time"] == psutil.boot_time()
    assert abs(info["uptime_s"] - (time.time() - psutil.boot_time())) < 60
    root = next(d for d in info["disks"] if d["mountpoint"] == "/") if info["disks"] else None
    if root is not None:
        assert root["total"] == psutil.disk_usage("/").total
    names = {n["name"] for n in info["network"]}
    assert names == set(psutil.net_if_addrs()) or info["truncated"]
    lo = next(n for n in info["network"] if n["name"] == "lo")
    assert {"family": "ipv4", "address": "127.0.0.1", "netmask": "255.0.0.0"} in lo["addresses"]
    assert info["user"] == psutil.Process().username()


def test_system_info_switched_off_is_refused_even_to_a_modified_viewer() -> None:
    tools = ToolsPair({"system_info": False})
    answer, refusal = tools.ask(tools.client.system_info)
    assert answer is None and refusal is not None and "switched off" in refusal
    [reply] = raw_request(tools, TOPIC_SYSINFO, {"id": 77})
    assert reply == {"id": 77, "request": TOPIC_SYSINFO, "tool": "system_info", "reason": refusal}
    assert "info" not in reply


def test_malformed_requests_are_refused_without_reaching_a_tool() -> None:
    tools = ToolsPair()
    for payload in ({}, {"id": -1}, {"id": "x"}, {"id": True}):
        [reply] = raw_request(tools, TOPIC_SYSINFO, payload)
        assert reply["request"] == TOPIC_SYSINFO and "id" in reply["reason"]
    [reply] = raw_send(tools, ControlMessage(TOPIC_SYSINFO, b"\xff not json"))
    assert "not JSON" in reply["reason"]


@pytest.fixture
def sleeper() -> Any:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield proc
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def test_process_list_holds_a_child_and_ending_it_after_confirmation_kills_it(sleeper: Any) -> None:
    tools = ToolsPair()
    rows: list[dict[str, Any]] = []
    for offset in range(0, 100_000, 200):
        answer, refusal = tools.ask(lambda cb, o=offset: tools.client.processes(cb, sort="pid", offset=o))
        assert refusal is None and answer is not None
        rows += answer["processes"]
        if offset + 200 >= answer["total"]:
            break
    pids = [r["pid"] for r in rows]
    assert pids == sorted(pids, reverse=True)
    child = next(r for r in rows if r["pid"] == sleeper.pid)
    assert child["name"].startswith("python")
    assert child["rss"] == pytest.approx(psutil.Process(sleeper.pid).memory_info().rss, rel=0.5)
    by_memory, _ = tools.ask(lambda cb: tools.client.processes(cb, sort="memory", limit=20))
    assert by_memory is not None
    rss = [r["rss"] for r in by_memory["processes"]]
    assert rss == sorted(rss, reverse=True) and len(rss) == min(20, by_memory["total"])

    got: list[Any] = []
    pending = tools.client.prepare_end(child, lambda a, r: got.append((a, r)))
    assert str(sleeper.pid) in pending.question
    tools.pump()
    assert sleeper.poll() is None and got == []  # nothing is sent before the agent confirms
    pending.confirm()
    tools.pump()
    [(answer, refusal)] = got
    assert answer == {
        "id": answer["id"],
        "pid": sleeper.pid,
        "ended": True,
        "error": None,
        "exit_code": -signal.SIGTERM,
    }
    assert not psutil.pid_exists(sleeper.pid)


def test_ending_pid_1_the_host_itself_or_a_reused_pid_is_refused(sleeper: Any) -> None:
    tools = ToolsPair()
    for pid, create_time, why in (
        (1, None, "PID 1"),
        (os.getpid(), None, "itself"),
        (sleeper.pid, 12345.0, "another process"),
    ):
        [reply] = raw_request(
            tools,
            TOPIC_PROCESS_END,
            {"id": 5, "pid": pid, **({"create_time": create_time} if create_time else {})},
        )
        assert reply["ended"] is False and why in reply["error"]
    assert sleeper.poll() is None


def test_process_info_switched_off_is_refused_and_nothing_is_ended(sleeper: Any) -> None:
    tools = ToolsPair({"process_info": False})
    answer, refusal = tools.ask(tools.client.processes)
    assert answer is None and refusal is not None
    [reply] = raw_request(tools, TOPIC_PROCESS_END, {"id": 3, "pid": sleeper.pid})
    assert reply["tool"] == "process_info" and "switched off" in reply["reason"]
    time.sleep(0.2)
    assert sleeper.poll() is None


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("javascript:alert(1)", "only http"),
        ("file:///etc/passwd", "only http"),
        ("https://bank.example@evil.example/", "user name"),
        ("http:///path", "no host"),
        ("https://exa mple.com", "blanks"),
        ("https://example.com/\n", None),  # surrounding blanks are stripped, not refused
        ("https://example.com:99999/", "does not parse"),
        ("https://" + "a" * 2100 + ".com", "longer than"),
    ],
)
def test_url_validation(url: str, why: str | None) -> None:
    if why is None:
        assert validate_url(url) == url.strip()
        return
    with pytest.raises(ToolError, match=why):
        validate_url(url)


def test_url_opens_through_the_opener_and_not_when_switched_off() -> None:
    opener = FakeOpener()
    tools = ToolsPair(opener=opener)
    answer, _ = tools.ask(lambda cb: tools.client.open_url(" https://example.com/도움말?q=1 ", cb))
    assert answer is not None and answer["opened"] is True
    assert opener.urls == ["https://example.com/도움말?q=1"]
    [reply] = raw_request(tools, TOPIC_URL_OPEN, {"id": 9, "url": "file:///etc/passwd"})
    assert "only http" in reply["reason"] and opener.urls == ["https://example.com/도움말?q=1"]

    off = ToolsPair({"send_url": False}, opener=opener)
    [reply] = raw_request(off, TOPIC_URL_OPEN, {"id": 1, "url": "https://example.com/"})
    assert reply["tool"] == "send_url" and len(opener.urls) == 1


def test_url_opens_in_a_real_registered_browser(tmp_path: Path) -> None:
    out = tmp_path / "opened.txt"
    script = tmp_path / "browser.sh"
    script.write_text(f'#!/bin/sh\nprintf %s "$1" > {out}.tmp && mv {out}.tmp {out}\n')
    script.chmod(0o755)
    webbrowser.register("opensupport-test-browser", None, webbrowser.GenericBrowser([str(script), "%s"]))
    tools = ToolsPair(opener=DesktopOpener("opensupport-test-browser"))
    answer, refusal = tools.ask(lambda cb: tools.client.open_url("https://example.com/a?b=c&d=e", cb))
    assert refusal is None and answer is not None
    deadline = time.monotonic() + 10
    while not out.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert out.read_text() == "https://example.com/a?b=c&d=e"


def test_favourites_open_only_what_the_list_holds(tmp_path: Path) -> None:
    marker = tmp_path / "started"
    opener = FakeOpener()
    entries = [
        Favourite(1, FavouriteKind.URL, "Help desk", "https://help.example.com/"),
        Favourite(2, FavouriteKind.FOLDER, "Temp", str(tmp_path)),
        Favourite(3, FavouriteKind.PROGRAM, "Touch", "touch", (str(marker),)),
        Favourite(4, FavouriteKind.FOLDER, "Gone", str(tmp_path / "nope")),
    ]
    tools = ToolsPair(opener=opener, favourites=Favourites(entries, opener))
    for fid in (1, 2, 3):
        answer, refusal = tools.ask(lambda cb, f=fid: tools.client.open_favourite(f, cb))
        assert refusal is None and answer is not None and answer["favourite"] == fid
    assert opener.urls == ["https://help.example.com/"]
    assert opener.folders == [str(tmp_path)]
    assert opener.programs == [["/usr/bin/touch", str(marker)]]
    _, refusal = tools.ask(lambda cb: tools.client.open_favourite(4, cb))
    assert refusal is not None and "does not exist" in refusal
    # a modified viewer naming a program of its own gets nothing: only the id counts
    [reply] = raw_request(tools, "favourite.open", {"id": 8, "favourite": 99, "target": "/bin/sh"})
    assert "not in this agent's list" in reply["reason"]
    assert len(opener.programs) == 1
    # and the real program favourite really starts the program
    real = Favourites(entries, DesktopOpener())
    real.open(3)
    deadline = time.monotonic() + 10
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert marker.exists()


def test_favourites_switched_off_are_refused() -> None:
    opener = FakeOpener()
    favs = Favourites([Favourite(1, FavouriteKind.URL, "x", "https://x.example/")], opener)
    tools = ToolsPair({"favourites": False}, opener=opener, favourites=favs)
    _, refusal = tools.ask(lambda cb: tools.client.open_favourite(1, cb))
    assert refusal is not None and opener.urls == []


def test_favourite_entries_are_checked() -> None:
    with pytest.raises(ToolError):
        Favourite(1, FavouriteKind.URL, "bad", "javascript:alert(1)")
    with pytest.raises(ToolError):
        Favourite(1, FavouriteKind.FOLDER, "bad", "/tmp", ("-x",))
    entry = Favourite.from_json({"id": 5, "kind": "program", "label": "Calc", "target": "gnome-calculator"})
    assert Favourite.from_json(entry.to_json()) == entry
    with pytest.raises(ToolError):
        Favourite.from_json({"id": 5, "kind": "shell", "label": "x", "target": "rm"})


def test_drawing_strokes_round_trip_both_ways() -> None:
    tools = ToolsPair()
    builder = tools.viewer_drawing.builder
    builder.shape = StrokeShape.PEN
    tools.viewer_drawing.draw(builder.begin(10, 10))
    tools.viewer_drawing.draw(builder.move(20, 15))
    tools.viewer_drawing.draw(builder.end(30, 40))
    builder.shape = StrokeShape.ARROW
    tools.viewer_drawing.draw(builder.begin(100, 100))
    tools.viewer_drawing.draw(builder.end(200, 150))
    tools.viewer_drawing.draw(builder.text(5, 5, "여기"))
    tools.pump()
    host = tools.host_tools.drawing.strokes()
    assert [s for _, s in host] == [s for _, s in tools.viewer_drawing.drawing.strokes()]
    assert [s.points for _, s in host] == [
        ((10, 10), (20, 15), (30, 40)),
        ((100, 100), (200, 150)),
        ((5, 5),),
    ]
    assert {o for o, _ in host} == {Origin.AGENT}
    # the customer draws back (two-way drawing is on by default)
    mine = DrawingStroke(1, 0x00FF00FF, 3, ((1, 1), (50, 50)), StrokeShape.RECTANGLE)
    tools.pair.host.send(tools.host_tools.customer_draw(mine))
    tools.pump()
    assert (Origin.CUSTOMER, mine) in tools.viewer_drawing.drawing.strokes()
    assert len(tools.host_tools.drawing) == 4
    tools.viewer_drawing.clear()
    tools.pump()
    assert len(tools.host_tools.drawing) == 0 and len(tools.viewer_drawing.drawing) == 0


def test_drawing_switched_off_draws_nothing_on_the_host() -> None:
    tools = ToolsPair({"drawing": False, "two_way_drawing": False})
    [refusal] = raw_send(tools, DrawingStroke(1, 0xFF0000FF, 3, ((0, 0), (5, 5))))
    assert len(tools.host_tools.drawing) == 0
    assert refusal["tool"] == "drawing"
    with pytest.raises(Exception, match="two way drawing is switched off"):
        tools.host_tools.customer_draw(DrawingStroke(1, 0, 1, ((0, 0),)))
    tools.host_tools.customer_draw(DrawingClear())  # the customer may always clear their own screen


def test_capture_notices_and_recording_keyframes() -> None:
    notices: list[str] = []
    tools = ToolsPair(on_notice=notices.append)
    answer, _ = tools.ask(lambda cb: tools.client.capture("recording", True, cb))
    assert answer is not None and answer["active"] is True and tools.host_tools.recording
    assert notices == ["The agent is recording the screen"]
    assert tools.host_tools.keyframe_allowed(KeyframeRequest(RECORDING_KEYFRAME_REASON))
    off = ToolsPair({"screen_recording": False, "screen_capture": False})
    for kind in ("recording", "screenshot"):
        _, refusal = off.ask(lambda cb, k=kind: off.client.capture(k, True, cb))
        assert refusal is not None and "switched off" in refusal
    assert not off.host_tools.keyframe_allowed(KeyframeRequest(RECORDING_KEYFRAME_REASON))
    assert off.host_tools.keyframe_allowed(KeyframeRequest("decode failed"))
    assert Feature.SCREEN_RECORDING not in off.policy.allowed


def test_a_process_of_another_user_is_not_ended_unless_allowed() -> None:
    if os.geteuid() != 0:
        pytest.fail("this test starts a process as user 'nobody' and needs root (as make test runs)")
    other = subprocess.Popen(["sleep", "120"], user="nobody", cwd="/")
    try:
        tools = ToolsPair()
        [reply] = raw_request(tools, TOPIC_PROCESS_END, {"id": 1, "pid": other.pid})
        assert reply["ended"] is False and "another user" in reply["error"]
        time.sleep(0.2)
        assert other.poll() is None
        tools.host_tools.processes.allow_other_users = True
        [reply] = raw_request(tools, TOPIC_PROCESS_END, {"id": 2, "pid": other.pid})
        assert reply["ended"] is True and not psutil.pid_exists(other.pid)
    finally:
        if other.poll() is None:
            other.kill()
        other.wait()


def test_customer_drawing_needs_both_options() -> None:
    stroke = DrawingStroke(1, 0xFF, 1, ((0, 0),))
    only_two_way = ToolsPair({"drawing": False, "two_way_drawing": True})
    with pytest.raises(FeatureDisabled, match=r"^drawing is switched off"):
        only_two_way.host_tools.customer_draw(stroke)
    assert len(only_two_way.host_tools.drawing) == 0
    agent_only = ToolsPair({"drawing": True, "two_way_drawing": False})
    with pytest.raises(FeatureDisabled, match=r"^two way drawing is switched off"):
        agent_only.host_tools.customer_draw(stroke)
    # the agent still draws
    assert raw_send(agent_only, stroke) == [] and len(agent_only.host_tools.drawing) == 1


def test_url_opens_through_xdg_open_with_the_customers_default_browser(tmp_path: Path) -> None:
    if shutil.which("xdg-open") is None:
        pytest.fail("xdg-open is missing: install xdg-utils")
    out = tmp_path / "opened.txt"
    script = tmp_path / "browser.sh"
    script.write_text(f'#!/bin/sh\nprintf %s "$1" > {out}.tmp && mv {out}.tmp {out}\n')
    script.chmod(0o755)
    # no desktop environment: xdg-open hands the URL to $BROWSER, the customer's chosen browser
    env = {"PATH": os.environ["PATH"], "BROWSER": str(script), "HOME": str(tmp_path)}
    tools = ToolsPair(opener=DesktopOpener(env=env))
    answer, refusal = tools.ask(lambda cb: tools.client.open_url("https://example.com/x?y=1", cb))
    assert refusal is None and answer is not None
    deadline = time.monotonic() + 10
    while not out.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert out.read_text() == "https://example.com/x?y=1"


class RecordingTable(ProcessTable):
    """Never ends anything: the fuzz test must not send SIGTERM to real processes."""

    def __init__(self) -> None:
        super().__init__()
        self.ended: list[int] = []

    def end(self, pid: int, create_time: float | None) -> Any:
        self.ended.append(pid)
        return EndResult(pid, False, "fuzz")


def test_any_request_gets_exactly_one_answer_and_never_an_exception() -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from opensupport.host.policy import HostPolicy
    from opensupport.host.tools.support import HostTools
    from opensupport.server.options import defaults
    from opensupport.tools.messages import TOOL_TOPICS

    values = st.one_of(
        st.none(), st.booleans(), st.integers(-(2**60), 2**60), st.floats(), st.text(max_size=30),
        st.lists(st.integers(), max_size=3),
    )  # fmt: skip
    keys = st.sampled_from(["id", "pid", "url", "favourite", "kind", "active", "sort", "offset", "limit",
                            "descending", "create_time"])  # fmt: skip
    payload = st.one_of(
        st.dictionaries(keys, values, max_size=6).map(lambda d: json.dumps(d).encode()),
        st.binary(max_size=40),
    )
    opener = FakeOpener()
    table = RecordingTable()

    @given(topic=st.sampled_from(sorted(TOOL_TOPICS)), data=payload, on=st.booleans())
    @settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    def check(topic: str, data: bytes, on: bool) -> None:
        options = {**defaults(), "system_info": on, "process_info": on, "send_url": on}
        tools = HostTools(HostPolicy(options), processes=table, opener=opener)
        replies = tools.handle(ControlMessage(topic, data))
        assert replies is not None and len(replies) == 1 and isinstance(replies[0], ControlMessage)
        json.loads(replies[0].data)

    check()
    assert all(url.startswith(("http://", "https://")) for url in opener.urls)
