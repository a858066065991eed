"""schemathesis against /openapi.json: generated requests to every API operation never give a 5xx.

Each case is sent with a valid agent token (or host token for /api/host/...), so generation reaches past
authentication into validation and the handlers; on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from opensupport.server.db.models import Agent, Department, SupportRecord
from opensupport.server.security import hash_password, token_digest

AGENT_TOKEN = "agent-token-for-schemathesis-0123456789"
HOST_TOKEN = "host-token-for-schemathesis-0123456789"


def _seed(app: FastAPI) -> None:
    with app.state.db.session() as s:
        department = Department(company_id=1, name="fuzz")
        s.add(department)
        s.flush()
        agent = Agent(
            company_id=1, department_id=department.id, login_id="fuzzer", name="Fuzzer",
            password_hash=hash_password("fuzz-pass-1"), options={}, token_hash=token_digest(AGENT_TOKEN),
        )  # fmt: skip
        s.add(agent)
        s.flush()
        s.add(
            SupportRecord(
                company_id=1,
                agent_id=agent.id,
                agent_login_id="fuzzer",
                routing_id="10000001",
                status="waiting",
                host_token_hash=token_digest(HOST_TOKEN),
            )
        )


def test_no_server_errors(app: FastAPI) -> None:
    _seed(app)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[tuple[str, str, int, str]] = []
    operations = 0

    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        def run(case: schemathesis.Case) -> None:
            # undo what the previous case did (logout, a new login, the session ended), so that every case
            # reaches the handler's logic
            with app.state.db.session() as s:
                s.query(Agent).filter_by(login_id="fuzzer").one().token_hash = token_digest(AGENT_TOKEN)
                record = s.query(SupportRecord).filter_by(routing_id="10000001").one()
                record.status, record.ended_at, record.satisfaction = "waiting", None, None
                record.customer_comment = None
                record.host_token_hash = token_digest(HOST_TOKEN)  # a claim of session 1 rotates it
            token = HOST_TOKEN if case.path.startswith("/api/host/") else AGENT_TOKEN
            response = case.call(headers={"Authorization": f"Bearer {token}"})
            if response.status_code >= 500:
                failures.append((case.method, case.formatted_path, response.status_code, response.text[:300]))

        run()
    assert operations >= 14  # every API route was exercised
    assert failures == []
