"""Synthetic support records with realistic shapes, for the admin benchmark and for trying the admin web.

The generator draws every column with numpy, a chunk at a time, in chronological order (as a live server
writes them): weekdays heavier than weekends, office hours heavier than nights, session durations
log-normal, a mix of customer operating systems, a few busy agents and many quiet ones, the common fault
types far more frequent than the rare ones, satisfaction skewed to the top with many customers not
answering, and some sessions unresolved, unchecked, dropped or refused.

Rows are written in bulk: ``COPY ... FROM STDIN`` on PostgreSQL, one ``executemany`` per chunk on SQLite;
never ORM objects one by one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from opensupport.server.db.models import Agent, Company, FaultType, SupportRecord
from sqlalchemy import Engine, insert, select

#: columns written by :func:`insert_records`, in this order
RECORD_COLUMNS = (
    "company_id",
    "agent_id",
    "agent_login_id",
    "agent_name",
    "agent_ip_public",
    "agent_ip_private",
    "agent_pc_name",
    "routing_id",
    "status",
    "customer_name",
    "customer_ip_public",
    "customer_ip_private",
    "customer_pc_name",
    "customer_os",
    "customer_email",
    "customer_phone",
    "fault_type_id",
    "fault_type_name",
    "created_at",
    "started_at",
    "ended_at",
    "duration_s",
    "content",
    "resolved",
    "satisfaction",
    "customer_comment",
)

FAULT_TYPE_NAMES = (
    "프로그램 오류",
    "공인 인증서 관련 오류",
    "프린터 설정",
    "네트워크 연결 장애",
    "로그인 불가",
    "비밀번호 초기화",
    "메일 설정",
    "백신 검사",
    "윈도우 업데이트",
    "드라이버 설치",
    "보안 프로그램 충돌",
    "인터넷 뱅킹 오류",
    "브라우저 설정",
    "화면 깨짐",
    "속도 저하",
    "파일 복구",
    "프로그램 설치",
    "프로그램 삭제",
    "계정 잠김",
    "VPN 접속 장애",
    "원격 접속 불가",
    "사운드 장치",
    "키보드/마우스",
    "USB 인식",
    "모바일 앱 오류",
    "결제 오류",
    "데이터 동기화",
    "라이선스 문의",
    "사용법 문의",
    "기타 장애",
)

_OS = (
    ("Windows 11", 0.44),
    ("Windows 10", 0.34),
    ("Windows 7", 0.03),
    ("macOS 14", 0.07),
    ("macOS 13", 0.02),
    ("Ubuntu 22.04", 0.03),
    ("Android 14", 0.04),
    ("iOS 17", 0.01),
    (None, 0.02),  # the host could not tell: 기타 OS
)
_STATUS = (("ended", 0.90), ("disconnected", 0.05), ("fault", 0.03), ("refused", 0.02))
_RESOLVED = (("resolved", 0.74), ("unresolved", 0.10), ("unset", 0.16))
#: satisfaction 1..5 among those who answered; 40 % do not answer
_SATISFACTION = (0.04, 0.06, 0.15, 0.30, 0.45)
_NO_ANSWER = 0.40
#: relative load of each weekday, Monday first
_WEEKDAY = (1.0, 0.95, 0.95, 0.9, 0.85, 0.22, 0.10)
#: relative load of each hour of the day (local time)
_HOURLY = (
    0.01, 0.005, 0.005, 0.005, 0.005, 0.01, 0.03, 0.08,
    0.35, 0.85, 1.0, 0.95, 0.45, 0.8, 0.95, 0.9,
    0.85, 0.7, 0.35, 0.15, 0.1, 0.07, 0.04, 0.02,
)  # fmt: skip
_SURNAMES = "김이박최정강조윤장임한오서신권황안송류홍"
_GIVEN = (
    "민준",
    "서연",
    "도윤",
    "지우",
    "하준",
    "서윤",
    "은우",
    "지민",
    "예준",
    "수아",
    "지호",
    "하은",
    "현우",
    "채원",
)
_CONTENT = (
    "프로그램 재설치 후 정상 동작 확인",
    "인증서 재발급 안내 및 설치",
    "프린터 드라이버 재설치",
    "네트워크 어댑터 설정 초기화",
    "브라우저 캐시 삭제 및 보안 모듈 재설치",
    "원인 파악 중, 추가 지원 필요",
)
_COMMENTS = (
    "친절하게 해결해 주셔서 감사합니다",
    "빨라요",
    "조금 오래 걸렸어요",
    "다음에도 부탁드립니다",
    "좋아요",
)


@dataclass(frozen=True)
class SeededCompany:
    """What :func:`seed_company` created: the company id, its agents' login ids and fault type ids."""

    company_id: int
    agent_login_ids: list[str]
    fault_type_ids: list[int]


def _weights(pairs: tuple[tuple[Any, float], ...]) -> tuple[list[Any], np.ndarray]:
    values = [value for value, _ in pairs]
    probs = np.array([p for _, p in pairs], dtype=float)
    return values, probs / probs.sum()


def _start_times(
    rng: np.random.Generator, n: int, first: dt.date, days: int, utc_offset_s: int
) -> np.ndarray:
    """``n`` sorted UTC start times (epoch seconds) over ``days`` days from ``first`` (local dates)."""
    day_index = np.arange(days)
    weekday = np.array([(first + dt.timedelta(days=int(i))).weekday() for i in day_index])
    growth = 0.8 + 0.4 * day_index / max(1, days - 1)  # the business grows over the two years
    day_weight = np.array(_WEEKDAY)[weekday] * growth
    days_drawn = rng.choice(days, size=n, p=day_weight / day_weight.sum())
    hours = rng.choice(24, size=n, p=np.array(_HOURLY) / sum(_HOURLY))
    seconds = rng.integers(0, 3600, size=n)
    epoch0 = int(dt.datetime.combine(first, dt.time(0), tzinfo=dt.UTC).timestamp()) - utc_offset_s
    starts = epoch0 + days_drawn * 86400 + hours * 3600 + seconds
    starts.sort()
    return starts


def generate_records(
    company_id: int,
    agents: list[tuple[int, str, str]],
    fault_types: list[tuple[int, str]],
    n: int,
    *,
    end: dt.date,
    days: int = 730,
    utc_offset_s: int = 9 * 3600,
    seed: int = 1,
    chunk: int = 20_000,
    until: dt.datetime | None = None,
) -> Iterator[list[tuple[Any, ...]]]:
    """Chunks of record tuples (columns :data:`RECORD_COLUMNS`), oldest first, ``n`` rows in all.

    ``agents`` are (id, login_id, name), ``fault_types`` (id, name); the records span the ``days`` local
    days that end with ``end`` in a zone ``utc_offset_s`` east of UTC. Sessions drawn after ``until``
    (the rest of today, when ``until`` is now) move back by a day, so that none lies in the future.
    """
    rng = np.random.default_rng(seed)
    first = end - dt.timedelta(days=days - 1)
    starts = _start_times(rng, n, first, days, utc_offset_s)
    if until is not None:
        limit = int(until.timestamp()) - 4 * 3600  # even the longest session (4 h) has ended by then
        starts[starts > limit] -= 86400
        starts.sort()
    # a few agents take most sessions (Zipf-like), as in a real support desk
    agent_weight = 1.0 / np.arange(1, len(agents) + 1) ** 0.7
    agent_weight /= agent_weight.sum()
    fault_weight = 1.0 / np.arange(1, len(fault_types) + 1) ** 1.1
    fault_weight /= fault_weight.sum()
    os_values, os_p = _weights(_OS)
    status_values, status_p = _weights(_STATUS)
    resolved_values, resolved_p = _weights(_RESOLVED)
    agent_ips = [
        (
            f"211.{40 + i % 50}.{i % 250}.{10 + i % 200}",
            f"192.168.{i % 20}.{10 + i % 240}",
            f"SUPPORT-PC{i:03d}",
        )
        for i in range(len(agents))
    ]
    for lo in range(0, n, chunk):
        hi = min(n, lo + chunk)
        size = hi - lo
        start = starts[lo:hi]
        agent_ix = rng.choice(len(agents), size=size, p=agent_weight)
        fault_ix = rng.choice(len(fault_types), size=size, p=fault_weight)
        no_fault = rng.random(size) < 0.10
        os_ix = rng.choice(len(os_values), size=size, p=os_p)
        status_ix = rng.choice(len(status_values), size=size, p=status_p)
        resolved_ix = rng.choice(len(resolved_values), size=size, p=resolved_p)
        duration = np.clip(rng.lognormal(np.log(540), 0.9, size=size), 5, 4 * 3600).astype(np.int64)
        unknown_duration = rng.random(size) < 0.03
        satisfaction = rng.choice(5, size=size, p=_SATISFACTION) + 1
        no_answer = rng.random(size) < _NO_ANSWER
        has_contact = rng.random(size) < 0.3
        has_content = rng.random(size) < 0.7
        has_comment = rng.random(size) < 0.12
        wait = rng.integers(5, 300, size=size)
        names = rng.integers(0, len(_SURNAMES) * len(_GIVEN), size=size)
        ip = rng.integers(1, 255, size=(size, 4))
        pc = rng.integers(0, 36**7, size=size)
        routing = rng.integers(0, 2**63 - 1, size=size)
        misc = rng.integers(0, 1_000_000, size=size)
        rows: list[tuple[Any, ...]] = []
        for i in range(size):
            agent_id, login_id, agent_name = agents[agent_ix[i]]
            a_pub, a_priv, a_pc = agent_ips[agent_ix[i]]
            started = dt.datetime.fromtimestamp(int(start[i]), dt.UTC).replace(tzinfo=None)
            status = status_values[status_ix[i]]
            dur = None if unknown_duration[i] or status == "refused" else int(duration[i])
            ended = None if dur is None else started + dt.timedelta(seconds=dur)
            fault = None if no_fault[i] else fault_types[fault_ix[i]]
            name_ix = int(names[i])
            m = int(misc[i])
            rows.append(
                (
                    company_id,
                    agent_id,
                    login_id,
                    agent_name,
                    a_pub,
                    a_priv,
                    a_pc,
                    f"{int(routing[i]):016x}"[:16],
                    status,
                    _SURNAMES[name_ix % len(_SURNAMES)] + _GIVEN[name_ix // len(_SURNAMES)],
                    f"{ip[i, 0]}.{ip[i, 1]}.{ip[i, 2]}.{ip[i, 3]}",
                    f"192.168.{ip[i, 2]}.{ip[i, 3]}",
                    "DESKTOP-" + np.base_repr(int(pc[i]), 36).rjust(7, "0"),
                    os_values[os_ix[i]],
                    f"customer{m}@example.com" if has_contact[i] else None,
                    f"010-{m % 9000 + 1000}-{m // 9000 % 9000 + 1000}" if has_contact[i] else None,
                    None if fault is None else fault[0],
                    None if fault is None else fault[1],
                    started - dt.timedelta(seconds=int(wait[i])),
                    started,
                    ended,
                    dur,
                    _CONTENT[m % len(_CONTENT)] if has_content[i] else None,
                    "unset" if status == "refused" else resolved_values[resolved_ix[i]],
                    None if no_answer[i] else int(satisfaction[i]),
                    _COMMENTS[m % len(_COMMENTS)] if has_comment[i] and not no_answer[i] else None,
                )
            )
        yield rows


def insert_records(engine: Engine, chunks: Iterator[list[tuple[Any, ...]]]) -> int:
    """Write the chunks of :func:`generate_records` in bulk; returns the number of rows written.

    PostgreSQL: ``COPY FROM STDIN`` (psycopg 3). SQLite: ``executemany`` of one INSERT per chunk, all in
    one transaction. Timestamps go in as SQLAlchemy writes them (naive UTC; on SQLite the same text form,
    so that comparisons with bound parameters stay exact).
    """
    columns = ", ".join(RECORD_COLUMNS)
    total = 0
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "postgresql":
            with cursor.copy(f"COPY support_record ({columns}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for rows in chunks:
                    for row in rows:
                        copy.write_row(row)
                    total += len(rows)
        else:
            marks = ", ".join("?" for _ in RECORD_COLUMNS)
            sql = f"INSERT INTO support_record ({columns}) VALUES ({marks})"
            time_ix = [RECORD_COLUMNS.index(c) for c in ("created_at", "started_at", "ended_at")]
            for rows in chunks:
                cursor.executemany(sql, [_sqlite_times(row, time_ix) for row in rows])
                total += len(rows)
        raw.commit()
    finally:
        raw.close()
    return total


def _sqlite_times(row: tuple[Any, ...], time_ix: list[int]) -> tuple[Any, ...]:
    values = list(row)
    for ix in time_ix:
        value = values[ix]
        if value is not None:
            values[ix] = value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return tuple(values)


def seed_company(
    engine: Engine,
    n: int,
    *,
    end: dt.date,
    name: str = "Benchmark Co.",
    agents: int = 200,
    fault_types: int = 30,
    days: int = 730,
    utc_offset_s: int = 9 * 3600,
    seed: int = 1,
) -> SeededCompany:
    """A new company with ``agents`` agents, ``fault_types`` fault types and ``n`` finished records.

    The schema must exist. Agents get an unusable password hash: they cannot log in.
    """
    if not 1 <= fault_types <= len(FAULT_TYPE_NAMES):
        raise ValueError(f"fault_types must be 1..{len(FAULT_TYPE_NAMES)}")
    with engine.begin() as conn:
        company_id = conn.execute(
            insert(Company)
            .values(
                name=name,
                service_name=name,
                pc_licences=agents,
                mobile_licences=0,
                created_at=dt.datetime.now(dt.UTC),
            )
            .returning(Company.id)
        ).scalar_one()
        prefix = f"c{company_id}a"
        conn.execute(
            insert(Agent),
            [
                {
                    "company_id": company_id,
                    "login_id": f"{prefix}{i:03d}"[:12],
                    "name": _SURNAMES[i % len(_SURNAMES)] + _GIVEN[i % len(_GIVEN)],
                    "password_hash": "!",
                    "company_name": name,
                    "options": {},
                }
                for i in range(1, agents + 1)
            ],
        )
        conn.execute(
            insert(FaultType),
            [
                {"company_id": company_id, "name": FAULT_TYPE_NAMES[i], "position": i}
                for i in range(fault_types)
            ],
        )
        agent_rows = [
            (int(r.id), r.login_id, r.name)
            for r in conn.execute(
                select(Agent.id, Agent.login_id, Agent.name)
                .where(Agent.company_id == company_id)
                .order_by(Agent.id)
            )
        ]
        fault_rows = [
            (int(r.id), r.name)
            for r in conn.execute(
                select(FaultType.id, FaultType.name)
                .where(FaultType.company_id == company_id)
                .order_by(FaultType.position)
            )
        ]
    chunks = generate_records(
        company_id,
        agent_rows,
        fault_rows,
        n,
        end=end,
        days=days,
        utc_offset_s=utc_offset_s,
        seed=seed,
        until=dt.datetime.now(dt.UTC),
    )
    insert_records(engine, chunks)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f"VACUUM ANALYZE {SupportRecord.__tablename__}")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    return SeededCompany(company_id, [a[1] for a in agent_rows], [f[0] for f in fault_rows])
