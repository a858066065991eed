"""The JSON API used by the viewer and the host: tokens, forced login, heartbeat, sessions and reports,
authorization between agents, hosts, administrators and companies. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from adminclient import Client, create_agent
from opensupport.server.bootstrap import add_company
from opensupport.server.db.models import Agent, Department, FaultType, SupportRecord, utcnow
from opensupport.server.security import hash_password
from sqlalchemy import select


def _db(client: Client):
    return client.app.state.db  # type: ignore[attr-defined]


def _login(client: Client, login_id: str = "agent1", password: str = "agent-pass-1", **extra: object):
    return client.post("/api/agent/login", json={"login_id": login_id, "password": password, **extra})


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def agent(admin: Client) -> int:
    return create_agent(admin, "agent1")


def _set_option(client: Client, agent_id: int, key: str, value: bool) -> None:
    with _db(client).session() as s:
        row = s.get(Agent, agent_id)
        row.options = {**row.options, key: value}


def test_login_heartbeat_online_offline(admin: Client, agent: int) -> None:
    response = _login(admin, private_ip="192.168.1.125", pc_name="WONBAE-PC")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["agent"]["login_id"] == "agent1" and body["customer_url"].endswith("/s/agent1")
    assert len(body["options"]) == 40 and body["options"]["force_login"] is True
    token = body["token"]
    status = {a["login_id"]: a for a in admin.get("/manage/remote/agents/status.json").json()["agents"]}
    assert status["agent1"]["online"] is True
    assert status["agent1"]["ip_public"] == "testclient" or status["agent1"]["ip_public"]
    assert status["agent1"]["ip_private"] == "192.168.1.125"
    assert status["agent1"]["last_login_at"] != "0000-00-00 00:00:00"
    assert "온라인" in admin.get("/manage/remote/agents/").text
    # silence longer than the online window: offline
    with _db(admin).session() as s:
        s.get(Agent, agent).last_seen_at = utcnow() - dt.timedelta(seconds=120)
    assert admin.get("/manage/remote/agents/status.json").json()["agents"][0]["online"] is False
    # a heartbeat brings it back
    beat = admin.post("/api/agent/heartbeat", headers=_bearer(token))
    assert beat.status_code == 200 and beat.json()["online"] is True
    assert admin.get("/manage/remote/agents/status.json").json()["agents"][0]["online"] is True
    # logout: offline at once, token dead
    assert admin.post("/api/agent/logout", headers=_bearer(token)).status_code == 200
    assert admin.get("/manage/remote/agents/status.json").json()["agents"][0]["online"] is False
    assert admin.post("/api/agent/heartbeat", headers=_bearer(token)).status_code == 401


def test_wrong_password_unknown_id_and_lockout(admin: Client, agent: int) -> None:
    assert _login(admin, password="wrong-pass").status_code == 401
    assert _login(admin, login_id="nobody").status_code == 401
    assert _login(admin, password="wrong-pass").status_code == 401
    assert _login(admin, password="wrong-pass").status_code == 401
    locked = _login(admin)
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) >= 1


def test_forced_login_on_cuts_off_the_first(admin: Client, agent: int) -> None:
    first = _login(admin).json()["token"]
    with _db(admin).session() as s:
        record = SupportRecord(
            company_id=1, agent_id=agent, agent_login_id="agent1", routing_id="12345678", status="active",
            started_at=utcnow(),
        )  # fmt: skip
        s.add(record)
        s.flush()
        record_id = record.id
    second = _login(admin)
    assert second.status_code == 200
    assert admin.post("/api/agent/heartbeat", headers=_bearer(first)).status_code == 401
    assert admin.post("/api/agent/heartbeat", headers=_bearer(second.json()["token"])).status_code == 200
    with _db(admin).session() as s:
        assert s.get(SupportRecord, record_id).status == "disconnected"  # the cut-off viewer's session


def test_forced_login_off_refuses_the_second(admin: Client, agent: int) -> None:
    _set_option(admin, agent, "force_login", False)
    first = _login(admin).json()["token"]
    second = _login(admin)
    assert second.status_code == 409 and "already logged in" in second.json()["detail"]
    assert admin.post("/api/agent/heartbeat", headers=_bearer(first)).status_code == 200
    # once the first has gone silent, a new login is allowed
    with _db(admin).session() as s:
        s.get(Agent, agent).last_seen_at = utcnow() - dt.timedelta(minutes=5)
    assert _login(admin).status_code == 200


def test_options_reflect_the_admins_changes(admin: Client, agent: int) -> None:
    token = _login(admin).json()["token"]
    options = admin.get("/api/agent/options", headers=_bearer(token)).json()
    assert options["consent_before_connect"] is False and options["auto_control"] is True
    _set_option(admin, agent, "consent_before_connect", True)
    assert admin.get("/api/agent/options", headers=_bearer(token)).json()["consent_before_connect"] is True


def test_session_create_host_report_end_report_rows(admin: Client, agent: int) -> None:
    with _db(admin).session() as s:
        s.add(FaultType(company_id=1, name="프로그램 오류", position=1))
    token = _login(admin, private_ip="192.168.1.125").json()["token"]
    created = admin.post(
        "/api/sessions", json={"pc_name": "WONBAE-PC", "private_ip": "192.168.1.125"}, headers=_bearer(token)
    )
    assert created.status_code == 201, created.text
    session = created.json()
    assert session["routing_id"].isdigit() and len(session["routing_id"]) == 8
    host = _bearer(session["host_token"])
    info = admin.get("/api/host/session", headers=host).json()
    assert info["agent_login_id"] == "agent1" and info["options"]["auto_control"] is True
    report = {
        "customer_name": "홍길동",
        "pc_name": "WIN-SFRKJDT7NP9",
        "os": "Windows 10",
        "private_ip": "192.168.1.243",
    }
    assert admin.post("/api/host/report", json=report, headers=host).status_code == 200
    sid = session["id"]
    assert (
        admin.post(
            f"/api/sessions/{sid}/status", json={"status": "active"}, headers=_bearer(token)
        ).status_code
        == 200
    )
    assert "홍길동" in admin.get("/manage/remote/sessions/").text
    ended = admin.post(f"/api/sessions/{sid}/status", json={"status": "ended"}, headers=_bearer(token))
    assert ended.json()["status"] == "ended" and ended.json()["duration_s"] is not None
    faults = admin.get("/api/fault-types", headers=_bearer(token)).json()
    done = admin.post(
        f"/api/sessions/{sid}/report",
        json={"fault_type_id": faults[0]["id"], "content": "재설치", "resolved": "resolved"},
        headers=_bearer(token),
    )
    assert done.status_code == 200
    with _db(admin).session() as s:
        row = s.get(SupportRecord, sid)
        assert (row.agent_login_id, row.agent_pc_name, row.agent_ip_private) == (
            "agent1",
            "WONBAE-PC",
            "192.168.1.125",
        )
        assert (row.customer_name, row.customer_pc_name, row.customer_os) == (
            "홍길동",
            "WIN-SFRKJDT7NP9",
            "Windows 10",
        )
        assert row.customer_ip_private == "192.168.1.243" and row.customer_ip_public  # the peer address
        assert (row.fault_type_name, row.content, row.resolved) == ("프로그램 오류", "재설치", "resolved")
        assert row.started_at is not None and row.ended_at is not None and row.status == "ended"
        assert row.host_token_hash != session["host_token"]  # only a digest is stored
    # a finished session cannot be reopened, and the host may not report any more
    again = admin.post(f"/api/sessions/{sid}/status", json={"status": "active"}, headers=_bearer(token))
    assert again.status_code == 409
    assert admin.post("/api/host/report", json=report, headers=host).status_code == 409


def test_satisfaction_only_when_the_survey_is_on(admin: Client, agent: int) -> None:
    token = _login(admin).json()["token"]
    session = admin.post("/api/sessions", json={}, headers=_bearer(token)).json()
    host = _bearer(session["host_token"])
    refused = admin.post(
        "/api/host/satisfaction", json={"satisfaction": 5, "comment": "좋아요"}, headers=host
    )
    assert refused.status_code == 409
    _set_option(admin, agent, "satisfaction_survey", True)
    assert admin.post("/api/host/satisfaction", json={"satisfaction": 6}, headers=host).status_code == 422
    assert (
        admin.post(
            "/api/host/satisfaction", json={"satisfaction": 5, "comment": "좋아요"}, headers=host
        ).status_code
        == 200
    )
    assert admin.post("/api/host/satisfaction", json={"satisfaction": 1}, headers=host).status_code == 409
    with _db(admin).session() as s:
        row = s.get(SupportRecord, session["id"])
        assert (row.satisfaction, row.customer_comment) == (5, "좋아요")


def test_host_refusal_is_recorded(admin: Client, agent: int) -> None:
    token = _login(admin).json()["token"]
    session = admin.post("/api/sessions", json={}, headers=_bearer(token)).json()
    response = admin.post(
        "/api/host/status", json={"status": "refused"}, headers=_bearer(session["host_token"])
    )
    assert response.status_code == 200
    with _db(admin).session() as s:
        assert s.get(SupportRecord, session["id"]).status == "refused"


def test_admin_created_session_is_claimed_by_the_viewer(admin: Client, agent: int) -> None:
    admin.submit("/manage/remote/sessions/new", {"agent_id": str(agent)})
    token = _login(admin).json()["token"]
    sessions = admin.post("/api/agent/heartbeat", headers=_bearer(token)).json()["sessions"]
    assert [s["status"] for s in sessions] == ["waiting"]
    claimed = admin.post(f"/api/sessions/{sessions[0]['id']}/claim", headers=_bearer(token))
    assert claimed.status_code == 200 and claimed.json()["routing_id"] == sessions[0]["routing_id"]
    assert admin.get("/api/host/session", headers=_bearer(claimed.json()["host_token"])).status_code == 200
    # the administrator ends it: the viewer sees it
    admin.submit(f"/manage/remote/sessions/{sessions[0]['id']}/end", page="/manage/remote/sessions/")
    assert admin.get(f"/api/sessions/{sessions[0]['id']}", headers=_bearer(token)).json()["status"] == "ended"


def test_silent_active_session_becomes_a_fault_situation(admin: Client, agent: int) -> None:
    token = _login(admin).json()["token"]
    sid = admin.post("/api/sessions", json={}, headers=_bearer(token)).json()["id"]
    admin.post(f"/api/sessions/{sid}/status", json={"status": "active"}, headers=_bearer(token))
    with _db(admin).session() as s:
        s.get(Agent, agent).last_seen_at = utcnow() - dt.timedelta(minutes=10)
    assert "agent1" in admin.get("/manage/remote/faults/").text
    with _db(admin).session() as s:
        assert s.get(SupportRecord, sid).status == "disconnected"


def test_authorization_between_roles_and_companies(admin: Client, agent: int) -> None:
    token = _login(admin).json()["token"]
    session = admin.post("/api/sessions", json={}, headers=_bearer(token)).json()
    # another company's agent
    with _db(admin).session() as s:
        other = add_company(
            s, name="Other", admin_login_id="otheradmin", admin_password="other-pass-1", pc_licences=2
        )
        dept = Department(company_id=other.company_id, name="d")
        s.add(dept)
        s.flush()
        s.add(Agent(company_id=other.company_id, department_id=dept.id, login_id="stranger", name="S",
                    password_hash=hash_password("stranger-pass-1"), options={}))  # fmt: skip
        s.add(FaultType(company_id=other.company_id, name="theirs", position=1))
    stranger = _login(admin, "stranger", "stranger-pass-1").json()["token"]
    assert admin.get(f"/api/sessions/{session['id']}", headers=_bearer(stranger)).status_code == 404
    assert (
        admin.post(
            f"/api/sessions/{session['id']}/status", json={"status": "ended"}, headers=_bearer(stranger)
        ).status_code
        == 404
    )
    assert [f["name"] for f in admin.get("/api/fault-types", headers=_bearer(stranger)).json()] == ["theirs"]
    with _db(admin).session() as s:
        theirs = s.scalar(select(FaultType.id).where(FaultType.name == "theirs"))
    cross = admin.post(
        f"/api/sessions/{session['id']}/report", json={"fault_type_id": theirs}, headers=_bearer(token)
    )
    assert cross.status_code == 422 and cross.json()["detail"] == "unknown fault type"
    # tokens of one kind do not open the other's routes, nor admin pages
    assert admin.get("/api/agent/options", headers=_bearer(session["host_token"])).status_code == 401
    assert admin.get("/api/host/session", headers=_bearer(token)).status_code == 401
    anonymous = Client(admin.app)
    page = anonymous.get("/manage/remote/agents/", headers=_bearer(token), follow_redirects=False)
    assert page.status_code == 303
    assert (
        anonymous.get(
            "/manage/remote/agents/status.json", headers={"Accept": "application/json", **_bearer(token)}
        ).status_code
        == 401
    )
    # the admin cookie does not open agent routes
    assert admin.get("/api/agent/options").status_code == 401


def test_input_validation_gives_422_with_text(admin: Client, agent: int) -> None:
    bad = admin.post("/api/agent/login", json={"login_id": "bad id!", "password": "x"})
    assert bad.status_code == 422 and "pattern" in str(bad.json()["detail"])
    token = _login(admin).json()["token"]
    bad_ip = admin.post("/api/sessions", json={"private_ip": "999.1.1.1"}, headers=_bearer(token))
    assert bad_ip.status_code == 422 and "IPv4 or IPv6" in str(bad_ip.json()["detail"])
    nul = admin.post("/api/sessions", json={"pc_name": "a\x00b"}, headers=_bearer(token))
    assert nul.status_code == 422 and "control characters" in str(nul.json()["detail"])
    huge = admin.get(f"/api/sessions/{2**40}", headers=_bearer(token))
    assert huge.status_code == 422
    assert admin.post("/api/sessions", json={"unknown": 1}, headers=_bearer(token)).status_code == 422


def test_a_restarted_server_closes_sessions_left_open(admin: Client, agent: int, settings) -> None:
    import time

    from opensupport.server.app import create_app

    with _db(admin).session() as s:
        s.get(Agent, agent).last_seen_at = utcnow() - dt.timedelta(hours=1)
        s.get(Agent, agent).token_hash = "x" * 64
        record = SupportRecord(company_id=1, agent_id=agent, agent_login_id="agent1", routing_id="55555555",
                               status="active", started_at=utcnow() - dt.timedelta(hours=1))  # fmt: skip
        s.add(record)
        s.flush()
        record_id = record.id
    restarted = create_app(settings, announce=False)
    with Client(restarted):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with _db(admin).session() as s:
                if s.get(SupportRecord, record_id).status != "active":
                    break
            time.sleep(0.05)
    restarted.state.db.dispose()
    with _db(admin).session() as s:
        row = s.get(SupportRecord, record_id)
        assert row.status == "disconnected" and row.ended_at is not None and row.duration_s >= 3600
