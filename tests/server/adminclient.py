"""A TestClient that fills in CSRF tokens the way the admin web's forms do (shared by the server tests)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

ADMIN_PASSWORD = "admin-pass-123"

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


class Client(TestClient):
    """A TestClient that knows how to fill in the CSRF token the way the browser's forms do."""

    def csrf(self, page: str = "/manage/") -> str:
        response = self.get(page)
        match = CSRF_RE.search(response.text)
        assert match, f"no CSRF field on {page}: {response.status_code}"
        return match.group(1)

    def submit(
        self, url: str, data: dict[str, object] | None = None, *, page: str | None = None, **kw: object
    ):
        """POST a form to ``url`` with the CSRF token taken from ``page`` (default: ``url`` itself)."""
        form = dict(data or {})
        form["csrf_token"] = self.csrf(page or url)
        return self.post(url, data=form, **kw)  # type: ignore[arg-type]

    def login(self, login_id: str = "admin", password: str = ADMIN_PASSWORD):
        return self.submit("/manage/login", {"login_id": login_id, "password": password}, page="/manage/")


def department_id(client: Client, name: str) -> int:
    """The ID of the department ``name`` (created through the page if it does not exist)."""
    from opensupport.server.db.models import Department
    from sqlalchemy import select

    db = client.app.state.db  # type: ignore[attr-defined]
    with db.session() as s:
        found = s.scalar(select(Department.id).where(Department.name == name))
    if found is not None:
        return int(found)
    response = client.submit(
        "/manage/remote/departments/new", {"name": name}, page="/manage/remote/departments/"
    )
    assert response.status_code == 200, response.text
    with db.session() as s:
        return int(s.scalar(select(Department.id).where(Department.name == name)))


def agent_form(login_id: str, department: int, **changes: object) -> dict[str, object]:
    """A complete, valid 상담원 생성 form; ``changes`` override fields (None removes one)."""
    form: dict[str, object] = {
        "name": "Koino",
        "login_id": login_id,
        "password": "agent-pass-1",
        "password_confirm": "agent-pass-1",
        "company_name": "test",
        "department_id": str(department),
        "phone": "02-839-7500",
        "email": "agent@example.com",
        "can_pc": "on",
    }
    for key, value in changes.items():
        if value is None:
            form.pop(key, None)
        else:
            form[key] = value
    return form


def create_agent(client: Client, login_id: str, department: str = "test", **changes: object) -> int:
    """Create an agent through the 상담원 생성 page and return its row ID."""
    from opensupport.server.db.models import Agent
    from sqlalchemy import select

    response = client.submit(
        "/manage/remote/agents/new", agent_form(login_id, department_id(client, department), **changes)
    )
    assert response.status_code == 200 and "새로운 상담원이 성공적으로 생성되었습니다" in response.text, (
        response.text
    )
    with client.app.state.db.session() as s:  # type: ignore[attr-defined]
        return int(s.scalar(select(Agent.id).where(Agent.login_id == login_id)))
