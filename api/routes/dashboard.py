"""The managers' dashboard data and its exports (CSV with BOM for Excel, and .xlsx)."""

from __future__ import annotations

import csv
import io
import re
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from api.auth import DbSession, client_ip, require
from service.access import MAX_ID, Caller, audit
from service.dashboard import dashboard, month_view, monthly_hours, shift_month
from service.errors import ServiceError, not_found
from service.models import KIND_LABELS, Department, Role, utcnow
from service.settings import get_settings
from service.usage import tokyo_month

router = APIRouter(prefix="/api/v1/usage", tags=["usage"])

Manager = Annotated[Caller, require(Role.manager, Role.admin)]
Admin = Annotated[Caller, require(Role.admin)]
MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
MAX_MONTHS = 13

SOURCE_LABELS = {"web": "画面から", "device": "会議室機器", "api": "API"}


def _month(value: str | None, name: str = "month") -> str:
    if value is None:
        return tokyo_month(utcnow())
    if not MONTH.fullmatch(value):
        raise ServiceError(422, name, f"{name} は YYYY-MM の形式で指定してください。")
    return value


@router.get("/dashboard", summary="利用状況ダッシュボード (月)")
def get_dashboard(db: DbSession, caller: Manager, month: str | None = None) -> dict[str, Any]:
    return dashboard(db, _month(month), get_settings().usage_target_hours, utcnow())


def _months_between(start: str, end: str) -> list[str]:
    months = [start]
    while months[-1] < end and len(months) <= MAX_MONTHS:
        months.append(shift_month(months[-1], 1))
    if months[-1] != end or len(months) > MAX_MONTHS:
        raise ServiceError(422, "range", f"期間は開始月から終了月まで最大{MAX_MONTHS}か月です。")
    return months


def export_rows(db: DbSession, view: str, months: list[str]) -> tuple[list[str], list[list[Any]]]:
    """The rows of one dashboard view over the months (the table the page shows)."""
    target = get_settings().usage_target_hours
    now = utcnow()
    if view == "monthly":
        rows = [[m["month"], m["hours"], m["recordings"], target] for m in monthly_hours(db, months)]
        return ["月", "利用時間", "件数", "目標時間"], rows
    if view == "daily":
        rows = []
        for month in months:
            for day in month_view(db, month, target, now)["days"]:
                rows.append([day["date"], day["hours"] or 0.0, day["cumulative"] or 0.0, day["target_line"]])
        return ["日付", "利用時間", "累計", "目標線"], rows
    out: list[list[Any]] = []
    for month in months:
        figures = month_view(db, month, target, now)
        if view == "department":
            for r in figures["by_department"]:
                out.append([month, r["department"], r["hours"], r["recordings"], r["average_minutes"], r["cap_hours"]])
        elif view == "source":
            for r in figures["by_source"]:
                out.append([month, SOURCE_LABELS.get(r["source"], r["source"]), r["hours"], r["recordings"]])
        elif view == "kind":
            for r in figures["by_kind"]:
                out.append([month, KIND_LABELS.get(r["kind"], r["kind"]), r["hours"], r["recordings"]])
        elif view == "quality":
            for r in figures["quality"]:
                out.append([month, r["department"], r["model"], r["edit_rate"], r["recordings"]])
    headers = {
        "department": ["月", "部署", "利用時間", "件数", "平均(分)", "月上限(時間)"],
        "source": ["月", "経路", "利用時間", "件数"],
        "kind": ["月", "種類", "利用時間", "件数"],
        "quality": ["月", "部署", "モデル", "修正率", "件数"],
    }
    return headers[view], out


@router.get("/export", summary="利用状況の書き出し (CSV / xlsx, 最大13か月)")
def export_usage(
    request: Request,
    db: DbSession,
    caller: Manager,
    view: Annotated[str, Query(pattern="^(monthly|daily|department|source|kind|quality)$")] = "department",
    start: str | None = None,
    end: str | None = None,
    format: Annotated[str, Query(pattern="^(csv|xlsx)$")] = "csv",
) -> Response:
    last = _month(end, "end")
    first = _month(start, "start") if start else last
    if first > last:
        raise ServiceError(422, "range", "開始月が終了月より後になっています。")
    headers, rows = export_rows(db, view, _months_between(first, last))
    audit(db, "usage.export", caller=caller, detail=f"{view} {first}..{last} {format}", ip=client_ip(request))
    name = f"kiroku-usage-{view}-{first}-{last}.{format}"
    disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
    if format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(headers)
        writer.writerows(rows)
        # The byte-order mark makes Excel read the file as UTF-8.
        return Response(
            ("\ufeff" + buffer.getvalue()).encode("utf-8"), media_type="text/csv; charset=utf-8", headers=disposition
        )
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = view
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    data = io.BytesIO()
    book.save(data)
    media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(data.getvalue(), media_type=media, headers=disposition)


class Cap(BaseModel):
    monthly_cap_hours: float | None = Field(
        default=None, ge=0, allow_inf_nan=False, description="月の上限時間 (null で上限なし)"
    )


@router.put("/caps/{department_id}", summary="部署の月の上限時間 (管理者)")
def set_cap(department_id: int, body: Cap, request: Request, db: DbSession, caller: Admin) -> dict[str, Any]:
    department = db.get(Department, department_id) if 0 < department_id <= MAX_ID else None
    if department is None:
        raise not_found()
    department.monthly_cap_hours = body.monthly_cap_hours or None
    db.add(department)
    audit(
        db,
        "admin.cap",
        caller=caller,
        detail=f"department {department_id} cap {body.monthly_cap_hours}",
        ip=client_ip(request),
        commit=False,
    )
    db.commit()
    return {"department_id": department_id, "monthly_cap_hours": department.monthly_cap_hours}
