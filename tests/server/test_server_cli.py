"""``opensupport server``: first start (administrator with a random password, printed once), ``company
add``, and the server answering on its port."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
from opensupport.server.cli import main
from opensupport.server.db import Database
from opensupport.server.db.models import AdminUser, Company
from opensupport.server.security import verify_password
from sqlalchemy import select

from tests.conftest import free_port


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENSUPPORT_")}
    env.update(extra)
    return env


def test_first_start_prints_a_random_password_once_and_serves(tmp_path: Path) -> None:
    port = free_port()
    data = tmp_path / "data"
    command = [sys.executable, "-m", "opensupport", "server", "--data", str(data), "--port", str(port)]
    passwords = []
    for _run in range(2):
        proc = subprocess.Popen(
            command, env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/manage/", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            assert "관리자 로그인" in httpx.get(f"http://127.0.0.1:{port}/manage/").text
            assert (
                httpx.get(f"http://127.0.0.1:{port}/openapi.json").json()["info"]["title"]
                == "OpenSupport server"
            )
        finally:
            proc.terminate()
            output = proc.communicate(timeout=30)[0]
        passwords += re.findall(r"created the administrator 'admin' with the password\s+(\S+)", output)
    assert len(passwords) == 1  # printed on the first start only
    database = Database(f"sqlite:///{data / 'opensupport.sqlite3'}")
    with database.session() as s:
        admin = s.scalar(select(AdminUser).where(AdminUser.login_id == "admin"))
        assert verify_password(admin.password_hash, passwords[0])
        assert not verify_password(admin.password_hash, "admin")  # no default password
    database.dispose()


def test_company_add(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("OPENSUPPORT_ADMIN_PASSWORD", "first-admin-pass")
    monkeypatch.delenv("OPENSUPPORT_DATABASE_URL", raising=False)
    data = tmp_path / "data"
    args = [
        "company",
        "add",
        "--name",
        "Koino",
        "--service",
        "애니서포트",
        "--pc",
        "5",
        "--mobile",
        "2",
        "--admin-id",
        "koino",
        "--data",
        str(data),
    ]
    assert main(args) == 0
    password = re.search(r"shown only this once\): (\S+)", capsys.readouterr().out).group(1)
    assert main(args) == 1
    assert "already taken" in capsys.readouterr().err
    database = Database(f"sqlite:///{data / 'opensupport.sqlite3'}")
    with database.session() as s:
        companies = {
            c.name: (c.service_name, c.pc_licences, c.mobile_licences) for c in s.scalars(select(Company))
        }
        assert companies == {"OpenSupport": ("OpenSupport", 3, 0), "Koino": ("애니서포트", 5, 2)}
        koino = s.scalar(select(AdminUser).where(AdminUser.login_id == "koino"))
        assert verify_password(koino.password_hash, password)
        first = s.scalar(select(AdminUser).where(AdminUser.login_id == "admin"))
        assert verify_password(first.password_hash, "first-admin-pass")
    database.dispose()


def test_settings_from_environment(tmp_path: Path) -> None:
    from opensupport.server.config import Settings

    plain = Settings.from_env(tmp_path / "a", environ={})
    assert plain.database_url == f"sqlite:///{tmp_path / 'a' / 'opensupport.sqlite3'}"
    assert plain.admin_password is None
    key_file = tmp_path / "a" / "secret_key"
    assert key_file.stat().st_mode & 0o777 == 0o600 and len(plain.secret_key) >= 32
    assert Settings.from_env(tmp_path / "a", environ={}).secret_key == plain.secret_key  # kept across starts
    pg = Settings.from_env(
        tmp_path / "b",
        environ={
            "OPENSUPPORT_DATABASE_URL": "postgresql://u@db/x",
            "OPENSUPPORT_ADMIN_PASSWORD": "pw-123456",
        },
    )
    assert pg.database_url == "postgresql+psycopg://u@db/x" and pg.admin_password == "pw-123456"


def test_health(client) -> None:
    body = client.get("/api/health").json()
    assert body["status"] == "ok" and body["version"]


def test_relay_only(tmp_path: Path) -> None:
    from opensupport.protocol.rendezvous import Join, RelayStatus, Role, encode_join, parse_status
    from websockets.sync.client import connect

    port = free_port()
    command = [sys.executable, "-m", "opensupport", "server", "--relay-only", "--port", str(port)]
    proc = subprocess.Popen(
        command, env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                ws = connect(f"ws://127.0.0.1:{port}/relay", open_timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        with ws:
            ws.send(encode_join(Join(Role.HOST, "87654321")))
            assert parse_status(ws.recv(timeout=10)) is RelayStatus.WAITING
        # and nothing else: no admin web on a relay-only server
        assert httpx.get(f"http://127.0.0.1:{port}/manage/").status_code == 404
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


def test_download_serves_a_built_package(client, settings) -> None:
    folder = settings.data_dir / "downloads"
    folder.mkdir()
    (folder / "opensupport-0.1.0-py3-none-any.whl").write_bytes(b"PK\x03\x04 wheel bytes")
    response = client.get("/download/host")
    assert response.status_code == 200 and response.content == b"PK\x03\x04 wheel bytes"
    assert "opensupport-0.1.0-py3-none-any.whl" in response.headers["content-disposition"]
