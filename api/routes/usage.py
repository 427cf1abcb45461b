"""Usage hours against the city's target, by month or fiscal year (managers and admins)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.auth import DbSession, require
from service.access import Caller
from service.errors import ServiceError
from service.models import Role, utcnow
from service.settings import get_settings
from service.usage import summarize, tokyo_month

router = APIRouter(prefix="/api/v1/usage", tags=["usage"])

Manager = Annotated[Caller, require(Role.manager, Role.admin)]


@router.get("", summary="利用時間 (月または年度)")
def usage(
    db: DbSession,
    caller: Manager,
    month: Annotated[str | None, Query(description="YYYY-MM (Asia/Tokyo)")] = None,
    fiscal_year: Annotated[int | None, Query(ge=2000, le=2100, description="年度 (4月始まり)")] = None,
) -> dict[str, Any]:
    if month is not None and fiscal_year is not None:
        raise ServiceError(422, "period", "month と fiscal_year はどちらか一方を指定してください。")
    if month is not None and not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        raise ServiceError(422, "month", "month は YYYY-MM の形式で指定してください。")
    if month is None and fiscal_year is None:
        month = tokyo_month(utcnow())
    return summarize(db, target_hours_per_month=get_settings().usage_target_hours, month=month, year=fiscal_year)
