"""Answers of the managers' dashboard (``api.routes.dashboard``, ``service.dashboard``)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Day(BaseModel):
    date: str  # YYYY-MM-DD, Asia/Tokyo
    hours: float | None  # null for a day still to come
    cumulative: float | None
    target_line: float  # the month's target spread evenly over its days, to this day


class DepartmentFigures(BaseModel):
    department_id: int
    hours: float
    recordings: int
    average_minutes: float
    department: str
    cap_hours: float | None
    cap_percent: float | None
    alert: int | None = Field(description="80 or 100 when that share of the cap is reached")


class SourceFigures(BaseModel):
    source: str
    hours: float
    recordings: int
    average_minutes: float


class KindFigures(BaseModel):
    kind: str
    hours: float
    recordings: int
    average_minutes: float


class Quality(BaseModel):
    """How much of the machine's text the clerks changed, per department and model."""

    department_id: int
    department: str
    model: str
    edit_rate: float | None  # characters changed ÷ characters of the machine transcript
    recordings: int


class MonthHours(BaseModel):
    month: str
    hours: float
    recordings: int


class FiscalYear(BaseModel):
    year: int
    label: str  # 令和8年度 (2026年度)
    target_hours: float
    used_hours: float
    by_month: list[MonthHours]


class Dashboard(BaseModel):
    """A month against the target, with its days, breakdowns, the 12-month trend and the fiscal year."""

    month: str
    target_hours: float
    used_hours: float
    percent: float | None
    recordings: int
    average_minutes: float
    days_in_month: int
    elapsed_days: float
    pace_hours_per_day: float
    projection_hours: float
    needed_hours_per_day: float | None  # null once the month is over
    days: list[Day]
    by_department: list[DepartmentFigures]
    by_source: list[SourceFigures]
    by_kind: list[KindFigures]
    quality: list[Quality]
    trend: list[MonthHours]
    fiscal_year: FiscalYear


class CapOut(BaseModel):
    department_id: int
    monthly_cap_hours: float | None  # null: no cap
