"""The knobs that decide how soon a killed side's session is closed: the server's online window, sweep
interval and silence period (``Settings.from_env``), the link's resume wait, and the sweep itself on a
real database row."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from opensupport.link import RESUME_TIMEOUT, configured_resume_timeout
from opensupport.server.config import Settings


def settings(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env(tmp_path, environ={"OPENSUPPORT_SECRET_KEY": "k" * 32, **env})


def test_defaults_and_overrides(tmp_path: Path) -> None:
    plain = settings(tmp_path)
    assert (plain.online_window_s, plain.heartbeat_interval_s, plain.silent_after) == (60, 20, 180)
    assert plain.sweep_interval_s == 30.0
    quick = settings(
        tmp_path,
        OPENSUPPORT_ONLINE_WINDOW_S="15",
        OPENSUPPORT_SWEEP_INTERVAL_S="0.5",
        OPENSUPPORT_SILENT_AFTER_S="10",
    )
    assert (quick.online_window_s, quick.heartbeat_interval_s, quick.silent_after) == (15, 5, 10)
    assert quick.sweep_interval_s == 0.5


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("OPENSUPPORT_ONLINE_WINDOW_S", "soon", "not a number"),
        ("OPENSUPPORT_ONLINE_WINDOW_S", "1", "out of range"),
        ("OPENSUPPORT_SWEEP_INTERVAL_S", "nan", "out of range"),
        ("OPENSUPPORT_SWEEP_INTERVAL_S", "0", "out of range"),
        ("OPENSUPPORT_SILENT_AFTER_S", "39", "two heartbeats"),  # 60 s window: heartbeats every 20 s
    ],
)
def test_bad_values_are_refused_naming_the_variable(
    tmp_path: Path, name: str, value: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message) as refused:
        settings(tmp_path, **{name: value})
    assert name in str(refused.value)


def test_the_link_resume_wait() -> None:
    assert configured_resume_timeout({}) == RESUME_TIMEOUT
    assert configured_resume_timeout({"OPENSUPPORT_RESUME_TIMEOUT": "2.5"}) == 2.5
    for bad in ("x", "0.1", "inf", "-3"):
        with pytest.raises(ValueError, match="OPENSUPPORT_RESUME_TIMEOUT"):
            configured_resume_timeout({"OPENSUPPORT_RESUME_TIMEOUT": bad})


def test_the_sweep_closes_an_active_session_of_a_silent_agent_after_the_silence(tmp_path: Path) -> None:
    from opensupport.server.db import Database
    from opensupport.server.db.models import Agent, Company, SupportRecord, utcnow
    from opensupport.server.sessions import close_stale_sessions, create_session, set_status

    db = Database(f"sqlite:///{tmp_path / 'sweep.db'}")
    db.upgrade()
    with db.session() as s:
        company = Company(name="c")
        s.add(company)
        s.flush()
        agent = Agent(company_id=company.id, login_id="a1", name="A", password_hash="x", token_hash="t")
        s.add(agent)
        s.flush()
        record, _token = create_session(s, agent)
        set_status(record, "active")
        agent.last_seen_at = utcnow() - dt.timedelta(seconds=12)
        s.commit()
        assert close_stale_sessions(s, None, 60, silent_after_s=15) == 0  # 12 s of silence: still there
        assert close_stale_sessions(s, None, 60) == 0  # the default: 3 windows
        assert close_stale_sessions(s, None, 60, silent_after_s=10) == 1
        s.commit()
        assert s.get(SupportRecord, record.id).status == "disconnected"  # type: ignore[union-attr]
