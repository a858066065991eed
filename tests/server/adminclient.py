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
