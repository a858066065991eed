"""Helpers of the records and statistics tests: a migrated database with companies and hand-made records."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from opensupport.server.db import Database
from opensupport.server.db.models import Company, SupportRecord

_serial = itertools.count(1)


def new_company(db: Database, name: str) -> int:
    """A company row (no administrator) for tenant-isolation tests."""
    with db.session() as s:
        company = Company(name=name, service_name=name, pc_licences=3, mobile_licences=0)
        s.add(company)
        s.flush()
        return company.id


def record(company_id: int, created: dt.datetime, **fields: Any) -> SupportRecord:
    """A finished record created at ``created`` (aware); the customer joined 30 s later unless told."""
    n = next(_serial)
    values: dict[str, Any] = {
        "company_id": company_id,
        "agent_login_id": "agent1",
        "agent_name": "상담원",
        "routing_id": f"r{n:08d}",
        "status": "ended",
        "customer_name": f"고객{n}",
        "customer_os": "Windows 11",
        "created_at": created,
        "started_at": created + dt.timedelta(seconds=30),
        "ended_at": created + dt.timedelta(seconds=630),
        "duration_s": 600,
        "resolved": "resolved",
    }
    values.update(fields)
    return SupportRecord(**values)


def add_records(db: Database, records: list[SupportRecord]) -> list[int]:
    """Insert ``records``; returns their ids in order."""
    with db.session() as s:
        s.add_all(records)
        s.flush()
        return [r.id for r in records]
