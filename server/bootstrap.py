"""Tenants and their first administrator: the first start, and ``opensupport server company add``."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from opensupport.server.db import Database
from opensupport.server.db.models import AdminUser, AuditLog, Company
from opensupport.server.security import hash_password
from sqlalchemy import func, select
from sqlalchemy.orm import Session

FIRST_ADMIN_ID = "admin"
ADMIN_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,32}$")


class TenantError(ValueError):
    """A company or administrator cannot be created as asked (the message says why)."""


@dataclass(frozen=True)
class NewTenant:
    """What :func:`add_company` created; ``password`` is set only when it was generated."""

    company_id: int
    admin_login_id: str
    password: str | None


def add_company(
    session: Session,
    *,
    name: str,
    service_name: str = "",
    pc_licences: int = 3,
    mobile_licences: int = 0,
    admin_login_id: str,
    admin_password: str | None = None,
) -> NewTenant:
    """Create a company with its administrator; generates a password when none is given.

    Raises :class:`TenantError` for an empty name, negative licence counts, a malformed administrator ID
    or one that is already taken (administrator IDs are unique over the server).
    """
    name = name.strip()
    if not name:
        raise TenantError("the company name is empty")
    if pc_licences < 0 or mobile_licences < 0:
        raise TenantError("licence counts cannot be negative")
    if not ADMIN_ID_RE.fullmatch(admin_login_id):
        raise TenantError("the administrator ID must be 1-32 letters, digits, '.', '_' or '-'")
    if session.scalar(select(AdminUser.id).where(AdminUser.login_id == admin_login_id)) is not None:
        raise TenantError(f"the administrator ID {admin_login_id!r} is already taken")
    generated = None
    if not admin_password:
        admin_password = generated = secrets.token_urlsafe(12)
    company = Company(
        name=name, service_name=service_name.strip(), pc_licences=pc_licences, mobile_licences=mobile_licences
    )
    session.add(company)
    session.flush()
    session.add(
        AdminUser(
            company_id=company.id,
            login_id=admin_login_id,
            password_hash=hash_password(admin_password),
            name=admin_login_id,
            session_nonce=secrets.token_hex(16),
        )
    )
    session.add(AuditLog(company_id=company.id, actor="system", action="company.create", target=name))
    session.flush()
    return NewTenant(company.id, admin_login_id, generated)


def ensure_first_company(database: Database, admin_password: str | None) -> NewTenant | None:
    """On a database without any company, create the first one and its administrator ``admin``.

    Returns what was created (with the generated password, to be shown once), or ``None`` if the database
    already had a company.
    """
    with database.session() as session:
        if session.scalar(select(func.count()).select_from(Company)):
            return None
        return add_company(
            session,
            name="OpenSupport",
            service_name="OpenSupport",
            admin_login_id=FIRST_ADMIN_ID,
            admin_password=admin_password,
        )
