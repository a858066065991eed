"""Agents, departments and licences: the rules of the manual, shared by the admin web and the API.

Validation returns the messages to show (already translated into the current language) rather than
raising, so a page can show every problem of a form at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from opensupport.server.db.models import Agent, Company, Department
from opensupport.server.i18n import gettext as _
from opensupport.server.security import hash_password
from sqlalchemy import func, select
from sqlalchemy.orm import Session

#: 영문, 숫자만 가능하며, 12자 이내
AGENT_ID_RE = re.compile(r"^[A-Za-z0-9]{1,12}$")
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
PHONE_RE = re.compile(r"^[0-9+\-() ]{0,40}$")
PASSWORD_MIN = 8
PASSWORD_MAX = 128
NAME_MAX = 100


@dataclass(frozen=True)
class LicenceUsage:
    """Licences of a company and how many are used: each agent uses one licence per kind it may support."""

    pc_used: int
    pc_total: int
    mobile_used: int
    mobile_total: int

    @property
    def total(self) -> int:
        """전체: all licences of the company."""
        return self.pc_total + self.mobile_total

    @property
    def used(self) -> int:
        return self.pc_used + self.mobile_used

    @property
    def available(self) -> int:
        """생성 가능 수: licences still free (never negative)."""
        return max(0, self.total - self.used)


def licence_usage(db: Session, company: Company) -> LicenceUsage:
    """Count the agents of ``company`` per kind of support."""
    pc = db.scalar(select(func.count()).where(Agent.company_id == company.id, Agent.can_pc.is_(True))) or 0
    mobile = (
        db.scalar(select(func.count()).where(Agent.company_id == company.id, Agent.can_mobile.is_(True))) or 0
    )
    return LicenceUsage(pc, company.pc_licences, mobile, company.mobile_licences)


def login_id_problem(db: Session, login_id: str) -> str | None:
    """Why ``login_id`` cannot be a new agent's ID, or ``None`` when it is available."""
    if not AGENT_ID_RE.fullmatch(login_id):
        return _("Letters and digits only, at most 12 characters.")
    taken = db.scalar(select(Agent.id).where(func.lower(Agent.login_id) == login_id.lower()))
    if taken is not None:
        return _("This ID is already in use.")
    return None


@dataclass
class AgentForm:
    """The fields of the create and edit forms (상담원 생성, 정보 수정)."""

    name: str = ""
    login_id: str = ""
    password: str = ""
    password_confirm: str = ""
    company_name: str = ""
    department_id: int | None = None
    phone: str = ""
    email: str = ""
    can_pc: bool = False
    can_mobile: bool = False
    errors: list[str] = field(default_factory=list)

    def strip(self) -> AgentForm:
        self.name = self.name.strip()
        self.login_id = self.login_id.strip()
        self.company_name = self.company_name.strip()
        self.phone = self.phone.strip()
        self.email = self.email.strip()
        return self


def validate_agent_form(db: Session, company: Company, form: AgentForm, existing: Agent | None) -> list[str]:
    """Every problem of ``form`` as a translated message (empty when it can be saved).

    For a new agent (``existing`` is None) the ID and the password are required; for an edit the ID is
    not changed and a blank password keeps the old one. Licences are checked for every kind the agent
    would newly be allowed to support.
    """
    form.strip()
    errors: list[str] = []
    if not form.name:
        errors.append(_("Enter the name."))
    elif len(form.name) > NAME_MAX:
        errors.append(_("The name is too long (at most 100 characters)."))
    if existing is None:
        if not form.login_id:
            errors.append(_("Enter the ID."))
        else:
            problem = login_id_problem(db, form.login_id)
            if problem:
                errors.append(problem)
    if existing is None or form.password or form.password_confirm:
        if not form.password:
            errors.append(_("Enter the password."))
        elif len(form.password) < PASSWORD_MIN or len(form.password) > PASSWORD_MAX:
            errors.append(_("The password must be 8 to 128 characters long."))
        elif form.password != form.password_confirm:
            errors.append(_("The password and its confirmation do not match."))
    if not form.company_name:
        errors.append(_("Enter the company name."))
    elif len(form.company_name) > NAME_MAX:
        errors.append(_("The company name is too long (at most 100 characters)."))
    if (
        form.department_id is None
        or db.scalar(
            select(Department.id).where(
                Department.id == form.department_id, Department.company_id == company.id
            )
        )
        is None
    ):
        errors.append(_("Choose the department."))
    if not PHONE_RE.fullmatch(form.phone):
        errors.append(_("The phone number may contain only digits, spaces and + - ( )."))
    if form.email and (not EMAIL_RE.fullmatch(form.email) or len(form.email) > 200):
        errors.append(_("The e-mail address is not valid."))
    if not (form.can_pc or form.can_mobile):
        errors.append(_("Choose PC and/or mobile support."))
    usage = licence_usage(db, company)
    if form.can_pc and not (existing and existing.can_pc) and usage.pc_used >= usage.pc_total:
        errors.append(
            _("No PC licence is left ({used} / {total} in use).").format(
                used=usage.pc_used, total=usage.pc_total
            )
        )
    if form.can_mobile and not (existing and existing.can_mobile) and usage.mobile_used >= usage.mobile_total:
        errors.append(
            _("No mobile licence is left ({used} / {total} in use).").format(
                used=usage.mobile_used, total=usage.mobile_total
            )
        )
    return errors


def apply_agent_form(agent: Agent, form: AgentForm) -> None:
    """Copy a validated form onto ``agent`` (a blank password keeps the old hash)."""
    agent.name = form.name
    agent.company_name = form.company_name
    agent.department_id = form.department_id
    agent.phone = form.phone
    agent.email = form.email
    agent.can_pc = form.can_pc
    agent.can_mobile = form.can_mobile
    if form.password:
        agent.password_hash = hash_password(form.password)
        agent.token_hash = None  # a new password logs the viewer out
