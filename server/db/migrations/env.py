"""Alembic environment: runs the server's migrations on the URL the server passes in."""

from __future__ import annotations

from alembic import context
from opensupport.server.db.models import Base
from sqlalchemy import Connection, engine_from_config, pool

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: Connection) -> None:
    # batch mode lets later migrations alter SQLite tables (copy-and-move)
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    # the server passes its own connection (so SQLite's WAL pragma applies); the alembic CLI does not
    given = config.attributes.get("connection")
    if given is not None:
        _run(given)
        return
    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with connectable.connect() as connection:
        _run(connection)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
