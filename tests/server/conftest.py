"""Fixtures for the server tests: the app on SQLite and on PostgreSQL, clients logged in as administrator.

``database_url`` is parametrized over both databases: every test that uses it (directly or through
``app``/``client``/``admin``) runs twice. On PostgreSQL each test gets its own schema in the session's
fresh database, so tests never see each other's rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from adminclient import ADMIN_PASSWORD, Client
from fastapi import FastAPI
from opensupport.server.app import create_app
from opensupport.server.config import Settings
from sqlalchemy import create_engine


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database: an SQLite file, or a new schema in the session's PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'server.sqlite3'}"
    base: str = request.getfixturevalue("postgres_url")
    schema = "t_" + uuid.uuid4().hex[:12]
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    engine.dispose()
    return f"{base}?options=-csearch_path%3D{schema}"


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
