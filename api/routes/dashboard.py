"""The managers' dashboard data and its exports (CSV with BOM for Excel, and .xlsx)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from api.auth import DbSession, client_ip, require
from api.schemas.dashboard import CapOut, Dashboard
from service import dashboard
from service.access import Caller
from service.models import Role

router = APIRouter(prefix="/api/v1/usage", tags=["usage"])

Manager = Annotated[Caller, require(Role.manager, Role.admin)]
Admin = Annotated[Caller, require(Role.admin)]


@router.get("/dashboard", summary="利用状況ダッシュボード (月)")
def get_dashboard(db: DbSession, caller: Manager, month: str | None = None) -> Dashboard:
    return Dashboard.model_validate(dashboard.dashboard_for(db, month))


@router.get(
    "/export",
    summary="利用状況の書き出し (CSV / xlsx, 最大13か月)",
    response_class=Response,
    responses={200: {"description": "表のファイル", "content": {"text/csv": {}, dashboard.XLSX: {}}}},
)
def export_usage(
    request: Request,
    db: DbSession,
    caller: Manager,
    view: Annotated[str, Query(pattern="^(monthly|daily|department|source|kind|quality)$")] = "department",
    start: str | None = None,
    end: str | None = None,
    format: Annotated[str, Query(pattern="^(csv|xlsx)$")] = "csv",
) -> Response:
    written = dashboard.export_usage(db, caller, view, start, end, format, ip=client_ip(request))
    disposition = {"Content-Disposition": f'attachment; filename="{written.filename}"'}
    return Response(written.data, media_type=written.media_type, headers=disposition)


class Cap(BaseModel):
    monthly_cap_hours: float | None = Field(
        default=None, ge=0, allow_inf_nan=False, description="月の上限時間 (null で上限なし)"
    )


@router.put("/caps/{department_id}", summary="部署の月の上限時間 (管理者)")
def set_cap(department_id: int, body: Cap, request: Request, db: DbSession, caller: Admin) -> CapOut:
    cap = dashboard.set_cap(db, caller, department_id, body.monthly_cap_hours, ip=client_ip(request))
    return CapOut.model_validate(cap)
