"""indexes for the records search and the statistics (owned by the records module)

Revision ID: 0101
Revises: 0001
Create Date: 2026-11-25 20:00:00

Why these two (measured with benchmarks/admin.py on 1,000,000 records):

A record's time is ``created_at`` (opensupport.server.records.search says why).

- ``ix_support_record_period``: the period search counts every finished record of a period and each
  statistics view groups them. With the columns those queries read in the index (key columns on SQLite,
  INCLUDE on PostgreSQL), both databases answer from the index alone instead of visiting one table row
  per record (a year of a busy company is ~500,000 rows).
- ``ix_support_record_agent_period``: the same for a search by agent ID (the count needs ``status``).
"""

from __future__ import annotations

from alembic import op

revision = "0101"
down_revision = "0001"
branch_labels = None
depends_on = None

#: columns the statistics read besides the period; carried in the index so no table row is visited
_STATS_COLUMNS = [
    "status",
    "agent_login_id",
    "duration_s",
    "customer_os",
    "fault_type_name",
    "satisfaction",
    "agent_name",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(
            "ix_support_record_period",
            "support_record",
            ["company_id", "created_at"],
            postgresql_include=_STATS_COLUMNS,
        )
        op.create_index(
            "ix_support_record_agent_period",
            "support_record",
            ["company_id", "agent_login_id", "created_at"],
            postgresql_include=["status"],
        )
    else:
        op.create_index(
            "ix_support_record_period", "support_record", ["company_id", "created_at", *_STATS_COLUMNS]
        )
        op.create_index(
            "ix_support_record_agent_period",
            "support_record",
            ["company_id", "agent_login_id", "created_at", "status"],
        )


def downgrade() -> None:
    op.drop_index("ix_support_record_agent_period", table_name="support_record")
    op.drop_index("ix_support_record_period", table_name="support_record")
