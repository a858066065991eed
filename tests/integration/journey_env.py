"""The real server in a subprocess for the journey tests, with its database at hand for seeding and checks."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from relay_proc import free_port

ADMIN_PASSWORD = "journey-admin-pass"
AGENT_PASSWORD = "agent-pass-1"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


class ServerProcess:
    """``opensupport server`` on a free port with a temporary data folder (and PostgreSQL when given)."""

    def __init__(self, data_dir: Path, database_url: str | None = None) -> None:
        self.port = free_port()
        self.data_dir = data_dir
        env = {"OPENSUPPORT_ADMIN_PASSWORD": ADMIN_PASSWORD, "PYTHONUNBUFFERED": "1"}
        if database_url:
            env["OPENSUPPORT_DATABASE_URL"] = database_url
        self.env = env
        self._launch()
        from opensupport.server.config import Settings
        from opensupport.server.db import Database

        self.settings = Settings.from_env(data_dir, database_url=database_url, environ=env)
        self.db = Database(self.settings.database_url)

    def restart(self) -> None:
        """Stop the server (SIGTERM) and start it again on the same port and data."""
        self._terminate()
        self._launch()

    def _launch(self) -> None:
        data_dir, env = self.data_dir, self.env
        self.log = (data_dir / "server.log").open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "opensupport",
                "server",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--data",
                str(data_dir),
            ],
            env={**os.environ, **env},
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 40
        while True:
            try:
                if httpx.get(self.url + "/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"the server did not start: {(data_dir / 'server.log').read_text()}")
            time.sleep(0.1)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def add_agent(self, login_id: str, **options: bool) -> None:
        """An agent of the first company with these options over the manual's defaults."""
        from opensupport.server.db.models import Agent, Company
        from opensupport.server.security import hash_password
        from sqlalchemy import select

        with self.db.session() as s:
            company = s.scalar(select(Company).order_by(Company.id))
            assert company is not None
            s.add(
                Agent(
                    company_id=company.id, login_id=login_id, name=f"Agent {login_id}",
                    password_hash=hash_password(AGENT_PASSWORD), company_name="OpenSupport",
                    options=dict(options),
                )
            )  # fmt: skip
            s.commit()

    def add_fault_type(self, name: str) -> int:
        from opensupport.server.db.models import Company, FaultType
        from sqlalchemy import select

        with self.db.session() as s:
            company = s.scalar(select(Company).order_by(Company.id))
            assert company is not None
            fault = FaultType(company_id=company.id, name=name, position=1)
            s.add(fault)
            s.commit()
            return int(fault.id)

    def record(self, record_id: int) -> Any:
        """The support record's row, read fresh."""
        from opensupport.server.db.models import SupportRecord

        with self.db.session() as s:
            row = s.get(SupportRecord, record_id)
            assert row is not None
            s.expunge(row)
            return row

    def admin(self) -> httpx.Client:
        """An HTTP client logged in to the admin web as ``admin``."""
        client = httpx.Client(base_url=self.url, timeout=10)
        page = client.get("/manage/", follow_redirects=True)
        match = CSRF_RE.search(page.text)
        assert match, page.text[:500]
        response = client.post(
            "/manage/login",
            data={"login_id": "admin", "password": ADMIN_PASSWORD, "csrf_token": match.group(1)},
        )
        assert response.status_code in (200, 303), response.text[:500]
        return client

    def stop(self) -> None:
        self._terminate()
        db = getattr(self, "db", None)
        if db is not None:
            db.dispose()

    def _terminate(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
