"""The admin web's 원격지원관리 and 마이페이지 through their forms, on SQLite and PostgreSQL."""

from __future__ import annotations

import re

from adminclient import ADMIN_PASSWORD, Client, agent_form, create_agent, department_id
from opensupport.server.bootstrap import add_company
from opensupport.server.db.models import Agent, AuditLog, Company, Department
from opensupport.server.options import OPTIONS
from sqlalchemy import select


def _db(client: Client):
    return client.app.state.db  # type: ignore[attr-defined]


def _errors(html: str) -> list[str]:
    block = re.search(r'<ul class="errors"[^>]*>(.*?)</ul>', html, re.S)
    return re.findall(r"<li>(.*?)</li>", block.group(1)) if block else []


def test_departments_list_counts_ids_and_names(admin: Client) -> None:
    create_agent(admin, "koino", "test")
    create_agent(admin, "koino2", "test", name="Second")
    department_id(admin, "empty")
    page = admin.get("/manage/remote/departments/").text
    row = re.search(r'<tr data-department="test">(.*?)</tr>', page, re.S).group(1)
    cells = [c.strip() for c in re.findall(r"<td>(.*?)</td>", row, re.S)]
    assert cells[:4] == ["test", "2", "koino, koino2", "Koino, Second"]
    assert "새부서 생성 +" in page and "부서이름수정" in page and "부서 삭제 -" in page


def test_department_create_rename_validation(admin: Client) -> None:
    page = "/manage/remote/departments/"
    assert "부서 이름을 입력해" in admin.submit(page + "new", {"name": "  "}, page=page).text
    department_id(admin, "sales")
    response = admin.submit(page + "new", {"name": "sales"}, page=page)
    assert response.status_code == 400 and "같은 이름의 부서가 이미 있습니다." in response.text
    dept = department_id(admin, "sales")
    admin.submit(f"{page}{dept}/rename", {"name": "support"})
    with _db(admin).session() as s:
        assert s.get(Department, dept).name == "support"
        audit = s.scalars(select(AuditLog.action).where(AuditLog.action.like("department.%"))).all()
    assert audit == ["department.create", "department.rename"]


def test_delete_department_with_agents_asks_and_moves_them(admin: Client) -> None:
    a = create_agent(admin, "mover1", "old")
    b = create_agent(admin, "mover2", "old")
    old, new = department_id(admin, "old"), department_id(admin, "new")
    form_page = f"/manage/remote/departments/{old}/delete"
    assert "mover1, mover2" in admin.get(form_page).text
    # no choice: refused, nothing deleted
    response = admin.submit(form_page, {})
    assert response.status_code == 400 and "옮길 부서를 선택해" in response.text
    admin.submit(form_page, {"move_to": str(new)})
    with _db(admin).session() as s:
        assert s.get(Department, old) is None
        assert s.get(Agent, a).department_id == new and s.get(Agent, b).department_id == new
    # and to "no department"
    admin.submit(f"/manage/remote/departments/{new}/delete", {"move_to": "none"})
    with _db(admin).session() as s:
        assert s.get(Agent, a) is not None and s.get(Agent, a).department_id is None


def test_agent_create_validation_messages(admin: Client) -> None:
    dept = department_id(admin, "test")
    url = "/manage/remote/agents/new"
    cases = {
        "영문, 숫자만 가능하며, 12자 이내로 입력해주시기 바랍니다.": agent_form("bad-id!", dept),
        "ID를 입력해 주시기 바랍니다.": agent_form("", dept),
        "이름을 입력해 주시기 바랍니다.": agent_form("okid1", dept, name=""),
        "Password와 Password 확인이 일치하지 않습니다.": agent_form(
            "okid2", dept, password_confirm="other-pass-1"
        ),
        "Password는 8자 이상 128자 이내로 입력해 주시기 바랍니다.": agent_form(
            "okid3", dept, password="short", password_confirm="short"
        ),
        "회사 이름을 입력해 주시기 바랍니다.": agent_form("okid4", dept, company_name=""),
        "소속 부서를 선택해 주시기 바랍니다.": agent_form("okid5", dept, department_id=""),
        "이메일 주소가 올바르지 않습니다.": agent_form("okid6", dept, email="not-an-address"),
        "지원권한(PC, 모바일)을 하나 이상 선택해 주시기 바랍니다.": agent_form("okid7", dept, can_pc=None),
        "영문, 숫자만 가능하며, 12자 이내로 입력해주시기 바랍니다. ": agent_form("abcdefghijklm", dept),
    }
    for message, form in cases.items():
        response = admin.submit(url, form)
        assert response.status_code == 400, message
        assert message.strip() in _errors(response.text), (message, _errors(response.text))
    create_agent(admin, "Taken1")
    response = admin.submit(url, agent_form("taken1", dept))  # IDs are unique regardless of case
    assert "이미 사용 중인 아이디입니다." in _errors(response.text)
    with _db(admin).session() as s:
        assert s.scalars(select(Agent.login_id)).all() == ["Taken1"]


def test_live_id_check(admin: Client) -> None:
    create_agent(admin, "anysupport")
    check = "/manage/remote/agents/check-id?login_id="
    assert admin.get(check + "newone").json() == {
        "available": True,
        "message": "사용할 수 있는 아이디입니다.",
    }
    assert admin.get(check + "AnySupport").json()["available"] is False
    assert admin.get(check + "has space").json()["message"].startswith("영문, 숫자만")
    # not for strangers
    anonymous = Client(admin.app)  # no lifespan: the app is already running
    assert anonymous.get(check + "x", headers={"Accept": "application/json"}).status_code == 401


def test_licence_counter_and_limit(admin: Client) -> None:
    page = admin.get("/manage/remote/agents/new").text
    assert "생성 가능 수 3 (전체 3)" in page  # the first company: 3 PC, 0 mobile licences
    for i in range(3):
        create_agent(admin, f"pc{i}")
    assert "생성 가능 수 0 (전체 3)" in admin.get("/manage/remote/agents/new").text
    response = admin.submit("/manage/remote/agents/new", agent_form("pc3", department_id(admin, "test")))
    assert response.status_code == 400
    assert "생성 가능한 PC 상담원 수를 초과했습니다(3 / 3 사용 중)." in _errors(response.text)
    response = admin.submit(
        "/manage/remote/agents/new",
        agent_form("mob1", department_id(admin, "test"), can_pc=None, can_mobile="on"),
    )
    assert "생성 가능한 모바일 상담원 수를 초과했습니다(0 / 0 사용 중)." in _errors(response.text)
    with _db(admin).session() as s:
        assert len(s.scalars(select(Agent)).all()) == 3
    listing = admin.get("/manage/remote/agents/").text
    assert "상담원 생성 현황 3 / 3" in listing and "(PC) 3 / 3" in listing


def test_create_shows_summary_with_ok(admin: Client) -> None:
    dept = department_id(admin, "test")
    response = admin.submit("/manage/remote/agents/new", agent_form("anysupport", dept, name="Koino"))
    summary = re.search(r'<table class="grid" id="summary".*?</table>', response.text, re.S).group(0)
    for value in ("Koino", "anysupport", "test", "02-839-7500", "agent@example.com"):
        assert f"<td>{value}</td>" in summary
    assert ">확인</a>" in response.text


def test_agent_list_search_sort_and_status(admin: Client) -> None:
    create_agent(admin, "alpha", name="Kim")
    create_agent(admin, "bravo", name="Lee")
    create_agent(admin, "charlie", name="Park")

    def ids(html: str) -> list[str]:
        return re.findall(r'<td><a href="/manage/remote/agents/\d+">(\w+)</a></td>', html)

    base = "/manage/remote/agents/"
    assert ids(admin.get(base).text) == ["alpha", "bravo", "charlie"]
    assert ids(admin.get(base + "?sort=desc").text) == ["charlie", "bravo", "alpha"]
    assert ids(admin.get(base + "?field=login_id&q=rav").text) == ["bravo"]
    assert ids(admin.get(base + "?field=name&q=park").text) == ["charlie"]
    assert ids(admin.get(base + "?field=name&q=%25").text) == []  # LIKE wildcards are literal
    page = admin.get(base).text
    assert page.count("오프라인") >= 3 and "0000-00-00 00:00:00" in page
    status = admin.get(base + "status.json").json()["agents"]
    assert {a["login_id"]: a["online"] for a in status} == {"alpha": False, "bravo": False, "charlie": False}


def test_edit_keeps_id_and_blank_password(admin: Client) -> None:
    agent = create_agent(admin, "editme")
    with _db(admin).session() as s:
        old_hash = s.get(Agent, agent).password_hash
    other = department_id(admin, "other")
    form = agent_form(
        "changed", other, name="New Name", password="", password_confirm="", phone="010-1234-5678"
    )
    response = admin.submit(f"/manage/remote/agents/{agent}", form, follow_redirects=False)
    assert response.status_code == 303
    with _db(admin).session() as s:
        row = s.get(Agent, agent)
        assert (row.login_id, row.name, row.department_id, row.phone) == (
            "editme",
            "New Name",
            other,
            "010-1234-5678",
        )
        assert row.password_hash == old_hash
    admin.submit(
        f"/manage/remote/agents/{agent}",
        agent_form("x", other, password="new-pass-99", password_confirm="new-pass-99"),
    )
    with _db(admin).session() as s:
        assert s.get(Agent, agent).password_hash != old_hash
    bad = admin.submit(
        f"/manage/remote/agents/{agent}",
        agent_form("x", other, password="new-pass-99", password_confirm="nope"),
    )
    assert bad.status_code == 400 and "Password와 Password 확인이 일치하지 않습니다." in _errors(bad.text)


def test_options_defaults_and_change(admin: Client) -> None:
    agent = create_agent(admin, "opts")
    page = admin.get(f"/manage/remote/agents/{agent}").text
    for title in ("설정 옵션", "기능 옵션", "모바일 기능 옵션"):
        assert f"<h2>{title}</h2>" in page
    checked = dict(re.findall(r'id="opt_(\w+)" name="opt_\w+"( checked)?', page))
    assert len(checked) == 40
    # the manual's defaults
    assert checked["force_login"] and checked["driver_mode"] and checked["auto_control"]
    assert checked["clipboard_file_transfer"]
    assert (
        not checked["consent_before_connect"]
        and not checked["satisfaction_survey"]
        and not checked["no_control"]
    )
    assert all(checked[o.key] for o in OPTIONS if o.group.value == "features")
    assert checked["mobile_two_way_file_transfer"] and checked["mobile_file_transfer_consent"]
    assert not checked["mobile_no_control"]
    assert (
        "상담원 강제 로그인" in page
        and "중복로그인시 후 사용자가 기존 접속을 끊을 수 있는 설정입니다." in page
    )
    # turn forced login off and the survey on
    form = agent_form("opts", department_id(admin, "test"), password="", password_confirm="")
    form.update({f"opt_{k}": "on" for k, v in checked.items() if v and k != "force_login"})
    form["opt_satisfaction_survey"] = "on"
    admin.submit(f"/manage/remote/agents/{agent}", form)
    with _db(admin).session() as s:
        options = s.get(Agent, agent).effective_options()
        details = s.scalars(select(AuditLog.detail).where(AuditLog.action == "agent.options")).all()
    assert options["force_login"] is False and options["satisfaction_survey"] is True
    assert options["driver_mode"] is True
    assert details == ["force_login: on → off; satisfaction_survey: off → on"]
    audit_page = admin.get("/manage/remote/audit/").text
    assert "상담원 옵션 변경" in audit_page and "force_login: on → off" in audit_page


def test_delete_agent_at_the_bottom_of_its_page(admin: Client) -> None:
    agent = create_agent(admin, "gone")
    page = admin.get(f"/manage/remote/agents/{agent}").text
    assert page.rindex("상담원 삭제") > page.rindex("수정하기")
    admin.submit(f"/manage/remote/agents/{agent}/delete", page=f"/manage/remote/agents/{agent}")
    with _db(admin).session() as s:
        assert s.get(Agent, agent) is None


def test_tenant_isolation_in_pages(admin: Client) -> None:
    mine = create_agent(admin, "mine")
    with _db(admin).session() as s:
        created = add_company(
            s, name="Other", admin_login_id="other", admin_password="other-pass-1", pc_licences=5
        )
        s.add(Department(company_id=created.company_id, name="theirs"))
    other = Client(admin.app)  # no lifespan: the app is already running
    assert other.login("other", "other-pass-1").status_code == 200
    assert other.get(f"/manage/remote/agents/{mine}").status_code == 404
    assert "mine" not in other.get("/manage/remote/agents/").text
    assert "test" not in other.get("/manage/remote/departments/").text
    response = other.submit(f"/manage/remote/agents/{mine}/delete", page="/manage/remote/agents/")
    assert response.status_code == 404
    theirs = department_id(other, "theirs")
    # other's admin cannot put its agent in my department, nor delete mine
    response = other.submit("/manage/remote/agents/new", agent_form("theirs1", department_id(admin, "test")))
    assert "소속 부서를 선택해 주시기 바랍니다." in _errors(response.text)
    assert (
        other.submit(
            f"/manage/remote/departments/{department_id(admin, 'test')}/delete",
            page="/manage/remote/departments/",
        ).status_code
        == 404
    )
    assert theirs
    with _db(admin).session() as s:
        assert s.get(Agent, mine) is not None


def test_sessions_create_manage_force_end_and_faults(admin: Client) -> None:
    agent = create_agent(admin, "sess")
    response = admin.submit("/manage/remote/sessions/new", {"agent_id": str(agent)})
    routing = re.search(r'id="routing-id">(\d+)<', response.text).group(1)
    assert len(routing) == 8 and "/s/sess" in response.text
    live = admin.get("/manage/remote/sessions/live.json").json()["sessions"]
    assert [(r["routing_id"], r["status"], r["status_label"]) for r in live] == [(routing, "waiting", "대기")]
    admin.submit(f"/manage/remote/sessions/{live[0]['id']}/end", page="/manage/remote/sessions/")
    assert admin.get("/manage/remote/sessions/live.json").json()["sessions"] == []
    from opensupport.server.db.models import SupportRecord

    with _db(admin).session() as s:
        record = s.get(SupportRecord, live[0]["id"])
        assert record.status == "ended" and record.ended_at is not None
        record.status = "disconnected"
    assert "sess" in admin.get("/manage/remote/faults/").text


def test_mypage_shows_licence_and_url_and_changes_password_only_when_typed(admin: Client) -> None:
    page = admin.get("/manage/mypage/").text
    assert "상담원 생성 가능 수" in page and "3 (전체 3)" in page and "testserver/s/" in page
    form = {
        "company_name": "코이노",
        "service_name": "애니서포트",
        "name": "관리자",
        "phone": "02-839-7500",
        "email": "a@example.com",
    }
    admin.submit("/manage/mypage/", form)
    with _db(admin).session() as s:
        company = s.scalar(select(Company).where(Company.id == 1))
        assert (company.name, company.service_name) == ("코이노", "애니서포트")
    # still logged in with the old password
    assert admin.get("/manage/mypage/", follow_redirects=False).status_code == 200
    bad = admin.submit("/manage/mypage/", form | {"password": "new-admin-pass", "password_confirm": "x"})
    assert "Password와 Password 확인이 일치하지 않습니다." in bad.text
    wrong = admin.submit(
        "/manage/mypage/",
        form
        | {"password": "new-admin-pass", "password_confirm": "new-admin-pass", "current_password": "nope"},
    )
    assert "현재 Password가 올바르지 않습니다." in wrong.text
    admin.submit(
        "/manage/mypage/",
        form
        | {
            "password": "new-admin-pass",
            "password_confirm": "new-admin-pass",
            "current_password": ADMIN_PASSWORD,
        },
    )
    assert admin.get("/manage/mypage/", follow_redirects=False).status_code == 200  # this browser stays in
    fresh = Client(admin.app)  # no lifespan: the app is already running
    assert fresh.login("admin", ADMIN_PASSWORD).status_code == 401
    assert fresh.login("admin", "new-admin-pass").status_code == 200


def test_customer_page_korean_and_english(admin: Client) -> None:
    create_agent(admin, "helper", name="Hong")
    customer = Client(admin.app)  # no lifespan: the app is already running
    ko = customer.get("/s/helper")
    assert (
        ko.status_code == 200 and "원격지원 프로그램을 내려받아 실행하십시오" in ko.text and "Hong" in ko.text
    )
    en = customer.get("/s/helper?lang=en")
    assert "Download and start the support program" in en.text
    assert customer.get("/s/nobody").status_code == 404
    download = customer.get("/download/host")
    assert download.status_code == 200 and 'pip install "opensupport[host]"' in download.text


def test_pages_need_login(client: Client) -> None:
    for url in (
        "/manage/remote/departments/",
        "/manage/remote/agents/",
        "/manage/mypage/",
        "/manage/remote/audit/",
    ):
        response = client.get(url, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/manage/"


def test_nul_characters_are_a_clear_400_not_a_500(admin: Client) -> None:
    assert admin.get("/manage/remote/agents/?q=a%00b").status_code == 400
    assert admin.get("/s/a%00").status_code == 400
    response = admin.submit(
        "/manage/remote/departments/new", {"name": "a\x00b"}, page="/manage/remote/departments/"
    )
    assert response.status_code == 400 and "NUL" in response.text
    assert (
        admin.submit("/manage/login", {"login_id": "a\x00", "password": "x"}, page="/manage/").status_code
        == 400
    )
    # nothing was stored, and the forms still work
    department_id(admin, "fine")


def test_out_of_range_ids_in_pages_are_not_found_or_invalid(admin: Client) -> None:
    huge = 2**40
    for url in (
        f"/manage/remote/agents/{huge}",
        f"/manage/remote/departments/{huge}/rename",
        "/manage/remote/agents/abc",
    ):
        assert admin.get(url).status_code in (404, 422)
    response = admin.submit(f"/manage/remote/sessions/{huge}/end", page="/manage/remote/sessions/")
    assert response.status_code == 422
    dept = department_id(admin, "one")
    create_agent(admin, "inone", "one")
    form_page = f"/manage/remote/departments/{dept}/delete"
    assert admin.submit(form_page, {"move_to": str(huge)}).status_code == 400


def test_random_agent_forms_get_a_page_never_a_500(admin: Client) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    dept = department_id(admin, "fuzz")
    token = admin.csrf("/manage/remote/agents/new")
    field = st.text(max_size=40) | st.sampled_from(["", " ", "a" * 300, "x@y.z", "0" * 12, str(2**40)])

    @given(
        name=field, login_id=field, password=field, company=field, phone=field, email=field,
        department=st.sampled_from([str(dept), "", "abc", str(2**40), "-1"]),
    )  # fmt: skip
    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    def post(
        name: str, login_id: str, password: str, company: str, phone: str, email: str, department: str
    ) -> None:
        form = {
            "csrf_token": token, "name": name, "login_id": login_id, "password": password,
            "password_confirm": password, "company_name": company, "phone": phone, "email": email,
            "department_id": department, "can_pc": "on",
        }  # fmt: skip
        response = admin.post("/manage/remote/agents/new", data=form)
        assert response.status_code in (200, 400), (response.status_code, response.text[:300])

    post()
