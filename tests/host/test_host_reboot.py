"""The host's restart preparation (host/reboot.py): the credential and the XDG autostart entry on disk,
their one use, the refusals. The live restart is in tests/integration/test_reboot.py."""

from __future__ import annotations

import json
import os
import shlex
import threading
from pathlib import Path
from typing import Any

import pytest
from opensupport.host.policy import policy_from_options
from opensupport.host.reboot import (
    HostReboot,
    RebootError,
    autostart_entry,
    comeback_argv,
    consume_comeback,
    restart_args,
    write_comeback,
)
from opensupport.protocol import ControlMessage, SessionCode


@pytest.fixture(autouse=True)
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "config home"  # a blank in the path: the Exec line must quote it
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    return home


def _exec(entry: Path) -> list[str]:
    line = next(x for x in entry.read_text().splitlines() if x.startswith("Exec="))
    return [a.replace("%%", "%") for a in shlex.split(line[5:])]


def test_write_then_consume_once(config_home: Path) -> None:
    code = SessionCode.generate()
    args = ["--server", "https://h.example/100%", "--headless", "--comment", "it's $HOME"]
    credential, entry = write_comeback(code, args, python="/opt/py thon/bin/python3")
    assert entry == config_home / "autostart" / "opensupport-comeback.desktop" == autostart_entry()
    assert _exec(entry) == [
        "/opt/py thon/bin/python3",
        "-m",
        "opensupport",
        "host",
        "--comeback",
        str(credential),
    ]
    assert code.secret not in entry.read_text()
    assert credential.stat().st_mode & 0o777 == 0o600 and credential.parent.stat().st_mode & 0o777 == 0o700
    argv = comeback_argv(["--comeback", str(credential)])
    assert argv == [*args, "--code", f"{code.routing_id}-{code.secret}"]
    assert not credential.exists() and not entry.exists()
    with pytest.raises(RebootError, match="not there"):
        comeback_argv(["--comeback", str(credential)])


def test_a_second_restart_replaces_the_first() -> None:
    first, _ = write_comeback(SessionCode.generate(), ["--headless"])
    second, entry = write_comeback(SessionCode.generate(), ["--headless"])
    assert not first.exists() and second.exists()
    assert _exec(entry)[-1] == str(second)


def test_expired_credential_is_refused_and_gone() -> None:
    credential, entry = write_comeback(SessionCode.generate(), ["--headless"], timeout=5)
    with pytest.raises(RebootError, match="expired"):
        consume_comeback(credential, now=json.loads(credential.read_text())["expires_at"] + 1)
    assert not credential.exists() and not entry.exists()


def test_a_file_others_can_read_or_a_link_is_refused(tmp_path: Path) -> None:
    credential, _ = write_comeback(SessionCode.generate(), ["--headless"])
    os.chmod(credential, 0o644)
    with pytest.raises(RebootError, match="private"):
        consume_comeback(credential)
    os.chmod(credential, 0o600)
    link = tmp_path / "link.json"
    link.symlink_to(credential)
    with pytest.raises(RebootError, match="private"):
        consume_comeback(link)
    assert credential.exists()  # not ours to delete through a link


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        json.dumps({"code": "nope", "args": [], "expires_at": 9e12}),
        json.dumps({"code": "ABC-12345678", "args": ["--code", "X-1"], "expires_at": 9e12}),
        json.dumps({"code": "ABC-12345678", "args": [1], "expires_at": 9e12}),
        json.dumps({"code": "ABC-12345678", "args": []}),
    ],
)
def test_malformed_credentials_are_refused(tmp_path: Path, body: str) -> None:
    path = tmp_path / "c.json"
    path.write_text(body)
    os.chmod(path, 0o600)
    with pytest.raises(RebootError, match="malformed"):
        consume_comeback(path)
    assert not path.exists()


def test_comeback_takes_nothing_else_and_args_lose_the_code() -> None:
    with pytest.raises(RebootError):
        comeback_argv(["--comeback", "x", "--headless"])
    assert comeback_argv(["--server", "s"]) == ["--server", "s"]
    assert restart_args(["--server", "s", "--code", "A-12345678", "--code=B-1", "-v"]) == [
        "--server",
        "s",
        "-v",
    ]


class _Sent:
    def __init__(self) -> None:
        self.events: list[Any] = []
        self.done = threading.Event()

    def __call__(self, event: Any) -> None:
        self.events.append(event)
        self.done.set()

    def body(self) -> tuple[str, dict[str, Any]]:
        assert self.done.wait(10)
        event = self.events[0]
        return event.topic, json.loads(event.data)


def _request(code: str = "ABCDEF-12345678", request_id: int = 5) -> ControlMessage:
    return ControlMessage("reboot.request", json.dumps({"id": request_id, "code": code}).encode())


@pytest.mark.parametrize(
    ("options", "args", "code", "reason"),
    [
        (None, ["--headless"], "ABCDEF-12345678", "not known yet"),
        ({"auto_reconnect": False}, ["--headless"], "ABCDEF-12345678", "switched off"),
        ({}, None, "ABCDEF-12345678", "command line"),
        ({}, ["--headless"], "ABCDEF-1234", "bad comeback code"),
    ],
)
def test_refusals_are_typed(options: Any, args: Any, code: str, reason: str, config_home: Path) -> None:
    sent = _Sent()
    policy = None if options is None else policy_from_options(options)
    assert HostReboot(args, command=["true"]).handle(_request(code), policy, sent)
    topic, body = sent.body()
    assert topic == "tool.refused" and body["tool"] == "auto_reconnect" and body["id"] == 5
    assert reason in body["reason"]
    assert not config_home.exists()


def test_a_failing_restart_command_removes_the_entry(config_home: Path) -> None:
    sent = _Sent()
    reboot = HostReboot(["--headless"], command=["sh", "-c", "echo no permission >&2; exit 3"])
    assert reboot.handle(_request(), policy_from_options({}), sent)
    topic, body = sent.body()
    assert topic == "reboot.result" and body["mode"] == "auto"
    assert "exit 3" in body["error"] and "no permission" in body["error"]
    assert not autostart_entry().exists()
    assert list((config_home / "opensupport" / "comeback").iterdir()) == []


def test_other_events_are_not_taken() -> None:
    assert not HostReboot(["--headless"]).handle(ControlMessage("tool.x", b"{}"), None, lambda e: None)


def test_manual_reboot_asks_the_customer_and_runs_nothing(config_home: Path, tmp_path: Path) -> None:
    sent, asked = _Sent(), []
    ran = tmp_path / "ran"
    reboot = HostReboot(["--headless"], command=["touch", str(ran)], ask_restart=asked.append)
    assert reboot.handle(_request(), policy_from_options({"manual_reboot": True}), sent)
    topic, body = sent.body()
    assert topic == "reboot.result" and body["mode"] == "manual" and body["error"] is None
    assert asked and "restart this PC now" in asked[0]
    assert not ran.exists()
    assert autostart_entry().exists()  # kept for the customer's restart
    credential = Path(_exec(autostart_entry())[-1])
    assert json.loads(credential.read_text())["code"] == "ABCDEF-12345678"


def test_an_unwritable_config_home_is_reported_not_rebooted(config_home: Path, tmp_path: Path) -> None:
    config_home.write_text("a file where the folder should be")
    sent = _Sent()
    ran = tmp_path / "ran"
    assert HostReboot(["--headless"], command=["touch", str(ran)]).handle(
        _request(), policy_from_options({}), sent
    )
    topic, body = sent.body()
    assert topic == "reboot.result" and "could not be written" in body["error"]
    assert not ran.exists()  # no restart without the way back


def test_a_fifo_or_a_huge_file_is_refused_without_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo, 0o600)
    with pytest.raises(RebootError, match="private"):
        consume_comeback(fifo)  # opened without blocking for a writer, then refused
    huge = tmp_path / "huge.json"
    huge.write_text(" " * (2 << 20) + "{}")
    os.chmod(huge, 0o600)
    with pytest.raises(RebootError, match="too large"):
        consume_comeback(huge)
    assert not huge.exists()
