"""The command lines of 상담원 초대: the viewer's ``--join`` and the headless host's ``--invite-consent``."""

from __future__ import annotations

import pytest
from opensupport.host.cli import parse_args as host_args
from opensupport.viewer.cli import parse_args as viewer_args

SERVER = "http://127.0.0.1:8080"


def test_viewer_join_needs_an_agent_and_a_code(capsys: pytest.CaptureFixture[str]) -> None:
    config = viewer_args(["--server", SERVER, "--agent", "guest1", "--join", "12345678-87654321"])
    assert config.join is not None and config.join.routing_id == "12345678"
    assert config.agent == "guest1"
    assert viewer_args(["--server", SERVER, "--agent", "guest1"]).join is None
    with pytest.raises(SystemExit) as no_agent:
        viewer_args(["--server", SERVER, "--join", "12345678-87654321"])
    assert no_agent.value.code == 2 and "--join needs --agent" in capsys.readouterr().err
    with pytest.raises(SystemExit) as bad:
        viewer_args(["--server", SERVER, "--agent", "guest1", "--join", "not a code"])
    assert bad.value.code == 2 and "--join" in capsys.readouterr().err


def test_host_invite_consent_defaults_to_refusal() -> None:
    base = ["--server", SERVER, "--code", "12345678-87654321", "--headless"]
    assert host_args(base)[0].invite_consent is False  # nobody is there to agree
    assert host_args([*base, "--invite-consent", "yes"])[0].invite_consent is True
    assert host_args([*base, "--invite-consent", "no"])[0].invite_consent is False
    with pytest.raises(SystemExit):
        host_args([*base, "--invite-consent", "maybe"])
