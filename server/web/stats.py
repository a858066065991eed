"""통계보기 pages: one page per statistics view, each a Chart.js chart over its table, for a chosen period.

``/manage/stats/`` shows 월별 (by month); ``/manage/stats/<view>`` the others (month, day, hour, agent,
duration, os, fault, satisfaction). The period takes the same parameters as the records search (preset, or
from/to); the default is the last year for 월별 and the last month otherwise.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from opensupport.server.i18n import gettext as _
from opensupport.server.records.periods import PeriodError, resolve_period, server_zone
from opensupport.server.records.stats import KINDS, compute_stats
from opensupport.server.web.deps import CurrentAdmin, DbSession
from opensupport.server.web.records import PRESET_LABELS, not_found
from opensupport.server.web.templating import render

router = APIRouter(include_in_schema=False)

#: chart type of each view: time series as bars, shares of a whole as a doughnut
CHART_TYPES = {
    "month": "bar",
    "day": "line",
    "hour": "bar",
    "agent": "bar",
    "duration": "bar",
    "os": "doughnut",
    "fault": "bar",
    "satisfaction": "doughnut",
}
#: the agent view draws the busiest agents; the table lists all of them
CHART_MAX_BARS = 30


@router.get("/manage/stats/", response_class=HTMLResponse)
def stats_home(request: Request, db: DbSession, admin: CurrentAdmin) -> HTMLResponse:
    """통계보기: the first view (월별)."""
    return stats_view("month", request, db, admin)


@router.get("/manage/stats/{kind}", response_class=HTMLResponse)
def stats_view(kind: str, request: Request, db: DbSession, admin: CurrentAdmin) -> HTMLResponse:
    """One statistics view: chart and table over the chosen period."""
    if kind not in KINDS:
        return not_found(request)
    params = request.query_params
    default = "1y" if kind == "month" else "1m"
    error = None
    status = 200
    try:
        period, preset = resolve_period(
            preset=params.get("preset") or None,
            date_from=params.get("from") or None,
            date_to=params.get("to") or None,
            zone=server_zone(),
            default_preset=default,
        )
    except PeriodError as exc:
        text = str(exc)
        error = (
            _("The start date is after the end date.")
            if "after" in text
            else _("The date range is too long.")
            if "too long" in text
            else _("Enter dates as YYYY-MM-DD.")
        )
        status = 400
        period, preset = resolve_period(
            preset=None, date_from=None, date_to=None, zone=server_zone(), default_preset=default
        )
    table = compute_stats(db, admin.company_id, kind, period, _)
    chart_rows = table.rows[:CHART_MAX_BARS] if kind == "agent" else table.rows
    chart = {
        "type": CHART_TYPES[kind],
        "labels": [row.label for row in chart_rows],
        "counts": [row.count for row in chart_rows],
        "label": _("Sessions"),
    }
    range_query = {"from": period.first.isoformat(), "to": period.last.isoformat()}
    context = {
        "section": "stats",
        "kind": kind,
        "title": _(KINDS[kind]),
        "views": [
            (key, _(title), f"/manage/stats/{key}?{urlencode(range_query)}") for key, title in KINDS.items()
        ],
        "presets": [
            (key, _(label), f"/manage/stats/{kind}?{urlencode({'preset': key})}")
            for key, label in PRESET_LABELS.items()
        ],
        "preset": preset,
        "period": period,
        "table": table,
        "chart": chart,
        "error": error,
    }
    return render(request, "stats/view.html", context, status_code=status)
