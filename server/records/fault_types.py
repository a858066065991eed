"""장애 유형 관리: a company's fault types (at most 30), in the order the agents see them.

``position`` runs 0, 1, 2... without gaps; moving a type up or down swaps it with its neighbour. Every
change writes an ``AuditLog`` row in the same transaction. Deleting a type keeps the history: records
copied its name (``SupportRecord.fault_type_name``) and only lose the link (``ON DELETE SET NULL``).
"""

from __future__ import annotations

from opensupport.server.db.models import AuditLog, Company, FaultType
from sqlalchemy import func, select
from sqlalchemy.orm import Session

MAX_FAULT_TYPES = 30
MAX_NAME = 100


class FaultTypeError(ValueError):
    """A change the rules refuse (too many, empty or duplicate name, unknown type); the message is English
    (a msgid) with ``{placeholders}`` filled from ``params``, so the page can translate it."""

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message.format(**params))
        self.message = message
        self.params = params


class FaultTypeNotFound(FaultTypeError):
    """No fault type with that id in this company (also when it belongs to another company)."""


def list_fault_types(session: Session, company_id: int) -> list[FaultType]:
    """The company's fault types in display order."""
    stmt = (
        select(FaultType).where(FaultType.company_id == company_id).order_by(FaultType.position, FaultType.id)
    )
    return list(session.scalars(stmt))


def _lock_company(session: Session, company_id: int) -> None:
    # serializes concurrent changes of one company's list on PostgreSQL (the 30 limit, the positions);
    # SQLite serializes writers anyway and ignores FOR UPDATE
    session.execute(select(Company.id).where(Company.id == company_id).with_for_update())


def _clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise FaultTypeError("Enter the name of the fault type.")
    if len(cleaned) > MAX_NAME:
        raise FaultTypeError("A fault type name has at most {n} characters.", n=MAX_NAME)
    return cleaned


def _check_unique(session: Session, company_id: int, name: str, exclude_id: int | None = None) -> None:
    stmt = select(FaultType.id).where(
        FaultType.company_id == company_id, func.lower(FaultType.name) == name.lower()
    )
    if exclude_id is not None:
        stmt = stmt.where(FaultType.id != exclude_id)
    if session.execute(stmt).first() is not None:
        raise FaultTypeError("The fault type {name} already exists.", name=name)


def _audit(session: Session, company_id: int, actor: str, action: str, target: str, detail: str = "") -> None:
    session.add(AuditLog(company_id=company_id, actor=actor, action=action, target=target, detail=detail))


def _get(session: Session, company_id: int, fault_type_id: int) -> FaultType:
    fault = session.get(FaultType, fault_type_id)
    if fault is None or fault.company_id != company_id:
        raise FaultTypeNotFound("The fault type was not found.")
    return fault


def create_fault_type(session: Session, company_id: int, name: str, *, actor: str) -> FaultType:
    """Add a fault type at the end of the list. Raises :class:`FaultTypeError` past 30 or for a bad name."""
    cleaned = _clean_name(name)
    _lock_company(session, company_id)
    count = session.execute(
        select(func.count()).select_from(FaultType).where(FaultType.company_id == company_id)
    ).scalar_one()
    if count >= MAX_FAULT_TYPES:
        raise FaultTypeError("At most {n} fault types can be registered.", n=MAX_FAULT_TYPES)
    _check_unique(session, company_id, cleaned)
    last = session.execute(
        select(func.max(FaultType.position)).where(FaultType.company_id == company_id)
    ).scalar_one()
    fault = FaultType(company_id=company_id, name=cleaned, position=0 if last is None else last + 1)
    session.add(fault)
    session.flush()
    _audit(session, company_id, actor, "fault_type.create", cleaned, f"id={fault.id}")
    return fault


def rename_fault_type(
    session: Session, company_id: int, fault_type_id: int, name: str, *, actor: str
) -> FaultType:
    """Rename a fault type (records keep the name they were saved with). Raises :class:`FaultTypeError`."""
    cleaned = _clean_name(name)
    _lock_company(session, company_id)
    fault = _get(session, company_id, fault_type_id)
    if fault.name == cleaned:
        return fault
    _check_unique(session, company_id, cleaned, exclude_id=fault.id)
    old = fault.name
    fault.name = cleaned
    _audit(session, company_id, actor, "fault_type.update", cleaned, f"id={fault.id}; {old} -> {cleaned}")
    return fault


def delete_fault_type(session: Session, company_id: int, fault_type_id: int, *, actor: str) -> None:
    """Delete a fault type and close the gap in the positions. Raises :class:`FaultTypeError`."""
    _lock_company(session, company_id)
    fault = _get(session, company_id, fault_type_id)
    name = fault.name
    session.delete(fault)
    session.flush()
    for position, rest in enumerate(list_fault_types(session, company_id)):
        rest.position = position
    _audit(session, company_id, actor, "fault_type.delete", name, f"id={fault_type_id}")


def move_fault_type(session: Session, company_id: int, fault_type_id: int, step: int, *, actor: str) -> bool:
    """Move a fault type one place up (``step=-1``) or down (``+1``); False if it is already at that end.

    Raises :class:`FaultTypeError` for an unknown type or a step other than ±1.
    """
    if step not in (-1, 1):
        raise FaultTypeError("A fault type moves one place at a time.")
    _lock_company(session, company_id)
    faults = list_fault_types(session, company_id)
    index = next((i for i, f in enumerate(faults) if f.id == fault_type_id), None)
    if index is None:
        raise FaultTypeNotFound("The fault type was not found.")
    other = index + step
    if not 0 <= other < len(faults):
        return False
    faults[index], faults[other] = faults[other], faults[index]
    for position, fault in enumerate(faults):
        fault.position = position
    moved = faults[other]
    _audit(
        session,
        company_id,
        actor,
        "fault_type.move",
        moved.name,
        f"id={moved.id}; {'up' if step < 0 else 'down'} to position {other + 1}",
    )
    return True
