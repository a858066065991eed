"""지원기록보기 in Chromium, by the manual's visible labels: search records (preset, agent ID, dates), open a
record's 세부 정보 and go back, save the search with 엑셀로 저장하기 and read the download back with openpyxl,
and reorder fault types in 장애 유형 관리."""

from __future__ import annotations

import re

import openpyxl
import pytest
from records_fixtures import RecordsServer, admin_page, records_server

__all__ = ["admin_page", "records_server"]

pytestmark = pytest.mark.browser


def _total(page) -> int:  # type: ignore[no-untyped-def]
    text = page.locator("p.total").inner_text()
    return int(re.match(r"([\d,]+)건", text).group(1).replace(",", ""))


def test_search_detail_and_excel_download(admin_page, records_server: RecordsServer, tmp_path) -> None:  # type: ignore[no-untyped-def]
    page = admin_page
    page.get_by_role("link", name="지원기록보기").click()
    page.get_by_role("link", name="전체기록보기").click()
    page.get_by_role("link", name="3개월").click()
    all_total = _total(page)
    assert all_total == 300  # every seeded record is within 40 days
    # keyword: 상담원 ID, then 검색
    page.locator("input[name=agent]").fill("kim")
    page.get_by_role("button", name="검색").click()
    page.wait_for_load_state()
    kim_total = _total(page)
    assert 0 < kim_total < all_total
    ids = page.locator("table.records tbody tr td:first-child").all_inner_texts()
    assert ids and set(ids) == {"kim"}
    # a narrower date range through the calendar inputs
    first = page.locator("input[name=from]").input_value()
    last = page.locator("input[name=to]").input_value()
    assert first < last
    # 세부 정보 and back to the list as it was
    page.locator("table.records tbody tr td:first-child a").first.click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "세부 정보"
    details = page.locator("table.record-detail").inner_text()
    for label in ("상담원 정보", "상담원 IP", "상담원 PC명", "고객 정보", "고객 IP", "고객 PC명", "고객 OS", "이메일",
                  "전화 번호", "지원 정보", "장애 유형", "원격 지원 시간", "지원 내용", "장애 해결 여부", "만족도",
                  "고객 코멘트"):  # fmt: skip
        assert label in details, label
    assert "kim" in details
    page.get_by_role("link", name="목록으로").click()
    page.wait_for_load_state()
    assert page.locator("input[name=agent]").input_value() == "kim" and _total(page) == kim_total
    # 엑셀로 저장하기: the download holds exactly the search, all pages
    with page.expect_download() as download_info:
        page.get_by_role("link", name="엑셀로 저장하기").click()
    download = download_info.value
    assert download.suggested_filename.endswith("_kim.xlsx")
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    workbook = openpyxl.load_workbook(path, read_only=True)
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    workbook.close()
    assert rows[0][:2] == ("No.", "상담원 ID")
    assert len(rows) - 1 == kim_total and {r[1] for r in rows[1:]} == {"kim"}
    shown_first_page = page.locator("table.records tbody tr td:first-child a").first.get_attribute("href")
    assert shown_first_page is not None and f"/manage/records/{rows[1][0]}?" in shown_first_page
    # 새로고침 keeps the search
    page.get_by_role("link", name="새로고침").click()
    page.wait_for_load_state()
    assert _total(page) == kim_total


def test_reorder_fault_types(admin_page) -> None:  # type: ignore[no-untyped-def]
    page = admin_page
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("link", name="지원기록보기").click()
    page.get_by_role("link", name="장애 유형 관리").click()
    for name in ("프로그램 오류", "공인 인증서 관련 오류", "기타 장애"):
        page.get_by_placeholder("장애 유형").fill(name)
        page.get_by_role("button", name="장애유형 생성 +").click()
        page.wait_for_load_state()
    names = page.locator("span.fault-name")
    assert names.all_inner_texts() == ["프로그램 오류", "공인 인증서 관련 오류", "기타 장애"]
    page.locator("tr", has_text="기타 장애").get_by_role("button", name="up▲").click()
    page.wait_for_load_state()
    assert names.all_inner_texts() == ["프로그램 오류", "기타 장애", "공인 인증서 관련 오류"]
    page.locator("tr", has_text="프로그램 오류").get_by_role("button", name="▼down").click()
    page.wait_for_load_state()
    assert names.all_inner_texts() == ["기타 장애", "프로그램 오류", "공인 인증서 관련 오류"]
    page.locator("tr", has_text="공인 인증서 관련 오류").get_by_role("link", name="수정하기").click()
    page.locator("td form input[name=name]").fill("인증서 오류")
    page.get_by_role("button", name="저장").click()
    page.wait_for_load_state()
    page.locator("tr", has_text="기타 장애").get_by_role("button", name="삭제").click()
    page.wait_for_load_state()
    assert names.all_inner_texts() == ["프로그램 오류", "인증서 오류"]
