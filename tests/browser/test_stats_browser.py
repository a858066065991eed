"""통계보기 in Chromium: each of the eight views opened by its label shows its chart drawn on the canvas
(pixels that are not blank) and its table, whose counts add up to the period's records."""

from __future__ import annotations

import pytest
from records_fixtures import RecordsServer, admin_page, records_server

__all__ = ["admin_page", "records_server"]

pytestmark = pytest.mark.browser

VIEWS = ("월별", "일별", "시간대별", "상담원별", "상담시간별", "고객OS별", "장애유형별", "고객만족도별")

#: counts the canvas pixels that are painted (alpha > 0) and how many distinct colours they have
PAINTED = """() => {
  const canvas = document.getElementById("stats-chart");
  const ctx = canvas.getContext("2d");
  const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  const colours = new Set();
  for (let i = 0; i < data.length; i += 4) {
    if (data[i + 3] > 0) {
      painted++;
      if (colours.size < 50) colours.add(data[i] * 65536 + data[i + 1] * 256 + data[i + 2]);
    }
  }
  return {painted, colours: colours.size, width: canvas.width, height: canvas.height};
}"""


def test_each_statistics_view_draws_its_chart_and_table(admin_page, records_server: RecordsServer) -> None:  # type: ignore[no-untyped-def]
    page = admin_page
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.get_by_role("link", name="통계보기").click()
    page.wait_for_load_state()
    page.get_by_role("link", name="3개월").click()
    page.wait_for_load_state()
    for view in VIEWS:
        page.locator("aside.sub").get_by_role("link", name=view, exact=True).click()
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == f"{view} 통계"
        page.wait_for_function("() => window.statsChart !== undefined")
        pixels = page.evaluate(PAINTED)
        assert pixels["width"] > 100 and pixels["height"] > 100, view
        # bars, lines or slices plus axes and labels: a real drawing, not a blank or one-colour canvas
        assert pixels["painted"] > 2000 and pixels["colours"] > 3, (view, pixels)
        counts = [
            int(c.replace(",", ""))
            for c in page.locator("table.stats tbody td:nth-child(2)").all_inner_texts()
        ]
        total = int(page.locator("table.stats tfoot th:nth-child(2)").inner_text().replace(",", ""))
        assert counts and sum(counts) == total == 300, view
    assert errors == []
