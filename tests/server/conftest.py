"""Fixtures for the server tests: the app on SQLite and on PostgreSQL, clients logged in as administrator.

``database_url`` is parametrized over both databases: every test that uses it (directly or through
``app``/``client``/``admin``) runs twice. Each test gets its own database, copied from one migrated once
per session (with the first company and its administrator), so tests never see each other's rows.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from adminclient import ADMIN_PASSWORD, Client
from fastapi import FastAPI
from opensupport.server.app import create_app
from opensupport.server.bootstrap import ensure_first_company
from opensupport.server.config import Settings
from opensupport.server.db import Database
from opensupport.server.security import configure_hasher
from sqlalchemy import create_engine

# Tests hash many passwords; argon2id at its production cost takes ~0.5 s each on a loaded 2-core machine.
configure_hasher(time_cost=1, memory_cost=1024)


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite database migrated to the newest schema once, with the first company (copied per test)."""
    path = tmp_path_factory.mktemp("template") / "server.sqlite3"
    _prepare(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def _postgres_template(postgres_databases: Any) -> str:  # tests/conftest.py PostgresDatabases
    """A PostgreSQL database of its own, migrated once, with the first company; tests get copies
    (CREATE ... TEMPLATE)."""
    url = postgres_databases.new()
    _prepare(url)
    return url


def _prepare(url: str) -> None:
    database = Database(url)
    database.upgrade()
    ensure_first_company(database, ADMIN_PASSWORD)
    database.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database holding only the first company: a copy of the migrated SQLite file, or a new
    PostgreSQL database made from the migrated template database."""
    if request.param == "sqlite":
        path = tmp_path / "server.sqlite3"
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    server, template = request.getfixturevalue("_postgres_template").rsplit("/", 1)
    name = "t_" + uuid.uuid4().hex[:12]
    # CREATE DATABASE ... TEMPLATE needs a connection to some other database than the template
    admin = create_engine(server + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        yield server + "/" + name
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    data = tmp_path / "data"
    return Settings.from_env(
        data, database_url=database_url, environ={"OPENSUPPORT_ADMIN_PASSWORD": ADMIN_PASSWORD}
    )


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    application = create_app(settings, announce=False)
    yield application
    application.state.db.dispose()


@pytest.fixture
def client(app: FastAPI) -> Iterator[Client]:
    with Client(app, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def admin(client: Client) -> Client:
    """``client`` logged in as the first company's administrator ``admin``."""
    response = client.login()
    assert response.status_code == 200, response.text
    return client
