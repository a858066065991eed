"""The host's copy of the manual's option defaults, the --options override, and no_control -> view-only."""

from __future__ import annotations

import pytest
from opensupport.host.policy import MANUAL_DEFAULTS, Feature, policy_from_options
from opensupport.protocol import SessionCode


def test_the_copy_matches_the_servers_defaults() -> None:
    from opensupport.server.options import defaults

    server = defaults()
    assert {key: server[key] for key in MANUAL_DEFAULTS} == dict(MANUAL_DEFAULTS)


def test_options_override_the_defaults() -> None:
    policy = policy_from_options({"drawing": False, "no_control": True})
    assert not policy.allows(Feature.DRAWING)
    assert not policy.allows(Feature.CONTROL)
    assert policy.allows(Feature.CHAT)
    assert policy_from_options().allows(Feature.CONTROL)
    with pytest.raises(ValueError, match="true or false"):
        policy_from_options({"drawing": 1})


def test_no_control_makes_the_session_view_only(tmp_path: object) -> None:
    from opensupport.host.session import HostSession

    code = SessionCode.generate()
    session = HostSession("http://127.0.0.1:9", code, policy=policy_from_options({"no_control": True}))
    try:
        assert session.status.view_only
        assert session.tools is not None and session.tools.policy.flag("no_control")
    finally:
        session.tools.close() if session.tools is not None else None
    plain = HostSession("http://127.0.0.1:9", code)
    assert not plain.status.view_only and plain.tools is None
