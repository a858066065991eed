"""the agents' favourites (즐겨찾기: URLs, programs, folders; owned by the support tools)

Revision ID: 0201
Revises: 0101
Create Date: 2026-11-25 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0201"
down_revision = "0101"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agent_favourite",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("agent_id", sa.Integer(), sa.ForeignKey("agent.id", ondelete="CASCADE"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("args", sa.JSON(), nullable=False),
    )
    op.create_index("ix_agent_favourite_agent_id", "agent_favourite", ["agent_id"])


def downgrade() -> None:
    op.drop_index("ix_agent_favourite_agent_id", table_name="agent_favourite")
    op.drop_table("agent_favourite")
