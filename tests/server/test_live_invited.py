"""상담 관리 shows the agents invited into each live session (상담원 초대) who are in it now: not those the
customer refused, nor those who left. Through the real API and database, on SQLite and PostgreSQL."""

from __future__ import annotations

import re

from adminclient import Client, create_agent
from opensupport.server.db.models import Company
from sqlalchemy import update


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _login(client: Client, login_id: str) -> dict[str, str]:
    response = client.post("/api/agent/login", json={"login_id": login_id, "password": "agent-pass-1"})
    assert response.status_code == 200, response.text
    return _bearer(response.json()["token"])


def _invite_and_join(
    client: Client, record_id: int, inviter: dict[str, str], invitee: str, *, control: bool
) -> int:
    created = client.post(
        f"/api/sessions/{record_id}/invitations",
        json={"control": control, "invitee": invitee},
        headers=inviter,
    )
    assert created.status_code == 201, created.text
    joined = client.post(
        "/api/invitations/join",
        json={"routing_id": created.json()["routing_id"]},
        headers=_login(client, invitee),
    )
    assert joined.status_code == 200 and joined.json()["status"] == "joined", joined.text
    return int(created.json()["id"])


def _invited_cell(page: str, record_id: int) -> str:
    """The 초대된 상담원 cell of the session's row in the page's HTML."""
    row = re.search(rf'<tr data-session="{record_id}">(.*?)</tr>', page, re.S)
    assert row is not None, page
    cell = re.findall(r'<td class="invited">(.*?)</td>', row.group(1), re.S)
    assert len(cell) == 1, row.group(1)
    return cell[0]


def test_live_row_lists_the_joined_invited_agents(admin: Client) -> None:
    names = {"inviter": "Inviter", "guest": "Guest Kim", "watcher": "Watcher Lee", "gone": "Gone Park",
             "refused": "Refused Choi"}  # fmt: skip
    with admin.app.state.db.session() as s:  # type: ignore[attr-defined]
        s.execute(update(Company).values(pc_licences=len(names)))  # five agents; the first company has 3
    for login_id, name in names.items():
        create_agent(admin, login_id, name=name)
    inviter = _login(admin, "inviter")
    created = admin.post("/api/sessions", json={}, headers=inviter).json()
    record_id, host = int(created["id"]), _bearer(created["host_token"])
    assert admin.post(
        f"/api/sessions/{record_id}/status", json={"status": "active"}, headers=inviter
    ).is_success
    # one joined, then left
    gone = _invite_and_join(admin, record_id, inviter, "gone", control=True)
    assert admin.post(f"/api/invitations/{gone}/leave", headers=_login(admin, "gone")).is_success
    # one joined, then the customer refused it
    refused = _invite_and_join(admin, record_id, inviter, "refused", control=True)
    answer = admin.post(f"/api/host/invitations/{refused}/consent", json={"accepted": False}, headers=host)
    assert answer.status_code == 200 and answer.json()["status"] == "refused"
    # two in the session now: one controls (accepted by the customer), one views
    guest = _invite_and_join(admin, record_id, inviter, "guest", control=True)
    answer = admin.post(f"/api/host/invitations/{guest}/consent", json={"accepted": True}, headers=host)
    assert answer.status_code == 200
    _invite_and_join(admin, record_id, inviter, "watcher", control=False)
    # another live session without invitations: its cell stays empty
    other = admin.post("/api/sessions", json={}, headers=_login(admin, "gone")).json()

    page = admin.get("/manage/remote/sessions/")  # Korean by default
    assert page.status_code == 200
    assert "<th>초대된 상담원</th>" in page.text
    # neither "gone" (left) nor "refused" (refused by the customer) is listed
    assert (
        _invited_cell(page.text, record_id) == "guest (Guest Kim) · 제어, watcher (Watcher Lee) · 보기 전용"
    )
    assert _invited_cell(page.text, int(other["id"])) == ""

    english = admin.get("/manage/remote/sessions/", headers={"Accept-Language": "en"}).text
    assert "<th>Invited agents</th>" in english
    assert (
        _invited_cell(english, record_id) == "guest (Guest Kim) · Control, watcher (Watcher Lee) · View only"
    )

    # the page's live update carries the same cell
    live = {r["id"]: r for r in admin.get("/manage/remote/sessions/live.json").json()["sessions"]}
    assert live[record_id]["invited"] == "guest (Guest Kim) · 제어, watcher (Watcher Lee) · 보기 전용"
    assert live[int(other["id"])]["invited"] == ""

    # when the last guest leaves, the row no longer lists it
    watcher_id = admin.get(f"/api/sessions/{record_id}/invitations", headers=inviter).json()[-1]["id"]
    assert admin.post(f"/api/invitations/{watcher_id}/leave", headers=_login(admin, "watcher")).is_success
    assert _invited_cell(admin.get("/manage/remote/sessions/").text, record_id) == "guest (Guest Kim) · 제어"
