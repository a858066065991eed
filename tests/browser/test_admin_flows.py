"""The manual's 원격지원관리 flows in Chromium, by their visible Korean labels."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from opensupport.server.db.models import Agent
from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.conftest import LiveServer, login

pytestmark = pytest.mark.browser


def _create_department(page: Any, name: str) -> None:
    page.get_by_role("link", name="부서 관리", exact=True).click()
    page.get_by_label("부서 이름").fill(name)
    page.get_by_role("button", name="새부서 생성 +").click()
    expect(page.get_by_text("새 부서가 생성되었습니다.")).to_be_visible()


def _messages(page: Any) -> list[str]:
    """The validation messages shown above the form (after it was sent back)."""
    expect(page.locator("ul.errors li").first).to_be_visible()
    return [t.strip() for t in page.locator("ul.errors li").all_inner_texts()]


def _fill_agent(
    page: Any, login_id: str, *, password: str = "agent-pass-1", confirm: str | None = None
) -> None:
    page.get_by_label("이름", exact=True).fill("Koino")
    page.get_by_label("ID", exact=True).fill(login_id)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Password 확인").fill(password if confirm is None else confirm)
    page.get_by_label("회사 이름").fill("test")
    page.get_by_label("소속 부서").select_option(label="test")
    page.get_by_label("PC", exact=True).check()


def test_login_department_agent_with_every_message_and_options(page: Any, live_server: LiveServer) -> None:
    url = live_server.url
    page.goto(url + "/manage/")
    page.get_by_label("ID", exact=True).fill("admin")
    page.get_by_label("Password", exact=True).fill("wrong")
    page.get_by_role("button", name="로그인").click()
    expect(page.get_by_role("alert")).to_have_text("ID 또는 Password가 올바르지 않습니다.")
    login(page, url)
    expect(page.get_by_role("heading", name="부서 관리")).to_be_visible()
    for label in ("원격지원관리", "지원기록보기", "통계보기", "마이페이지", "관리자 사용 가이드"):
        expect(page.get_by_role("link", name=label, exact=True)).to_be_visible()

    _create_department(page, "test")
    expect(page.locator('tr[data-department="test"] td').nth(1)).to_have_text("0")

    page.get_by_role("link", name="상담원 생성", exact=True).click()
    expect(page.get_by_text("생성 가능 수 3 (전체 3)")).to_be_visible()
    # the live ID check
    page.get_by_label("ID", exact=True).fill("anysupport")
    expect(page.locator("#id-check")).to_have_text("사용할 수 있는 아이디입니다.")
    page.get_by_label("ID", exact=True).fill("any-support")
    expect(page.locator("#id-check")).to_have_text(
        "영문, 숫자만 가능하며, 12자 이내로 입력해주시기 바랍니다."
    )

    # every server-side message at once: the browser's own checks switched off, the form sent empty
    page.locator("#agent-form").evaluate("f => f.noValidate = true")
    page.get_by_label("ID", exact=True).fill("")
    page.get_by_label("회사 이름").fill("")
    page.get_by_label("PC", exact=True).uncheck()
    page.get_by_role("button", name="생성", exact=True).click()
    shown = _messages(page)
    for message in (
        "이름을 입력해 주시기 바랍니다.",
        "ID를 입력해 주시기 바랍니다.",
        "Password를 입력해 주시기 바랍니다.",
        "회사 이름을 입력해 주시기 바랍니다.",
        "소속 부서를 선택해 주시기 바랍니다.",
        "지원권한(PC, 모바일)을 하나 이상 선택해 주시기 바랍니다.",
    ):
        assert message in shown, shown

    _fill_agent(page, "anysupport", confirm="different-1")
    page.get_by_label("이메일").fill("not-an-address")
    page.get_by_role("button", name="생성", exact=True).click()
    assert _messages(page) == [
        "Password와 Password 확인이 일치하지 않습니다.",
        "이메일 주소가 올바르지 않습니다.",
    ]

    _fill_agent(page, "anysupport", password="short", confirm="short")
    page.get_by_label("이메일").fill("")
    page.get_by_role("button", name="생성", exact=True).click()
    assert _messages(page) == ["Password는 8자 이상 128자 이내로 입력해 주시기 바랍니다."]

    _fill_agent(page, "anysupport")
    page.get_by_label("전화 번호").fill("02-839-7500")
    page.get_by_role("button", name="생성", exact=True).click()
    expect(page.get_by_text("새로운 상담원이 성공적으로 생성되었습니다.")).to_be_visible()
    expect(page.locator("#summary")).to_contain_text("02-839-7500")
    page.get_by_role("link", name="확인").click()

    # the same ID again is refused
    page.get_by_role("link", name="상담원 생성", exact=True).click()
    page.get_by_label("ID", exact=True).fill("AnySupport")
    expect(page.locator("#id-check")).to_have_text("이미 사용 중인 아이디입니다.")

    # options: 상담원 강제 로그인 off, 고객 만족도 조사 on
    page.get_by_role("link", name="상담원 관리", exact=True).click()
    expect(page.locator("#agents")).to_contain_text("오프라인")
    page.get_by_role("link", name="anysupport").click()
    forced = page.get_by_label("상담원 강제 로그인")
    expect(forced).to_be_checked()
    expect(page.get_by_label("접속전 고객동의")).not_to_be_checked()
    forced.uncheck()
    page.get_by_label("고객 만족도 조사").check()
    page.get_by_role("button", name="▶ 수정하기").click()
    expect(page.get_by_text("수정되었습니다.")).to_be_visible()
    expect(page.get_by_label("상담원 강제 로그인")).not_to_be_checked()
    expect(page.get_by_label("고객 만족도 조사")).to_be_checked()
    with live_server.app.state.db.session() as s:
        options = s.scalar(select(Agent).where(Agent.login_id == "anysupport")).effective_options()
    assert options["force_login"] is False and options["satisfaction_survey"] is True

    # the agent logs in from a viewer: the list shows it online without a reload
    page.get_by_role("link", name="상담원 관리", exact=True).click()
    expect(page.locator("tr[data-agent] .status")).to_have_text("오프라인")
    login_response = httpx.post(
        url + "/api/agent/login",
        json={"login_id": "anysupport", "password": "agent-pass-1", "private_ip": "10.0.0.7"},
    )
    assert login_response.status_code == 200
    expect(page.locator("tr[data-agent] .status")).to_have_text("온라인", timeout=15_000)
    expect(page.locator("tr[data-agent] .ip")).to_have_text("127.0.0.1 / 10.0.0.7")


def test_department_delete_moves_agents_in_the_browser(page: Any, live_server: LiveServer) -> None:
    login(page, live_server.url)
    _create_department(page, "leaving")
    _create_department(page, "staying")
    page.get_by_role("link", name="상담원 생성", exact=True).click()
    page.get_by_label("이름", exact=True).fill("Mover")
    page.get_by_label("ID", exact=True).fill("mover1")
    page.get_by_label("Password", exact=True).fill("agent-pass-1")
    page.get_by_label("Password 확인").fill("agent-pass-1")
    page.get_by_label("회사 이름").fill("test")
    page.get_by_label("소속 부서").select_option(label="leaving")
    page.get_by_role("button", name="생성", exact=True).click()
    expect(page.get_by_text("새로운 상담원이 성공적으로 생성되었습니다.")).to_be_visible()
    page.get_by_role("link", name="부서 관리", exact=True).click()
    page.locator('tr[data-department="leaving"]').get_by_role("link", name="부서 삭제 -").click()
    expect(page.get_by_text("mover1")).to_be_visible()
    page.get_by_label("상담원을 옮길 부서").select_option(label="staying")
    page.get_by_role("button", name="부서 삭제 -").click()
    expect(page.get_by_text("부서가 삭제되었습니다.")).to_be_visible()
    expect(page.locator('tr[data-department="leaving"]')).to_have_count(0)
    expect(page.locator('tr[data-department="staying"] td').nth(2)).to_have_text("mover1")


def test_manage_sessions_live_and_force_end(page: Any, live_server: LiveServer) -> None:
    url = live_server.url
    login(page, url)
    _create_department(page, "live")
    page.get_by_role("link", name="상담원 생성", exact=True).click()
    page.get_by_label("이름", exact=True).fill("Live")
    page.get_by_label("ID", exact=True).fill("liveagent")
    page.get_by_label("Password", exact=True).fill("agent-pass-1")
    page.get_by_label("Password 확인").fill("agent-pass-1")
    page.get_by_label("회사 이름").fill("test")
    page.get_by_label("소속 부서").select_option(label="live")
    page.get_by_role("button", name="생성", exact=True).click()
    expect(page.get_by_text("새로운 상담원이 성공적으로 생성되었습니다.")).to_be_visible()

    page.get_by_role("link", name="상담 관리", exact=True).click()
    expect(page.locator("#sessions")).to_contain_text("진행 중인 상담이 없습니다.")
    token = httpx.post(
        url + "/api/agent/login", json={"login_id": "liveagent", "password": "agent-pass-1"}
    ).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    created = httpx.post(url + "/api/sessions", json={}, headers=auth).json()
    host = {"Authorization": f"Bearer {created['host_token']}"}
    httpx.post(url + "/api/host/report", json={"customer_name": "홍길동"}, headers=host)
    httpx.post(url + f"/api/sessions/{created['id']}/status", json={"status": "active"}, headers=auth)
    # the list updates itself: no reload
    row = page.locator(f'tr[data-session="{created["id"]}"]')
    expect(row).to_contain_text("진행 중", timeout=15_000)
    expect(row).to_contain_text("홍길동")
    expect(row).to_contain_text(created["routing_id"])
    row.get_by_role("button", name="강제 종료").click()
    expect(page.get_by_text("상담이 종료되었습니다.")).to_be_visible()
    expect(page.locator(f'tr[data-session="{created["id"]}"]')).to_have_count(0)
    assert httpx.get(url + f"/api/sessions/{created['id']}", headers=auth).json()["status"] == "ended"


def test_language_switch_to_english_and_back(page: Any, live_server: LiveServer) -> None:
    login(page, live_server.url)
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("link", name="Remote support management")).to_be_visible()
    expect(page.get_by_role("heading", name="Departments")).to_be_visible()
    page.get_by_role("link", name="한국어").click()
    expect(page.get_by_role("link", name="원격지원관리")).to_be_visible()
