"""Usage hours against the city's target, by month or fiscal year (managers and admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.auth import DbSession, require
from api.schemas.usage import UsageSummary
from service.access import Caller
from service.models import Role
from service.usage import usage_report

router = APIRouter(prefix="/api/v1/usage", tags=["usage"])

Manager = Annotated[Caller, require(Role.manager, Role.admin)]


# Unset: the period's other key, and ``by_month`` for a month.
@router.get("", summary="利用時間 (月または年度)", response_model_exclude_unset=True)
def usage(
    db: DbSession,
    caller: Manager,
    month: Annotated[str | None, Query(description="YYYY-MM (Asia/Tokyo)")] = None,
    fiscal_year: Annotated[int | None, Query(ge=2000, le=2100, description="年度 (4月始まり)")] = None,
) -> UsageSummary:
    return UsageSummary.model_validate(usage_report(db, month=month, fiscal_year=fiscal_year))
