"""상담원 초대: the agents invited into a session (who, view or control, the customer's answer, join and leave)

Revision ID: 0301
Revises: 0201
Create Date: 2026-11-25 22:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0301"
down_revision = "0201"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "session_invitation",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "record_id", sa.Integer(), sa.ForeignKey("support_record.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "company_id", sa.Integer(), sa.ForeignKey("company.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("routing_id", sa.String(32), nullable=False),
        sa.Column("control", sa.Boolean(), nullable=False),
        sa.Column("invited_by_login_id", sa.String(12), nullable=False),
        sa.Column("invitee_login_id", sa.String(12), nullable=True),
        sa.Column("consent", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=False), nullable=True),
        sa.Column(
            "joined_agent_id", sa.Integer(), sa.ForeignKey("agent.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("joined_login_id", sa.String(12), nullable=True),
        sa.Column("joined_name", sa.String(100), nullable=True),
        sa.Column("joined_at", sa.DateTime(timezone=False), nullable=True),
        sa.Column("left_at", sa.DateTime(timezone=False), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=False), nullable=True),
    )
    op.create_index("ix_session_invitation_record_id", "session_invitation", ["record_id"])
    op.create_index("ix_session_invitation_routing_id", "session_invitation", ["routing_id"])


def downgrade() -> None:
    op.drop_index("ix_session_invitation_routing_id", table_name="session_invitation")
    op.drop_index("ix_session_invitation_record_id", table_name="session_invitation")
    op.drop_table("session_invitation")
