"""indexes for the records search and the statistics (owned by the records module)

Revision ID: 0101
Revises: 0001
Create Date: 2026-11-25 20:00:00

A record's time is ``created_at`` (opensupport.server.records.search says why). Every index below starts
with the company and ends with ``created_at`` and ``status`` (key columns on SQLite, ``INCLUDE`` on
PostgreSQL), so the queries of 지원기록보기 and 통계보기 are answered from the index alone, never visiting
one table row per record:

- ``period``: the search's count and first page, and the month / day / hour statistics (one range count
  per bucket);
- ``agent_period``: the search by agent ID and the per-agent statistics;
- ``os_period``, ``fault_period``, ``satisfaction_period``, ``duration_period``: the other statistics,
  counted value by value (a loose index scan finds the values) instead of sorting a period's records
  for a GROUP BY. Measured with benchmarks/admin.py on 1,000,000 records: 3-5x faster.
"""

from __future__ import annotations

from alembic import op

revision = "0101"
down_revision = "0001"
branch_labels = None
depends_on = None

#: index name -> the columns before created_at
_INDEXES = {
    "ix_support_record_period": [],
    "ix_support_record_agent_period": ["agent_login_id"],
    "ix_support_record_os_period": ["customer_os"],
    "ix_support_record_fault_period": ["fault_type_name"],
    "ix_support_record_satisfaction_period": ["satisfaction"],
    "ix_support_record_duration_period": ["duration_s"],
}


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for name, columns in _INDEXES.items():
        key = ["company_id", *columns, "created_at"]
        if postgres:
            op.create_index(name, "support_record", key, postgresql_include=["status"])
        else:
            op.create_index(name, "support_record", [*key, "status"])


def downgrade() -> None:
    for name in reversed(_INDEXES):
        op.drop_index(name, table_name="support_record")
