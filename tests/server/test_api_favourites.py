"""즐겨찾기: the agent's favourites in its profile, the host's copy, validation and the audit log; on SQLite
and PostgreSQL. The host side's use of the list is tested in tests/tools."""

from __future__ import annotations

from adminclient import Client, create_agent
from opensupport.server.db.models import Agent, AuditLog
from opensupport.tools.urls import Favourite, FavouriteKind
from sqlalchemy import select

ENTRIES = [
    {"kind": "url", "label": "도움말", "target": "https://help.example.com/faq"},
    {"kind": "program", "label": "Calculator", "target": "gnome-calculator", "args": ["--mode", "basic"]},
    {"kind": "folder", "label": "Downloads", "target": "~/Downloads"},
]


def _token(client: Client, login_id: str) -> dict[str, str]:
    response = client.post("/api/agent/login", json={"login_id": login_id, "password": "agent-pass-1"})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def test_favourites_live_in_the_profile_and_reach_the_host(admin: Client) -> None:
    agent_id = create_agent(admin, "agent1")
    create_agent(admin, "agent2")
    agent = _token(admin, "agent1")
    assert admin.get("/api/agent/favourites", headers=agent).json() == []
    saved = admin.put("/api/agent/favourites", json=ENTRIES, headers=agent)
    assert saved.status_code == 200, saved.text
    listed = admin.get("/api/agent/favourites", headers=agent).json()
    assert listed == saved.json()
    assert [{k: v for k, v in e.items() if k != "id"} for e in listed] == [
        {**e, "args": e.get("args", [])} for e in ENTRIES
    ]
    # the host of one of the agent's sessions gets the same list, which the host's tools accept as is
    session = admin.post("/api/sessions", json={}, headers=agent).json()
    host = {"Authorization": f"Bearer {session['host_token']}"}
    for_host = admin.get("/api/host/favourites", headers=host).json()
    assert for_host == listed
    parsed = [Favourite.from_json(e) for e in for_host]
    assert parsed[1].kind is FavouriteKind.PROGRAM and parsed[1].args == ("--mode", "basic")
    # another agent sees its own (empty) list; a host token opens no agent route and vice versa
    assert admin.get("/api/agent/favourites", headers=_token(admin, "agent2")).json() == []
    assert admin.get("/api/agent/favourites", headers=host).status_code == 401
    assert admin.get("/api/host/favourites", headers=agent).status_code == 401
    # the agent's favourites option off: the host gets nothing to open
    with admin.app.state.db.session() as s:  # type: ignore[attr-defined]
        row = s.get(Agent, agent_id)
        row.options = {**row.options, "favourites": False}
    assert admin.get("/api/host/favourites", headers=host).json() == []
    # a replacement is audited with its program entries
    with admin.app.state.db.session() as s:  # type: ignore[attr-defined]
        log = s.scalars(select(AuditLog).where(AuditLog.action == "agent.favourites")).all()
    assert len(log) == 1 and "gnome-calculator" in log[0].detail and log[0].actor == "agent1"
    # replacing with an empty list clears it
    assert admin.put("/api/agent/favourites", json=[], headers=agent).json() == []


def test_bad_favourites_are_refused_and_nothing_is_lost(admin: Client) -> None:
    create_agent(admin, "agent1")
    agent = _token(admin, "agent1")
    assert admin.put("/api/agent/favourites", json=ENTRIES[:1], headers=agent).status_code == 200
    for bad in (
        [{"kind": "url", "label": "x", "target": "javascript:alert(1)"}],
        [{"kind": "url", "label": "x", "target": "https://user@evil.example/"}],
        [{"kind": "folder", "label": "x", "target": "/tmp", "args": ["-x"]}],
        [{"kind": "shell", "label": "x", "target": "rm"}],
        [{"kind": "program", "label": "x\x00", "target": "ls"}],
        [{"kind": "program", "label": "x", "target": ""}],
        [ENTRIES[0]] * 201,
        [{**ENTRIES[0], "extra": 1}],
    ):
        response = admin.put("/api/agent/favourites", json=bad, headers=agent)
        assert response.status_code == 422, (bad, response.text)
    listed = admin.get("/api/agent/favourites", headers=agent).json()
    assert [e["target"] for e in listed] == [ENTRIES[0]["target"]]
