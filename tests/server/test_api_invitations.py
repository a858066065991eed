"""상담원 초대 on the server: who may invite, who may join, the host's consent, leaving, the session's end,
and the rows kept. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from adminclient import Client, create_agent
from opensupport.server.bootstrap import add_company
from opensupport.server.db.models import Agent, SessionInvitation, SupportRecord
from opensupport.server.security import hash_password


def _db(client: Client):
    return client.app.state.db  # type: ignore[attr-defined]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _login(client: Client, login_id: str) -> dict[str, str]:
    response = client.post("/api/agent/login", json={"login_id": login_id, "password": "agent-pass-1"})
    assert response.status_code == 200, response.text
    return _bearer(response.json()["token"])


def _set_option(client: Client, login_id: str, key: str, value: bool) -> None:
    from sqlalchemy import select

    with _db(client).session() as s:
        row = s.scalar(select(Agent).where(Agent.login_id == login_id))
        row.options = {**row.options, key: value}


@pytest.fixture
def agents(admin: Client) -> tuple[dict[str, str], dict[str, str], dict[str, str], int, str]:
    """The session's agent, a colleague, a third agent; an active session and its host token."""
    for login_id in ("inviter", "guest", "third"):
        create_agent(admin, login_id)
    inviter, guest, third = (_login(admin, a) for a in ("inviter", "guest", "third"))
    created = admin.post("/api/sessions", json={}, headers=inviter).json()
    return inviter, guest, third, int(created["id"]), created["host_token"]


def _activate(client: Client, record_id: int, agent: dict[str, str]) -> None:
    response = client.post(f"/api/sessions/{record_id}/status", json={"status": "active"}, headers=agent)
    assert response.status_code == 200, response.text


def test_invite_join_consent_leave_rows(admin: Client, agents: tuple) -> None:
    inviter, guest, _third, record_id, host_token = agents
    host = _bearer(host_token)
    # only a running session invites
    refused = admin.post(f"/api/sessions/{record_id}/invitations", json={}, headers=inviter)
    assert refused.status_code == 409 and "waiting" in refused.json()["detail"]
    _activate(admin, record_id, inviter)
    created = admin.post(
        f"/api/sessions/{record_id}/invitations", json={"control": True, "invitee": "guest"}, headers=inviter
    )
    assert created.status_code == 201, created.text
    inv = created.json()
    assert inv["status"] == "pending" and inv["control"] is True and inv["invitee_login_id"] == "guest"
    assert inv["routing_id"].isdigit() and len(inv["routing_id"]) == 8
    # the guest sees it among its open invitations
    listed = admin.get("/api/invitations", headers=guest).json()
    assert [i["id"] for i in listed] == [inv["id"]]
    # the host reads it with its own token, and answers for the customer
    seen = admin.get(f"/api/host/invitations/{inv['id']}", headers=host)
    assert seen.status_code == 200 and seen.json()["routing_id"] == inv["routing_id"]
    joined = admin.post("/api/invitations/join", json={"routing_id": inv["routing_id"]}, headers=guest)
    assert joined.status_code == 200, joined.text
    assert joined.json()["joined_login_id"] == "guest" and joined.json()["status"] == "joined"
    accepted = admin.post(f"/api/host/invitations/{inv['id']}/consent", json={"accepted": True}, headers=host)
    assert accepted.status_code == 200 and accepted.json()["consent"] == "accepted"
    again = admin.post(f"/api/host/invitations/{inv['id']}/consent", json={"accepted": False}, headers=host)
    assert again.status_code == 409  # the customer's answer is final
    left = admin.post(f"/api/invitations/{inv['id']}/leave", headers=guest)
    assert left.status_code == 200 and left.json()["status"] == "left"
    with _db(admin).session() as s:
        row = s.get(SessionInvitation, inv["id"])
        assert (row.joined_login_id, row.joined_name, row.consent) == (
            "guest",
            "Koino",
            "accepted",
        )  # the agent form's name
        assert row.joined_at is not None and row.left_at is not None and row.ended_at is not None
        assert row.left_at >= row.joined_at
        assert s.get(SupportRecord, record_id).status == "active"  # the session goes on
    listing = admin.get(f"/api/sessions/{record_id}/invitations", headers=inviter).json()
    assert [(i["joined_login_id"], i["status"]) for i in listing] == [("guest", "left")]
    assert admin.post(
        f"/api/sessions/{record_id}/status", json={"status": "ended"}, headers=inviter
    ).is_success
    page = admin.get(f"/manage/records/{record_id}").text  # a finished record's detail page
    assert "초대된 상담원" in page and "guest (Koino)" in page and "제어 · " in page


def test_who_may_invite_and_join(admin: Client, agents: tuple) -> None:
    inviter, guest, third, record_id, host_token = agents
    _activate(admin, record_id, inviter)
    # another agent cannot invite into a session that is not its own
    assert admin.post(f"/api/sessions/{record_id}/invitations", json={}, headers=guest).status_code == 404
    assert admin.post(f"/api/sessions/{record_id}/invitations", json={}).status_code == 401
    # 상담원 초대 off: refused outright
    _set_option(admin, "inviter", "invite_agent", False)
    off = admin.post(f"/api/sessions/{record_id}/invitations", json={}, headers=inviter)
    assert off.status_code == 403 and "switched off" in off.json()["detail"]
    _set_option(admin, "inviter", "invite_agent", True)
    bad = admin.post(f"/api/sessions/{record_id}/invitations", json={"invitee": "inviter"}, headers=inviter)
    assert bad.status_code == 422
    assert (
        admin.post(f"/api/sessions/{record_id}/invitations", json={"invitee": "nobody"}, headers=inviter)
    ).status_code == 422
    inv = admin.post(
        f"/api/sessions/{record_id}/invitations", json={"invitee": "guest"}, headers=inviter
    ).json()
    rid = inv["routing_id"]
    # named for another agent; the inviting agent cannot join its own session
    assert admin.post("/api/invitations/join", json={"routing_id": rid}, headers=third).status_code == 403
    assert admin.post("/api/invitations/join", json={"routing_id": rid}, headers=inviter).status_code == 409
    assert admin.get("/api/invitations", headers=third).json() == []
    # an agent of another company does not find it
    with _db(admin).session() as s:
        other = add_company(s, name="Other", admin_login_id="otheradmin", admin_password="other-pass-1")
        s.add(
            Agent(
                company_id=other.company_id, login_id="stranger", name="S",
                password_hash=hash_password("agent-pass-1"),
            )
        )  # fmt: skip
    stranger = _login(admin, "stranger")
    assert admin.post("/api/invitations/join", json={"routing_id": rid}, headers=stranger).status_code == 404
    # a host token of another session does not read it
    other_session = admin.post("/api/sessions", json={}, headers=third).json()
    foreign = _bearer(other_session["host_token"])
    assert admin.get(f"/api/host/invitations/{inv['id']}", headers=foreign).status_code == 404
    # refused by the customer: nobody can join any more, and it is recorded
    host = _bearer(host_token)
    no = admin.post(f"/api/host/invitations/{inv['id']}/consent", json={"accepted": False}, headers=host)
    assert no.status_code == 200 and no.json()["status"] == "refused"
    assert admin.post("/api/invitations/join", json={"routing_id": rid}, headers=guest).status_code == 404
    with _db(admin).session() as s:
        row = s.get(SessionInvitation, inv["id"])
        assert row.consent == "refused" and row.joined_at is None and row.ended_at is not None
    # the finished record's detail page in the admin web says so
    assert admin.post(
        f"/api/sessions/{record_id}/status", json={"status": "ended"}, headers=inviter
    ).is_success
    page = admin.get(f"/manage/records/{record_id}")
    assert page.status_code == 200
    assert "초대된 상담원" in page.text and "guest" in page.text and "고객 거부" in page.text


def test_limits_throttle_and_the_sessions_end(admin: Client, agents: tuple) -> None:
    inviter, guest, _third, record_id, _host_token = agents
    _activate(admin, record_id, inviter)
    first = admin.post(f"/api/sessions/{record_id}/invitations", json={}, headers=inviter)
    second = admin.post(f"/api/sessions/{record_id}/invitations", json={}, headers=inviter)
    assert first.status_code == 201 and second.status_code == 201
    assert first.json()["routing_id"] != second.json()["routing_id"]
    third = admin.post(f"/api/sessions/{record_id}/invitations", json={}, headers=inviter)
    assert third.status_code == 429 and third.headers["Retry-After"]
    # probing routing ids: after a few failures the agent must wait
    statuses = [
        admin.post("/api/invitations/join", json={"routing_id": f"9999000{i}"}, headers=guest).status_code
        for i in range(5)
    ]
    assert statuses[:3] == [404, 404, 404] and statuses[-1] == 429
    # the main session's end ends every invitation
    _activate(admin, record_id, inviter)
    done = admin.post(f"/api/sessions/{record_id}/status", json={"status": "ended"}, headers=inviter)
    assert done.status_code == 200
    with _db(admin).session() as s:
        rows = s.query(SessionInvitation).filter_by(record_id=record_id).all()
        assert len(rows) == 2 and all(r.ended_at is not None for r in rows)
    statuses = [
        i["status"] for i in admin.get(f"/api/sessions/{record_id}/invitations", headers=inviter).json()
    ]
    assert statuses == ["ended", "ended"]
