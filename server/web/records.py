"""지원기록보기 pages: 장애 유형 관리 (fault types) and 전체기록보기 (all records, detail, Excel export).

Every query is scoped to the logged-in administrator's company; a record or fault type of another company
answers 404. The list, its paging and the export read the same query parameters, so 엑셀로 저장하기 saves
exactly what the page searched:

    preset   today | 3d | 1w | 1m | 3m | 6m | 1y   (ignored when from/to are given)
    from, to YYYY-MM-DD (the calendar inputs)
    agent    agent ID (exact)
    sort     agent | customer | started | duration | os | resolved;  order asc | desc
    page, size
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import tempfile
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from opensupport.server.db.models import SupportRecord
from opensupport.server.i18n import gettext as _
from opensupport.server.records.export import MAX_EXPORT_ROWS, ExportError, resolved_label, write_records_xlsx
from opensupport.server.records.fault_types import (
    MAX_FAULT_TYPES,
    FaultTypeError,
    FaultTypeNotFound,
    create_fault_type,
    delete_fault_type,
    list_fault_types,
    move_fault_type,
    rename_fault_type,
)
from opensupport.server.records.periods import PRESETS, PeriodError, resolve_period, server_zone
from opensupport.server.records.search import (
    DEFAULT_PAGE_SIZE,
    DEFAULT_SORT,
    PAGE_SIZES,
    SORT_COLUMNS,
    RecordSearch,
    SearchError,
    count_records,
    get_record,
    iter_search_rows,
    search_records,
)
from opensupport.server.web.deps import CsrfChecked, CurrentAdmin, DbSession
from opensupport.server.web.templating import render
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

router = APIRouter(include_in_schema=False)

#: preset key -> English label (msgid); the Korean is the manual's 당일, 3일, 1주일, 1개월, 3개월, 6개월, 1년
PRESET_LABELS = {
    "today": "Today",
    "3d": "3 days",
    "1w": "1 week",
    "1m": "1 month",
    "3m": "3 months",
    "6m": "6 months",
    "1y": "1 year",
}
assert set(PRESET_LABELS) == set(PRESETS)
#: the query parameters of a search; anything else in a query string is dropped
SEARCH_KEYS = ("preset", "from", "to", "agent", "sort", "order", "page", "size")


def error_page(request: Request, message: str, status: int) -> HTMLResponse:
    """The error page, rendered here: raising HTTPException would roll the request's session back (and
    detach the administrator the page header shows) before the app's handler renders it."""
    return render(request, "error.html", {"message": message}, status_code=status)


def not_found(request: Request) -> HTMLResponse:
    """The 404 page."""
    return error_page(request, _("The page was not found."), 404)


def format_local(value: dt.datetime | None, *, seconds: bool = True) -> str:
    """A stored UTC timestamp in the records' zone, ``YYYY-MM-DD HH:MM[:SS]``; empty for None."""
    if value is None:
        return ""
    return value.astimezone(server_zone()).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def format_duration(seconds: int | None) -> str:
    """``H:MM:SS`` (hours grow past 24), or 알수 없음 (unknown) when the duration was not recorded."""
    if seconds is None:
        return _("Unknown")
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"


def os_label(value: str | None) -> str:
    """The customer's OS, or 기타 OS (other OS) when the host did not tell."""
    return value or _("Other OS")


def satisfaction_label(value: int | None) -> str:
    """The customer's score, or 무응답 (no answer)."""
    return _("No answer") if value is None else _("{n} points").format(n=value)


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value else default
    except ValueError:
        return default


def _search_params(request: Request) -> dict[str, str]:
    return {k: v for k, v in request.query_params.items() if k in SEARCH_KEYS and v != ""}


def _build_search(company_id: int, params: dict[str, str]) -> tuple[RecordSearch, str | None]:
    """The search the query parameters ask for. Raises PeriodError / SearchError with a message."""
    period, preset = resolve_period(
        preset=params.get("preset"),
        date_from=params.get("from"),
        date_to=params.get("to"),
        zone=server_zone(),
    )
    search = RecordSearch(
        company_id=company_id,
        period=period,
        agent_id=params.get("agent", "").strip(),
        sort=params.get("sort", DEFAULT_SORT),
        descending=params.get("order", "desc") != "asc",
        page=_int(params.get("page"), 1),
        page_size=_int(params.get("size"), DEFAULT_PAGE_SIZE),
    )
    return search, preset


def _url(path: str, params: dict[str, Any], **changes: Any) -> str:
    merged = {**params, **changes}
    query = urlencode({k: v for k, v in merged.items() if v not in (None, "")})
    return f"{path}?{query}" if query else path


def _search_error_message(exc: Exception) -> str:
    if isinstance(exc, PeriodError):
        text = str(exc)
        if "after" in text:
            return _("The start date is after the end date.")
        if "too long" in text:
            return _("The date range is too long.")
        return _("Enter dates as YYYY-MM-DD.")
    text = str(exc)
    if "agent ID" in text:
        return _("An agent ID has at most 12 characters.")
    return _("The search could not be read; the default search is shown.")


@router.get("/manage/records/", response_class=HTMLResponse)
def records_list(request: Request, db: DbSession, admin: CurrentAdmin) -> HTMLResponse:
    """전체기록보기: the search form, the page of records and the total count."""
    params = _search_params(request)
    error = None
    status = 200
    try:
        search, preset = _build_search(admin.company_id, params)
    except (PeriodError, SearchError) as exc:
        error, status = _search_error_message(exc), 400
        params = {"agent": params.get("agent", "")[:12]}
        search, preset = _build_search(admin.company_id, {})
    page = search_records(db, search)
    if search.page > page.pages:  # a page past the end (the records changed): show the last one
        search = dataclasses.replace(search, page=page.pages)
        page = search_records(db, search)
    base = {
        "agent": search.agent_id,
        "from": search.period.first.isoformat(),
        "to": search.period.last.isoformat(),
        "sort": search.sort,
        "order": "desc" if search.descending else "asc",
        "size": search.page_size if search.page_size != DEFAULT_PAGE_SIZE else None,
    }
    list_query = urlencode({k: v for k, v in {**base, "page": search.page}.items() if v not in (None, "")})
    context = {
        "section": "records",
        "page_name": "list",
        "error": error,
        "search": search,
        "preset": preset,
        "presets": [
            (
                key,
                _(label),
                _url(
                    "/manage/records/",
                    {
                        "agent": search.agent_id,
                        "sort": search.sort,
                        "order": base["order"],
                        "size": base["size"],
                    },
                    preset=key,
                ),
            )
            for key, label in PRESET_LABELS.items()
        ],
        "result": page,
        "rows": [
            {
                "id": row.id,
                "agent_login_id": row.agent_login_id,
                "customer_name": row.customer_name or "",
                "started": format_local(row.started_at, seconds=False),
                "duration": format_duration(row.duration_s),
                "os": os_label(row.customer_os),
                "resolved": resolved_label(row.resolved, _),
                "href": _url(f"/manage/records/{row.id}", {"back": list_query}),
            }
            for row in page.rows
        ],
        "sort_links": {
            key: _url(
                "/manage/records/",
                base,
                sort=key,
                order="asc" if key == search.sort and search.descending else "desc",
                page=None,
            )
            for key in SORT_COLUMNS
        },
        "page_url": lambda n: _url("/manage/records/", base, page=n),
        "page_numbers": _page_window(page.page, page.pages),
        "page_sizes": PAGE_SIZES,
        "export_url": _url("/manage/records/export.xlsx", base),
        "refresh_url": _url("/manage/records/", base, page=search.page if search.page > 1 else None),
        "max_export": MAX_EXPORT_ROWS,
    }
    return render(request, "records/list.html", context, status_code=status)


def _page_window(page: int, pages: int, width: int = 10) -> list[int]:
    start = max(1, min(page - width // 2, pages - width + 1))
    return list(range(start, min(pages, start + width - 1) + 1))


@router.get("/manage/records/export.xlsx")
async def records_export(request: Request, db: DbSession, admin: CurrentAdmin) -> Response:
    """엑셀로 저장하기: every record of the current search (all pages) as an .xlsx download."""
    try:
        search, _preset = _build_search(admin.company_id, _search_params(request))
    except (PeriodError, SearchError) as exc:
        return error_page(request, _search_error_message(exc), 400)
    total = await run_in_threadpool(count_records, db, search)
    if total > MAX_EXPORT_ROWS:
        message = _("{n} records are more than one Excel sheet holds; narrow the search.").format(n=total)
        return error_page(request, message, 400)
    zone = server_zone()
    fd, path = tempfile.mkstemp(prefix="opensupport-records-", suffix=".xlsx")
    os.close(fd)
    # translated now, in the request's language: the worker thread does not see the request's context
    words = {word: _(word) for word in _export_words()}
    title = _("Support records")

    def build() -> None:
        write_records_xlsx(
            iter_search_rows(db, search), path, zone=zone, _=lambda s: words.get(s, s), sheet_title=title
        )

    try:
        await run_in_threadpool(build)
    except ExportError:
        os.unlink(path)
        message = _("{n} records are more than one Excel sheet holds; narrow the search.").format(
            n=MAX_EXPORT_ROWS
        )
        return error_page(request, message, 400)
    except BaseException:
        os.unlink(path)
        raise
    name = f"records_{search.period.first:%Y%m%d}-{search.period.last:%Y%m%d}"
    if search.agent_id:
        name += f"_{search.agent_id}"
    return FileResponse(
        path,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        filename=f"{name}.xlsx",
        background=BackgroundTask(os.unlink, path),
    )


def _export_words() -> list[str]:
    from opensupport.server.records.export import HEADERS

    return [*HEADERS, "Unknown", "Other OS", "No answer", "Resolved", "Unresolved", "Not checked"]


@router.get("/manage/records/{record_id}", response_class=HTMLResponse)
def record_detail(record_id: int, request: Request, db: DbSession, admin: CurrentAdmin) -> HTMLResponse:
    """세부 정보: every field of one record, and the way back to the list as it was."""
    record: SupportRecord | None = get_record(db, admin.company_id, record_id)
    if record is None:
        return not_found(request)
    back = request.query_params.get("back", "")
    back_params = {k: v for k, v in parse_qsl(back) if k in SEARCH_KEYS}
    # 원격 지원 시간: from the customer's connection (or the session's creation, if it never connected)
    end = format_local(record.ended_at) if record.ended_at and record.started_at else f"({_('Unknown')})"
    when = f"{format_local(record.started_at or record.created_at)} ~ {end}"
    context = {
        "section": "records",
        "page_name": "list",
        "record": record,
        "agent_ip": f"{record.agent_ip_public or ''} / {record.agent_ip_private or ''}",
        "customer_ip": f"{record.customer_ip_public or ''} / {record.customer_ip_private or ''}",
        "os": os_label(record.customer_os),
        "when": when,
        "duration": format_duration(record.duration_s),
        "resolved": resolved_label(record.resolved, _),
        "satisfaction": satisfaction_label(record.satisfaction),
        "back_url": _url("/manage/records/", back_params),
        "invitations": [_invitation_line(inv) for inv in record.invitations],
    }
    return render(request, "records/detail.html", context)


def _invitation_line(inv: Any) -> tuple[str, str]:
    """상담원 초대: who was invited (or joined), and what became of it, for the record's detail page."""
    who = f"{inv.joined_login_id} ({inv.joined_name})" if inv.joined_login_id else inv.invitee_login_id or "-"
    mode = _("Control") if inv.control else _("View only")
    if inv.consent == "refused":
        outcome = _("Refused by the customer")
    elif inv.joined_at is not None:
        left = format_local(inv.left_at or inv.ended_at) if (inv.left_at or inv.ended_at) else ""
        outcome = f"{format_local(inv.joined_at)} ~ {left}"
    else:
        outcome = _("Not joined")
    return who, f"{mode} · {outcome}"


# ---- 장애 유형 관리 -----------------------------------------------------------------------------------


def _faults_page(
    request: Request,
    db: DbSession,
    admin: CurrentAdmin,
    *,
    error: str | None = None,
    notice: str | None = None,
    status: int = 200,
    edit_id: int | None = None,
) -> HTMLResponse:
    faults = list_fault_types(db, admin.company_id)
    context = {
        "section": "records",
        "page_name": "faults",
        "faults": faults,
        "max_faults": MAX_FAULT_TYPES,
        "error": error,
        "notice": notice,
        "edit_id": edit_id,
    }
    return render(request, "records/fault_types.html", context, status_code=status)


def _fault_error(exc: FaultTypeError) -> str:
    return _(exc.message).format(**exc.params)


@router.get("/manage/records/fault-types/", response_class=HTMLResponse)
def fault_types(request: Request, db: DbSession, admin: CurrentAdmin) -> HTMLResponse:
    """장애 유형 관리: the numbered list with create, up/down, edit and delete."""
    edit = request.query_params.get("edit")
    return _faults_page(request, db, admin, edit_id=_int(edit, 0) or None)


@router.post("/manage/records/fault-types/", dependencies=[CsrfChecked], response_model=None)
def fault_type_create(
    request: Request, db: DbSession, admin: CurrentAdmin, name: str = Form("")
) -> HTMLResponse | RedirectResponse:
    """장애유형 생성 +."""
    try:
        create_fault_type(db, admin.company_id, name, actor=admin.login_id)
    except FaultTypeError as exc:
        db.rollback()
        return _faults_page(request, db, admin, error=_fault_error(exc), status=400)
    db.commit()
    return RedirectResponse("/manage/records/fault-types/", status_code=303)


@router.post("/manage/records/fault-types/{fault_id}/edit", dependencies=[CsrfChecked], response_model=None)
def fault_type_rename(
    fault_id: int, request: Request, db: DbSession, admin: CurrentAdmin, name: str = Form("")
) -> HTMLResponse | RedirectResponse:
    """수정하기: rename."""
    try:
        rename_fault_type(db, admin.company_id, fault_id, name, actor=admin.login_id)
    except FaultTypeError as exc:
        db.rollback()
        status = 404 if isinstance(exc, FaultTypeNotFound) else 400
        return _faults_page(request, db, admin, error=_fault_error(exc), status=status, edit_id=fault_id)
    db.commit()
    return RedirectResponse("/manage/records/fault-types/", status_code=303)


@router.post("/manage/records/fault-types/{fault_id}/delete", dependencies=[CsrfChecked], response_model=None)
def fault_type_delete(
    fault_id: int, request: Request, db: DbSession, admin: CurrentAdmin
) -> HTMLResponse | RedirectResponse:
    """삭제."""
    try:
        delete_fault_type(db, admin.company_id, fault_id, actor=admin.login_id)
    except FaultTypeError as exc:
        db.rollback()
        return _faults_page(request, db, admin, error=_fault_error(exc), status=404)
    db.commit()
    return RedirectResponse("/manage/records/fault-types/", status_code=303)


@router.post("/manage/records/fault-types/{fault_id}/move", dependencies=[CsrfChecked], response_model=None)
def fault_type_move(
    fault_id: int, request: Request, db: DbSession, admin: CurrentAdmin, direction: str = Form("")
) -> HTMLResponse | RedirectResponse:
    """up▲ / ▼down."""
    if direction not in ("up", "down"):
        return _faults_page(request, db, admin, error=_("Choose up or down."), status=400)
    try:
        move_fault_type(db, admin.company_id, fault_id, -1 if direction == "up" else 1, actor=admin.login_id)
    except FaultTypeError as exc:
        db.rollback()
        return _faults_page(request, db, admin, error=_fault_error(exc), status=404)
    db.commit()
    return RedirectResponse("/manage/records/fault-types/", status_code=303)
