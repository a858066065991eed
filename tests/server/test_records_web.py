"""지원기록보기 through the admin web on SQLite and PostgreSQL: the list and its labels, the detail page with
every field, tenant isolation, and 장애 유형 관리 (limit of 30, reorder, edit, delete, audit rows)."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from adminclient import Client
from opensupport.server.db.models import AdminUser, AuditLog, FaultType, SupportRecord
from records_util import add_records, new_company, record
from sqlalchemy import select


@pytest.fixture(autouse=True)
def _seoul(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENSUPPORT_TIMEZONE", "Asia/Seoul")


def _db(client: Client):
    return client.app.state.db  # type: ignore[attr-defined]


def _company(admin: Client) -> int:
    with _db(admin).session() as s:
        return int(s.scalar(select(AdminUser.company_id).where(AdminUser.login_id == "admin")))


def _list_rows(page: str) -> list[list[str]]:
    body = re.search(r'<table class="grid records">.*?<tbody>(.*?)</tbody>', page, re.S).group(1)
    rows = []
    for tr in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        cells = [
            html.unescape(re.sub(r"<[^>]+>", "", td)).strip()
            for td in re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)
        ]
        rows.append(cells)
    return rows


def test_list_shows_the_manual_columns_and_labels(admin: Client) -> None:
    company = _company(admin)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    add_records(
        _db(admin),
        [
            record(company, now - dt.timedelta(hours=2), agent_login_id="test", customer_name="홍길동",
                   customer_os="Windows 11", duration_s=3725, resolved="resolved"),
            # the manual's example row: never connected, OS unknown, not checked
            record(company, now - dt.timedelta(hours=1), agent_login_id="test", customer_name=None,
                   customer_os=None, started_at=None, ended_at=None, duration_s=None, resolved="unset",
                   status="ended"),
            record(company, now - dt.timedelta(minutes=30), agent_login_id="other", resolved="unresolved"),
        ],
    )  # fmt: skip
    page = admin.get("/manage/records/?preset=3d&agent=test")
    assert page.status_code == 200
    text = page.text
    for label in ("전체기록보기", "당일", "3일", "1주일", "1개월", "3개월", "6개월", "1년", "상담원 ID", "검색",
                  "고객 이름", "시작 시각", "사용 시각", "고객 OS", "해결 여부", "엑셀로 저장하기", "새로고침",
                  "자세한 기록을 보시려면, 해당 아이디를 클릭해 주시기 바랍니다."):  # fmt: skip
        assert label in text, label
    rows = _list_rows(text)
    local = (now - dt.timedelta(hours=1)).astimezone(dt.timezone(dt.timedelta(hours=9)))
    assert rows == [
        ["test", "", local.strftime("%Y-%m-%d %H:%M"), "알수 없음", "기타 OS", "미체크"],
        ["test", "홍길동", rows[1][2], "01:02:05", "Windows 11", "해결"],
    ]
    # past the count cap the page says "more than"
    from opensupport.server.records import search as search_module
    from opensupport.server.web import records as records_page

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(records_page, "search_records", lambda db, q: search_module.search_records(db, q, cap=1))
        assert "1건 이상" in admin.get("/manage/records/?preset=3d&agent=test").text
    # English through the switch's cookie
    admin.cookies.set("os_lang", "en")
    english = admin.get("/manage/records/?preset=3d&agent=other").text
    assert "Save to Excel" in english and _list_rows(english)[0][-1] == "Unresolved"


def test_detail_page_has_every_field_and_goes_back_to_the_search(admin: Client) -> None:
    company = _company(admin)
    created = dt.datetime(2026, 2, 2, 5, 40, 36, tzinfo=dt.UTC)  # 14:40:36 in Seoul
    [rid] = add_records(
        _db(admin),
        [
            record(company, created, agent_login_id="test1", agent_name="test", agent_ip_public="192.168.1.125",
                   agent_ip_private="10.0.0.5", agent_pc_name="WONBAE-PC", customer_name="<b>고객</b>",
                   customer_ip_public="192.168.1.243", customer_ip_private="10.1.1.1", customer_pc_name="WIN-SFRKJDT7NP9",
                   customer_os=None, customer_email="a@example.com", customer_phone="010-1234-5678",
                   fault_type_name="프로그램 오류", started_at=created + dt.timedelta(seconds=30), ended_at=None,
                   duration_s=None, content="재설치", resolved="resolved", satisfaction=None, customer_comment="감사"),
        ],
    )  # fmt: skip
    back = "from=2026-02-01&to=2026-02-03&agent=test1&page=1"
    page = admin.get(f"/manage/records/{rid}", params={"back": back}).text
    cells = {
        html.unescape(re.sub(r"<[^>]+>", "", th)).strip(): html.unescape(re.sub(r"<[^>]+>", "", td)).strip()
        for th, td in re.findall(r"<tr><th>(.*?)</th><td[^>]*>(.*?)</td></tr>", page, re.S)
    }
    assert cells["ID"] == "test1" and cells["이름"] == "test"
    assert cells["상담원 IP"] == "192.168.1.125 / 10.0.0.5" and cells["상담원 PC명"] == "WONBAE-PC"
    assert cells["고객 이름"] == "<b>고객</b>" and "&lt;b&gt;" in page  # escaped, not markup
    assert cells["고객 IP"] == "192.168.1.243 / 10.1.1.1" and cells["고객 PC명"] == "WIN-SFRKJDT7NP9"
    assert (
        cells["고객 OS"] == "기타 OS"
        and cells["이메일"] == "a@example.com"
        and cells["전화 번호"] == "010-1234-5678"
    )
    assert cells["장애 유형"] == "프로그램 오류"
    assert cells["원격 지원 시간"].startswith("2026-02-02 14:41:06 ~ (알수 없음)")
    assert cells["지원 내용"] == "재설치" and cells["장애 해결 여부"] == "해결"
    assert cells["만족도"] == "무응답" and cells["고객 코멘트"] == "감사"
    for section in ("상담원 정보", "고객 정보", "지원 정보"):
        assert section in page
    back_link = html.unescape(
        re.search(r'<a class="button secondary" href="([^"]+)">목록으로</a>', page).group(1)
    )
    assert (
        back_link.startswith("/manage/records/?")
        and "agent=test1" in back_link
        and "from=2026-02-01" in back_link
    )
    listed = admin.get(back_link).text
    assert f"/manage/records/{rid}?" in listed


def test_another_companys_records_never_appear(admin: Client) -> None:
    other = new_company(_db(admin), "Other")
    now = dt.datetime.now(dt.UTC)
    [foreign] = add_records(_db(admin), [record(other, now - dt.timedelta(minutes=5), agent_login_id="spy")])
    page = admin.get("/manage/records/?preset=3d").text
    assert "spy" not in page
    assert (
        admin.get("/manage/records/?preset=3d&agent=spy").text.count("/manage/records/" + str(foreign)) == 0
    )
    assert admin.get(f"/manage/records/{foreign}").status_code == 404
    export = admin.get("/manage/records/export.xlsx?preset=3d")
    assert export.status_code == 200 and b"spy" not in export.content


def test_bad_search_input_is_a_message_not_an_error(admin: Client) -> None:
    for query, message in (
        ("from=2026-03-05&to=2026-03-01", "시작일이 종료일보다 늦습니다."),
        ("from=03/05/2026", "날짜는 YYYY-MM-DD 형식으로 입력해 주십시오."),
        ("agent=" + "x" * 20, "상담원 ID는 12자 이하입니다."),
    ):
        page = admin.get("/manage/records/?" + query)
        assert page.status_code == 400 and message in page.text, query
    assert admin.get("/manage/records/?sort=password_hash&page=abc").status_code == 400
    assert admin.get("/manage/records/export.xlsx?from=2026-03-05&to=2026-03-01").status_code == 400


def _fault_names(admin: Client) -> list[str]:
    page = admin.get("/manage/records/fault-types/").text
    return [html.unescape(n) for n in re.findall(r'<span class="fault-name">(.*?)</span>', page)]


def _fault_ids(admin: Client) -> list[int]:
    return [
        int(i) for i in re.findall(r'data-fault-id="(\d+)"', admin.get("/manage/records/fault-types/").text)
    ]


def test_fault_types_create_reorder_edit_delete_with_audit(admin: Client) -> None:
    base = "/manage/records/fault-types/"
    page = admin.get(base).text
    assert (
        "장애 유형 관리" in page and "최대 30개까지 입력이 가능합니다" in page and "장애유형 생성 +" in page
    )
    for name in ("프로그램 오류", "공인 인증서 관련 오류", "기타 장애"):
        assert admin.submit(base, {"name": name}).status_code == 200
    assert _fault_names(admin) == ["프로그램 오류", "공인 인증서 관련 오류", "기타 장애"]
    first, second, third = _fault_ids(admin)
    # empty and duplicate names are refused with a message
    response = admin.submit(base, {"name": "   "}, page=base)
    assert response.status_code == 400 and "장애 유형 이름을 입력해 주십시오." in response.text
    response = admin.submit(base, {"name": "기타 장애"}, page=base)
    assert response.status_code == 400 and "이미 있습니다" in response.text
    # ▼down on the first, up▲ on the last
    admin.submit(f"{base}{first}/move", {"direction": "down"}, page=base)
    assert _fault_names(admin) == ["공인 인증서 관련 오류", "프로그램 오류", "기타 장애"]
    admin.submit(f"{base}{third}/move", {"direction": "up"}, page=base)
    assert _fault_names(admin) == ["공인 인증서 관련 오류", "기타 장애", "프로그램 오류"]
    admin.submit(f"{base}{second}/move", {"direction": "up"}, page=base)  # already first: nothing changes
    assert _fault_names(admin) == ["공인 인증서 관련 오류", "기타 장애", "프로그램 오류"]
    # 수정하기 then 삭제; a record keeps the name it was saved with
    company = _company(admin)
    [rid] = add_records(
        _db(admin),
        [record(company, dt.datetime.now(dt.UTC), fault_type_id=third, fault_type_name="기타 장애")],
    )
    assert 'value="기타 장애"' in admin.get(f"{base}?edit={third}").text
    admin.submit(f"{base}{third}/edit", {"name": "기타"}, page=base)
    admin.submit(f"{base}{first}/delete", {}, page=base)
    assert _fault_names(admin) == ["공인 인증서 관련 오류", "기타"]
    with _db(admin).session() as s:
        positions = s.scalars(
            select(FaultType.position).where(FaultType.company_id == company).order_by(FaultType.position)
        ).all()
        assert positions == [0, 1]
        saved = s.get(SupportRecord, rid)
        assert saved.fault_type_name == "기타 장애" and saved.fault_type_id == third
        actions = s.scalars(
            select(AuditLog.action)
            .where(AuditLog.company_id == company, AuditLog.action.like("fault_type.%"))
            .order_by(AuditLog.id)
        ).all()
        actors = set(s.scalars(select(AuditLog.actor).where(AuditLog.action.like("fault_type.%"))).all())
    assert actions == ["fault_type.create"] * 3 + ["fault_type.move"] * 2 + [
        "fault_type.update",
        "fault_type.delete",
    ]
    assert actors == {"admin"}


def test_at_most_30_fault_types_and_none_of_another_company(admin: Client) -> None:
    base = "/manage/records/fault-types/"
    other = new_company(_db(admin), "Other")
    with _db(admin).session() as s:
        foreign = FaultType(company_id=other, name="남의 유형", position=0)
        s.add(foreign)
        s.flush()
        foreign_id = foreign.id
        company = _company(admin)
        s.add_all(FaultType(company_id=company, name=f"유형 {i}", position=i) for i in range(29))
    assert admin.submit(base, {"name": "서른 번째"}).status_code == 200
    assert len(_fault_names(admin)) == 30 and "남의 유형" not in _fault_names(admin)
    response = admin.submit(base, {"name": "서른한 번째"}, page=base)
    assert response.status_code == 400 and "장애 유형은 최대 30개까지 입력이 가능합니다." in response.text
    assert len(_fault_names(admin)) == 30
    for action, data in (("delete", {}), ("edit", {"name": "탈취"}), ("move", {"direction": "up"})):
        assert admin.submit(f"{base}{foreign_id}/{action}", data, page=base).status_code == 404
    with _db(admin).session() as s:
        assert s.get(FaultType, foreign_id).name == "남의 유형"
    # without the CSRF token nothing changes
    assert admin.post(base, data={"name": "csrf 없음"}).status_code == 403
    assert "csrf 없음" not in _fault_names(admin)


def test_paging_and_sorting_through_the_page(admin: Client) -> None:
    company = _company(admin)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    add_records(
        _db(admin),
        [
            record(
                company,
                now - dt.timedelta(minutes=i + 1),
                agent_login_id="pager",
                customer_name=f"n{(i * 17) % 45:02d}",
            )
            for i in range(45)
        ],
    )
    first = admin.get("/manage/records/?preset=3d&agent=pager").text
    assert len(_list_rows(first)) == 20 and "45건" in first
    next_link = html.unescape(re.search(r'<a href="([^"]+)">다음 ›</a>', first).group(1))
    assert "page=2" in next_link and "agent=pager" in next_link
    last = admin.get("/manage/records/?preset=3d&agent=pager&page=3").text
    assert len(_list_rows(last)) == 5
    # the header link of 고객 이름 sorts by it; the order sticks while paging
    sort_link = html.unescape(re.search(r'<th><a href="([^"]+)">고객 이름</a>', first).group(1))
    by_name = admin.get(sort_link).text
    names = [row[1] for row in _list_rows(by_name)]
    assert names == sorted(names, reverse=True) and names[0] == "n44"
    ascending = admin.get(sort_link.replace("order=desc", "order=asc") + "&page=3").text
    assert [row[1] for row in _list_rows(ascending)] == ["n40", "n41", "n42", "n43", "n44"]
