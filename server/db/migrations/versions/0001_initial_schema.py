"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25 19:51:51.039387
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "company",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("service_name", sa.String(length=100), nullable=False),
        sa.Column("pc_licences", sa.Integer(), nullable=False),
        sa.Column("mobile_licences", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "admin_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("login_id", sa.String(length=32), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=False),
        sa.Column("session_nonce", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["company.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("login_id"),
    )
    with op.batch_alter_table("admin_user", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_admin_user_company_id"), ["company_id"], unique=False)

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["company.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_company_at", ["company_id", "at"], unique=False)

    op.create_table(
        "department",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["company.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("company_id", "name"),
    )
    with op.batch_alter_table("department", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_department_company_id"), ["company_id"], unique=False)

    op.create_table(
        "fault_type",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["company.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("fault_type", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fault_type_company_id"), ["company_id"], unique=False)

    op.create_table(
        "agent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("login_id", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("company_name", sa.String(length=100), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=False),
        sa.Column("can_pc", sa.Boolean(), nullable=False),
        sa.Column("can_mobile", sa.Boolean(), nullable=False),
        sa.Column("last_login_at", sa.DateTime(), nullable=True),
        sa.Column("last_ip_public", sa.String(length=64), nullable=True),
        sa.Column("last_ip_private", sa.String(length=64), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(), nullable=True),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["company_id"], ["company.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["department_id"], ["department.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("login_id"),
    )
    with op.batch_alter_table("agent", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agent_company_id"), ["company_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_agent_department_id"), ["department_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_agent_token_hash"), ["token_hash"], unique=False)

    op.create_table(
        "support_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("agent_login_id", sa.String(length=12), nullable=False),
        sa.Column("agent_name", sa.String(length=100), nullable=False),
        sa.Column("agent_ip_public", sa.String(length=64), nullable=True),
        sa.Column("agent_ip_private", sa.String(length=64), nullable=True),
        sa.Column("agent_pc_name", sa.String(length=100), nullable=True),
        sa.Column("routing_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("customer_name", sa.String(length=100), nullable=True),
        sa.Column("customer_ip_public", sa.String(length=64), nullable=True),
        sa.Column("customer_ip_private", sa.String(length=64), nullable=True),
        sa.Column("customer_pc_name", sa.String(length=100), nullable=True),
        sa.Column("customer_os", sa.String(length=100), nullable=True),
        sa.Column("customer_email", sa.String(length=200), nullable=True),
        sa.Column("customer_phone", sa.String(length=40), nullable=True),
        sa.Column("fault_type_id", sa.Integer(), nullable=True),
        sa.Column("fault_type_name", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("duration_s", sa.Integer(), nullable=True),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("resolved", sa.String(length=16), nullable=False),
        sa.Column("satisfaction", sa.Integer(), nullable=True),
        sa.Column("customer_comment", sa.Text(), nullable=True),
        sa.Column("host_token_hash", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["agent_id"], ["agent.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["company_id"], ["company.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["fault_type_id"], ["fault_type.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("support_record", schema=None) as batch_op:
        batch_op.create_index(
            "ix_support_record_company_agent_started",
            ["company_id", "agent_login_id", "started_at"],
            unique=False,
        )
        batch_op.create_index("ix_support_record_company_started", ["company_id", "started_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_support_record_routing_id"), ["routing_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("support_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_support_record_routing_id"))
        batch_op.drop_index("ix_support_record_company_started")
        batch_op.drop_index("ix_support_record_company_agent_started")

    op.drop_table("support_record")
    with op.batch_alter_table("agent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agent_token_hash"))
        batch_op.drop_index(batch_op.f("ix_agent_department_id"))
        batch_op.drop_index(batch_op.f("ix_agent_company_id"))

    op.drop_table("agent")
    with op.batch_alter_table("fault_type", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fault_type_company_id"))

    op.drop_table("fault_type")
    with op.batch_alter_table("department", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_department_company_id"))

    op.drop_table("department")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_company_at")

    op.drop_table("audit_log")
    with op.batch_alter_table("admin_user", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_admin_user_company_id"))

    op.drop_table("admin_user")
    op.drop_table("company")
